//! Two-dimensional views of wider data: the top two principal directions of a set of rows, to draw inputs of
//! more than two dimensions in the input plane and embeddings of more than three on the embedding view.
//!
//! Power iteration on the d × d covariance (60 iterations, then deflation): d is at most a few hundred here, and
//! a fixed start with a fixed sign keeps the picture from flipping between snapshots.

/// The mean of the rows and the two principal directions (unit vectors, the second orthogonal to the first).
#[derive(Clone, Debug, PartialEq)]
pub struct Pca2 {
    pub mean: Vec<f32>,
    pub dirs: [Vec<f32>; 2],
}

impl Pca2 {
    /// Fits the rows of `x` (n × d, row-major).
    pub fn fit(x: &[f32], d: usize) -> Self {
        let n = x.len().checked_div(d).unwrap_or(0);
        let mut mean = vec![0f32; d];
        for r in x.chunks(d.max(1)) {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += v / n.max(1) as f32;
            }
        }
        let mut cov = vec![0f64; d * d];
        for r in x.chunks(d.max(1)) {
            for i in 0..d {
                let a = (r[i] - mean[i]) as f64;
                for j in 0..d {
                    cov[i * d + j] += a * (r[j] - mean[j]) as f64;
                }
            }
        }
        let mut dirs: [Vec<f32>; 2] = [vec![0.0; d], vec![0.0; d]];
        for (k, dir) in dirs.iter_mut().enumerate() {
            let mut v: Vec<f64> = (0..d).map(|i| if i == k { 1.0 } else { 0.1 / (1.0 + i as f64) }).collect();
            for _ in 0..60 {
                let mut w = vec![0f64; d];
                for i in 0..d {
                    w[i] = (0..d).map(|j| cov[i * d + j] * v[j]).sum();
                }
                let norm = w.iter().map(|a| a * a).sum::<f64>().sqrt();
                if norm < 1e-300 {
                    break;
                }
                v = w.iter().map(|a| a / norm).collect();
            }
            // Deflate, so the second direction is orthogonal to the first.
            let lambda: f64 = (0..d).map(|i| v[i] * (0..d).map(|j| cov[i * d + j] * v[j]).sum::<f64>()).sum();
            for i in 0..d {
                for j in 0..d {
                    cov[i * d + j] -= lambda * v[i] * v[j];
                }
            }
            // The sign is fixed by the largest component, against flipping.
            let big = v.iter().copied().fold(0.0, |m: f64, a| if a.abs() > m.abs() { a } else { m });
            let sign = if big < 0.0 { -1.0 } else { 1.0 };
            *dir = v.iter().map(|a| (a * sign) as f32).collect();
        }
        Self { mean, dirs }
    }

    /// A row's coordinates along the two directions.
    pub fn project(&self, row: &[f32]) -> [f32; 2] {
        let mut out = [0.0; 2];
        for (o, dir) in out.iter_mut().zip(&self.dirs) {
            *o = row.iter().zip(&self.mean).zip(dir).map(|((v, m), w)| (v - m) * w).sum();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{normal, rng, stream};

    /// Random rows stretched along two known orthogonal directions in 6-D: the fit finds them (up to sign),
    /// and the projection of a row is its coordinates along them.
    #[test]
    fn finds_the_two_widest_directions() {
        let d = 6;
        let mut r = rng(3, stream::TEST);
        let u = [0.6f32, 0.0, 0.8, 0.0, 0.0, 0.0];
        let w = [0.0f32, 0.0, 0.0, 0.0, 1.0, 0.0];
        let mut x = Vec::new();
        for _ in 0..400 {
            let (a, b) = (normal(&mut r) as f32 * 5.0, normal(&mut r) as f32 * 2.0);
            for k in 0..d {
                x.push(1.0 + a * u[k] + b * w[k] + normal(&mut r) as f32 * 0.05);
            }
        }
        let p = Pca2::fit(&x, d);
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        assert!(dot(&p.dirs[0], &u).abs() > 0.999, "{:?}", p.dirs[0]);
        assert!(dot(&p.dirs[1], &w).abs() > 0.999, "{:?}", p.dirs[1]);
        assert!(dot(&p.dirs[0], &p.dirs[1]).abs() < 1e-3);
        let row = &x[..d];
        let want = [dot(&row.iter().zip(&p.mean).map(|(a, m)| a - m).collect::<Vec<_>>(), &p.dirs[0]), 0.0];
        assert!((p.project(row)[0] - want[0]).abs() < 1e-4);
    }
}
