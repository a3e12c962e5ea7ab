//! The contrastive losses of docs/math.md §1, each value with its gradient beside it.
//!
//! Every loss takes the raw projector output z (2N × d, rows `[view 1 of samples 0..N; view 2 of samples
//! 0..N]`, so view i's positive is j(i) = (i + N) mod 2N) and returns (L, ∂L/∂z) for z as given: the losses
//! that work on ẑ = z/‖z‖ normalise inside and take the gradient back through the normalisation,
//! ∂L/∂z = (I − ẑẑᵀ)·∂L/∂ẑ / ‖z‖.
//!
//! The similarity losses (InfoNCE, DCL, SupCon) share one shape of computation, written once here
//! (`similarity_loss`): S = ẐẐᵀ (one GEMM), a row-by-row softmax that turns S into G_ik = ∂L/∂s_ik in place —
//! the only part each loss writes itself —, then ∂L/∂Ẑ = (G + Gᵀ)Ẑ (one GEMM, since s_ik = s_ki appears in both
//! rows i and k). No per-pair allocation. For a thin Ẑ (d < `THIN_COLUMNS`, the lab's sphere) each row of S is
//! made, turned into G's row and spent on (G + Gᵀ)Ẑ at once (`thin`), so no 2N × 2N matrix is held.

pub mod align_uniform;
pub mod dcl;
pub mod infonce;
pub mod spectral;
pub mod supcon;

use crate::backend::LossParams;
use crate::config::{LossKind, PairMode};
use crate::float::Float;
use crate::matrix::Matrix;
use crate::ops::normalize::{normalize_backward, normalize_forward};
use crate::selection::PairFlags;

/// The loss of `p.kind` on z (2N × d, views stacked) and ∂L/∂z.
///
/// `flags` (2N × 2N for InfoNCE/DCL, N × N cross-view for spectral) are ignored when `p.mode` is `None`
/// and by the losses that have no pair modifiers (align-uniform, SupCon). `labels` (one per view, 2N) are
/// needed by SupCon only; SupCon without labels is a programming error and panics.
pub fn loss_and_grad<F: Float>(
    p: &LossParams,
    z: &Matrix<F>,
    flags: Option<&PairFlags>,
    labels: Option<&[usize]>,
) -> (F, Matrix<F>) {
    let flags = if p.mode == PairMode::None { None } else { flags };
    let tau = F::of(p.tau as f64);
    match p.kind {
        LossKind::Infonce => infonce::value_and_grad(z, tau, infonce::Modifier::from_params(p), flags),
        LossKind::Dcl => dcl::value_and_grad(z, tau, infonce::Modifier::from_params(p), flags),
        LossKind::Spectral => spectral::value_and_grad(
            z,
            F::of(p.mu as f64),
            F::of(p.effective_margin() as f64),
            p.mode == PairMode::Removal,
            flags,
        ),
        LossKind::AlignUniform => align_uniform::value_and_grad(
            z,
            F::of(p.align_alpha as f64),
            F::of(p.unif_t as f64),
            F::of(p.w_align as f64),
            F::of(p.w_unif as f64),
        ),
        LossKind::Supcon => {
            let labels = labels.expect("SupCon needs one label per view (2N); the trainer passes them");
            supcon::value_and_grad(z, tau, labels)
        }
    }
}

/// The plain references of every loss behind one call, as `loss_and_grad` dispatches the tuned ones: what the
/// parity suite holds the tuned CPU path and the WGSL kernels to (f64, untuned, O(2N·d) memory).
pub mod reference {
    use super::{dcl, infonce, spectral, supcon};
    use crate::backend::LossParams;
    use crate::config::{LossKind, PairMode};
    use crate::matrix::Matrix;
    use crate::ops::reductions;
    use crate::selection::PairFlags;

