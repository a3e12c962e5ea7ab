//! The one backend chooser, for the command line (`--backend`), the desktop app (`--cpu`, `--gpu`) and the
//! browser (`?backend=`): what the user asked for, the adapter wgpu found, and the rule that decides between
//! them, with the line that tells the user why.
//!
//! The rule: `cpu` computes on the CPU engine; `gpu` on the adapter, whatever it is (Mesa's lavapipe and
//! SwiftShader included: the GPU tests run on them), else on the CPU with the reason; `auto` — the default —
//! on a hardware adapter only. A software adapter (wgpu's device type `Cpu`: lavapipe, SwiftShader, WARP)
//! runs WGSL on the CPU cores far slower than the CPU engine (moons, 100 steps: 4 steps/s on lavapipe
//! against 314 with `--backend cpu`, issue 14), so `auto` computes on the CPU and says which adapter it saw.

use crate::context::GpuContext;

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendPreference {
    /// A hardware GPU when one is usable, else the CPU.
    #[default]
    Auto,
    /// The CPU engine.
    Cpu,
    /// Any GPU adapter, software ones included; the CPU when there is none.
    Gpu,
}

impl BackendPreference {
    pub const ALL: [BackendPreference; 3] = [BackendPreference::Auto, BackendPreference::Cpu, BackendPreference::Gpu];

    pub fn name(self) -> &'static str {
        match self {
            BackendPreference::Auto => "auto",
            BackendPreference::Cpu => "cpu",
            BackendPreference::Gpu => "gpu",
        }
    }

    /// Parses a name of `ALL`; the error lists them.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|p| p.name()).collect();
            format!("'{s}' is not a backend: use one of {}", names.join(", "))
        })
    }
}

/// Where to compute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// On the adapter that was opened.
    Gpu,
    /// On the CPU engine; the line says why when the user did not ask for the CPU.
    Cpu { notice: Option<String> },
}

/// The rule of this module. `adapter` is the opened device, or why there is none; it is only looked at when
/// the preference is not `Cpu` (callers need not open a device for `Cpu`).
pub fn decide(pref: BackendPreference, adapter: Result<&GpuContext, &str>) -> Decision {
    match (pref, adapter) {
        (BackendPreference::Cpu, _) => Decision::Cpu { notice: None },
        (_, Err(why)) => Decision::Cpu { notice: Some(format!("no usable GPU ({why}): computing on the CPU")) },
        (BackendPreference::Gpu, Ok(_)) => Decision::Gpu,
        (BackendPreference::Auto, Ok(ctx)) if ctx.is_software() => Decision::Cpu {
            notice: Some(format!(
                "the only GPU adapter is a software renderer ({}), slower than the CPU engine: computing on the \
                 CPU (--backend gpu, --gpu or ?backend=gpu uses it anyway)",
                ctx.adapter
            )),
        },
        (BackendPreference::Auto, Ok(_)) => Decision::Gpu,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_a_bad_name_lists_the_choices() {
        for p in BackendPreference::ALL {
            assert_eq!(BackendPreference::parse(p.name()), Ok(p));
        }
        assert_eq!(BackendPreference::parse("tpu").unwrap_err(), "'tpu' is not a backend: use one of auto, cpu, gpu");
    }

    #[test]
    fn without_an_adapter_every_preference_computes_on_the_cpu_and_says_why_unless_it_asked_for_it() {
        assert_eq!(decide(BackendPreference::Cpu, Err("none")), Decision::Cpu { notice: None });
        for p in [BackendPreference::Auto, BackendPreference::Gpu] {
            match decide(p, Err("no adapter")) {
                Decision::Cpu { notice: Some(n) } => assert!(n.contains("no adapter"), "{n}"),
                other => panic!("{p:?}: {other:?}"),
            }
        }
    }

    /// With an adapter: needs a device (lavapipe in CI), and checks the rule on what it is.
    #[test]
    fn auto_never_picks_a_software_adapter_and_gpu_always_does() {
        let ctx = GpuContext::new().unwrap_or_else(|e| panic!("this test needs a GPU adapter (lavapipe): {e}"));
        assert_eq!(decide(BackendPreference::Gpu, Ok(&ctx)), Decision::Gpu);
        assert_eq!(decide(BackendPreference::Cpu, Ok(&ctx)), Decision::Cpu { notice: None });
        match decide(BackendPreference::Auto, Ok(&ctx)) {
            Decision::Cpu { notice: Some(n) } => {
                assert!(ctx.is_software(), "auto refused a hardware adapter: {n}");
                assert!(n.contains(&ctx.adapter) && n.contains("software"), "{n}");
            }
            Decision::Gpu => assert!(!ctx.is_software(), "auto picked the software adapter {}", ctx.adapter),
            other => panic!("{other:?}"),
        }
    }
}
