//! `Gpu`: the device context, the buffer pool and the pending command encoder. Every op records its compute
//! passes into the pending encoder; `submit` (the trait's `end_step`, and any blocking download) sends them
//! as one command buffer.

use std::cell::RefCell;
use std::sync::Arc;

use spherelab_core::Error;
use spherelab_core::backend::Readback;

use crate::context::GpuContext;
use crate::kernel::{Access, KernelSpec};
use crate::ops::linear::MatmulVersion;
use crate::pool::{BufferPool, PooledBuffer, Usage};
use crate::sizes;
use crate::tensor::GpuTensor;

/// The wgpu implementation of `spherelab_core::Backend`.
pub struct Gpu {
    ctx: GpuContext,
    pool: BufferPool,
    encoder: RefCell<Option<wgpu::CommandEncoder>>,
    /// Command buffers submitted so far (a training step should be exactly one).
    submissions: std::cell::Cell<u64>,
    /// Bound to read-only slots a kernel entry point does not use.
    dummy: wgpu::Buffer,
    /// With SPHERELAB_GPU_PROFILE set (native): every launch is submitted and waited for on its own, and
    /// its wall time is added up per kernel (printed by `profile_report`). For finding slow kernels only.
    profile: Option<RefCell<std::collections::BTreeMap<String, (u32, f64)>>>,
    /// Which version of the linear layer's matrix-product kernel runs (the fastest unless a test or the bench
    /// asks for another).
    matmul_version: std::cell::Cell<MatmulVersion>,
}

