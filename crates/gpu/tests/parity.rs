//! Backend parity: ONE suite, written once over `B: Backend`, instantiated for `Cpu<f32>` (the tuned CPU
//! engine) and `Gpu` (the WGSL kernels), holding every op to its plain f64 reference in core's ops (the
//! untuned formulas of docs/math.md, `ops::*::reference`; never the tuned engine) on fresh random inputs of
//! several shapes — sizes that are not
//! multiples of the workgroup or tile sizes (16, 64, 256) and batches of more than one tile.
//!
//! Tolerance: spherelab_core::tolerance (VALUE for values and forward outputs, GRAD for gradients, and why).
//!
//! Selection: the thresholds (order statistics of the row, so as accurate as its elements) are compared with
//! atol 1e-5. Flags are compared pair by pair: a pair whose similarity is within 1e-5 of a threshold (the
//! threshold elements themselves, above all, whose f32 and f64 values differ by rounding) may flip; all others
//! must agree, and the agreement fraction must be ≥ 95 % on rows with enough candidates. (Inside the loss
//! kernels flags are recomputed with the selection kernel's own arithmetic, so there they agree exactly; the
//! loss parity cases with `Pairs::Selected` check that end to end.)
mod common;

use common::{both, check, check_loss, gpu, loss_params, modes_and_cases, random};
use spherelab_core::Cpu;
use spherelab_core::backend::{Backend, OptimStep, PairLayout};
use spherelab_core::config::{Activation, LossKind, OptimizerKind};
use spherelab_core::matrix::Matrix;
use spherelab_core::ops::normalize::{normalize_backward, normalize_forward};
use spherelab_core::ops::{activation, linear, optimizer, reductions, selection};
use spherelab_core::rng::{rng, stream};
use spherelab_core::tolerance::{GRAD, Tol, VALUE};
use spherelab_gpu::ops::linear::MatmulVersion;

const ACTS: [Activation; 4] = [Activation::Identity, Activation::Relu, Activation::Tanh, Activation::Gelu];
/// (rows, in, out): odd sizes, exact tiles, several tiles, a single element, and a long batch (dW split
/// over k into 7 partial products).
const LINEAR_SHAPES: [(usize, usize, usize); 6] =
    [(6, 2, 3), (70, 33, 128), (300, 128, 33), (1, 1, 1), (65, 64, 65), (1000, 5, 7)];
/// (2N, d) for the losses and normalisation; d = 130 takes two 128-dimension slices of the gradient pass, and
/// 2N = 1040 three column chunks of the pairwise passes (512 + 512 + 16; spectral's N = 520 two), the last
/// one partial (sizes::PAIR_COL_CHUNK).
const EMB_SHAPES: [(usize, usize); 7] = [(6, 2), (6, 3), (70, 33), (300, 128), (70, 3), (70, 130), (1040, 5)];

pub fn linear_forward_matches_reference<B: Backend>(be: &B) {
    let mut r = rng(1, stream::TEST);
    for (rows, fi, fo) in LINEAR_SHAPES {
        for act in ACTS {
            let x = both(be, rows, fi, &random(&mut r, rows, fi));
            let w = both(be, fi, fo, &random(&mut r, fi, fo));
            let b = both(be, 1, fo, &random(&mut r, 1, fo));
            let got = be.linear_forward(&x.b, &w.b, &b.b, act);
            let pre = linear::reference::forward(&x.r, &w.r, &b.r);
            let out = activation::reference::forward(&pre, act);
            let what = format!("linear_forward {rows}×{fi}→{fo} {act:?}");
            check(be, &format!("{what} pre"), &got.pre, &pre, VALUE);
            check(be, &format!("{what} out"), &got.out, &out, VALUE);
        }
    }
}

pub fn linear_backward_matches_reference<B: Backend>(be: &B) {
    let mut r = rng(2, stream::TEST);
    for (rows, fi, fo) in LINEAR_SHAPES {
        let x = both(be, rows, fi, &random(&mut r, rows, fi));
        let w = both(be, fi, fo, &random(&mut r, fi, fo));
        let d = both(be, rows, fo, &random(&mut r, rows, fo));
        let got = be.linear_backward(&x.b, &w.b, &d.b, true);
        let (dx, dw, db) = linear::reference::backward(&x.r, &w.r, &d.r);
        let what = format!("linear_backward {rows}×{fi}→{fo}");
        check(be, &format!("{what} dx"), got.dx.as_ref().unwrap(), &dx, GRAD);
        check(be, &format!("{what} dW"), &got.dw, &dw, GRAD);
        check(be, &format!("{what} db"), &got.db, &db, GRAD);
        assert!(be.linear_backward(&x.b, &w.b, &d.b, false).dx.is_none(), "dx computed though not asked for");
    }
}

pub fn activation_backward_matches_reference<B: Backend>(be: &B) {
    let mut r = rng(3, stream::TEST);
    for (rows, cols) in [(7, 3), (300, 70), (1, 1)] {
        for act in ACTS {
            let mut pre = random(&mut r, rows, cols);
            pre[0] = 0.0; // ReLU'(0) = 0 on both.
            let pre = both(be, rows, cols, &pre);
            let d = both(be, rows, cols, &random(&mut r, rows, cols));
            let got = be.activation_backward(&pre.b, &d.b, act);
            let want = activation::reference::backward(&pre.r, &d.r, act);
            check(be, &format!("activation_backward {rows}×{cols} {act:?}"), &got, &want, GRAD);
        }
    }
}

