//! Augmentations: the two random views of a sample that form a positive pair.
//!
//! Points and tables (in this order): scaling by s ~ U[1 − scale, 1 + scale] and, in 2-D, a rotation by
//! θ ~ U[−rotation_deg, rotation_deg] degrees, both about the data set's centroid c: x' = c + s·R(θ)·(x − c);
//! then Gaussian jitter x' += jitter·σ·g, g ~ N(0, I), where σ is the data set's overall std (the root mean
//! square of x − c over all coordinates), so the strength means the same on every data set.
//! Images: with probability shift_prob a shift by ±1 pixel along x, and independently along y (pixels shifted
//! in from outside are 0); additive Gaussian pixel noise of std pixel_noise (not clipped, so it stays zero-mean);
//! with probability erase_prob one square of erase_size × erase_size pixels, at a uniform place inside the
//! image, set to 0 (an occlusion).
//!
//! Every view makes the same draws whatever the strengths, so turning one augmentation up never changes the
//! random numbers another one gets; a strength of 0 skips the arithmetic, so all strengths 0 give views equal
//! to the inputs bit for bit. Negative or non-finite strengths count as their magnitude or 0.

use super::{Dataset, InputKind};
use crate::config::AugmentConfig;
use crate::rng::{Rng, index, normal, uniform};

/// What the point augmentations need to know about the whole data set: O(n·dim) to compute, so compute it once
/// per data set and call [`make_views_with`] when views are made every step from a large data set.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewStats {
    /// Mean of each input coordinate.
    pub centroid: Vec<f64>,
    /// Root mean square of x − centroid over all coordinates (1 when the data has no spread).
    pub std: f64,
}

impl ViewStats {
    pub fn of(ds: &Dataset) -> Self {
        let (n, dim) = (ds.len(), ds.dim);
        if n == 0 {
            return Self { centroid: vec![0.0; dim], std: 1.0 };
        }
        let mut centroid = vec![0.0; dim];
        for row in ds.x.chunks_exact(dim) {
            for (c, &v) in centroid.iter_mut().zip(row) {
                *c += v as f64;
            }
        }
        centroid.iter_mut().for_each(|c| *c /= n as f64);
        let ss: f64 =
            ds.x.chunks_exact(dim)
                .map(|row| row.iter().zip(&centroid).map(|(&v, c)| (v as f64 - c).powi(2)).sum::<f64>())
                .sum();
        let std = (ss / (n * dim) as f64).sqrt();
        Self { centroid, std: if std > 0.0 && std.is_finite() { std } else { 1.0 } }
    }
}

/// [`super::make_views`] with the data set's statistics computed beforehand (see [`ViewStats`]).
pub fn make_views_with(ds: &Dataset, stats: &ViewStats, idx: &[usize], aug: &AugmentConfig, rng: &mut Rng) -> Vec<f32> {
    let (n, dim) = (idx.len(), ds.dim);
    let mut out = vec![0.0f32; 2 * n * dim];
    for view in 0..2 {
        for (r, &i) in idx.iter().enumerate() {
            let dst = &mut out[(view * n + r) * dim..(view * n + r + 1) * dim];
            match ds.kind {
                InputKind::Image { width, height } if width * height == dim => {
                    augment_image(ds.sample(i), dst, width, height, aug, rng)
                }
                _ => augment_point(ds.sample(i), dst, stats, aug, rng),
            }
        }
    }
    out
}

/// A strength as a usable magnitude: |v|, or 0 when v is not finite.
fn strength(v: f32) -> f64 {
    if v.is_finite() { v.abs() as f64 } else { 0.0 }
}

fn augment_point(src: &[f32], dst: &mut [f32], stats: &ViewStats, aug: &AugmentConfig, rng: &mut Rng) {
    let (rot, scale, jitter) = (strength(aug.rotation_deg), strength(aug.scale), strength(aug.jitter));
    let theta = uniform(rng, -rot, rot).to_radians();
    let s = uniform(rng, 1.0 - scale, 1.0 + scale);
    dst.copy_from_slice(src);
    let rotate = rot > 0.0 && dst.len() == 2;
    let c = &stats.centroid;
    if rotate {
        // x' = c + s·R(θ)·(x − c), in place for the two coordinates.
        let (sin, cos) = theta.sin_cos();
        let (v0, v1) = (s * (dst[0] as f64 - c[0]), s * (dst[1] as f64 - c[1]));
        dst[0] = (c[0] + cos * v0 - sin * v1) as f32;
        dst[1] = (c[1] + sin * v0 + cos * v1) as f32;
    } else if scale > 0.0 {
        for (d, c) in dst.iter_mut().zip(c) {
            *d = (c + s * (*d as f64 - c)) as f32;
        }
    }
    let sigma = jitter * stats.std;
    for d in dst.iter_mut() {
        let g = normal(rng);
        if sigma > 0.0 {
            *d = (*d as f64 + sigma * g) as f32;
        }
    }
}