    /// (L, ∂L/∂z) of `p.kind` on z with `p.mode` on the pairs `flags` marks (ignored as `loss_and_grad`
    /// ignores them); `labels` for SupCon.
    pub fn loss_and_grad(
        p: &LossParams,
        z: &Matrix<f64>,
        flags: Option<&PairFlags>,
        labels: Option<&[usize]>,
    ) -> (f64, Matrix<f64>) {
        let flags = if p.mode == PairMode::None { None } else { flags };
        let (tau, f) = (f64::from(p.tau), f64::from);
        match p.kind {
            LossKind::Infonce => infonce::reference::with_flags(z, tau, infonce::Modifier::from_params(p), flags, true),
            LossKind::Dcl => dcl::reference::with_flags(z, tau, infonce::Modifier::from_params(p), flags),
            LossKind::Spectral => {
                spectral::reference::with_flags(z, f(p.mu), f(p.effective_margin()), p.mode == PairMode::Removal, flags)
            }
            LossKind::AlignUniform => {
                reductions::reference::align_uniform_loss(z, f(p.align_alpha), f(p.unif_t), f(p.w_align), f(p.w_unif))
            }
            LossKind::Supcon => {
                let labels = labels.expect("SupCon needs one label per view (2N)");
                supcon::reference::value_and_grad(z, tau, labels)
            }
        }
    }
}

/// The computation every similarity loss shares (the module's header): `row_to_gradient(i, row, state)` turns
/// anchor i's row of S = ẐẐᵀ (2N long, in place) into G's row i, G_ik = ∂L/∂s_ik, and returns what that anchor adds
/// to the loss (f64); `state()` makes one chunk of rows' scratch. Returns (the sum of what the anchors add, ∂L/∂z).
///
/// Ẑ with `THIN_COLUMNS` or more columns: S as one GEMM, turned into G in place by chunks of 64 rows, then
/// (G + Gᵀ)Ẑ. A thin Ẑ (the lab's sphere): each row of S is made where it is used (`thin::similarity_row`),
/// turned into G's row and spent at once on (G + Gᵀ)Ẑ (`thin::symmetric_part_times_rows`), so no 2N × 2N matrix
/// is held (at 512 views of 3 dimensions, 1 MB neither written nor read back; docs/benchmarks.md, 2026-12-05).
/// Either way the sums are added in chunk order over chunks fixed by 2N: the bits do not depend on the thread count.
pub(crate) fn similarity_loss<F: Float, S>(
    z: &Matrix<F>,
    state: impl Fn() -> S + Sync,
    row_to_gradient: impl Fn(usize, &mut [F], &mut S) -> f64 + Sync,
) -> (f64, Matrix<F>) {
    let (n2, d) = (z.rows, z.cols);
    let (zhat, norms) = normalize_forward(z);
    if (1..THIN_COLUMNS).contains(&d) {
        let (d_zhat, total) = thin::symmetric_part_times_rows(
            &zhat,
            state,
            #[inline(always)]
            |i, zhat_t, row, state| {
                thin::similarity_row(&zhat.data[i * d..(i + 1) * d], zhat_t, row); // S's row i, then G's
                row_to_gradient(i, row, state)
            },
        );
        return (total, normalize_backward(&zhat, &norms, &d_zhat));
    }
    let mut g = zhat.matmul_t(&zhat); // S, then G row by row
    let partials = crate::parallel::map_row_chunks(
        &mut g.data,
        n2,
        64,
        #[inline(always)]
        |first, chunk| {
            let mut state = state();
            let mut total = 0.0f64;
            for (r, row) in chunk.chunks_mut(n2).enumerate() {
                total += row_to_gradient(first + r, row, &mut state);
            }
            total
        },
    );
    (partials.iter().sum(), normalize_backward(&zhat, &norms, &symmetric_part_times(g, &zhat)))
}

