//! Selecting difficult pairs (docs/math.md §2, the paper's Eq. 12).
//!
//! Computed every step, without gradient, on the cosine similarities c_ik of the pre-projector features h
//! (2N × d_h, rows `[view 1 of samples 0..N; view 2 of samples 0..N]`).
//!
//! - `AllViews` (InfoNCE, DCL): c is 2N × 2N; row i's candidates are k ∉ {i, j(i)}, M = 2N − 2.
//! - `CrossView` (spectral): c is N × N, view-1 row i against view-2 row k (h rows 0..N against N..2N);
//!   row i's candidates are k ≠ i, M = N − 1.
//!
//! With r(q) = max(1, ⌈q·M⌉) (clamped to M), hi_i is the r(posHigh)-th largest candidate of row i and lo_i
//! the r(posLow)-th largest; then p_ik = 1[lo_i ≤ c_ik < hi_i]. The order statistics come from
//! `select_nth_unstable` on a scratch copy of the row's keys (`Float::descending_key`, integers in the
//! values' descending order): O(M) per row, never a full sort.

use std::cmp::Ordering;

use crate::backend::PairLayout;
use crate::float::Float;
use crate::matrix::Matrix;
use crate::ops::normalize::normalize_forward;

/// A 0/1 flag per pair of a similarity matrix (rows × cols, row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct PairFlags {
    pub rows: usize,
    pub cols: usize,
    pub flags: Vec<bool>,
}

/// True when (i, k) is a candidate pair of the layout: not self and not the positive partner.
/// AllViews on 2N rows: k ∉ {i, (i + N) mod 2N}. CrossView on N rows: k ≠ i (the diagonal is the positive).
#[inline]
pub fn is_candidate(i: usize, k: usize, rows: usize, layout: PairLayout) -> bool {
    match layout {
        PairLayout::AllViews => k != i && k != (i + rows / 2) % rows,
        PairLayout::CrossView => k != i,
    }
}

/// The columns row i leaves out, ascending: (self, positive) for AllViews; (i, rows) for CrossView, where
/// `rows` is past the end (the diagonal is both self and positive there).
#[inline]
fn excluded(i: usize, rows: usize, layout: PairLayout) -> (usize, usize) {
    match layout {
        PairLayout::AllViews => {
            let j = (i + rows / 2) % rows;
            (i.min(j), i.max(j))
        }
        PairLayout::CrossView => (i, rows),
    }
}

impl PairFlags {
    #[inline]
    pub fn get(&self, i: usize, k: usize) -> bool {
        self.flags[i * self.cols + k]
    }

    /// Number of flagged pairs.
    pub fn count(&self) -> usize {
        self.flags.iter().filter(|&&f| f).count()
    }

    /// The ablation: every candidate pair flagged. `z_rows` = 2N (the rows of z).
    pub fn all_pairs(z_rows: usize, layout: PairLayout) -> Self {
        let n = match layout {
            PairLayout::AllViews => z_rows,
            PairLayout::CrossView => z_rows / 2,
        };
        let mut flags = vec![false; n * n];
        for i in 0..n {
            for k in 0..n {
                flags[i * n + k] = is_candidate(i, k, n, layout);
            }
        }
        Self { rows: n, cols: n, flags }
    }

    /// From a 0/1 matrix (2N×2N for AllViews, N×N for CrossView): non-zero = flagged; self and positive cleared.
    pub fn from_matrix<F: Float>(m: &Matrix<F>, layout: PairLayout) -> Self {
        assert_eq!(m.rows, m.cols, "PairFlags::from_matrix: a flag matrix is square, got {}×{}", m.rows, m.cols);
        let n = m.rows;
        let mut flags = vec![false; n * n];
        for i in 0..n {
            for k in 0..n {
                flags[i * n + k] = m.at(i, k) != F::zero() && is_candidate(i, k, n, layout);
            }
        }
        Self { rows: n, cols: n, flags }
    }
}

/// The cosine-similarity matrix c that selection works on: ĥĥᵀ (2N × 2N) for AllViews, ĥ1ĥ2ᵀ (N × N) for
/// CrossView. `thresholds` and `flags_from_thresholds` both call this, so c_ik is bit-for-bit the same in
/// both and a value equal to hi_i is excluded consistently.
pub fn cosine_similarities<F: Float>(h: &Matrix<F>, layout: PairLayout) -> Matrix<F> {
    let (hhat, _) = normalize_forward(h);
    match layout {
        PairLayout::AllViews => hhat.matmul_t(&hhat),
        PairLayout::CrossView => {
            let n = h.rows / 2;
            hhat.rows_range(0, n).matmul_t(&hhat.rows_range(n, 2 * n))
        }
    }
}