fn augment_image(src: &[f32], dst: &mut [f32], width: usize, height: usize, aug: &AugmentConfig, rng: &mut Rng) {
    // A shift of ±1 along each axis with probability shift_prob: dst[y][x] = src[y − dy][x − dx], 0 outside.
    let mut shift = || {
        let (happens, up) = (uniform(rng, 0.0, 1.0) < strength(aug.shift_prob), uniform(rng, 0.0, 1.0) < 0.5);
        if !happens {
            0
        } else if up {
            1
        } else {
            -1
        }
    };
    let (dx, dy): (isize, isize) = (shift(), shift());
    if dx == 0 && dy == 0 {
        dst.copy_from_slice(src);
    } else {
        for y in 0..height {
            for x in 0..width {
                let (sx, sy) = (x as isize - dx, y as isize - dy);
                let inside = (0..width as isize).contains(&sx) && (0..height as isize).contains(&sy);
                dst[y * width + x] = if inside { src[sy as usize * width + sx as usize] } else { 0.0 };
            }
        }
    }

    let sigma = strength(aug.pixel_noise);
    for d in dst.iter_mut() {
        let g = normal(rng);
        if sigma > 0.0 {
            *d = (*d as f64 + sigma * g) as f32;
        }
    }

    let side = aug.erase_size.min(width).min(height);
    let erase = uniform(rng, 0.0, 1.0) < strength(aug.erase_prob);
    let (x0, y0) = (index(rng, width - side + 1), index(rng, height - side + 1));
    if erase && side > 0 {
        for y in y0..y0 + side {
            dst[y * width + x0..y * width + x0 + side].fill(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatasetKind;
    use crate::data::{digits, generate, make_views, parse_csv};
    use crate::rng::{rng, stream};

    fn off() -> AugmentConfig {
        AugmentConfig {
            jitter: 0.0,
            rotation_deg: 0.0,
            scale: 0.0,
            shift_prob: 0.0,
            pixel_noise: 0.0,
            erase_prob: 0.0,
            erase_size: 2,
        }
    }

    fn table() -> Dataset {
        parse_csv("a,b,c,label\n1,2,3,x\n2,1,0,y\n0,5,1,x\n3,3,3,y\n4,0,2,x\n", "t").unwrap()
    }

    /// Rows of idx's samples, twice: what the views are without augmentation.
    fn stacked(ds: &Dataset, idx: &[usize]) -> Vec<f32> {
        let once: Vec<f32> = idx.iter().flat_map(|&i| ds.sample(i).to_vec()).collect();
        [once.clone(), once].concat()
    }

    #[test]
    fn zero_strength_views_equal_the_inputs_exactly() {
        let idx = [3, 0, 7, 7, 1];
        for ds in [generate(DatasetKind::Spirals, 20, 3, 0.1, 1).unwrap(), digits(), table()] {
            let idx: Vec<usize> = idx.iter().map(|&i| i % ds.len()).collect();
            let views = make_views(&ds, &idx, &off(), &mut rng(1, stream::AUGMENT));
            assert_eq!(views, stacked(&ds, &idx), "{}", ds.name);
        }
    }

    #[test]
    fn views_have_two_n_rows_and_differ_with_strength() {
        for ds in [generate(DatasetKind::Moons, 50, 2, 0.1, 1).unwrap(), digits(), table()] {
            let idx = [0, 1, 2, 3];
            let views = make_views(&ds, &idx, &AugmentConfig::default(), &mut rng(2, stream::AUGMENT));
            assert_eq!(views.len(), 2 * idx.len() * ds.dim);
            let (v1, v2) = views.split_at(idx.len() * ds.dim);
            assert_ne!(v1, v2, "{}: the two views should differ", ds.name);
            assert_ne!(views, stacked(&ds, &idx), "{}", ds.name);
            assert!(views.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn each_point_augmentation_alone_does_what_it_says() {
        let ds = generate(DatasetKind::Blobs, 200, 3, 0.1, 3).unwrap();
        let stats = ViewStats::of(&ds);
        let c = &stats.centroid;
        let idx: Vec<usize> = (0..ds.len()).collect();
        let radius = |p: &[f32]| ((p[0] as f64 - c[0]).powi(2) + (p[1] as f64 - c[1]).powi(2)).sqrt();
        // Rotation alone keeps the distance to the centroid and turns by at most 30°.
        let aug = AugmentConfig { rotation_deg: 30.0, ..off() };
        let views = make_views_with(&ds, &stats, &idx, &aug, &mut rng(3, stream::AUGMENT));
        let mut turned = false;
        for (r, &i) in idx.iter().enumerate() {
            let (p, q) = (ds.sample(i), &views[2 * r..2 * r + 2]);
            assert!((radius(p) - radius(q)).abs() < 1e-4);
            let (a, b) = ((p[0] as f64 - c[0], p[1] as f64 - c[1]), (q[0] as f64 - c[0], q[1] as f64 - c[1]));
            let angle = (a.0 * b.1 - a.1 * b.0).atan2(a.0 * b.0 + a.1 * b.1).to_degrees();
            assert!(angle.abs() <= 30.0 + 1e-3, "{angle}");
            turned |= angle.abs() > 5.0;
        }
        assert!(turned);
        // Scaling alone keeps the direction from the centroid and scales the distance by [0.8, 1.2].
        let aug = AugmentConfig { scale: 0.2, ..off() };
        let views = make_views_with(&ds, &stats, &idx, &aug, &mut rng(4, stream::AUGMENT));
        for (r, &i) in idx.iter().enumerate() {
            let ratio = radius(&views[2 * r..2 * r + 2]) / radius(ds.sample(i));
            assert!((0.8 - 1e-4..=1.2 + 1e-4).contains(&ratio), "{ratio}");
        }
        // Jitter alone has std jitter·σ.
        let aug = AugmentConfig { jitter: 0.1, ..off() };
        let views = make_views_with(&ds, &stats, &idx, &aug, &mut rng(5, stream::AUGMENT));
        let d = stacked(&ds, &idx).iter().zip(&views).map(|(a, b)| ((b - a) as f64).powi(2)).sum::<f64>();
        let std = (d / views.len() as f64).sqrt();
        assert!((std / (0.1 * stats.std) - 1.0).abs() < 0.1, "{std} vs {}", 0.1 * stats.std);
    }

    #[test]
    fn image_shift_moves_pixels_by_one_and_erase_blanks_a_square() {
        let ds = digits();
        let idx: Vec<usize> = (0..40).collect();
        let aug = AugmentConfig { shift_prob: 1.0, ..off() };
        let views = make_views(&ds, &idx, &aug, &mut rng(6, stream::AUGMENT));
        for (r, &i) in idx.iter().enumerate() {
            let (src, dst) = (ds.sample(i), &views[r * 64..(r + 1) * 64]);
            // Some (dx, dy) ∈ {±1}² explains the view: dst[y][x] = src[y − dy][x − dx], 0 outside.
            let explained = [(-1, -1), (-1, 1), (1, -1), (1, 1)].iter().any(|&(dx, dy): &(isize, isize)| {
                (0..8).all(|y| {
                    (0..8).all(|x| {
                        let (sx, sy) = (x - dx, y - dy);
                        let want = if (0..8).contains(&sx) && (0..8).contains(&sy) {
                            src[(sy * 8 + sx) as usize]
                        } else {
                            0.0
                        };
                        dst[(y * 8 + x) as usize] == want
                    })
                })
            });
            assert!(explained, "view of sample {i} is not a ±1 shift");
        }
        let aug = AugmentConfig { erase_prob: 1.0, erase_size: 3, ..off() };
        let views = make_views(&ds, &idx, &aug, &mut rng(7, stream::AUGMENT));
        for (r, &i) in idx.iter().enumerate() {
            let (src, dst) = (ds.sample(i), &views[r * 64..(r + 1) * 64]);
            let changed: Vec<usize> = (0..64).filter(|&k| src[k] != dst[k]).collect();
            assert!(changed.len() <= 9 && changed.iter().all(|&k| dst[k] == 0.0), "{changed:?}");
        }
        // An erase larger than the image is clamped to the image, never out of bounds.
        let aug = AugmentConfig { erase_prob: 1.0, erase_size: 99, ..off() };
        let views = make_views(&ds, &idx, &aug, &mut rng(8, stream::AUGMENT));
        assert!(views.iter().all(|&v| v == 0.0));
    }
}