pub fn normalization_matches_reference<B: Backend>(be: &B) {
    let mut r = rng(4, stream::TEST);
    for (rows, cols) in EMB_SHAPES {
        let mut zd = random(&mut r, rows, cols);
        zd[..cols].iter_mut().for_each(|v| *v = 0.0); // a zero row: the ε floor, not NaN
        let z = both(be, rows, cols, &zd);
        let g = both(be, rows, cols, &random(&mut r, rows, cols));
        let (zh, n) = be.normalize_forward(&z.b);
        let (zh_r, n_r) = normalize_forward(&z.r);
        check(be, &format!("normalize_forward {rows}×{cols} ẑ"), &zh, &zh_r, VALUE);
        check(be, &format!("normalize_forward {rows}×{cols} norms"), &n, &n_r, VALUE);
        let dz = be.normalize_backward(&zh, &n, &g.b);
        let dz_r = normalize_backward(&zh_r, &n_r, &g.r);
        // The zero row's gradient is g/ε: huge on both, compared relative to the reference like the rest.
        check(be, &format!("normalize_backward {rows}×{cols}"), &dz, &dz_r, GRAD);
    }
}

pub fn optimizer_steps_match_reference<B: Backend>(be: &B) {
    let mut r = rng(5, stream::TEST);
    let base = OptimStep {
        kind: OptimizerKind::Sgd,
        lr: 0.05,
        momentum: 0.0,
        nesterov: false,
        weight_decay: 0.0,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        t: 1,
    };
    let variants = [
        OptimStep { ..base },
        OptimStep { momentum: 0.9, weight_decay: 1e-2, ..base },
        OptimStep { momentum: 0.9, nesterov: true, ..base },
        OptimStep { kind: OptimizerKind::Adam, ..base },
        OptimStep { kind: OptimizerKind::Adam, weight_decay: 1e-2, ..base },
        OptimStep { kind: OptimizerKind::Adamw, weight_decay: 0.1, ..base },
    ];
    for (vi, s) in variants.iter().enumerate() {
        let (rows, cols) = (33, 17);
        let p0 = random(&mut r, rows, cols);
        let (mut p, mut m, mut v) = (be.upload(rows, cols, &p0), be.zeros(rows, cols), be.zeros(rows, cols));
        let p0_r = Matrix::from_vec(rows, cols, p0.iter().map(|&v| f64::from(v)).collect());
        let (mut pr, mut mr, mut vr) = (p0_r, Matrix::zeros(rows, cols), Matrix::zeros(rows, cols));
        for t in 1..=3 {
            let g = both(be, rows, cols, &random(&mut r, rows, cols));
            let st = OptimStep { t, ..*s };
            be.optimizer_step(&st, &mut p, &g.b, &mut m, &mut v);
            optimizer::reference::step(&st, &mut pr, &g.r, &mut mr, &mut vr);
            be.end_step();
        }
        check(be, &format!("optimizer variant {vi} ({:?}) param", s.kind), &p, &pr, VALUE);
        check(be, &format!("optimizer variant {vi} ({:?}) m", s.kind), &m, &mr, VALUE);
        if s.kind != OptimizerKind::Sgd {
            check(be, &format!("optimizer variant {vi} ({:?}) v", s.kind), &v, &vr, VALUE);
        }
    }
}

/// Cosine similarity of rows a and b of h (f64), for flags.
fn cosine(h: &Matrix<f64>, a: usize, b: usize) -> f64 {
    let hn = h.normalized_rows();
    hn.row(a).iter().zip(hn.row(b)).map(|(x, y)| x * y).sum()
}

pub fn selection_thresholds_match_reference<B: Backend>(be: &B) {
    let mut r = rng(6, stream::TEST);
    for (rows, dh) in [(6, 3), (70, 33), (300, 5), (70, 2)] {
        for layout in [PairLayout::AllViews, PairLayout::CrossView] {
            for (hi, lo) in [(0.1, 1.0), (0.25, 0.6), (0.0, 0.05)] {
                let h = both(be, rows, dh, &random(&mut r, rows, dh));
                let got = be.select_thresholds(&h.b, layout, hi, lo);
                let want = selection::thresholds(&h.r, layout, hi, lo);
                let what = format!("select_thresholds {rows}×{dh} {layout:?} hi={hi} lo={lo}");
                check(be, &what, &got, &want, Tol { rtol: 0.0, atol_frac: 1e-5 });
                // Flags from each side's thresholds on the same f64 similarities. A pair whose similarity lies
                // within 1e-5 of a threshold (above all the threshold elements themselves, whose f32 and f64
                // values differ by rounding) may flip; every other pair must agree.
                let (t_got, t_want) = (be.download_f64(&got), want.data.clone());
                let n = rows / 2;
                let (mut agree, mut total) = (0usize, 0usize);
                for i in 0..want.rows {
                    let cands: Vec<usize> = match layout {
                        PairLayout::AllViews => (0..rows).filter(|&k| k != i && k != (i + n) % rows).collect(),
                        PairLayout::CrossView => (0..n).filter(|&k| k != i).map(|k| n + k).collect(),
                    };
                    for k in cands {
                        let c = cosine(&h.r, i, k);
                        let f = |t: &[f64]| t[2 * i] <= c && c < t[2 * i + 1];
                        let near = (c - t_want[2 * i]).abs() < 1e-5 || (c - t_want[2 * i + 1]).abs() < 1e-5;
                        assert!(near || f(&t_got) == f(&t_want), "{what}: flag of pair ({i}, {k}) differs, c = {c}");
                        agree += (f(&t_got) == f(&t_want)) as usize;
                        total += 1;
                    }
                }
                let frac = agree as f64 / total.max(1) as f64;
                assert!(total < 100 || frac >= 0.95, "{what}: flags agree on only {:.2} % of pairs", 100.0 * frac);
            }
        }
    }
}

