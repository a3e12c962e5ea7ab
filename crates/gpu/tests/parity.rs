//! Backend parity: ONE suite, written once over `B: Backend`, instantiated for `Cpu<f32>` and `Gpu`, holding
//! every op against `Cpu<f64>` (the reference) on fresh random inputs of several shapes — sizes that are not
//! multiples of the workgroup or tile sizes (16, 64, 256) and batches of more than one tile.
//!
//! Tolerance rule: element x passes against reference r when |x − r| ≤ max(rtol·|r|, atol), with
//! atol = atol_frac·max_k |r_k| (the tensor's scale), so tiny elements that are sums of large terms of mixed
//! sign are judged by the error their terms carry, not by their own size. f32 accumulation over K terms has
//! relative error ~K·2⁻²⁴ in the worst case:
//! - values and forward outputs: rtol 1e-4, atol_frac 1e-5;
//! - gradients: rtol 1e-3, atol_frac 1e-4 — looser because they are sums over all pairs of products of
//!   softmax weights (each computed in f32 through exp) and embeddings, with heavy cancellation (the rows
//!   of a softmax sum to 1 and the positive's −1 cancels it).
//!   On failure the worst element is printed with its index, value and reference.
//!
//! Selection: the thresholds (order statistics of the row, so as accurate as its elements) are compared with
//! atol 1e-5. Flags are compared pair by pair: a pair whose similarity is within 1e-5 of a threshold (the
//! threshold elements themselves, above all, whose f32 and f64 values differ by rounding) may flip; all others
//! must agree, and the agreement fraction must be ≥ 95 % on rows with enough candidates. (Inside the loss
//! kernels flags are recomputed with the selection kernel's own arithmetic, so there they agree exactly; the
//! loss parity cases with `Pairs::Selected` check that end to end.)

use spherelab_core::Cpu;
use spherelab_core::backend::{Backend, LossParams, OptimStep, PairLayout, Pairs};
use spherelab_core::config::{Activation, LossKind, OptimizerKind, PairMode};
use spherelab_core::matrix::Matrix;
use spherelab_core::rng::{Rng, normal, rng, stream};
use spherelab_gpu::Gpu;

type Ref = Cpu<f64>;

#[derive(Clone, Copy)]
struct Tol {
    rtol: f64,
    atol_frac: f64,
}

const VALUE: Tol = Tol { rtol: 1e-4, atol_frac: 1e-5 };
const GRAD: Tol = Tol { rtol: 1e-3, atol_frac: 1e-4 };

#[track_caller]
fn assert_close(what: &str, got: &[f64], want: &[f64], tol: Tol) {
    assert_eq!(got.len(), want.len(), "{what}: length {} vs reference {}", got.len(), want.len());
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let atol = (tol.atol_frac * scale).max(1e-7);
    let mut worst: Option<(usize, f64)> = None;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let excess = if g.is_finite() { (g - w).abs() - (tol.rtol * w.abs()).max(atol) } else { f64::INFINITY };
        if excess > 0.0 && worst.is_none_or(|(_, e)| excess > e) {
            worst = Some((i, excess));
        }
    }
    if let Some((i, _)) = worst {
        let passes = |g: f64, w: f64| g.is_finite() && (g - w).abs() <= (tol.rtol * w.abs()).max(atol);
        let bad = got.iter().zip(want).filter(|&(&g, &w)| !passes(g, w)).count();
        panic!(
            "{what}: {bad} of {} elements out of tolerance; worst at {i}: got {} vs reference {} \
             (|diff| {:.3e}, allowed {:.3e})",
            got.len(),
            got[i],
            want[i],
            (got[i] - want[i]).abs(),
            (tol.rtol * want[i].abs()).max(atol)
        );
    }
}

/// Random N(0,1) data rounded to f32, so both backends see exactly the same inputs.
fn random(r: &mut Rng, rows: usize, cols: usize) -> Vec<f32> {
    (0..rows * cols).map(|_| normal(r) as f32).collect()
}