/// (G + Gᵀ)·Ẑ for n × n G and n × d Ẑ: G + Gᵀ formed in place and multiplied by Ẑ in one GEMM (a thin Ẑ never
/// comes here: `similarity_loss` spends G's rows as they are made). The GEMM with Gᵀ as an operand (G's
/// transposed strides), as this was before, ran at a quarter of G·Ẑ's speed on AVX2 at n = 1,024, d = 32 (2.4 ms
/// against 0.6 on one core): its column walks hit one cache set, the same cause as `Matrix::add_transpose_in_place`
/// avoids (docs/benchmarks.md, 2026-12-04 night).
fn symmetric_part_times<F: Float>(mut g: Matrix<F>, zhat: &Matrix<F>) -> Matrix<F> {
    g.add_transpose_in_place();
    g.matmul(zhat)
}

/// Ẑ narrower than this takes the thin path (`thin`). A GEMM kernel runs its vector lanes along the output's
/// columns, d of them, so at d = 3 (the lab's sphere, T1) an AVX-512 register does 3 lanes of work in 16 and the
/// two products were a quarter of a T1 step. Timed on one AVX-512 core (docs/benchmarks.md, 2026-12-04
/// evening): at n = 512 the thin (G + Gᵀ)·Ẑ took 114 µs for d = 3 and 254 µs for d = 8 against about 165 µs for
/// the GEMMs at any d up to 16; at n = 1,024, 415 and 1,063 µs against 1,060 µs. Its cost grows with d and
/// theirs does not, so it is used up to d = 4.
pub(crate) const THIN_COLUMNS: usize = 5;

/// The pieces of (G + Gᵀ)·Ẑ for a thin Ẑ, one row of G at a time, each loop along that row:
///   (G·Ẑ)_ic  = Σ_k G_ik Ẑ_kc       a dot product of G's row i with column c of Ẑ (Ẑᵀ's row c);
///   (Gᵀ·Ẑ)_ic = Σ_k G_ki Ẑ_kc       so (GᵀẐ)ᵀ's row c gains Ẑ_ic · (G's row i) for each row i.
/// Driven by `symmetric_part_times_rows`, which `similarity_loss` feeds G's rows as they are made from S's.
/// A special case rather than a GEMM: one pass over G's row serves both products, and turning gemm's lanes along
/// a thin output's rows made it pack G instead (no gain, docs/benchmarks.md 2026-12-04 evening).
pub(crate) mod thin {
    use crate::float::Float;
    use crate::matrix::Matrix;
    use crate::ops::loss::infonce::lanes_dot;

    /// Ẑᵀ as d rows of n: column c of Ẑ is `out[c·n..(c + 1)·n]`.
    fn columns<F: Float>(zhat: &Matrix<F>) -> Vec<F> {
        let (n, d) = (zhat.rows, zhat.cols);
        (0..d).flat_map(|c| (0..n).map(move |k| zhat.data[k * d + c])).collect()
    }

    /// Rows a chunk holds: from n alone (at most 16 chunks, at least 64 rows), never from the thread count.
    fn chunk_rows(n: usize) -> usize {
        n.div_ceil(16).max(64)
    }

    /// `s_row` (n) = S's row i, s_ik = ẑ_iᵀẑ_k = Σ_c ẑ_ic·Ẑᵀ_ck summed over c in order from 0 (so s_ik and s_ki
    /// are the same bits), in one pass over the row: d is a constant in each arm, so the c-sum unrolls and the
    /// loop along k vectorises.
    #[inline(always)]
    pub(crate) fn similarity_row<F: Float>(z_i: &[F], zhat_t: &[F], s_row: &mut [F]) {
        match z_i.len() {
            1 => similarity_row_of::<F, 1>(z_i, zhat_t, s_row),
            2 => similarity_row_of::<F, 2>(z_i, zhat_t, s_row),
            3 => similarity_row_of::<F, 3>(z_i, zhat_t, s_row),
            4 => similarity_row_of::<F, 4>(z_i, zhat_t, s_row),
            d => panic!("thin::similarity_row: d = {d} is not thin (1 to 4)"),
        }
    }

