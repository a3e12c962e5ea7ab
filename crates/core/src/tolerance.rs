//! The one tolerance rule every parity and gradient check uses (the GPU parity suite, the large-batch tests,
//! `spherelab selftest`): element x passes against reference r when |x − r| ≤ max(rtol·|r|, atol), with
//! atol = atol_frac·max_k |r_k| (the tensor's scale, floored at 1e-7), so tiny elements that are sums of large
//! terms of mixed sign are judged by the error their terms carry, not by their own size. f32 accumulation over
//! K terms has relative error ~K·2⁻²⁴ in the worst case:
//! - values and forward outputs: [`VALUE`], rtol 1e-4, atol_frac 1e-5;
//! - gradients: [`GRAD`], rtol 1e-3, atol_frac 1e-4 — looser because they are sums over all pairs of products
//!   of softmax weights (each computed in f32 through exp) and embeddings, with heavy cancellation (the rows of
//!   a softmax sum to 1 and the positive's −1 cancels it);
//! - f64 gradients against finite differences: [`FINITE_DIFFERENCE`], rtol 1e-5, atol_frac 1e-6.

/// A tolerance: relative, with an absolute floor relative to the tensor's scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tol {
    pub rtol: f64,
    pub atol_frac: f64,
}

/// Values and forward outputs.
pub const VALUE: Tol = Tol { rtol: 1e-4, atol_frac: 1e-5 };
/// Gradients.
pub const GRAD: Tol = Tol { rtol: 1e-3, atol_frac: 1e-4 };
/// An analytic f64 gradient against central finite differences in f64 (`testing::assert_gradient_matches`,
/// h = 1e-6): truncation error O(h²)·f‴ ≈ 1e-12 and rounding error O(ε/h)·|L| ≈ 1e-10·|L| are both far below
/// it, so a wrong term in a gradient (an error of the gradient's own size) fails by orders of magnitude.
pub const FINITE_DIFFERENCE: Tol = Tol { rtol: 1e-5, atol_frac: 1e-6 };

/// How `got` compares with `want` under a tolerance.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub len: usize,
    /// Elements out of tolerance (a non-finite element always is).
    pub bad: usize,
    /// The element with the largest |x − r| / allowed, and that ratio (≤ 1 passes; ∞ for non-finite).
    pub worst: Option<Worst>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Worst {
    pub index: usize,
    pub got: f64,
    pub want: f64,
    pub allowed: f64,
    pub ratio: f64,
}

impl Comparison {
    pub fn passed(&self) -> bool {
        self.bad == 0
    }

    /// The worst error as a fraction of what was allowed (0 for empty tensors).
    pub fn worst_ratio(&self) -> f64 {
        self.worst.as_ref().map_or(0.0, |w| w.ratio)
    }

    /// One line: "N of M elements out of tolerance; worst at i: got … vs reference … (|diff| …, allowed …)".
    pub fn describe(&self) -> String {
        match &self.worst {
            None => format!("{} elements", self.len),
            Some(w) => format!(
                "{} of {} elements out of tolerance; worst at {}: got {} vs reference {} (|diff| {:.3e}, allowed {:.3e})",
                self.bad,
                self.len,
                w.index,
                w.got,
                w.want,
                (w.got - w.want).abs(),
                w.allowed
            ),
        }
    }
}

impl Tol {
    /// Compares element by element; a length mismatch counts every element as bad.
    pub fn compare(&self, got: &[f64], want: &[f64]) -> Comparison {
        if got.len() != want.len() {
            return Comparison {
                len: want.len(),
                bad: want.len().max(got.len()),
                worst: Some(Worst { index: 0, got: f64::NAN, want: f64::NAN, allowed: 0.0, ratio: f64::INFINITY }),
            };
        }
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let atol = (self.atol_frac * scale).max(1e-7);
        let mut bad = 0;
        let mut worst: Option<Worst> = None;
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let allowed = (self.rtol * w.abs()).max(atol);
            let ratio = if g.is_finite() { (g - w).abs() / allowed } else { f64::INFINITY };
            if ratio > 1.0 {
                bad += 1;
            }
            if worst.as_ref().is_none_or(|x| ratio > x.ratio) {
                worst = Some(Worst { index: i, got: g, want: w, allowed, ratio });
            }
        }
        Comparison { len: want.len(), bad, worst }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_within_the_relative_or_the_scaled_absolute_bound_pass() {
        let want = [100.0, 1.0, 0.0];
        // 100·1e-4 = 1e-2 relative; atol = 1e-5·100 = 1e-3 for the small ones.
        assert!(VALUE.compare(&[100.009, 1.0009, 0.0009], &want).passed());
        let c = VALUE.compare(&[100.0, 1.002, 0.0], &want);
        assert_eq!(c.bad, 1);
        assert_eq!(c.worst.as_ref().unwrap().index, 1);
        assert!(c.describe().contains("1 of 3"), "{}", c.describe());
    }

    #[test]
    fn non_finite_values_and_length_mismatches_fail() {
        assert!(!GRAD.compare(&[f64::NAN], &[1.0]).passed());
        assert!(GRAD.compare(&[f64::INFINITY], &[1.0]).worst_ratio().is_infinite());
        assert!(!GRAD.compare(&[1.0], &[1.0, 2.0]).passed());
    }
}
