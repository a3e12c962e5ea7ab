//! What the parity suite and the large-batch tests share: random inputs on both backends, the checks against
//! `Cpu<f64>` under spherelab_core::tolerance, and one loss case (a loss, a selection mode, where its flags
//! come from) checked end to end, value and gradient.
#![allow(dead_code)]

use spherelab_core::Cpu;
use spherelab_core::backend::{Backend, LossParams, PairLayout, Pairs};
use spherelab_core::config::{LossKind, PairMode};
use spherelab_core::matrix::Matrix;
use spherelab_core::rng::{Rng, normal};
use spherelab_core::tolerance::{GRAD, Tol, VALUE};
use spherelab_gpu::Gpu;
pub use spherelab_gpu::selftest::loss_params;

pub type Ref = Cpu<f64>;

/// The GPU under test. No adapter is a loud failure, never a silent pass.
pub fn gpu() -> Gpu {
    Gpu::new().unwrap_or_else(|e| panic!("this test needs a GPU adapter (lavapipe: mesa-vulkan-drivers): {e}"))
}

#[track_caller]
pub fn assert_close(what: &str, got: &[f64], want: &[f64], tol: Tol) {
    assert_eq!(got.len(), want.len(), "{what}: length {} vs reference {}", got.len(), want.len());
    let c = tol.compare(got, want);
    assert!(c.passed(), "{what}: {}", c.describe());
}

/// Random N(0,1) data rounded to f32, so both backends see exactly the same inputs.
pub fn random(r: &mut Rng, rows: usize, cols: usize) -> Vec<f32> {
    (0..rows * cols).map(|_| normal(r) as f32).collect()
}

/// A tensor on both the backend under test and the reference.
pub struct Pair<B: Backend> {
    pub b: B::Tensor,
    pub r: Matrix<f64>,
}

pub fn both<B: Backend>(be: &B, rows: usize, cols: usize, data: &[f32]) -> Pair<B> {
    Pair { b: be.upload(rows, cols, data), r: Ref::new().upload(rows, cols, data) }
}

#[track_caller]
pub fn check<B: Backend>(be: &B, what: &str, got: &B::Tensor, want: &Matrix<f64>, tol: Tol) {
    assert_eq!(be.dims(got), (want.rows, want.cols), "{what}: shape");
    assert_close(what, &be.download_f64(got), &want.data, tol);
}

/// Which pairs a loss case flags.
#[derive(Clone, Copy, Debug)]
pub enum PairCase {
    None,
    All,
    Selected,
    Explicit,
}

pub fn check_loss<B: Backend>(be: &B, r: &mut Rng, p: &LossParams, rows: usize, d: usize, case: PairCase) {
    let zd = random(r, rows, d);
    // Scale z so that some spectral rows are clipped and some are not.
    let zd: Vec<f32> = zd.iter().map(|v| v * 0.6).collect();
    let z = both(be, rows, d, &zd);
    let labels_d: Vec<f32> = (0..rows).map(|i| ((i % (rows / 2)) % 3) as f32).collect();
    let labels = both(be, rows, 1, &labels_d);
    let h = both(be, rows, 5, &random(r, rows, 5));
    let layout = p.layout();
    // Thresholds and explicit flags only for the cases that read them (an explicit m × m matrix at 65,536
    // views would not fit in memory).
    let thr = matches!(case, PairCase::Selected)
        .then(|| (be.select_thresholds(&h.b, layout, 0.2, 0.7), Ref::new().select_thresholds(&h.r, layout, 0.2, 0.7)));
    let m = if layout == PairLayout::CrossView { rows / 2 } else { rows };
    let ex = matches!(case, PairCase::Explicit).then(|| {
        let ex: Vec<f32> = (0..m * m).map(|_| (normal(r) > 0.3) as u8 as f32).collect();
        both(be, m, m, &ex)
    });
    let (pairs_b, pairs_r) = match (case, &thr, &ex) {
        (PairCase::All, _, _) => (Pairs::All, Pairs::All),
        (PairCase::Selected, Some((tb, tr)), _) => {
            (Pairs::Selected { h: &h.b, thresholds: tb }, Pairs::Selected { h: &h.r, thresholds: tr })
        }
        (PairCase::Explicit, _, Some(ex)) => (Pairs::Explicit(&ex.b), Pairs::Explicit(&ex.r)),
        _ => (Pairs::None, Pairs::None),
    };
    let lb = (p.kind == LossKind::Supcon).then_some(&labels.b);
    let lr = (p.kind == LossKind::Supcon).then_some(&labels.r);
    let got = be.loss(p, &z.b, &pairs_b, lb);
    let want = Ref::new().loss(p, &z.r, &pairs_r, lr);
    let what = format!("{:?} {:?} {case:?} 2N={rows} d={d}", p.kind, p.mode);
    check(be, &format!("{what} value"), &got.value, &want.value, VALUE);
    check(be, &format!("{what} gradient"), &got.grad, &want.grad, GRAD);
}

pub fn modes_and_cases(kind: LossKind) -> Vec<(PairMode, PairCase)> {
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
