//! Effective rank (Roy & Vetterli 2007) of centred features h (docs/math.md §4).
//!
//! With singular values σ_i of the centred n × d matrix H, p_i = σ_i/Σσ and erank = exp(−Σ p_i log p_i):
//! d for isotropic data, 1 for data on a line. The σ_i come from the d × d scatter matrix HᵀH, whose
//! eigenvalues are σ_i² — much cheaper than an SVD of H when n ≫ d.

use crate::matrix::Matrix;
use nalgebra::DMatrix;

/// Effective rank of centred h: exp(entropy of its normalised singular values).
/// Returns 0 when h has no spread at all (no rows, or all rows equal).
pub fn effective_rank(h: &Matrix<f32>) -> f64 {
    let (n, d) = (h.rows, h.cols);
    if n == 0 || d == 0 {
        return 0.0;
    }
    let mut x = Matrix::from_f32(n, d, &h.data);
    for j in 0..d {
        let mean = (0..n).map(|i| x.data[i * d + j]).sum::<f64>() / n as f64;
        (0..n).for_each(|i| x.data[i * d + j] -= mean);
    }
    let scatter = x.t_matmul(&x);
    let eig = DMatrix::<f64>::from_row_slice(d, d, &scatter.data).symmetric_eigenvalues();
    // Clamp the tiny negative eigenvalues rounding leaves on rank-deficient data.
    let sigma: Vec<f64> = eig.iter().map(|&e: &f64| e.max(0.0).sqrt()).collect();
    let total: f64 = sigma.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return 0.0;
    }
    let entropy: f64 = sigma.iter().map(|s| s / total).filter(|&p| p > 0.0).map(|p| -p * p.ln()).sum();
    entropy.exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{normal, rng, stream};

    #[test]
    fn effective_rank_of_isotropic_gaussian_is_near_d() {
        let mut g = rng(1, stream::TEST);
        let h = Matrix::from_vec(4000, 8, (0..4000 * 8).map(|_| normal(&mut g) as f32).collect());
        let e = effective_rank(&h);
        assert!(e > 7.9 && e <= 8.0 + 1e-9, "erank {e}");
    }

    #[test]
    fn effective_rank_of_rank_one_data_is_near_one() {
        let mut g = rng(2, stream::TEST);
        let dir = [0.3f32, -1.0, 2.0, 0.5, 0.0, 1.5];
        let mut data = Vec::new();
        for _ in 0..500 {
            let t = normal(&mut g) as f32;
            data.extend(dir.iter().map(|&v| 5.0 + t * v));
        }
        let e = effective_rank(&Matrix::from_vec(500, 6, data));
        assert!((e - 1.0).abs() < 1e-3, "erank {e}");
    }

    #[test]
    fn effective_rank_of_constant_or_empty_data_is_zero() {
        assert_eq!(effective_rank(&Matrix::from_vec(3, 2, vec![1.0; 6])), 0.0);
        assert_eq!(effective_rank(&Matrix::zeros(0, 4)), 0.0);
    }
}
