// common.wgsl — helpers prepended to the kernels that need them (not a kernel by itself).
//
// Activations follow crates/core/src/cpu/layers.rs exactly:
//   relu(x) = max(x, 0), relu'(x) = 1[x > 0] (ReLU'(0) = 0, as PyTorch)
//   tanh(x), tanh'(x) = 1 − tanh²(x)
//   gelu(x) = 0.5·x·(1 + tanh(u)), u = c·(x + a·x³), c = √(2/π), a = 0.044715
//   gelu'(x) = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·c·(1 + 3a·x²)
// tanh is evaluated on a clamped argument: tanh(±15) is ±1 in f32, and some drivers return NaN for
// large arguments (they compute it through exp).

const GELU_C: f32 = 0.7978845608028654;
const GELU_A: f32 = 0.044715;

fn tanh_safe(x: f32) -> f32 {
    return tanh(clamp(x, -15.0, 15.0));
}

// act: an activation's code (crates/gpu/src/codes.rs).
fn act_forward(x: f32, act: u32) -> f32 {
    switch act {
        case {{ACT_RELU}}u: { return max(x, 0.0); }
        case {{ACT_TANH}}u: { return tanh_safe(x); }
        case {{ACT_GELU}}u: {
            let u = GELU_C * (x + GELU_A * x * x * x);
            return 0.5 * x * (1.0 + tanh_safe(u));
        }
        default: { return x; }
    }
}

fn act_derivative(x: f32, act: u32) -> f32 {
    switch act {
        case {{ACT_RELU}}u: { return select(0.0, 1.0, x > 0.0); }
        case {{ACT_TANH}}u: {
            let t = tanh_safe(x);
            return 1.0 - t * t;
        }
        case {{ACT_GELU}}u: {
            let u = GELU_C * (x + GELU_A * x * x * x);
            let t = tanh_safe(u);
            let du = GELU_C * (1.0 + 3.0 * GELU_A * x * x);
            return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du;
        }
        default: { return 1.0; }
    }
}

// One step of a dot product. Every kernel that computes a cosine similarity c_ik of ĥ (selection and the
// losses that recompute flags) accumulates through this function, in dimension order from 0, with one
// accumulator, so that the flags the losses recompute agree with the selection bit for bit.
fn dot_step(acc: f32, x: f32, y: f32) -> f32 {
    return acc + x * y;
}

// Flat index of a workgroup in a grid folded into 2-D (x then y) when it has more than 65,535 workgroups.
fn folded_group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}