/// A tensor on both the backend under test and the reference.
struct Pair<B: Backend> {
    b: B::Tensor,
    r: Matrix<f64>,
}

fn both<B: Backend>(be: &B, rows: usize, cols: usize, data: &[f32]) -> Pair<B> {
    Pair { b: be.upload(rows, cols, data), r: Ref::new().upload(rows, cols, data) }
}

#[track_caller]
fn check<B: Backend>(be: &B, what: &str, got: &B::Tensor, want: &Matrix<f64>, tol: Tol) {
    assert_eq!(be.dims(got), (want.rows, want.cols), "{what}: shape");
    assert_close(what, &be.download_f64(got), &want.data, tol);
}

const ACTS: [Activation; 4] = [Activation::Identity, Activation::Relu, Activation::Tanh, Activation::Gelu];
/// (rows, in, out): odd sizes, exact tiles, several tiles, a single element, and a long batch (dW split
/// over k into 7 partial products).
const LINEAR_SHAPES: [(usize, usize, usize); 6] =
    [(6, 2, 3), (70, 33, 128), (300, 128, 33), (1, 1, 1), (65, 64, 65), (1000, 5, 7)];
/// (2N, d) for the losses and normalisation; d = 130 takes two 128-dimension chunks of the gradient pass.
const EMB_SHAPES: [(usize, usize); 6] = [(6, 2), (6, 3), (70, 33), (300, 128), (70, 3), (70, 130)];

