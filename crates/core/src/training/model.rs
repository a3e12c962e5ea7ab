//! The encoder (MLP → h), the optional projector (MLP → z) and the optional ℓ2 normalisation, with
//! Kaiming-uniform initialisation from the run's seed, and forward/backward written once against `Backend`.

use crate::backend::{Backend, LinearGrads};
use crate::config::{Activation, ModelConfig};
use crate::rng::{self, Rng};

/// Host-side initial values of one linear layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerInit {
    pub fan_in: usize,
    pub fan_out: usize,
    /// fan_in × fan_out, row-major.
    pub w: Vec<f32>,
    /// 1 × fan_out.
    pub b: Vec<f32>,
    pub act: Activation,
}

/// Gain of Kaiming initialisation for a non-linearity: √2 for ReLU (and GELU, close to it), 5/3 for tanh.
fn kaiming_gain(act: Activation) -> f64 {
    match act {
        Activation::Relu | Activation::Gelu => std::f64::consts::SQRT_2,
        Activation::Tanh => 5.0 / 3.0,
        Activation::Identity => 1.0,
    }
}

/// Widths and activations of every layer: encoder then projector. Each MLP has `activation` after every
/// layer but its last. Returns (fan_in, fan_out, act) per layer and how many belong to the encoder.
pub fn layer_shapes(cfg: &ModelConfig, input_dim: usize) -> (Vec<(usize, usize, Activation)>, usize) {
    let mut shapes = Vec::new();
    let mut prev = input_dim;
    for (mlp_index, widths) in [&cfg.encoder, &cfg.projector].into_iter().enumerate() {
        let _ = mlp_index;
        for (l, &w) in widths.iter().enumerate() {
            let act = if l + 1 == widths.len() { Activation::Identity } else { cfg.activation };
            shapes.push((prev, w, act));
            prev = w;
        }
    }
    (shapes, cfg.encoder.len())
}

/// Kaiming-uniform weights, W ~ U[−b, b] with b = gain·√(3/fan_in) (gain of the layer's own activation,
/// or of the model's activation for a last layer that feeds one), and zero biases, from `seed`.
pub fn init_layers(cfg: &ModelConfig, input_dim: usize, seed: u64) -> Vec<LayerInit> {
    let mut r: Rng = rng::rng(seed, rng::stream::INIT);
    let (shapes, _) = layer_shapes(cfg, input_dim);
    shapes
        .into_iter()
        .map(|(fan_in, fan_out, act)| {
            let bound = kaiming_gain(cfg.activation) * (3.0 / fan_in as f64).sqrt();
            let w = (0..fan_in * fan_out).map(|_| rng::uniform(&mut r, -bound, bound) as f32).collect();
            LayerInit { fan_in, fan_out, w, b: vec![0.0; fan_out], act }
        })
        .collect()
}

/// One linear layer's parameters and optimiser state on a backend.
pub struct Layer<T> {
    pub w: T,
    pub b: T,
    pub act: Activation,
    /// Optimiser state for w and for b.
    pub w_state: OptimState<T>,
    pub b_state: OptimState<T>,
}

/// One parameter tensor's optimiser state: Adam's first and second moments (SGD keeps its momentum in `m`
/// and leaves `v`), the same shape as the parameter, zero at the start.
pub struct OptimState<T> {
    pub m: T,
    pub v: T,
}

/// The model's parameters on a backend.
pub struct Model<T> {
    pub layers: Vec<Layer<T>>,
    /// How many of `layers` form the encoder; h is the output of layer `encoder_len − 1`.
    pub encoder_len: usize,
    pub normalize: bool,
}

/// What the forward pass keeps for the backward pass.
pub struct ForwardCache<T> {
    /// Input of each layer (x of layer 0 is the data).
    pub inputs: Vec<T>,
    /// Pre-activation of each layer.
    pub pres: Vec<T>,
    /// Which layer's input h (the encoder's output) is: `inputs[h_at]`, or z_raw when h_at is past the
    /// layers (no projector). Kept as an index, not a copy.
    h_at: usize,
    /// z before normalisation (projector output, or h without projector).
    pub z_raw: T,
    /// (ẑ, norms) when the model normalises.
    pub normalized: Option<(T, T)>,
}

impl<T: Clone> ForwardCache<T> {
    /// h: the encoder's output.
    pub fn h(&self) -> &T {
        self.inputs.get(self.h_at).unwrap_or(&self.z_raw)
    }

    /// The model's output: ẑ if it normalises, else z.
    pub fn output(&self) -> &T {
        self.normalized.as_ref().map(|(zhat, _)| zhat).unwrap_or(&self.z_raw)
    }
}

/// Gradients for every layer, in layer order.
pub struct ModelGrads<T> {
    pub layers: Vec<(T, T)>,
}

