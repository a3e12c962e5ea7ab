//! Which compute backend a run uses. The app asks for the GPU engine when one is usable and falls back to
//! the CPU reference backend (f32) otherwise, with one line the user sees in the status bar saying why.
//!
//! The GPU device is opened once per process: on the desktop at the first run, in the browser asynchronously
//! before the app starts (`open_browser_gpu`, called by the web entry). Runs open on a share of it, wrapped in
//! a `Mirrored` session: the browser cannot block on a download, and a desktop frame must not wait for one.

use spherelab_core::data::Dataset;
use spherelab_core::{Backend, Cpu, Result, RunConfig, Session, Trainer};

/// What the user asked for (`--cpu` / `--gpu` on the desktop, `?backend=` in the browser's URL): the one
/// chooser's preference, decided by its rule (spherelab_gpu::choice: auto never picks a software adapter).
pub use spherelab_gpu::choice::BackendPreference;

/// A run opened on the chosen backend, with the one-line notice explaining that choice.
pub struct Opened {
    pub session: Box<dyn Session>,
    /// Why this backend, when it is not the one asked for (e.g. "no GPU adapter: …"); empty otherwise.
    pub notice: String,
}

/// Opens a run: on `data` (edited points, a loaded CSV) when given, else on the data its config describes;
/// `excluded` leaves training samples out (a pruning run).
pub fn open(pref: BackendPreference, config: RunConfig, data: Option<Dataset>, excluded: &[usize]) -> Result<Opened> {
    use spherelab_gpu::choice::{Decision, decide};
    let gpu = match pref {
        BackendPreference::Cpu => Err(String::new()),
        BackendPreference::Auto | BackendPreference::Gpu => try_gpu(),
    };
    let notice = match decide(pref, gpu.as_ref().map(|g| g.context()).map_err(String::as_str)) {
        Decision::Gpu => {
            let gpu = gpu.expect("decide picks the GPU only when one opened");
            return Ok(Opened { session: gpu_session(gpu, config, data, excluded)?, notice: String::new() });
        }
        Decision::Cpu { notice } => notice.unwrap_or_default(),
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

/// The GPU run: it trains on the device and answers every query (the views, the metrics) from a CPU copy of
/// its parameters read back asynchronously (mirror.rs), in the browser, where a download cannot block, and on
/// the desktop, where a blocking download would stall the frame (issue 14: before, a lavapipe frame's
/// snapshot refresh waited ~36 ms at p95 on four forward passes and their eight downloads).
fn gpu_session(
    gpu: spherelab_gpu::Gpu,
    config: RunConfig,
    data: Option<Dataset>,
    excluded: &[usize],
) -> Result<Box<dyn Session>> {
    Ok(Box::new(crate::mirror::Mirrored::new(gpu, config, data, excluded)?))
}

thread_local! {
    /// The process's GPU device, or why there is none; `None` until it was first asked for. Every run (a
    /// reset, a new seed, a pruning comparison) opens its engine on a share of it, with the kernels
    /// compiled so far, instead of requesting a new adapter and device. Leaked: it lives as long as the
    /// process, and dropping wgpu's queue in a thread-local destructor panics inside wgpu-core's lock tracing
    /// (its own thread-local is gone by then; seen when a test thread that opened a GPU run exits).
    static DEVICE: std::cell::RefCell<Option<std::result::Result<&'static spherelab_gpu::GpuContext, String>>> =
        const { std::cell::RefCell::new(None) };
}

/// Opens the desktop's GPU device on Vulkan, Metal or DX12 (blocking on the adapter request). Never
/// OpenGL: the window itself draws with OpenGL, and a second EGL context in the process aborts inside
/// wgpu-hal.
#[cfg(not(target_arch = "wasm32"))]
fn open_device() -> std::result::Result<&'static spherelab_gpu::GpuContext, String> {
    use spherelab_gpu::wgpu::Backends;
    let backends = Backends::VULKAN | Backends::METAL | Backends::DX12;
    spherelab_gpu::GpuContext::with_backends(backends).map(|c| &*Box::leak(Box::new(c))).map_err(|e| e.to_string())
}

/// Opens the browser's WebGPU device (asynchronous there), once, before the app starts. Returns the
/// adapter's description, or why there is no usable GPU (no WebGPU, no adapter, or one without compute
/// shaders, which `GpuContext::new_async` checks through the adapter's downlevel flags).
#[cfg(target_arch = "wasm32")]
pub async fn open_browser_gpu() -> std::result::Result<String, String> {
    let result = spherelab_gpu::GpuContext::new_async().await.map(|c| &*Box::leak(Box::new(c))).map_err(|e| {
        let why = e.to_string();
        // wgpu lists every backend it was built without; in the browser only the last part says anything.
        if why.contains("webgpu found no adapters") { "the browser gives no WebGPU adapter".to_string() } else { why }
    });
    let described = result.as_ref().map(|c| c.adapter.clone()).map_err(Clone::clone);
    DEVICE.with(|d| *d.borrow_mut() = Some(result));
    described
}

/// A GPU engine on the process's device (on the desktop opened here on first use; in the browser opened by
/// the web entry before the app starts).
pub(crate) fn try_gpu() -> std::result::Result<spherelab_gpu::Gpu, String> {
    #[cfg(not(target_arch = "wasm32"))]
    DEVICE.with(|d| {
        d.borrow_mut().get_or_insert_with(open_device);
    });
    DEVICE.with(|d| match &*d.borrow() {
        Some(Ok(ctx)) => Ok(spherelab_gpu::Gpu::from_context(ctx.share())),
        Some(Err(why)) => Err(why.clone()),
        None => Err("WebGPU was not asked for".into()),
    })
}