/// Number of candidates per row: M = 2N − 2 (AllViews on 2N rows) or N − 1 (CrossView on N rows).
pub fn candidates_per_row(rows: usize, layout: PairLayout) -> usize {
    match layout {
        PairLayout::AllViews => rows.saturating_sub(2),
        PairLayout::CrossView => rows.saturating_sub(1),
    }
}

/// r(q) = max(1, ⌈q·M⌉), clamped to M (and 0 when M = 0): the 1-based rank of a threshold.
///
/// q arrives as f32, so 0.1 is really 0.100000001490116…, and 0.1·510 would ceil to 52 instead of 51.
/// The product is taken in f64 and ceil'd after subtracting a relative 1e-6: far above f32's rounding of q
/// (6e-8 relative) and far below any fractional part a user means.
pub fn rank(q: f32, m: usize) -> usize {
    if m == 0 {
        return 0;
    }
    let x = q as f64 * m as f64;
    let r = (x - 1e-6 * x.abs().max(1.0)).ceil();
    (r.max(1.0) as usize).min(m)
}

/// Per-row (lo_i, hi_i) as rows × 2.
pub fn thresholds<F: Float>(h: &Matrix<F>, layout: PairLayout, pos_high: f32, pos_low: f32) -> Matrix<F> {
    thresholds_from_cosines(&cosine_similarities(h, layout), layout, pos_high, pos_low)
}

/// Per-row (lo_i, hi_i) as rows × 2, from c = `cosine_similarities(h, layout)`.
pub fn thresholds_from_cosines<F: Float>(c: &Matrix<F>, layout: PairLayout, pos_high: f32, pos_low: f32) -> Matrix<F> {
    let rows = c.rows;
    let m = candidates_per_row(rows, layout);
    let (r_hi, r_lo) = (rank(pos_high, m), rank(pos_low, m));
    let mut out = Matrix::zeros(rows, 2);
    if m == 0 {
        return out; // no candidates: lo = hi = 0 flags nothing
    }
    // Rows are independent: chunks of 64 rows run on the cores (each row's result does not depend on how
    // the rows are grouped, so the bits do not depend on the thread count).
    crate::parallel::map_row_chunks_weighted(
        &mut out.data,
        2,
        64,
        rows * m,
        #[inline(always)]
        |first, chunk| {
            let mut scratch: Vec<F::DescendingKey> = Vec::with_capacity(m);
            for (j, lo_hi) in chunk.chunks_mut(2).enumerate() {
                let i = first + j;
                // The candidates of row i: the row without its self and positive entries, as keys.
                let (x, y) = excluded(i, rows, layout);
                let row = c.row(i);
                scratch.clear();
                let candidates = row[..x].iter().chain(&row[x + 1..y]).chain(&row[(y + 1).min(rows)..]);
                scratch.extend(candidates.map(|v| v.descending_key()));
                debug_assert_eq!(scratch.len(), m);
                // hi_i: the r_hi-th largest. After the selection, scratch[..a] ≥ scratch[a] ≥ scratch[a+1..] in value.
                let a = r_hi - 1;
                let (_, &mut hi, _) = scratch.select_nth_unstable(a);
                // lo_i: the r_lo-th largest, found in the side of the partition that holds it.
                let b = r_lo - 1;
                let lo = match b.cmp(&a) {
                    Ordering::Equal => hi,
                    Ordering::Greater => *scratch[a + 1..].select_nth_unstable(b - a - 1).1,
                    Ordering::Less => *scratch[..a].select_nth_unstable(b).1,
                };
                lo_hi[0] = F::from_descending_key(lo);
                lo_hi[1] = F::from_descending_key(hi);
            }
        },
    );
    out
}

/// p_ik = 1[lo_i ≤ c_ik < hi_i] over candidates.
pub fn flags_from_thresholds<F: Float>(h: &Matrix<F>, thresholds: &Matrix<F>, layout: PairLayout) -> PairFlags {
    flags_from_cosines(&cosine_similarities(h, layout), thresholds, layout)
}