impl<T: Clone> Model<T> {
    /// Uploads initial parameters and zero optimiser state.
    pub fn upload<B: Backend<Tensor = T>>(
        backend: &B,
        init: &[LayerInit],
        encoder_len: usize,
        normalize: bool,
    ) -> Self {
        let layers = init
            .iter()
            .map(|l| Layer {
                w: backend.upload(l.fan_in, l.fan_out, &l.w),
                b: backend.upload(1, l.fan_out, &l.b),
                act: l.act,
                w_state: OptimState { m: backend.zeros(l.fan_in, l.fan_out), v: backend.zeros(l.fan_in, l.fan_out) },
                b_state: OptimState { m: backend.zeros(1, l.fan_out), v: backend.zeros(1, l.fan_out) },
            })
            .collect();
        Self { layers, encoder_len, normalize }
    }

    /// Runs x (rows × input_dim) through encoder, projector and normalisation.
    pub fn forward<B: Backend<Tensor = T>>(&self, backend: &B, x: &T) -> ForwardCache<T> {
        let mut inputs = Vec::with_capacity(self.layers.len());
        let mut pres = Vec::with_capacity(self.layers.len());
        assert!(
            (1..=self.layers.len()).contains(&self.encoder_len),
            "the encoder has at least one layer and no more than the model"
        );
        let mut cur = x.clone();
        for layer in &self.layers {
            let out = backend.linear_forward(&cur, &layer.w, &layer.b, layer.act);
            inputs.push(std::mem::replace(&mut cur, out.out));
            pres.push(out.pre);
        }
        let normalized = self.normalize.then(|| backend.normalize_forward(&cur));
        // h, the output of layer encoder_len − 1, is the input of layer encoder_len (or z_raw without projector).
        ForwardCache { inputs, pres, h_at: self.encoder_len, z_raw: cur, normalized }
    }

    /// Back-propagates ∂L/∂(model output) to every layer's parameters.
    pub fn backward<B: Backend<Tensor = T>>(&self, backend: &B, cache: &ForwardCache<T>, d_out: &T) -> ModelGrads<T> {
        let mut d = match &cache.normalized {
            Some((zhat, norms)) => backend.normalize_backward(zhat, norms, d_out),
            None => d_out.clone(),
        };
        let mut grads = Vec::with_capacity(self.layers.len());
        for l in (0..self.layers.len()).rev() {
            let layer = &self.layers[l];
            let d_pre = if layer.act == Activation::Identity {
                d
            } else {
                backend.activation_backward(&cache.pres[l], &d, layer.act)
            };
            let LinearGrads { dx, dw, db } = backend.linear_backward(&cache.inputs[l], &layer.w, &d_pre, l > 0);
            grads.push((dw, db));
            match dx {
                Some(dx) => d = dx,
                None => break,
            }
        }
        grads.reverse();
        ModelGrads { layers: grads }
    }

    /// Reads every layer's (W, b) back to the host.
    pub fn download<B: Backend<Tensor = T>>(&self, backend: &B) -> Vec<(Vec<f32>, Vec<f32>)> {
        self.layers.iter().map(|l| (backend.download(&l.w), backend.download(&l.b))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::Cpu;
    use crate::matrix::Matrix;
    use crate::testing::{assert_gradient_matches, random_matrix};

    #[test]
    fn init_is_seeded_and_within_kaiming_bounds() {
        let cfg = ModelConfig::default();
        let a = init_layers(&cfg, 2, 5);
        assert_eq!(a, init_layers(&cfg, 2, 5));
        assert_ne!(a, init_layers(&cfg, 2, 6));
        let shapes: Vec<_> = a.iter().map(|l| (l.fan_in, l.fan_out)).collect();
        assert_eq!(shapes, vec![(2, 64), (64, 64), (64, 32), (32, 32), (32, 2)]);
        for l in &a {
            let bound = (2.0f64 * 3.0 / l.fan_in as f64).sqrt() as f32;
            assert!(l.w.iter().all(|w| w.abs() <= bound));
            assert!(l.b.iter().all(|&b| b == 0.0));
        }
    }

    #[test]
    fn whole_model_gradient_matches_finite_differences() {
        let cfg =
            ModelConfig { encoder: vec![5, 4], projector: vec![4, 3], activation: Activation::Tanh, normalize: true };
        let cpu = Cpu::<f64>::new();
        let init = init_layers(&cfg, 3, 1);
        let model = Model::upload(&cpu, &init, 2, true);
        let mut r = rng::rng(2, rng::stream::TEST);
        let x = random_matrix(&mut r, 6, 3);
        let g = random_matrix(&mut r, 6, 3);
        let cache = model.forward(&cpu, &x);
        let grads = model.backward(&cpu, &cache, &g);
        for l in 0..model.layers.len() {
            let loss = |w: &Matrix<f64>| {
                let mut m2 = Model::upload(&cpu, &init, 2, true);
                m2.layers[l].w = w.clone();
                m2.forward(&cpu, &x).output().data.iter().zip(&g.data).map(|(a, b)| a * b).sum::<f64>()
            };
            assert_gradient_matches(&format!("layer {l} W"), &model.layers[l].w, &grads.layers[l].0, loss);
        }
    }
}
