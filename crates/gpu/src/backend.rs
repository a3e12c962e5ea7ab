//! `impl Backend for Gpu`: each trait op is one launcher from `ops`, recorded into the pending step.

use spherelab_core::backend::{
    Backend, BackendInfo, LinearGrads, LinearOut, LossOut, LossParams, OptimStep, PairLayout, Pairs, Readback,
};
use spherelab_core::config::{Activation, LossKind};

use crate::engine::Gpu;
use crate::ops::{self, FlagSource};
use crate::pool::Usage;
use crate::tensor::GpuTensor;

impl Gpu {
    /// Resolves `Pairs` into what the loss kernels read: ĥ and thresholds, or packed bits.
    fn flag_source<'a>(&self, pairs: &'a Pairs<'a, GpuTensor>) -> FlagSource<'a> {
        match pairs {
            Pairs::None => FlagSource::None,
            Pairs::All => FlagSource::All,
            Pairs::Selected { h, thresholds } => {
                FlagSource::Selected { hhat: ops::normalize::normalize_forward(self, h).0, thresholds }
            }
            Pairs::Explicit(m) => FlagSource::Explicit(ops::pack::pack_bits(self, m)),
        }
    }
}

impl Backend for Gpu {
    type Tensor = GpuTensor;

    fn info(&self) -> BackendInfo {
        BackendInfo { kind: "gpu".into(), adapter: self.context().adapter.clone() }
    }

    fn upload(&self, rows: usize, cols: usize, data: &[f32]) -> GpuTensor {
        assert_eq!(data.len(), rows * cols, "upload: {rows}×{cols} needs {} values", rows * cols);
        let buf = self.pool().take(&self.context().device, Usage::Storage, (data.len() as u64) * 4);
        if !data.is_empty() {
            self.context().queue.write_buffer(buf.buffer(), 0, bytemuck::cast_slice(data));
        }
        GpuTensor { rows, cols, buf }
    }

    fn zeros(&self, rows: usize, cols: usize) -> GpuTensor {
        let t = self.alloc(rows, cols);
        let size = t.buf.size();
        self.with_encoder(|enc| enc.clear_buffer(t.buffer(), 0, Some(size)));
        t
    }

    fn dims(&self, t: &GpuTensor) -> (usize, usize) {
        (t.rows, t.cols)
    }

    fn download(&self, t: &GpuTensor) -> Vec<f32> {
        self.download_tensor(t)
    }

    fn read_async(&self, ts: &[&GpuTensor]) -> Readback {
        self.read_async_tensors(ts)
    }

    fn poll(&self) {
        self.poll_device();
    }

    fn end_step(&self) {
        self.submit();
    }

    fn check_loss_size(
        &self,
        kind: LossKind,
        views: usize,
        d: usize,
        selection_dh: usize,
    ) -> spherelab_core::Result<()> {
        let checked = match kind {
            LossKind::Spectral => ops::spectral::check_size(self, views, d, selection_dh).map(|_| ()),
            _ => ops::contrastive::check_size(self, views, d, selection_dh).map(|_| ()),
        };
        let selection = if selection_dh > 0 { ops::select::check_size(self, views, selection_dh) } else { Ok(()) };
        checked.and(selection).map_err(spherelab_core::Error::Invalid)
    }

    fn linear_forward(&self, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor, act: Activation) -> LinearOut<GpuTensor> {
        ops::linear::linear_forward(self, x, w, b, act)
    }

    fn linear_backward(
        &self,
        x: &GpuTensor,
        w: &GpuTensor,
        d_pre: &GpuTensor,
        need_dx: bool,
    ) -> LinearGrads<GpuTensor> {
        ops::linear::linear_backward(self, x, w, d_pre, need_dx)
    }

    fn activation_backward(&self, pre: &GpuTensor, d_out: &GpuTensor, act: Activation) -> GpuTensor {
        ops::elementwise::activation_backward(self, pre, d_out, act)
    }

    fn normalize_forward(&self, z: &GpuTensor) -> (GpuTensor, GpuTensor) {
        ops::normalize::normalize_forward(self, z)
    }

    fn normalize_backward(&self, zhat: &GpuTensor, norms: &GpuTensor, d_zhat: &GpuTensor) -> GpuTensor {
        ops::normalize::normalize_backward(self, zhat, norms, d_zhat)
    }

    fn select_thresholds(&self, h: &GpuTensor, layout: PairLayout, pos_high: f32, pos_low: f32) -> GpuTensor {
        let (hhat, _) = ops::normalize::normalize_forward(self, h);
        ops::select::thresholds(self, &hhat, layout, pos_high, pos_low)
    }

    fn loss(
        &self,
        params: &LossParams,
        z: &GpuTensor,
        pairs: &Pairs<'_, GpuTensor>,
        labels: Option<&GpuTensor>,
    ) -> LossOut<GpuTensor> {
        let flags = self.flag_source(pairs);
        match params.kind {
            LossKind::Spectral => ops::spectral::loss(self, params, z, &flags),
            _ => ops::contrastive::loss(self, params, z, &flags, labels),
        }
    }

    fn optimizer_step(
        &self,
        step: &OptimStep,
        param: &mut GpuTensor,
        grad: &GpuTensor,
        m: &mut GpuTensor,
        v: &mut GpuTensor,
    ) {
        ops::optim::optimizer_step(self, step, param, grad, m, v);
    }

    fn align_uniform(&self, z: &GpuTensor, t: f32) -> GpuTensor {
        ops::contrastive::align_uniform(self, z, t)
    }
}
