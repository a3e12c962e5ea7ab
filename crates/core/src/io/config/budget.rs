//! The memory a run needs, estimated from its config before anything is allocated, against a budget
//! (docs/limits.md). A link, a config file or a slider can ask for any size; a run over the budget is refused
//! with one message naming the knob, its value, what it would need and the limit, instead of aborting on a
//! failed allocation (native) or killing the page (browser).
//!
//! The estimate counts, in f32 (the runtime precision; the f64 reference needs twice as much):
//! - parameters: Σ (fan_in·fan_out + fan_out) over the layers, × 12 values each: the value, gradient, Adam's m
//!   and v, the initial copy Reset returns to, the host copy and the products' temporaries (measured: a
//!   4000-4000 encoder, 16 M parameters, peaked at 726 MB, 45 bytes a parameter, 2026-12-02);
//! - a step's activations: 2N views × Σ widths, × 3 (pre-activation, output, gradient);
//! - the loss: the CPU path keeps three (2N)² matrices (similarities, weights, flags);
//! - the data: n × dim values, plus a label, flags and the split per sample; the embeddings of every sample
//!   (h, z and the layers between, for the views and the exports);
//! - the evaluation: its 2E held-out views through the model and their (2E)² similarities (E =
//!   min(eval_max_points, the test split)).

use super::{DatasetKind, RunConfig};
use crate::error::{Error, Result};

/// The most layers a model may have: deep enough for any toy model, and a bound on the kernels launched per
/// step (a thousand-layer link would otherwise tie up the page).
pub const MAX_LAYERS: usize = 64;
/// The widest layer: a 100,000-wide layer has 10¹⁰ weights.
pub const MAX_WIDTH: usize = 16_384;
/// The browser's budget: what a phone's tab can hold beside the page.
pub const WEB_BUDGET: u64 = 512 << 20;

/// What a run needs, by part, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Need {
    pub parameters: u64,
    pub activations: u64,
    pub loss: u64,
    pub data: u64,
    pub evaluation: u64,
}

impl Need {
    pub fn total(&self) -> u64 {
        self.parameters + self.activations + self.loss + self.data + self.evaluation
    }
}

/// The input dimension a config's data has (a CSV's is unknown before it is read: 2 is assumed, and the
/// file's size bounds the rest).
fn input_dim(cfg: &RunConfig) -> u64 {
    match cfg.data.dataset {
        DatasetKind::Digits => 64,
        _ => 2,
    }
}

/// The samples a config's data has.
fn samples(cfg: &RunConfig) -> u64 {
    match cfg.data.dataset {
        DatasetKind::Digits => 1797,
        _ => cfg.data.n as u64,
    }
}

/// The memory `cfg` needs, by part.
pub fn need(cfg: &RunConfig) -> Need {
    let widths: Vec<u64> = cfg.model.encoder.iter().chain(&cfg.model.projector).map(|&w| w as u64).collect();
    let dim = input_dim(cfg);
    let f = 4u64;
    let mut fan_in = dim;
    let mut parameters = 0u64;
    for &w in &widths {
        parameters = parameters.saturating_add(fan_in.saturating_mul(w).saturating_add(w));
        fan_in = w;
    }
    let parameters = parameters.saturating_mul(12 * f);
    let n = samples(cfg);
    let width_sum: u64 = widths.iter().fold(dim, |a, &w| a.saturating_add(w));
    let views = 2 * (cfg.train.batch_size as u64).min(n.max(2));
    let activations = views.saturating_mul(width_sum).saturating_mul(3 * f);
    let loss = views.saturating_mul(views).saturating_mul(3 * f);
    // Per sample: its input, a label (8 bytes), three flags and the split; and its embeddings.
    let data = n.saturating_mul(dim * f + 12).saturating_add(n.saturating_mul(width_sum).saturating_mul(f));
    let test = ((n as f64) * cfg.data.test_fraction.clamp(0.0, 1.0) as f64).ceil() as u64;
    let e = 2 * (cfg.train.eval_max_points as u64).min(test.max(1));
    let evaluation =
        e.saturating_mul(width_sum).saturating_mul(f).saturating_add(e.saturating_mul(e).saturating_mul(f));
    Need { parameters, activations, loss, data, evaluation }
}