    #[inline(always)]
    fn similarity_row_of<F: Float, const D: usize>(z_i: &[F], zhat_t: &[F], s_row: &mut [F]) {
        let n = s_row.len();
        let z: [F; D] = std::array::from_fn(|c| z_i[c]);
        let cols: [&[F]; D] = std::array::from_fn(|c| &zhat_t[c * n..(c + 1) * n]);
        for (k, s) in s_row.iter_mut().enumerate() {
            let mut acc = F::zero();
            for c in 0..D {
                acc = acc + z[c] * cols[c][k];
            }
            *s = acc;
        }
    }

    /// (G + Gᵀ)·Ẑ (n × d) with G's rows made one at a time: `g_row_into(i, Ẑᵀ, row, state)` writes G's row i into
    /// `row` (n long) and returns a number to add up (a loss's ℓ_i). Rows run in chunks
    /// of `chunk_rows(n)`, each with its own `state()`, its own row buffer and its own d × n partial of (GᵀẐ)ᵀ;
    /// the partials and the numbers are added in chunk order afterwards, so the bits do not depend on the thread
    /// count. Returns the product and the numbers' sum (in f64).
    pub(crate) fn symmetric_part_times_rows<F: Float, S>(
        zhat: &Matrix<F>,
        state: impl Fn() -> S + Sync,
        g_row_into: impl Fn(usize, &[F], &mut [F], &mut S) -> f64 + Sync,
    ) -> (Matrix<F>, f64) {
        let (n, d) = (zhat.rows, zhat.cols);
        let zhat_t = columns(zhat);
        let mut out = Matrix::zeros(n, d);
        let partials = crate::parallel::map_row_chunks_weighted(
            &mut out.data,
            d,
            chunk_rows(n),
            n * n,
            #[inline(always)]
            |first, chunk| {
                let mut state = state();
                let mut g_row = vec![F::zero(); n];
                let mut part = vec![F::zero(); d * n]; // this chunk's Σ_i Ẑ_ic·(G's row i), as d rows of n
                let mut total = 0.0f64;
                for (r, out_row) in chunk.chunks_mut(d).enumerate() {
                    let i = first + r;
                    total += g_row_into(i, &zhat_t, &mut g_row, &mut state);
                    accumulate_row(&g_row, &zhat.data[i * d..(i + 1) * d], &zhat_t, out_row, &mut part);
                }
                (part, total)
            },
        );
        for (part, _) in &partials {
            for (i, out_row) in out.data.chunks_mut(d).enumerate() {
                for (c, o) in out_row.iter_mut().enumerate() {
                    *o = *o + part[c * n + i];
                }
            }
        }
        (out, partials.iter().map(|(_, t)| t).sum())
    }