pub fn linear_forward_matches_reference<B: Backend>(be: &B) {
    let mut r = rng(1, stream::TEST);
    for (rows, fi, fo) in LINEAR_SHAPES {
        for act in ACTS {
            let x = both(be, rows, fi, &random(&mut r, rows, fi));
            let w = both(be, fi, fo, &random(&mut r, fi, fo));
            let b = both(be, 1, fo, &random(&mut r, 1, fo));
            let got = be.linear_forward(&x.b, &w.b, &b.b, act);
            let want = Ref::new().linear_forward(&x.r, &w.r, &b.r, act);
            let what = format!("linear_forward {rows}×{fi}→{fo} {act:?}");
            check(be, &format!("{what} pre"), &got.pre, &want.pre, VALUE);
            check(be, &format!("{what} out"), &got.out, &want.out, VALUE);
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
        let want = Ref::new().linear_backward(&x.r, &w.r, &d.r, true);
        let what = format!("linear_backward {rows}×{fi}→{fo}");
        check(be, &format!("{what} dx"), got.dx.as_ref().unwrap(), want.dx.as_ref().unwrap(), GRAD);
        check(be, &format!("{what} dW"), &got.dw, &want.dw, GRAD);
        check(be, &format!("{what} db"), &got.db, &want.db, GRAD);
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
            let want = Ref::new().activation_backward(&pre.r, &d.r, act);
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
        let (zh_r, n_r) = Ref::new().normalize_forward(&z.r);
        check(be, &format!("normalize_forward {rows}×{cols} ẑ"), &zh, &zh_r, VALUE);
        check(be, &format!("normalize_forward {rows}×{cols} norms"), &n, &n_r, VALUE);
        let dz = be.normalize_backward(&zh, &n, &g.b);
        let dz_r = Ref::new().normalize_backward(&zh_r, &n_r, &g.r);
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
        let (mut pr, mut mr, mut vr) =
            (Ref::new().upload(rows, cols, &p0), Matrix::zeros(rows, cols), Matrix::zeros(rows, cols));
        for t in 1..=3 {
            let g = both(be, rows, cols, &random(&mut r, rows, cols));
            let st = OptimStep { t, ..*s };
            be.optimizer_step(&st, &mut p, &g.b, &mut m, &mut v);
            Ref::new().optimizer_step(&st, &mut pr, &g.r, &mut mr, &mut vr);
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
                let want = Ref::new().select_thresholds(&h.r, layout, hi, lo);
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

fn loss_params(kind: LossKind, mode: PairMode) -> LossParams {
    LossParams {
        kind,
        tau: 0.3,
        mu: 1.5,
        align_alpha: 2.0,
        unif_t: 2.0,
        w_align: 1.0,
        w_unif: 1.0,
        mode,
        sigma: 0.1,
        rho: 0.7,
        margin: 0.2,
    }
}

/// Which pairs a loss case flags.
#[derive(Clone, Copy, Debug)]
enum PairCase {
    None,
    All,
    Selected,
    Explicit,
}

fn check_loss<B: Backend>(be: &B, r: &mut Rng, p: &LossParams, rows: usize, d: usize, case: PairCase) {
    let zd = random(r, rows, d);
    // Scale z so that some spectral rows are clipped and some are not.
    let zd: Vec<f32> = zd.iter().map(|v| v * 0.6).collect();
    let z = both(be, rows, d, &zd);
    let labels_d: Vec<f32> = (0..rows).map(|i| ((i % (rows / 2)) % 3) as f32).collect();
    let labels = both(be, rows, 1, &labels_d);
    let h = both(be, rows, 5, &random(r, rows, 5));
    let layout = p.layout();
    let thr_b = be.select_thresholds(&h.b, layout, 0.2, 0.7);
    let thr_r = Ref::new().select_thresholds(&h.r, layout, 0.2, 0.7);
    let m = if layout == PairLayout::CrossView { rows / 2 } else { rows };
    let ex: Vec<f32> = (0..m * m).map(|_| (normal(r) > 0.3) as u8 as f32).collect();
    let ex = both(be, m, m, &ex);
    let (pairs_b, pairs_r) = match case {
        PairCase::None => (Pairs::None, Pairs::None),
        PairCase::All => (Pairs::All, Pairs::All),
        PairCase::Selected => {
            (Pairs::Selected { h: &h.b, thresholds: &thr_b }, Pairs::Selected { h: &h.r, thresholds: &thr_r })
        }
        PairCase::Explicit => (Pairs::Explicit(&ex.b), Pairs::Explicit(&ex.r)),
    };
    let lb = (p.kind == LossKind::Supcon).then_some(&labels.b);
    let lr = (p.kind == LossKind::Supcon).then_some(&labels.r);
    let got = be.loss(p, &z.b, &pairs_b, lb);
    let want = Ref::new().loss(p, &z.r, &pairs_r, lr);
    let what = format!("{:?} {:?} {case:?} 2N={rows} d={d}", p.kind, p.mode);
    check(be, &format!("{what} value"), &got.value, &want.value, VALUE);
    check(be, &format!("{what} gradient"), &got.grad, &want.grad, GRAD);
}

fn modes_and_cases(kind: LossKind) -> Vec<(PairMode, PairCase)> {
    let mut v = vec![(PairMode::None, PairCase::None)];
    let modes: &[PairMode] = match kind {
        LossKind::Infonce | LossKind::Dcl => {
            &[PairMode::Removal, PairMode::Margin, PairMode::Temperature, PairMode::Combined]
        }
        LossKind::Spectral => &[PairMode::Removal, PairMode::Margin],
        _ => &[],
    };
    for &m in modes {
        for c in [PairCase::All, PairCase::Selected, PairCase::Explicit] {
            v.push((m, c));
        }
    }
    v
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
            let want = Ref::new().align_uniform(&z.r, t);
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

/// The GPU under test. No adapter is a loud failure, never a silent pass.
fn gpu() -> Gpu {
    Gpu::new().unwrap_or_else(|e| {
        panic!("GPU parity tests need a GPU adapter (on a machine without one, install Mesa's lavapipe: mesa-vulkan-drivers): {e}")
    })
}

parity_suite!(cpu_f32, Cpu::<f32>::new());
parity_suite!(gpu, super::gpu());
