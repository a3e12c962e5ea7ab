//! α̂, β̂, γ̂ of docs/math.md §4 (the seed paper's Table 10 estimate of the similarity-graph parameters of §5).
//!
//! α̂ = mean cosine over same-class pairs, β̂ = over cross-class pairs with no difficult member, γ̂ = over
//! cross-class pairs with at least one difficult member (unordered pairs i < j). All three come from sums
//! of unit rows in O(n·d): for a set S, Σ_{i≠j∈S} ẑ_iᵀẑ_j = ‖Σ_S ẑ‖² − Σ_S ‖ẑ‖², and
//! cross-class sums = (all pairs) − (same-class pairs).

use super::unit_rows_f64;
use crate::matrix::Matrix;
use serde::Serialize;

/// Number of unordered pairs behind each estimate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PairCounts {
    pub same_class: u64,
    pub cross_easy: u64,
    pub cross_difficult: u64,
}

/// α̂, β̂, γ̂; `None` where the group has no pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct SimilarityEstimates {
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub gamma: Option<f64>,
    pub counts: PairCounts,
}

/// Sum over ordered pairs i ≠ j of ẑ_iᵀẑ_j for the rows in a group, from its row sum and squared norms.
fn pair_sum(sum: &[f64], sq: f64) -> f64 {
    sum.iter().map(|v| v * v).sum::<f64>() - sq
}

/// α̂, β̂, γ̂ of docs/math.md §4. Rows beyond `labels.len()` are ignored; a row beyond `difficult.len()` counts as
/// not difficult.
pub fn similarity_estimates(z: &Matrix<f32>, labels: &[usize], difficult: &[bool]) -> SimilarityEstimates {
    let n = z.rows.min(labels.len());
    let d = z.cols;
    if n == 0 {
        return SimilarityEstimates::default();
    }
    let zh = unit_rows_f64(z);
    let classes = labels[..n].iter().max().map_or(0, |&m| m + 1);
    // Group sums: all rows, easy rows; per class: all rows, easy rows. Each with Σ‖ẑ‖² and a count.
    let mut all = (vec![0.0; d], 0.0, 0u64);
    let mut easy = (vec![0.0; d], 0.0, 0u64);
    let mut class_all = vec![(vec![0.0; d], 0.0, 0u64); classes];
    let mut class_easy = vec![(vec![0.0; d], 0.0, 0u64); classes];
    let add = |g: &mut (Vec<f64>, f64, u64), row: &[f64]| {
        g.0.iter_mut().zip(row).for_each(|(s, v)| *s += v);
        g.1 += row.iter().map(|v| v * v).sum::<f64>();
        g.2 += 1;
    };
    for (i, &c) in labels[..n].iter().enumerate() {
        let row = zh.row(i);
        add(&mut all, row);
        add(&mut class_all[c], row);
        if !difficult.get(i).copied().unwrap_or(false) {
            add(&mut easy, row);
            add(&mut class_easy[c], row);
        }
    }
    let pairs = |k: u64| k * k.saturating_sub(1) / 2;
    let same_sum: f64 = class_all.iter().map(|g| pair_sum(&g.0, g.1)).sum::<f64>() / 2.0;
    let same_count: u64 = class_all.iter().map(|g| pairs(g.2)).sum();
    let cross_sum = pair_sum(&all.0, all.1) / 2.0 - same_sum;
    let cross_count = pairs(all.2) - same_count;
    let easy_cross_sum =
        pair_sum(&easy.0, easy.1) / 2.0 - class_easy.iter().map(|g| pair_sum(&g.0, g.1)).sum::<f64>() / 2.0;
    let easy_cross_count = pairs(easy.2) - class_easy.iter().map(|g| pairs(g.2)).sum::<u64>();
    let mean = |s: f64, k: u64| if k == 0 { None } else { Some(s / k as f64) };
    SimilarityEstimates {
        alpha: mean(same_sum, same_count),
        beta: mean(easy_cross_sum, easy_cross_count),
        gamma: mean(cross_sum - easy_cross_sum, cross_count - easy_cross_count),
        counts: PairCounts {
            same_class: same_count,
            cross_easy: easy_cross_count,
            cross_difficult: cross_count - easy_cross_count,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_estimates_match_a_naive_loop_on_a_hand_made_set() {
        let data: Vec<f32> = (0..9 * 3).map(|i| ((i as f32 * 1.31).cos() * 2.0) + 0.2).collect();
        let z = Matrix::from_vec(9, 3, data);
        let labels = [0, 0, 1, 1, 2, 2, 0, 1, 2];
        let difficult = [false, true, false, false, true, false, false, false, false];
        let zh = unit_rows_f64(&z);
        let mut groups = [(0.0, 0u64); 3];
        for i in 0..9 {
            for j in i + 1..9 {
                let s: f64 = zh.row(i).iter().zip(zh.row(j)).map(|(a, b)| a * b).sum();
                let g = if labels[i] == labels[j] {
                    0
                } else if difficult[i] || difficult[j] {
                    2
                } else {
                    1
                };
                groups[g].0 += s;
                groups[g].1 += 1;
            }
        }
        let est = similarity_estimates(&z, &labels, &difficult);
        assert_eq!(est.counts, PairCounts { same_class: 9, cross_easy: 16, cross_difficult: 11 });
        for (got, (s, k)) in [est.alpha, est.beta, est.gamma].into_iter().zip(groups) {
            assert!((got.unwrap() - s / k as f64).abs() < 1e-12);
        }
    }

    #[test]
    fn similarity_estimates_on_exact_angles_and_empty_groups_are_none() {
        // Class 0 at angle 0 (twice), class 1 at 90° (easy) and at 60° (difficult).
        let z = Matrix::from_vec(4, 2, vec![1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.5, 0.75f32.sqrt()]);
        let est = similarity_estimates(&z, &[0, 0, 1, 1], &[false, false, false, true]);
        assert!((est.alpha.unwrap() - (1.0 + 0.75f64.sqrt()) / 2.0).abs() < 1e-7);
        assert!(est.beta.unwrap().abs() < 1e-7);
        assert!((est.gamma.unwrap() - 0.5).abs() < 1e-7);
        let none = similarity_estimates(&z, &[0, 1, 2, 3], &[true; 4]);
        assert_eq!((none.alpha, none.beta), (None, None));
        assert!(none.gamma.is_some());
        assert_eq!(similarity_estimates(&Matrix::zeros(0, 2), &[], &[]), SimilarityEstimates::default());
    }
}