    /// Row i of G (`g_row`, n long) spent: `out_row` (d) = (G·Ẑ)_i, and `part` (d × n) += Ẑ_i ⊗ G's row i.
    #[inline(always)]
    fn accumulate_row<F: Float>(g_row: &[F], z_i: &[F], zhat_t: &[F], out_row: &mut [F], part: &mut [F]) {
        let n = g_row.len();
        for (c, o) in out_row.iter_mut().enumerate() {
            *o = lanes_dot(g_row, &zhat_t[c * n..(c + 1) * n]);
            for (p, &gk) in part[c * n..(c + 1) * n].iter_mut().zip(g_row) {
                *p = *p + z_i[c] * gk;
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::backend::{LossParams, PairLayout};
    use crate::config::{LossKind, PairMode};
    use crate::loss::loss_and_grad;
    use crate::matrix::Matrix;
    use crate::rng::{Rng, rng, stream, uniform};
    use crate::selection::PairFlags;
    use crate::testing::{assert_gradient_matches, random_matrix};

    /// Parameters with every modifier set to a value that matters (σ, ρ, m ≠ their neutral values).
    pub fn params(kind: LossKind, mode: PairMode) -> LossParams {
        LossParams {
            kind,
            tau: 0.4,
            mu: 1.0,
            align_alpha: 2.0,
            unif_t: 2.0,
            w_align: 1.0,
            w_unif: 1.0,
            mode,
            sigma: 0.3,
            rho: 0.6,
            margin: 0.25,
        }
    }

    /// Flags with each candidate pair set with probability ½ (self and positives cleared).
    pub fn random_flags(rng: &mut Rng, n: usize, layout: PairLayout) -> PairFlags {
        let m =
            Matrix::from_vec(n, n, (0..n * n).map(|_| if uniform(rng, 0.0, 1.0) < 0.5 { 1.0 } else { 0.0 }).collect());
        PairFlags::from_matrix::<f64>(&m, layout)
    }

    /// A loss's tuned path, without flags, against its plain reference on random shapes (one and several 64-row
    /// chunks, d on either side of the thin path's), value and gradient; then the reference's own gradient
    /// against finite differences. `tuned` and `reference` map (z, τ) to (ℓ, ∂ℓ/∂z).
    pub fn assert_tuned_path_matches_reference(
        what: &str,
        seed: u64,
        tuned: impl Fn(&Matrix<f64>, f64) -> (f64, Matrix<f64>),
        reference: impl Fn(&Matrix<f64>, f64) -> (f64, Matrix<f64>),
    ) {
        let mut r = rng(seed, stream::TEST);
        for (rows, d) in [(6, 2), (70, 33), (130, 5)] {
            let z = random_matrix(&mut r, rows, d);
            let (want, want_grad) = reference(&z, 0.3);
            let (got, grad) = tuned(&z, 0.3);
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{what} {rows}×{d}: {got} vs {want}");
            let c = crate::tolerance::Tol { rtol: 1e-9, atol_frac: 1e-9 }.compare(&grad.data, &want_grad.data);
            assert!(c.passed(), "{what} {rows}×{d}: {}", c.describe());
        }
        let z = random_matrix(&mut r, 8, 3);
        let (_, grad) = reference(&z, 0.5);
        assert_gradient_matches(&format!("plain {what} reference"), &z, &grad, |x| reference(x, 0.5).0);
    }

    /// The tuned path's gradient of a loss over all views' pairs (InfoNCE, DCL) against finite differences in
    /// every pair mode, on random flags and on every pair flagged (8 views of 3 dimensions drawn from `seed`).
    pub fn assert_gradient_matches_in_every_mode(kind: LossKind, seed: u64) {
        let mut r = rng(seed, stream::TEST);
        let z = random_matrix(&mut r, 8, 3);
        let random = random_flags(&mut r, 8, PairLayout::AllViews);
        let all = PairFlags::all_pairs(8, PairLayout::AllViews);
        for mode in PairMode::ALL {
            for (name, flags) in [("random flags", &random), ("all pairs", &all)] {
                let p = params(kind, mode);
                let (_, grad) = loss_and_grad(&p, &z, Some(flags), None);
                assert_gradient_matches(&format!("{} {} {name}", kind.name(), mode.name()), &z, &grad, |x| {
                    loss_and_grad(&p, x, Some(flags), None).0
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::PairLayout;
    use crate::loss::test_util::{params, random_flags};
    use crate::rng::{rng, stream};
    use crate::testing::random_matrix;

    #[test]
    fn every_loss_in_f32_and_f64_agrees_on_random_input_in_every_mode() {
        let mut r = rng(71, stream::TEST);
        let z64 = random_matrix(&mut r, 24, 5);
        let z32 = Matrix::<f32>::from_f64(24, 5, &z64.data);
        let labels: Vec<usize> = (0..24).map(|i| (i % 12) % 5).collect();
        for kind in LossKind::ALL {
            for mode in PairMode::ALL {
                let p = params(kind, mode);
                let layout = p.layout();
                let n = if layout == PairLayout::CrossView { 12 } else { 24 };
                let flags = random_flags(&mut r, n, layout);
                let (l64, g64) = loss_and_grad(&p, &z64, Some(&flags), Some(&labels));
                let (l32, g32) = loss_and_grad(&p, &z32, Some(&flags), Some(&labels));
                let what = format!("{} {}", kind.name(), mode.name());
                assert!((l64 - l32 as f64).abs() < 1e-5 * l64.abs().max(1.0), "{what}: {l64} vs {l32}");
                for (a, b) in g64.data.iter().zip(&g32.data) {
                    assert!((a - *b as f64).abs() < 1e-5, "{what}: gradient {a} vs {b}");
                }
            }
        }
    }

    /// The tuned path (the CPU engine's, f64) against the plain references, every loss in every pair mode, on
    /// random flags and shapes with more than one 64-row chunk; and the references' own gradients against
    /// finite differences in every mode.
    #[test]
    fn the_tuned_path_matches_the_plain_references_in_every_mode() {
        use crate::ops::parity::{F64, assert_close};
        use crate::testing::assert_gradient_matches;
        let mut r = rng(72, stream::TEST);
        for (rows, d) in [(6, 2), (70, 33), (130, 5)] {
            let z = random_matrix(&mut r, rows, d);
            let labels: Vec<usize> = (0..rows).map(|i| (i % (rows / 2)) % 3).collect();
            for kind in LossKind::ALL {
                for mode in PairMode::ALL {
                    let p = params(kind, mode);
                    let n = if p.layout() == PairLayout::CrossView { rows / 2 } else { rows };
                    let flags = random_flags(&mut r, n, p.layout());
                    let (got, got_grad) = loss_and_grad(&p, &z, Some(&flags), Some(&labels));
                    let (want, want_grad) = reference::loss_and_grad(&p, &z, Some(&flags), Some(&labels));
                    let what = format!("{} {} {rows}×{d}", kind.name(), mode.name());
                    assert_close(&format!("{what} value"), F64, &[got], &[want]);
                    assert_close(&format!("{what} gradient"), F64, &got_grad.data, &want_grad.data);
                }
            }
        }
        let z = random_matrix(&mut r, 8, 3);
        let labels: Vec<usize> = (0..8).map(|i| i % 3).collect();
        for kind in LossKind::ALL {
            for mode in PairMode::ALL {
                let p = params(kind, mode);
                let n = if p.layout() == PairLayout::CrossView { 4 } else { 8 };
                let flags = random_flags(&mut r, n, p.layout());
                let (_, grad) = reference::loss_and_grad(&p, &z, Some(&flags), Some(&labels));
                assert_gradient_matches(&format!("{} {} reference", kind.name(), mode.name()), &z, &grad, |x| {
                    reference::loss_and_grad(&p, x, Some(&flags), Some(&labels)).0
                });
            }
        }
    }

    /// (G + Gᵀ)·Ẑ on the thin path with G given whole (its rows copied in as the driver asks for them).
    fn thin_times<F: Float>(g: &Matrix<F>, z: &Matrix<F>) -> Vec<F> {
        let n = g.rows;
        let copy_row = |i: usize, _: &[F], row: &mut [F], _: &mut ()| {
            row.copy_from_slice(&g.data[i * n..(i + 1) * n]);
            0.0
        };
        thin::symmetric_part_times_rows(z, || (), copy_row).0.data
    }

    /// (G + Gᵀ)·Ẑ on both of its paths (the thin one in one pass over G's rows, the other as G + Gᵀ in place
    /// and a GEMM) against the f64 triple loop, in f32 and f64, on random non-symmetric G: shapes on either side
    /// of `THIN_COLUMNS`, across the thin path's 64-row and n/16-row chunks, the pool's threshold and
    /// `lanes_dot`'s 32 lanes.
    #[test]
    fn the_symmetric_part_times_z_hat_on_both_paths() {
        let mut r = rng(73, stream::TEST);
        for (n, d) in [(2, 1), (6, 3), (63, 4), (130, 3), (300, 5), (1100, 2), (260, 17), (70, 33)] {
            let g = random_matrix(&mut r, n, n);
            let z = random_matrix(&mut r, n, d);
            let (mut want, mut scale) = (vec![0.0; n * d], vec![0.0; n * d]);
            for i in 0..n {
                for c in 0..d {
                    for k in 0..n {
                        let term = (g.data[i * n + k] + g.data[k * n + i]) * z.data[k * d + c];
                        want[i * d + c] += term;
                        scale[i * d + c] += term.abs();
                    }
                }
            }
            let (g32, z32) = (Matrix::<f32>::from_f64(n, n, &g.data), Matrix::<f32>::from_f64(n, d, &z.data));
            for (path, got64, got32) in [
                ("thin", thin_times(&g, &z), thin_times(&g32, &z32)),
                ("GEMM", symmetric_part_times(g.clone(), &z).data, symmetric_part_times(g32.clone(), &z32).data),
            ] {
                for e in 0..n * d {
                    let (w, s) = (want[e], scale[e]);
                    assert!((got64[e] - w).abs() <= 1e-13 * s, "{path} f64 {n}×{d} element {e}: {} vs {w}", got64[e]);
                    // f32 inputs are rounded: compare with the f64 product of the rounded inputs' error bound.
                    let got = f64::from(got32[e]);
                    assert!((got - w).abs() <= 1e-5 * s, "{path} f32 {n}×{d} element {e}: {got} vs {w}");
                }
            }
        }
    }

    /// The thin path's chunks are fixed by n, and their partial sums added in chunk order; the GEMM path's
    /// tiles of G + Gᵀ are each one thread's, and its GEMM is split only where the bits stay: the same bits on
    /// one, two and three threads on both, with enough rows to run on the pool.
    #[test]
    fn both_paths_give_the_same_bits_on_any_thread_count() {
        let mut r = rng(74, stream::TEST);
        let n = 1100;
        let g = Matrix::<f32>::from_f64(n, n, &random_matrix(&mut r, n, n).data);
        for d in [3, 32] {
            let z = Matrix::<f32>::from_f64(n, d, &random_matrix(&mut r, n, d).data);
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a worker pool");
                pool.install(|| {
                    let bits = |v: Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    (bits(thin_times(&g, &z)), bits(symmetric_part_times(g.clone(), &z).data))
                })
            };
            let one = run(1);
            for threads in [2, 3] {
                assert_eq!(run(threads), one, "d = {d}: the bits on {threads} threads");
            }
        }
    }

    /// Golden values written by bench/pml_reference.py (pytorch-metric-learning in float64): NTXentLoss on
    /// cat(view1, view2) with labels cat(0..N, 0..N) is our InfoNCE; SupConLoss is our SupCon. Values and
    /// input gradients must agree to rounding.
    #[test]
    fn losses_match_pytorch_metric_learning_golden_values() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/pml_golden.json")).expect("fixture parses");
        let cases = doc["cases"].as_array().expect("cases");
        assert!(cases.len() >= 8);
        let nums =
            |v: &serde_json::Value| -> Vec<f64> { v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
        for (c, case) in cases.iter().enumerate() {
            let (rows, cols) = (case["rows"].as_u64().unwrap() as usize, case["cols"].as_u64().unwrap() as usize);
            let z = Matrix::from_vec(rows, cols, nums(&case["z"]));
            let tau = case["tau"].as_f64().unwrap();
            let labels: Vec<usize> =
                case["labels"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
            let (value, grad) = match case["loss"].as_str().unwrap() {
                "ntxent" => infonce::value_and_grad(&z, tau, infonce::Modifier::Scale { sigma: 0.0, rho: 1.0 }, None),
                "supcon" => supcon::value_and_grad(&z, tau, &labels),
                other => panic!("unknown loss {other}"),
            };
            let want = case["value"].as_f64().unwrap();
            assert!((value - want).abs() < 1e-12 * want.abs().max(1.0), "case {c}: value {value} vs PML {want}");
            for (k, (g, w)) in grad.data.iter().zip(nums(&case["grad"])).enumerate() {
                assert!((g - w).abs() < 1e-12 * w.abs().max(1.0), "case {c} element {k}: grad {g} vs PML {w}");
            }
        }
    }
}

#[cfg(test)]
mod torch_golden {
    use super::*;
    use crate::backend::PairLayout;
    use crate::selection::{flags_from_thresholds, thresholds};
    use serde_json::Value;

    fn nums(v: &Value) -> Vec<f64> {
        v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
    }

    /// bench/torch_reference.py implements docs/math.md §1–2 again in PyTorch (selection with a full sort, losses
    /// with autograd). Thresholds, flags, every loss in every pair mode, and their gradients must agree.
    #[test]
    fn losses_and_selection_match_an_independent_torch_implementation() {
        let doc: Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/torch_golden.json")).expect("fixture parses");
        let n = doc["n"].as_u64().unwrap() as usize;
        let (d, dh) = (doc["d"].as_u64().unwrap() as usize, doc["d_h"].as_u64().unwrap() as usize);
        let z = Matrix::from_vec(2 * n, d, nums(&doc["z"]));
        let h = Matrix::from_vec(2 * n, dh, nums(&doc["h"]));
        let labels: Vec<usize> =
            doc["labels"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
        let prm = &doc["params"];
        let f = |k: &str| prm[k].as_f64().unwrap() as f32;

        let mut flags_of = std::collections::HashMap::new();
        for (key, layout) in [("all_views", PairLayout::AllViews), ("cross_view", PairLayout::CrossView)] {
            let sel = &doc["selection"][key];
            let rows = sel["rows"].as_u64().unwrap() as usize;
            let t = thresholds(&h, layout, f("pos_high"), f("pos_low"));
            for (k, (a, b)) in t.data.iter().zip(nums(&sel["thresholds"])).enumerate() {
                assert!((a - b).abs() < 1e-12, "{key} threshold {k}: {a} vs torch {b}");
            }
            let flags = flags_from_thresholds(&h, &t, layout);
            let want = PairFlags::from_matrix(&Matrix::from_vec(rows, rows, nums(&sel["flags"])), layout);
            assert_eq!(flags, want, "{key}: flags differ from torch's");
            flags_of.insert(key, flags);
        }

        let cases = doc["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 18, "5 modes × (InfoNCE, DCL, spectral), spectral μ = 2, align-uniform, SupCon");
        for case in cases {
            let kind = LossKind::parse(case["loss"].as_str().unwrap()).unwrap();
            let mode = PairMode::parse(case["mode"].as_str().unwrap()).unwrap();
            let p = LossParams {
                kind,
                tau: f("tau"),
                mu: case["mu"].as_f64().unwrap() as f32,
                align_alpha: f("alpha"),
                unif_t: f("t"),
                w_align: f("w_align"),
                w_unif: f("w_unif"),
                mode,
                sigma: f("sigma"),
                rho: f("rho"),
                margin: f("margin"),
            };
            let flags = &flags_of[if kind == LossKind::Spectral { "cross_view" } else { "all_views" }];
            let tuned = loss_and_grad(&p, &z, Some(flags), Some(&labels));
            let plain = reference::loss_and_grad(&p, &z, Some(flags), Some(&labels));
            for (path, (value, grad)) in [("tuned", tuned), ("plain reference", plain)] {
                let what = format!("{} {} μ = {} ({path})", kind.name(), mode.name(), p.mu);
                let want = case["value"].as_f64().unwrap();
                assert!((value - want).abs() < 1e-12 * want.abs().max(1.0), "{what}: {value} vs torch {want}");
                for (k, (g, w)) in grad.data.iter().zip(nums(&case["grad"])).enumerate() {
                    assert!((g - w).abs() < 1e-12 * w.abs().max(1.0), "{what} element {k}: {g} vs torch {w}");
                }
            }
        }
    }
}