pub fn loss_matches_reference<B: Backend>(be: &B, kind: LossKind) {
    let mut r = rng(7 + kind as u64, stream::TEST);
    for (rows, d) in EMB_SHAPES {
        for (mode, case) in modes_and_cases(kind) {
            check_loss(be, &mut r, &loss_params(kind, mode), rows, d, case);
        }
        be.end_step();
    }
}

pub fn align_uniform_metric_matches_reference<B: Backend>(be: &B) {
    let mut r = rng(8, stream::TEST);
    for (rows, d) in EMB_SHAPES {
        for t in [2.0f32, 0.5] {
            let z = both(be, rows, d, &random(&mut r, rows, d));
            let got = be.align_uniform(&z.b, t);
            let want = Matrix::from_vec(1, 2, reductions::reference::metric(&z.r, f64::from(t)).to_vec());
            check(be, &format!("align_uniform 2N={rows} d={d} t={t}"), &got, &want, VALUE);
        }
    }
}

pub fn async_readback_delivers_the_same_values_as_download<B: Backend>(be: &B) {
    let mut r = rng(9, stream::TEST);
    let a = random(&mut r, 5, 7);
    let b = random(&mut r, 1, 3);
    let (ta, tb) = (be.upload(5, 7, &a), be.upload(1, 3, &b));
    let rb = be.read_async(&[&ta, &tb]);
    let start = std::time::Instant::now();
    while !rb.is_ready() {
        be.poll();
        assert!(start.elapsed().as_secs() < 30, "read_async never completed");
    }
    let got = rb.try_take().unwrap().unwrap();
    assert_eq!(got, vec![a, b]);
}

macro_rules! parity_suite {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn linear_forward_matches_reference() {
                super::linear_forward_matches_reference(&$make);
            }
            #[test]
            fn linear_backward_matches_reference() {
                super::linear_backward_matches_reference(&$make);
            }
            #[test]
            fn activation_backward_matches_reference() {
                super::activation_backward_matches_reference(&$make);
            }
            #[test]
            fn normalization_matches_reference() {
                super::normalization_matches_reference(&$make);
            }
            #[test]
            fn optimizer_steps_match_reference() {
                super::optimizer_steps_match_reference(&$make);
            }
            #[test]
            fn selection_thresholds_match_reference() {
                super::selection_thresholds_match_reference(&$make);
            }
            #[test]
            fn infonce_matches_reference_in_every_selection_mode() {
                super::loss_matches_reference(&$make, LossKind::Infonce);
            }
            #[test]
            fn dcl_matches_reference_in_every_selection_mode() {
                super::loss_matches_reference(&$make, LossKind::Dcl);
            }
            #[test]
            fn supcon_matches_reference() {
                super::loss_matches_reference(&$make, LossKind::Supcon);
            }
            #[test]
            fn spectral_matches_reference_with_clip_removal_and_margin() {
                super::loss_matches_reference(&$make, LossKind::Spectral);
            }
            #[test]
            fn align_uniform_loss_matches_reference() {
                super::loss_matches_reference(&$make, LossKind::AlignUniform);
            }
            #[test]
            fn align_uniform_metric_matches_reference() {
                super::align_uniform_metric_matches_reference(&$make);
            }
            #[test]
            fn async_readback_delivers_the_same_values_as_download() {
                super::async_readback_delivers_the_same_values_as_download(&$make);
            }
        }
    };
}

/// Every version of the matrix-product kernel (shaders/matmul_1_naive.wgsl, matmul_2_tiled.wgsl), not only the
/// one a run uses: the linear layer forward and backward on the suite's shapes, against the reference.
#[test]
fn every_matmul_version_matches_reference() {
    let gpu = gpu();
    for version in MatmulVersion::ALL {
        eprintln!("{} (a failure below is this version's)", version.name());
        gpu.set_matmul_version(version);
        linear_forward_matches_reference(&gpu);
        linear_backward_matches_reference(&gpu);
    }
}

parity_suite!(cpu_f32, Cpu::<f32>::new());
parity_suite!(gpu, super::gpu());
