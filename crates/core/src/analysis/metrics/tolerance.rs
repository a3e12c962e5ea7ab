//! Tolerance (Wang & Liu 2021, docs/math.md §4): how close same-class embeddings are on the sphere.
//!
//! tolerance = mean over same-label ordered pairs i ≠ j of ẑ_iᵀẑ_j.
//! Computed in O(n·d) with per-class sums instead of the O(n²·d) double loop:
//! Σ_{i≠j ∈ c} ẑ_iᵀẑ_j = ‖Σ_{i∈c} ẑ_i‖² − Σ_{i∈c} ‖ẑ_i‖².

use super::unit_rows_f64;
use crate::matrix::Matrix;

/// Tolerance (Wang & Liu 2021): mean over same-label pairs i ≠ j of ẑ_iᵀẑ_j (rows normalised inside).
/// Returns 0 when no class has two members. Rows beyond `labels.len()` are ignored.
pub fn tolerance(z: &Matrix<f32>, labels: &[usize]) -> f64 {
    let n = z.rows.min(labels.len());
    if n == 0 {
        return 0.0;
    }
    let zh = unit_rows_f64(z);
    let classes = labels[..n].iter().max().map_or(0, |&m| m + 1);
    // Per class: the sum of its unit rows, the sum of their squared norms (1, or 0 for a zero row), its size.
    let mut sums = vec![0.0f64; classes * z.cols];
    let mut sq = vec![0.0f64; classes];
    let mut count = vec![0usize; classes];
    for (i, &c) in labels[..n].iter().enumerate() {
        let row = zh.row(i);
        sums[c * z.cols..(c + 1) * z.cols].iter_mut().zip(row).for_each(|(s, v)| *s += v);
        sq[c] += row.iter().map(|v| v * v).sum::<f64>();
        count[c] += 1;
    }
    let mut total = 0.0;
    let mut pairs = 0usize;
    for c in 0..classes {
        let s = &sums[c * z.cols..(c + 1) * z.cols];
        total += s.iter().map(|v| v * v).sum::<f64>() - sq[c];
        pairs += count[c] * count[c].saturating_sub(1);
    }
    if pairs == 0 { 0.0 } else { total / pairs as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_equals_a_naive_double_loop() {
        let data: Vec<f32> = (0..7 * 3).map(|i| ((i as f32 * 0.77).sin() * 2.0) - 0.3).collect();
        let z = Matrix::from_vec(7, 3, data);
        let labels = [0, 1, 0, 2, 1, 0, 1];
        let zh = unit_rows_f64(&z);
        let (mut sum, mut pairs) = (0.0, 0);
        for i in 0..7 {
            for j in 0..7 {
                if i != j && labels[i] == labels[j] {
                    sum += zh.row(i).iter().zip(zh.row(j)).map(|(a, b)| a * b).sum::<f64>();
                    pairs += 1;
                }
            }
        }
        assert!((tolerance(&z, &labels) - sum / pairs as f64).abs() < 1e-12);
    }

    #[test]
    fn tolerance_of_identical_class_members_is_one_and_no_pairs_gives_zero() {
        let z = Matrix::from_vec(4, 2, vec![1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0, 3.0]);
        assert!((tolerance(&z, &[0, 0, 1, 1]) - 1.0).abs() < 1e-12);
        assert_eq!(tolerance(&z, &[0, 1, 2, 3]), 0.0);
        assert_eq!(tolerance(&Matrix::zeros(0, 2), &[]), 0.0);
    }
}
