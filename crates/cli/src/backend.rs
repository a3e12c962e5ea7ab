//! Choosing the compute backend. Every subcommand that computes goes through `with_backend`, so the GPU is
//! wired in one place: the command's work is a `BackendTask`, generic over `B: Backend`, and this module
//! decides which `B` it runs on.

use anyhow::Result;
use clap::ValueEnum;
use spherelab_core::{Backend, Cpu};

/// What the user asked for with `--backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    /// The GPU when one is usable, else the CPU (with a notice).
    Auto,
    /// The CPU reference backend.
    Cpu,
    /// The WGSL backend (wgpu); falls back to the CPU with a notice when no adapter is usable.
    Gpu,
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

/// Runs `task` on the backend `choice` asks for. `precision` applies when the CPU computes.
///
/// `gpu` and `auto` open the wgpu backend; when no usable adapter exists (none, or one without compute
/// shaders) they say so in one line on stderr and run on the CPU.
pub fn with_backend<T: BackendTask>(choice: BackendChoice, precision: Precision, task: T) -> Result<T::Output> {
    match choice {
        BackendChoice::Cpu => {}
        BackendChoice::Gpu | BackendChoice::Auto => match spherelab_gpu::Gpu::new() {
            Ok(gpu) => return task.run(gpu),
            Err(e) => notice(&format!("no usable GPU ({e}): computing on the CPU")),
        },
    }
    match precision {
        Precision::F32 => task.run(Cpu::<f32>::new()),
        Precision::F64 => task.run(Cpu::<f64>::new()),
    }
}

/// The GPU's adapter, if `with_backend` can open one (for `bench`, which must not time the CPU fallback
/// under the GPU's name). Goes through `with_backend`, so wiring the GPU there wires it here too.
pub fn gpu_adapter() -> Option<String> {
    struct Info;
    impl BackendTask for Info {
        type Output = spherelab_core::backend::BackendInfo;
        fn run<B: Backend>(self, backend: B) -> Result<Self::Output> {
            Ok(backend.info())
        }
    }
    let info = with_backend(BackendChoice::Gpu, Precision::F32, Info).ok()?;
    info.kind.starts_with("gpu").then_some(info.adapter)
}

/// One line on stderr that tells the user something changed from what they asked, without failing.
pub fn notice(msg: &str) {
    eprintln!("note: {msg}");
}