/// Bytes as a person reads them: "512 MiB", "1.6 GiB", "12 TiB".
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    let (v, unit) = [(1u64 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        .into_iter()
        .find(|&(u, _)| bytes >= u)
        .map_or((b, "bytes"), |(u, name)| (b / u as f64, name));
    if v >= 100.0 || unit == "bytes" { format!("{v:.0} {unit}") } else { format!("{v:.1} {unit}") }
}

/// The knob behind the largest part of `need`, as "key = value" and what to do about it.
fn culprit(cfg: &RunConfig, need: &Need) -> (String, &'static str) {
    let parts = [need.parameters, need.activations, need.loss, need.data, need.evaluation];
    let largest = (0..parts.len()).max_by_key(|&i| parts[i]).unwrap_or(0);
    let widths = || format!("model.encoder = {:?}, model.projector = {:?}", cfg.model.encoder, cfg.model.projector);
    match largest {
        0 => (widths(), "use narrower layers"),
        1 => (
            format!("train.batch_size = {} with {}", cfg.train.batch_size, widths()),
            "use a smaller batch or narrower layers",
        ),
        2 => (format!("train.batch_size = {}", cfg.train.batch_size), "use a smaller batch"),
        3 => (format!("data.n = {}", cfg.data.n), "use fewer samples"),
        _ => (format!("train.eval_max_points = {}", cfg.train.eval_max_points), "evaluate on fewer points"),
    }
}

/// Checks the model's shape against MAX_LAYERS and MAX_WIDTH, then `cfg`'s need against `budget` bytes,
/// described as `budget_is` ("half of this machine's memory", …).
pub fn check(cfg: &RunConfig, budget: u64, budget_is: &str) -> Result<()> {
    let layers = cfg.model.encoder.len() + cfg.model.projector.len();
    if layers > MAX_LAYERS {
        return Err(Error::invalid(format!(
            "the model has {layers} layers (encoder {} + projector {}): at most {MAX_LAYERS} are supported",
            cfg.model.encoder.len(),
            cfg.model.projector.len()
        )));
    }
    if let Some(&w) = cfg.model.encoder.iter().chain(&cfg.model.projector).find(|&&w| w > MAX_WIDTH) {
        return Err(Error::invalid(format!(
            "a layer of width {w} (model.encoder = {:?}, model.projector = {:?}): at most {MAX_WIDTH} is supported",
            cfg.model.encoder, cfg.model.projector
        )));
    }
    let need = need(cfg);
    if need.total() > budget {
        let (knob, fix) = culprit(cfg, &need);
        return Err(Error::invalid(format!(
            "{knob}: this run would need about {} of memory (parameters {}, activations {}, loss {}, data {}, \
             evaluation {}), over the budget of {} ({budget_is}): {fix}",
            human(need.total()),
            human(need.parameters),
            human(need.activations),
            human(need.loss),
            human(need.data),
            human(need.evaluation),
            human(budget)
        )));
    }
    Ok(())
}

/// This platform's budget and how it was set: the browser's fixed `WEB_BUDGET`; natively half the machine's
/// memory (Linux /proc/meminfo; 8 GiB where it cannot be read), or SPHERELAB_MEMORY_MIB when set (the CLI's
/// `--memory-budget MIB` sets it).
pub fn platform_budget() -> (u64, String) {
    #[cfg(target_arch = "wasm32")]
    {
        (WEB_BUDGET, "a browser tab's budget".to_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        static BUDGET: std::sync::OnceLock<(u64, String)> = std::sync::OnceLock::new();
        BUDGET.get_or_init(native_budget).clone()
    }
}

/// The native budget, read once per process.
#[cfg(not(target_arch = "wasm32"))]
fn native_budget() -> (u64, String) {
    if let Some(mib) = std::env::var("SPHERELAB_MEMORY_MIB").ok().and_then(|v| v.trim().parse::<u64>().ok()) {
        return (mib.saturating_mul(1 << 20), "set by SPHERELAB_MEMORY_MIB / --memory-budget".to_string());
    }
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        let line = t.lines().find(|l| l.starts_with("MemTotal:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
    });
    match total {
        Some(t) => (t / 2, "half of this machine's memory; raise it with --memory-budget MIB".to_string()),
        None => (8 << 30, "8 GiB; raise it with --memory-budget MIB".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_needs_little() {
        let need = need(&RunConfig::default());
        assert!(need.total() < 64 << 20, "{need:?}");
        check(&RunConfig::default(), WEB_BUDGET, "test").unwrap();
    }

    /// The links of issue 16: each is refused with the knob, what it needs and the limit named, in one line.
    #[test]
    fn huge_configs_are_refused_naming_the_knob() {
        type Case = (fn(&mut RunConfig), &'static str);
        let cases: [Case; 5] = [
            (|c| c.model.encoder = vec![16_000, 16_000], "model.encoder = [16000, 16000]"),
            (|c| c.model.encoder = vec![100_000, 100_000], "width 100000"),
            (|c| c.data.n = 50_000_000, "data.n = 50000000"),
            (|c| c.train.batch_size = 100_000, "train.batch_size = 100000"),
            (|c| c.model.encoder = vec![64; 1000], "1002 layers"),
        ];
        for (set, says) in cases {
            let mut c = RunConfig::default();
            set(&mut c);
            if c.train.batch_size > 1000 {
                c.data.n = 200_000;
            }
            let e = check(&c, WEB_BUDGET, "a browser tab's budget").unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
            assert!(!e.contains('\n'));
            if !says.contains("layers") && !says.contains("width") {
                assert!(e.contains("512 MiB") && e.contains("would need about"), "{e}");
            }
        }
    }

    #[test]
    fn bytes_read_as_a_person_reads_them() {
        assert_eq!(human(512 << 20), "512 MiB");
        assert_eq!(human(3 << 29), "1.5 GiB");
        assert_eq!(human(10), "10 bytes");
    }
}