/// p_ik = 1[lo_i ≤ c_ik < hi_i] over candidates, from c = `cosine_similarities(h, layout)`.
pub fn flags_from_cosines<F: Float>(c: &Matrix<F>, thresholds: &Matrix<F>, layout: PairLayout) -> PairFlags {
    let n = c.rows;
    assert_eq!(thresholds.rows, n, "flags_from_thresholds: thresholds has {} rows, c has {n}", thresholds.rows);
    let mut flags = vec![false; n * n];
    if n == 0 {
        return PairFlags { rows: 0, cols: 0, flags };
    }
    crate::parallel::map_row_chunks(
        &mut flags,
        n,
        64,
        #[inline(always)]
        |first, chunk| {
            for (j, out) in chunk.chunks_mut(n).enumerate() {
                let i = first + j;
                let (lo, hi) = (thresholds.at(i, 0), thresholds.at(i, 1));
                for (f, &cik) in out.iter_mut().zip(c.row(i)) {
                    *f = lo <= cik && cik < hi;
                }
                let (x, y) = excluded(i, n, layout);
                out[x] = false;
                if y < n {
                    out[y] = false;
                }
            }
        },
    );
    PairFlags { rows: n, cols: n, flags }
}

/// Selection precision: the fraction of flagged pairs whose labels differ (docs/math.md §2), or `None` when
/// nothing is flagged.
///
/// `labels` are per view (2N entries, the layout of z and h: the trainer passes each sample's label twice),
/// or per sample (N entries) for CrossView flags. For AllViews flags (2N × 2N) pair (i, k) compares
/// labels[i] with labels[k]; for CrossView flags (N × N) it compares view-1 sample i with view-2 sample k,
/// i.e. labels[i] with labels[N + k] (per view) or labels[k] (per sample).
pub fn precision(flags: &PairFlags, labels: &[usize]) -> Option<f64> {
    let col_offset = if labels.len() == flags.cols {
        0
    } else {
        assert_eq!(labels.len(), 2 * flags.cols, "precision: {} labels for {} columns", labels.len(), flags.cols);
        flags.cols
    };
    let (mut flagged, mut differ) = (0usize, 0usize);
    for i in 0..flags.rows {
        for k in 0..flags.cols {
            if flags.get(i, k) {
                flagged += 1;
                differ += usize::from(labels[i] != labels[col_offset + k]);
            }
        }
    }
    (flagged > 0).then(|| differ as f64 / flagged as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{rng, stream};
    use crate::testing::random_matrix;

    /// h rows at angles θ on the unit circle (times a per-row scale, which cosines must ignore).
    fn circle(angles_deg: &[f64]) -> Matrix<f64> {
        let data: Vec<f64> = angles_deg
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                let s = 1.0 + i as f64; // scale: cosines must not see it
                let r = a.to_radians();
                [s * r.cos(), s * r.sin()]
            })
            .collect();
        Matrix::from_vec(angles_deg.len(), 2, data)
    }

    #[test]
    fn rank_is_the_ceiling_of_q_times_m_clamped_and_robust_to_f32_rounding() {
        assert_eq!(rank(0.25, 508), 127);
        assert_eq!(rank(0.1, 510), 51); // 0.1f32·510 = 51.0000008 in f64
        assert_eq!(rank(0.3, 10), 3); // 0.3f32·10 = 3.0000001
        assert_eq!(rank(0.26, 10), 3);
        assert_eq!(rank(0.0, 10), 1);
        assert_eq!(rank(1.0, 10), 10);
        assert_eq!(rank(1.5, 10), 10);
        assert_eq!(rank(0.5, 0), 0);
    }

    #[test]
    fn all_pairs_and_from_matrix_clear_self_and_positives() {
        // AllViews, 2N = 6: row i must have i and (i+3)%6 cleared, all else set.
        let all = PairFlags::all_pairs(6, PairLayout::AllViews);
        assert_eq!((all.rows, all.cols), (6, 6));
        for i in 0..6 {
            for k in 0..6 {
                assert_eq!(all.get(i, k), k != i && k != (i + 3) % 6, "({i},{k})");
            }
        }
        assert_eq!(all.count(), 6 * 4);
        // CrossView on z with 6 rows: N = 3, diagonal cleared.
        let cross = PairFlags::all_pairs(6, PairLayout::CrossView);
        assert_eq!((cross.rows, cross.cols), (3, 3));
        for i in 0..3 {
            for k in 0..3 {
                assert_eq!(cross.get(i, k), k != i);
            }
        }
        // from_matrix of an all-ones matrix equals all_pairs; zeros stay zeros.
        let ones = Matrix::from_vec(6, 6, vec![1.0f64; 36]);
        assert_eq!(PairFlags::from_matrix(&ones, PairLayout::AllViews), all);
        let ones3 = Matrix::from_vec(3, 3, vec![2.0f32; 9]);
        assert_eq!(PairFlags::from_matrix(&ones3, PairLayout::CrossView), cross);
        let mut m = Matrix::<f64>::zeros(6, 6);
        m.data[1] = 1.0; // (0,1): a candidate, kept
        m.data[3] = 1.0; // (0,3): the positive, cleared
        m.data[7] = 1.0; // (1,1): self, cleared
        let f = PairFlags::from_matrix(&m, PairLayout::AllViews);
        assert_eq!(f.count(), 1);
        assert!(f.get(0, 1));
    }

    #[test]
    fn all_views_selection_matches_a_hand_made_similarity_set_up() {
        // N = 3 samples, 2N = 6 views on the unit circle; view i's positive is (i+3)%6.
        // Angles: views 0,1,2 at 0°, 90°, 180°; views 3,4,5 at 10°, 60°, 200°.
        // Row 0 (0°) candidates k ∉ {0,3}: k=1 (90°) cos 0, k=2 (180°) cos −1, k=4 (60°) cos .5,
        // k=5 (200°) cos(200°) = −.9397. M = 4, descending: .5, 0, −.9397, −1.
        // posHigh = .25 → r = 1 → hi = .5; posLow = .75 → r = 3 → lo = −.9397.
        // Flags: lo ≤ c < hi → k=1 (0) and k=5 (−.9397); k=4 (= hi) is excluded, k=2 (< lo) too.
        let h = circle(&[0.0, 90.0, 180.0, 10.0, 60.0, 200.0]);
        let t = thresholds(&h, PairLayout::AllViews, 0.25, 0.75);
        assert_eq!((t.rows, t.cols), (6, 2));
        let cos = |d: f64| d.to_radians().cos();
        assert!((t.at(0, 1) - 0.5).abs() < 1e-12, "hi_0 = {}", t.at(0, 1));
        assert!((t.at(0, 0) - cos(200.0)).abs() < 1e-12, "lo_0 = {}", t.at(0, 0));
        let f = flags_from_thresholds(&h, &t, PairLayout::AllViews);
        let row0: Vec<bool> = (0..6).map(|k| f.get(0, k)).collect();
        assert_eq!(row0, [false, true, false, false, false, true]);
        // Row 1 (90°) candidates k ∉ {1,4}: k=0 cos 0, k=2 cos 0, k=3 (10°) cos 80° = .1736,
        // k=5 (200°) cos 110° = −.3420. Descending: .1736, 0, 0, −.3420.
        // hi = .1736 (r=1), lo = 0 (r=3): flags k=0 and k=2 (c = 0 = lo included), not k=3 (= hi).
        assert!((t.at(1, 1) - cos(80.0)).abs() < 1e-12);
        assert!(t.at(1, 0).abs() < 1e-12);
        let row1: Vec<bool> = (0..6).map(|k| f.get(1, k)).collect();
        assert_eq!(row1, [true, false, true, false, false, false]);
        // Every flag is a candidate and lies in [lo, hi).
        let c = cosine_similarities(&h, PairLayout::AllViews);
        for i in 0..6 {
            assert!(!f.get(i, i) && !f.get(i, (i + 3) % 6));
            for k in 0..6 {
                if f.get(i, k) {
                    assert!(t.at(i, 0) <= c.at(i, k) && c.at(i, k) < t.at(i, 1));
                }
            }
        }
    }

    #[test]
    fn cross_view_selection_matches_a_hand_made_similarity_set_up() {
        // N = 4: view 1 of samples 0..4 at 0°, 0°, 0°, 0°; view 2 at 0°, 30°, 60°, 90° (h rows 4..8).
        // Row 0 of the 4×4 cross matrix: view-1 sample 0 (0°) vs view-2 k: cos 0°, 30°, 60°, 90°.
        // Candidates k ≠ 0: .8660, .5, 0 (M = 3). posHigh = 1/3 → r = 1 → hi = .8660;
        // posLow = 1 → r = 3 → lo = 0. Flags: k=2 (.5), k=3 (0 = lo, included); k=1 (= hi) excluded.
        // Row 1: candidates k ≠ 1: 1 (k=0), .5, 0 → hi = 1, lo = 0: flags k=2, k=3.
        let h = circle(&[0.0, 0.0, 0.0, 0.0, 0.0, 30.0, 60.0, 90.0]);
        let t = thresholds(&h, PairLayout::CrossView, 1.0 / 3.0, 1.0);
        assert_eq!((t.rows, t.cols), (4, 2));
        assert!((t.at(0, 1) - 30f64.to_radians().cos()).abs() < 1e-12);
        assert!(t.at(0, 0).abs() < 1e-12);
        assert!((t.at(1, 1) - 1.0).abs() < 1e-12);
        let f = flags_from_thresholds(&h, &t, PairLayout::CrossView);
        assert_eq!((f.rows, f.cols), (4, 4));
        let rows: Vec<Vec<bool>> = (0..4).map(|i| (0..4).map(|k| f.get(i, k)).collect()).collect();
        assert_eq!(rows[0], [false, false, true, true]);
        assert_eq!(rows[1], [false, false, true, true]);
        // Row 3: candidates k ≠ 3: 1, .866, .5 → hi = 1, lo = .5: flags k=1 (.866) and k=2 (.5).
        assert_eq!(rows[3], [false, true, true, false]);
    }

    #[test]
    fn thresholds_equal_full_sort_order_statistics_on_random_input() {
        let mut r = rng(3, stream::TEST);
        let h = random_matrix(&mut r, 40, 5);
        for layout in [PairLayout::AllViews, PairLayout::CrossView] {
            for &(ph, pl) in &[(0.1f32, 0.9f32), (0.5, 0.5), (0.7, 0.2), (0.0, 1.0)] {
                let t = thresholds(&h, layout, ph, pl);
                let c = cosine_similarities(&h, layout);
                let m = candidates_per_row(c.rows, layout);
                for i in 0..c.rows {
                    let mut v: Vec<f64> =
                        (0..c.cols).filter(|&k| is_candidate(i, k, c.rows, layout)).map(|k| c.at(i, k)).collect();
                    v.sort_by(|a, b| b.partial_cmp(a).unwrap());
                    assert_eq!(t.at(i, 1), v[rank(ph, m) - 1]);
                    assert_eq!(t.at(i, 0), v[rank(pl, m) - 1]);
                }
            }
        }
    }

    #[test]
    fn precision_counts_flagged_pairs_with_different_labels() {
        let mut m = Matrix::<f64>::zeros(4, 4);
        m.data[1] = 1.0; // (0,1)
        m.data[3] = 1.0; // (0,3)
        m.data[2] = 1.0; // (0,2): the positive of view 0 (N = 2), cleared
        let f = PairFlags::from_matrix(&m, PairLayout::AllViews);
        assert_eq!(f.count(), 2);
        // Labels [0, 1, 0, 0]: (0,1) differ, (0,3) same → 1/2.
        assert_eq!(precision(&f, &[0, 1, 0, 0]), Some(0.5));
        assert_eq!(
            precision(&PairFlags::from_matrix(&Matrix::<f64>::zeros(4, 4), PairLayout::AllViews), &[0; 4]),
            None
        );
        // CrossView 2×2 with (0,1) flagged: sample 0 vs sample 1.
        let mut c = Matrix::<f64>::zeros(2, 2);
        c.data[1] = 1.0;
        let f = PairFlags::from_matrix(&c, PairLayout::CrossView);
        assert_eq!(precision(&f, &[0, 1]), Some(1.0)); // per sample
        assert_eq!(precision(&f, &[0, 0, 0, 0]), Some(0.0)); // per view: labels[0] vs labels[2 + 1]
    }

    #[test]
    fn selection_in_f32_and_f64_agree_on_random_input() {
        let mut r = rng(5, stream::TEST);
        let h64 = random_matrix(&mut r, 64, 8);
        let h32 = Matrix::<f32>::from_f64(64, 8, &h64.data);
        for layout in [PairLayout::AllViews, PairLayout::CrossView] {
            let t64 = thresholds(&h64, layout, 0.2, 0.8);
            let t32 = thresholds(&h32, layout, 0.2, 0.8);
            for (a, b) in t64.data.iter().zip(&t32.data) {
                assert!((a - *b as f64).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }
}
