//! Device set-up and the pipeline cache: the one module that owns the wgpu device. Kernels get what they
//! need from it; nothing is global.
//!
//! Set-up is `async` (the browser cannot block); `GpuContext::new` wraps it with pollster on native.
//! Only WebGPU's default limits are requested, so the kernels that run here run in every browser.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use spherelab_core::Error;

use crate::kernel::{Kernel, KernelSpec};

/// The device, its queue, what the user sees about the adapter, and the compiled kernels.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// e.g. "llvmpipe (LLVM 15.0.6, 256 bits), Vulkan, Cpu".
    pub adapter: String,
    /// wgpu's device type: `Cpu` for software renderers (lavapipe, SwiftShader, WARP).
    pub device_type: wgpu::DeviceType,
    /// Loop iterations one shader invocation runs at most on this adapter: Mesa's llvmpipe (lavapipe) counts
    /// every loop iteration of a shader against one counter of 65,535 (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS)
    /// and, when it runs out, leaves every loop and carries on with what was accumulated — silently wrong
    /// results (issue 15; docs/gpu-large-batch.md). None where no such limit is known. The kernels plan their
    /// loops within it (ops::loop_budget).
    pub loop_limit: Option<u64>,
    kernels: RefCell<HashMap<(&'static str, &'static str), Rc<Kernel>>>,
}

/// Describes an adapter in one line: name, backend, device type.
pub fn describe(info: &wgpu::AdapterInfo) -> String {
    // Browsers hide the adapter's name (fingerprinting); say so rather than print an empty field.
    let name = if info.name.is_empty() { "unnamed adapter" } else { info.name.as_str() };
    format!("{name}, {:?}, {:?}", info.backend, info.device_type)
}

/// The loop limit of an adapter's driver (GpuContext::loop_limit): llvmpipe's, recognised by its driver or
/// adapter name.
pub fn loop_limit_of(info: &wgpu::AdapterInfo) -> Option<u64> {
    let llvmpipe = info.driver.eq_ignore_ascii_case("llvmpipe") || info.name.starts_with("llvmpipe");
    llvmpipe.then_some(LLVMPIPE_LOOP_LIMIT)
}

/// gallivm's LP_MAX_TGSI_LOOP_ITERATIONS ("Shared between every loop in a TGSI shader"; Mesa's
/// src/gallium/auxiliary/gallivm/lp_bld_limits.h).
pub const LLVMPIPE_LOOP_LIMIT: u64 = 65_535;

impl GpuContext {
    /// Finds an adapter with compute shaders and opens a device on it with WebGPU's default limits.
    /// No adapter, or one without compute (WebGL2), is `Error::Backend` with a one-line reason: callers
    /// fall back to the CPU backend and show that line.
    pub async fn new_async() -> Result<Self, Error> {
        Self::with_backends_async(wgpu::InstanceDescriptor::new_without_display_handle().backends).await
    }

    /// As `new_async`, looking for adapters only on `backends` (e.g. `wgpu::Backends::GL` to force OpenGL).
    pub async fn with_backends_async(backends: wgpu::Backends) -> Result<Self, Error> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = backends;
        let instance = wgpu::Instance::new(desc);
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Backend(format!("no GPU adapter found ({e})")))?;
        let info = adapter.get_info();
        let downlevel = adapter.get_downlevel_capabilities();
        if !downlevel.flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS) {
            return Err(Error::Backend(format!("GPU adapter {} has no compute shaders", describe(&info))));
        }
        // WebGPU's defaults; never more. An adapter below them (downlevel) gets the downlevel defaults, with
        // 8 storage buffers per stage still required by the loss kernels.
        let limits = if wgpu::Limits::default().check_limits(&adapter.limits()) {
            wgpu::Limits::default()
        } else {
            wgpu::Limits { max_storage_buffers_per_shader_stage: 8, ..wgpu::Limits::downlevel_defaults() }
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("spherelab"),
                required_features: wgpu::Features::empty(),
                required_limits: limits,
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::Backend(format!("could not open GPU device {} ({e})", describe(&info))))?;
        Ok(Self::from_device(device, queue, &info))
    }

    /// A software renderer: WGSL run on the CPU's cores (choice.rs: `auto` never picks one).
    pub fn is_software(&self) -> bool {
        self.device_type == wgpu::DeviceType::Cpu
    }

    /// Blocking set-up on native targets.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new() -> Result<Self, Error> {
        pollster::block_on(Self::new_async())
    }

    /// Blocking set-up looking for adapters only on `backends`. A window drawn with OpenGL (eframe's glow)
    /// must keep wgpu off `Backends::GL`: a second EGL context in the same process fails inside wgpu-hal.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_backends(backends: wgpu::Backends) -> Result<Self, Error> {
        pollster::block_on(Self::with_backends_async(backends))
    }

    /// Wraps a device someone else opened (the app passes eframe's). The caller vouches that the device
    /// supports compute shaders and at least WebGPU's default limits.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, info: &wgpu::AdapterInfo) -> Self {
        Self {
            device,
            queue,
            adapter: describe(info),
            device_type: info.device_type,
            loop_limit: loop_limit_of(info),
            kernels: RefCell::new(HashMap::new()),
        }
    }

    /// Another context on the same device, starting with the kernels compiled so far. The browser opens its
    /// device once, asynchronously, before the app starts; every later run (a reset, a new seed, a pruning
    /// comparison) opens its engine synchronously on a share of it.
    pub fn share(&self) -> Self {
        Self {
            device: self.device.clone(),
            queue: self.queue.clone(),
            adapter: self.adapter.clone(),
            device_type: self.device_type,
            loop_limit: self.loop_limit,
            kernels: RefCell::new(self.kernels.borrow().clone()),
        }
    }

    /// The kernel for `spec`, built on first use.
    pub fn kernel(&self, spec: &KernelSpec) -> Rc<Kernel> {
        let key = (spec.family, spec.entry);
        if let Some(k) = self.kernels.borrow().get(&key) {
            return k.clone();
        }
        let k = Rc::new(Kernel::build(&self.device, *spec));
        self.kernels.borrow_mut().insert(key, k.clone());
        k
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn no_adapter_is_a_backend_error_that_says_so() {
        match pollster::block_on(GpuContext::with_backends_async(wgpu::Backends::empty())) {
            Err(Error::Backend(msg)) => assert!(msg.contains("no GPU adapter found"), "message: {msg}"),
            Err(e) => panic!("wrong error kind: {e}"),
            Ok(ctx) => panic!("an instance with no backends found adapter {}", ctx.adapter),
        }
    }
}
