//! Which compute backend a run uses. The app asks for the GPU engine when one is usable and falls back to
//! the CPU reference backend (f32) otherwise, with one line the user sees in the status bar saying why.

use spherelab_core::data::Dataset;
use spherelab_core::{Backend, Cpu, Result, RunConfig, Session, Trainer};

/// What the user asked for (`--cpu` / `--gpu` on the desktop, `?backend=` in the browser's URL).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendPreference {
    /// The GPU when one is usable, else the CPU.
    #[default]
    Auto,
    Cpu,
    Gpu,
}

/// A run opened on the chosen backend, with the one-line notice explaining that choice.
pub struct Opened {
    pub session: Box<dyn Session>,
    /// Why this backend, when it is not the one asked for (e.g. "no GPU adapter: …"); empty otherwise.
    pub notice: String,
}

/// Opens a run: on `data` (edited points, a loaded CSV) when given, else on the data its config describes;
/// `excluded` leaves training samples out (a pruning run).
pub fn open(pref: BackendPreference, config: RunConfig, data: Option<Dataset>, excluded: &[usize]) -> Result<Opened> {
    let notice = match pref {
        BackendPreference::Cpu => String::new(),
        BackendPreference::Auto | BackendPreference::Gpu => match try_gpu() {
            Ok(gpu) => return Ok(Opened { session: trainer(gpu, config, data, excluded)?, notice: String::new() }),
            Err(why) => format!("no usable GPU ({why}): training on the CPU"),
        },
    };
    Ok(Opened { session: trainer(Cpu::<f32>::new(), config, data, excluded)?, notice })
}

/// A trainer on backend `b`, on the given data or the config's own.
fn trainer<B: Backend + 'static>(
    b: B,
    config: RunConfig,
    data: Option<Dataset>,
    excluded: &[usize],
) -> Result<Box<dyn Session>> {
    Ok(match data {
        Some(d) => Box::new(Trainer::with_data(b, config, d, excluded)?),
        None if excluded.is_empty() => Box::new(Trainer::new(b, config)?),
        None => {
            let d = spherelab_core::data::build(&config.data, config.seed)?;
            Box::new(Trainer::with_data(b, config, d, excluded)?)
        }
    })
}

/// Opens the GPU engine (native: blocks on the adapter request) on Vulkan, Metal or DX12. Never OpenGL: the
/// window itself draws with OpenGL, and a second EGL context in the process aborts inside wgpu-hal.
#[cfg(not(target_arch = "wasm32"))]
fn try_gpu() -> std::result::Result<spherelab_gpu::Gpu, String> {
    use spherelab_gpu::wgpu::Backends;
    spherelab_gpu::Gpu::with_backends(Backends::VULKAN | Backends::METAL | Backends::DX12).map_err(|e| e.to_string())
}

/// In the browser the adapter request is asynchronous; the web entry opens the device before the app
/// starts (issue 5). Until then the browser trains on the CPU.
#[cfg(target_arch = "wasm32")]
fn try_gpu() -> std::result::Result<spherelab_gpu::Gpu, String> {
    Err("WebGPU is not wired in this build".into())
}