/// One storage binding of a launch: a buffer, or "unused" (a dummy is bound).
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Buf(&'a wgpu::Buffer),
    T(&'a GpuTensor),
    /// A byte range of a buffer (offset a multiple of the adapter's storage offset alignment, 256 at most), for
    /// inputs larger than one binding may be.
    Slice(&'a wgpu::Buffer, u64, u64),
    Unused,
}

impl Gpu {
    /// Finds an adapter and opens a device (see `GpuContext::new_async`).
    pub async fn new_async() -> Result<Self, Error> {
        Ok(Self::from_context(GpuContext::new_async().await?))
    }

    /// Blocking set-up on native targets.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new() -> Result<Self, Error> {
        Ok(Self::from_context(GpuContext::new()?))
    }

    pub fn from_context(ctx: GpuContext) -> Self {
        let dummy = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("spherelab unused binding"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        #[cfg(not(target_arch = "wasm32"))]
        let profile = std::env::var_os("SPHERELAB_GPU_PROFILE").map(|_| RefCell::default());
        #[cfg(target_arch = "wasm32")]
        let profile = None;
        Self {
            ctx,
            pool: BufferPool::default(),
            encoder: RefCell::new(None),
            submissions: Default::default(),
            dummy,
            profile,
            matmul_version: std::cell::Cell::new(MatmulVersion::FASTEST),
        }
    }

    /// Runs the linear layers with this version of the matrix-product kernel from now on (the parity tests and
    /// `spherelab bench --gpu-kernels all` loop over `MatmulVersion::ALL`). Version 1 sums all of k in one
    /// invocation, so on an adapter with a loop limit (lavapipe: 65,535 iterations) it is right for k up to
    /// that many rows only; the tests' and bench's shapes stay far below it, and a run always uses version 2.
    pub fn set_matmul_version(&self, version: MatmulVersion) {
        self.matmul_version.set(version);
    }

    pub fn matmul_version(&self) -> MatmulVersion {
        self.matmul_version.get()
    }

    /// Per-kernel (launches, total seconds) when profiling, slowest first.
    pub fn profile_report(&self) -> Vec<(String, u32, f64)> {
        let mut v: Vec<(String, u32, f64)> = self
            .profile
            .as_ref()
            .map(|p| p.borrow().iter().map(|(k, &(n, t))| (k.clone(), n, t)).collect())
            .unwrap_or_default();
        v.sort_by(|a, b| b.2.total_cmp(&a.2));
        v
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// How many command buffers have been submitted.
    pub fn submissions(&self) -> u64 {
        self.submissions.get()
    }

    pub fn pool(&self) -> &BufferPool {
        &self.pool
    }

    /// A tensor with undefined contents (every kernel output is fully written by its kernel).
    pub(crate) fn alloc(&self, rows: usize, cols: usize) -> GpuTensor {
        self.alloc_capacity(rows, cols, rows * cols)
    }

    /// A rows × cols tensor whose buffer holds at least `floats` values (kernels use the tail as scratch).
    pub(crate) fn alloc_capacity(&self, rows: usize, cols: usize, floats: usize) -> GpuTensor {
        let buf = self.pool.take(&self.ctx.device, Usage::Storage, (floats.max(rows * cols) as u64) * 4);
        GpuTensor { rows, cols, buf }
    }

    /// Scratch storage of `floats` 4-byte words.
    pub(crate) fn scratch(&self, floats: usize) -> Arc<PooledBuffer> {
        self.pool.take(&self.ctx.device, Usage::Storage, floats as u64 * 4)
    }

    /// Runs `f` on the pending encoder, creating it if needed.
    pub(crate) fn with_encoder<R>(&self, f: impl FnOnce(&mut wgpu::CommandEncoder) -> R) -> R {
        let mut slot = self.encoder.borrow_mut();
        let enc = slot.get_or_insert_with(|| {
            self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("spherelab step") })
        });
        f(enc)
    }

    /// Records one dispatch of `spec` with uniform `params` and storage `args` (bindings 1, 2, … in order).
    pub(crate) fn launch<P: bytemuck::Pod>(
        &self,
        spec: &KernelSpec,
        params: &P,
        args: &[Arg<'_>],
        groups: (u32, u32, u32),
    ) {
        assert_eq!(args.len(), spec.bindings.len(), "{}::{}: wrong number of bindings", spec.family, spec.entry);
        assert_eq!(std::mem::size_of::<P>() % 16, 0, "{}: uniform params must be 16-byte multiples", spec.family);
        let kernel = self.ctx.kernel(spec);
        let uniform = self.pool.take(&self.ctx.device, Usage::Uniform, std::mem::size_of::<P>() as u64);
        self.ctx.queue.write_buffer(uniform.buffer(), 0, bytemuck::bytes_of(params));
        // Unused read-write slots each get their own scratch buffer (one buffer may not be bound twice for
        // writing); unused read-only slots share the dummy.
        let scratch: Vec<Option<Arc<PooledBuffer>>> = args
            .iter()
            .zip(spec.bindings)
            .map(|(a, acc)| matches!((a, acc), (Arg::Unused, Access::ReadWrite)).then(|| self.scratch(4)))
            .collect();
        let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: uniform.buffer().as_entire_binding() }];
        for (i, (a, s)) in args.iter().zip(&scratch).enumerate() {
            let resource = match (a, s) {
                (Arg::Buf(b), _) => b.as_entire_binding(),
                (Arg::T(t), _) => t.buffer().as_entire_binding(),
                (Arg::Slice(b, offset, size), _) => wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: b,
                    offset: *offset,
                    size: wgpu::BufferSize::new(*size),
                }),
                (Arg::Unused, Some(s)) => s.buffer().as_entire_binding(),
                (Arg::Unused, None) => self.dummy.as_entire_binding(),
            };
            entries.push(wgpu::BindGroupEntry { binding: i as u32 + 1, resource });
        }
        let bind_group = self.ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(spec.entry),
            layout: &kernel.layout,
            entries: &entries,
        });
        self.with_encoder(|enc| {
            let mut pass = enc
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(spec.entry), timestamp_writes: None });
            pass.set_pipeline(&kernel.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, groups.2);
        });
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(profile) = &self.profile {
            let start = std::time::Instant::now();
            self.submit();
            let _ = self.ctx.device.poll(wgpu::PollType::wait_indefinitely());
            let key = format!("{}::{} {:?}", spec.family, spec.entry, groups);
            let mut p = profile.borrow_mut();
            let e = p.entry(key).or_insert((0, 0.0));
            e.0 += 1;
            e.1 += start.elapsed().as_secs_f64();
        }
    }

    /// Records a dispatch of one workgroup per item (folded into 2-D past 65,535).
    pub(crate) fn launch_per<P: bytemuck::Pod>(&self, spec: &KernelSpec, params: &P, args: &[Arg<'_>], items: usize) {
        self.launch(spec, params, args, sizes::fold(items as u32));
    }

    /// Records a dispatch of one thread per item, WG threads per workgroup.
    pub(crate) fn launch_threads<P: bytemuck::Pod>(
        &self,
        spec: &KernelSpec,
        params: &P,
        args: &[Arg<'_>],
        items: usize,
    ) {
        self.launch(spec, params, args, sizes::fold((items as u32).div_ceil(sizes::WG)));
    }

    /// Submits the pending command buffer (if any) and makes the buffers released meanwhile reusable.
    pub fn submit(&self) {
        if let Some(enc) = self.encoder.borrow_mut().take() {
            self.ctx.queue.submit([enc.finish()]);
            self.submissions.set(self.submissions.get() + 1);
        }
        self.pool.recycle();
    }

    /// Copies tensors into one MAP_READ staging buffer (submitting everything pending) and maps it; `done`
    /// gets the values when the map completes (after a `poll` on native; on its own in the browser).
    fn map_tensors(&self, ts: &[&GpuTensor], done: impl FnOnce(Result<Vec<Vec<f32>>, String>) + Send + 'static) {
        let total: u64 = ts.iter().map(|t| t.bytes()).sum();
        let staging = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("spherelab read-back"),
            size: total.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut offset = 0;
        let mut lens = Vec::with_capacity(ts.len());
        self.with_encoder(|enc| {
            for t in ts {
                if t.bytes() > 0 {
                    enc.copy_buffer_to_buffer(t.buffer(), 0, &staging, offset, t.bytes());
                }
                offset += t.bytes();
                lens.push(t.len());
            }
        });
        self.submit();
        let handle = staging.clone();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |result| {
            let out = match result {
                Ok(()) => match handle.slice(..).get_mapped_range() {
                    Ok(view) => {
                        let all: &[f32] = bytemuck::cast_slice(&view[..total as usize]);
                        let mut rest = all;
                        let mut parts = Vec::with_capacity(lens.len());
                        for n in lens {
                            let (head, tail) = rest.split_at(n);
                            parts.push(head.to_vec());
                            rest = tail;
                        }
                        Ok(parts)
                    }
                    Err(e) => Err(format!("GPU read-back failed: {e:?}")),
                },
                Err(e) => Err(format!("GPU read-back failed: {e}")),
            };
            handle.unmap();
            done(out);
        });
    }

    /// Starts a read-back; the `Readback` is fulfilled in the map callback.
    pub fn read_async_tensors(&self, ts: &[&GpuTensor]) -> Readback {
        let rb = Readback::pending();
        let target = rb.clone();
        self.map_tensors(ts, move |r| target.fulfil(r));
        rb
    }

    /// Lets the device make progress (native: a non-blocking poll that runs finished map callbacks).
    pub fn poll_device(&self) {
        let _ = self.ctx.device.poll(wgpu::PollType::Poll);
    }

    /// Blocking read-back of one tensor (native only: the browser cannot block).
    pub fn download_tensor(&self, t: &GpuTensor) -> Vec<f32> {
        let rb = self.read_async_tensors(&[t]);
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = self.ctx.device.poll(wgpu::PollType::wait_indefinitely());
        }
        match rb.try_take() {
            Some(Ok(mut v)) => v.pop().unwrap_or_default(),
            Some(Err(e)) => panic!("{e}"),
            None => panic!("Gpu::download cannot block in the browser: use read_async and poll"),
        }
    }
}
