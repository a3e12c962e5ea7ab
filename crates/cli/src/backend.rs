//! Choosing the compute backend. Every subcommand that computes goes through `with_backend`, so the GPU is
//! wired in one place: the command's work is a `BackendTask`, generic over `B: Backend`, and this module
//! decides which `B` it runs on.

use anyhow::Result;
use clap::ValueEnum;
use spherelab_core::{Backend, Cpu};

/// What the user asked for with `--backend`: the one chooser's preference (spherelab_gpu::choice).
pub use spherelab_gpu::choice::BackendPreference as BackendChoice;

/// clap's parser for `--backend auto|cpu|gpu`.
pub fn parse_backend(s: &str) -> std::result::Result<BackendChoice, String> {
    BackendChoice::parse(s)
}

/// Precision of the CPU backend (the GPU computes in f32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Precision {
    /// Single precision, as the GPU computes.
    F32,
    /// Double precision: the reference.
    F64,
}

/// A piece of work that can run on any backend. (A trait rather than a closure because the work is
/// generic over the backend type, which a closure cannot be.)
pub trait BackendTask {
    type Output;
    fn run<B: Backend>(self, backend: B) -> Result<Self::Output>;
}

/// Runs `task` on the backend `choice` asks for, by spherelab_gpu::choice's rule (auto: a hardware GPU, never a
/// software renderer; gpu: any adapter; cpu: the CPU), saying in one line on stderr why it computes on the CPU
/// when that is not what was asked. `precision` applies when the CPU computes.
pub fn with_backend<T: BackendTask>(choice: BackendChoice, precision: Precision, task: T) -> Result<T::Output> {
    use spherelab_gpu::choice::{Decision, decide};
    let opened = match choice {
        BackendChoice::Cpu => Err(String::new()),
        _ => spherelab_gpu::GpuContext::new().map_err(|e| e.to_string()),
    };
    match decide(choice, opened.as_ref().map_err(String::as_str)) {
        Decision::Gpu => {
            let ctx = opened.expect("decide picks the GPU only when one opened");
            return task.run(spherelab_gpu::Gpu::from_context(ctx));
        }
        Decision::Cpu { notice: Some(n) } => notice(&n),
        Decision::Cpu { notice: None } => {}
    }
    match precision {
        Precision::F32 => task.run(Cpu::<f32>::new()),
        Precision::F64 => task.run(Cpu::<f64>::new()),
    }
}

/// The GPU's adapter, if `with_backend` opens one for `choice` (for `bench`, which must not time the CPU
/// fallback under the GPU's name; with `Auto` a software renderer is passed over, and the chooser says so).
/// Goes through `with_backend`, so wiring the GPU there wires it here too.
pub fn gpu_adapter(choice: BackendChoice) -> Option<String> {
    struct Info;
    impl BackendTask for Info {
        type Output = spherelab_core::backend::BackendInfo;
        fn run<B: Backend>(self, backend: B) -> Result<Self::Output> {
            Ok(backend.info())
        }
    }
    let info = with_backend(choice, Precision::F32, Info).ok()?;
    info.kind.starts_with("gpu").then_some(info.adapter)
}

/// One line on stderr that tells the user something changed from what they asked, without failing.
pub fn notice(msg: &str) {
    eprintln!("note: {msg}");
}
