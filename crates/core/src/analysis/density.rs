//! Each class's density of angles around the unit circle: the embedding view's picture of uniformity and class
//! separation when d = 2 (a smoothed histogram of angles, drawn around the circle).
//!
//! Angles θ_r = atan2(z_r2, z_r1) are counted into B = ANGLE_BINS bins of 3° (well under the kernel's width);
//! each class's counts are then smoothed around the circle by the von Mises kernel K(Δ) = exp(κ(cos Δ − 1)),
//! κ = 1/b² for a bandwidth of b radians:
//!   density_c[β] = Σ_k count_c[k]·K(2π(β − k)/B),
//! O(n + C·B²) rather than a kernel evaluation per sample and bin. Unnormalised: the view scales by the maximum.

use crate::matrix::Matrix;

/// Bins around the circle (3° each).
pub const ANGLE_BINS: usize = 120;
/// The kernel's width in radians (about 9°): smooth enough for a few hundred points, narrow enough to show
/// separate arcs.
pub const DEFAULT_BANDWIDTH: f32 = 0.15;

/// density[c][β] for each of `classes` classes (a label past the last class counts in the last) over the rows
/// of z (n × 2, read as points of the plane).
pub fn angular_density(z: &Matrix<f32>, labels: &[usize], classes: usize, bandwidth: f32) -> Vec<Vec<f32>> {
    use std::f32::consts::TAU;
    let classes = classes.max(1);
    let mut counts = vec![vec![0f32; ANGLE_BINS]; classes];
    for r in 0..z.rows {
        let theta = z.at(r, 1).atan2(z.at(r, 0)).rem_euclid(TAU);
        let bin = ((theta / TAU * ANGLE_BINS as f32).round() as usize) % ANGLE_BINS;
        counts[labels.get(r).copied().unwrap_or(0).min(classes - 1)][bin] += 1.0;
    }
    let kappa = 1.0 / (bandwidth * bandwidth);
    let kernel: Vec<f32> =
        (0..ANGLE_BINS).map(|j| (kappa * ((j as f32 / ANGLE_BINS as f32 * TAU).cos() - 1.0)).exp()).collect();
    counts
        .iter()
        .map(|count| {
            (0..ANGLE_BINS)
                .map(|b| {
                    (0..ANGLE_BINS)
                        .filter(|&k| count[k] > 0.0)
                        .map(|k| count[k] * kernel[(b + ANGLE_BINS - k) % ANGLE_BINS])
                        .sum()
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_angles(angles: &[f32]) -> Matrix<f32> {
        Matrix::from_vec(angles.len(), 2, angles.iter().flat_map(|a| [a.cos(), a.sin()]).collect())
    }

    /// Points of class 0 at 90° and of class 2 at 180°: each class's density peaks at its angle (bins 30 and
    /// 60), falls off symmetrically, and class 1, with no points, is 0 everywhere.
    #[test]
    fn each_class_peaks_where_its_points_are() {
        use std::f32::consts::PI;
        let z = at_angles(&[PI / 2.0, PI / 2.0, PI, PI, PI]);
        let d = angular_density(&z, &[0, 0, 2, 2, 2], 3, DEFAULT_BANDWIDTH);
        let argmax = |v: &[f32]| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
        assert_eq!((argmax(&d[0]), argmax(&d[2])), (30, 60));
        assert!((d[0][30] - 2.0).abs() < 1e-3 && (d[2][60] - 3.0).abs() < 1e-3, "{} {}", d[0][30], d[2][60]);
        for k in 1..20 {
            assert!((d[0][30 - k] - d[0][30 + k]).abs() < 1e-5, "symmetric at ±{k} bins");
            assert!(d[0][30 + k] < d[0][30 + k - 1], "falls off at +{k} bins");
        }
        assert!(d[1].iter().all(|&v| v == 0.0));
    }

    /// Ten points in every bin: the smoothed density is flat around the circle (uniformity's picture).
    #[test]
    fn evenly_spread_points_give_a_flat_density() {
        use std::f32::consts::TAU;
        let angles: Vec<f32> = (0..ANGLE_BINS * 10).map(|i| (i / 10) as f32 / ANGLE_BINS as f32 * TAU).collect();
        let d = angular_density(&at_angles(&angles), &vec![0; angles.len()], 1, DEFAULT_BANDWIDTH);
        let (lo, hi) = d[0].iter().fold((f32::MAX, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        assert!(hi / lo < 1.0001, "{lo} … {hi}");
    }
}
