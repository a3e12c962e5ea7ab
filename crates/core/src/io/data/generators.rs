//! Seeded 2-D toy data sets: Gaussian blobs, two moons, concentric rings, spirals, XOR.
//!
//! Every generator draws a noise-free point on its class's *skeleton* (a blob's centre, a moon's half circle,
//! a ring's circle, a spiral's arm, an XOR quadrant), then adds isotropic Gaussian noise of std `noise` (input
//! units). Sample i has class i mod C, so the classes are balanced (the first n mod C classes get one more).
//! All draws come from `rng(seed, stream::DATA)` in a fixed order: the same seed gives the same data set on
//! every platform.
//!
//! Boundary flags. Each skeleton gives a *clearance* of a (noisy) point p of class c: how far p is inside its
//! own class's side, a signed distance that is negative once noise has carried p across to another class:
//! - blobs: distance from p to the perpendicular bisector between c's centre and the nearest other centre,
//!   (‖p − b‖² − ‖p − a‖²) / (2‖a − b‖), minimised over other centres b (a = c's centre);
//! - moons, rings, spirals: half the difference of distances to the skeletons, (d_other(p) − d_own(p)) / 2,
//!   which is the distance to the midway curve between two parallel skeletons;
//! - xor: the distance to the nearest axis, with a minus sign when p lies in a quadrant of the other class.
//!
//! A point is a boundary point when its clearance is below the generator's margin. With the default noise
//! (0.1) and three classes this flags about 9 % (rings), 10 % (moons), 13 % (blobs), 14 % (xor) and 20 %
//! (spirals) of the points; at noise 0.2, 17–47 %. Noise-free moons, rings and spirals have gaps between their
//! classes, so at noise 0 nothing is flagged there: nothing is hard about them.

use std::f64::consts::PI;

use super::{Dataset, InputKind};
use crate::config::DatasetKind;
use crate::error::{Error, Result};
use crate::rng::{self, normal, stream, uniform};

/// Blob centres lie on a circle of this radius.
const BLOB_RADIUS: f64 = 1.0;
/// A blob's own std, as a fraction of the distance between neighbouring centres (so the picture, and the
/// fraction of boundary points, look the same for any number of classes); `noise` adds to it.
const BLOB_STD_PER_CHORD: f64 = 0.2;
/// Rings: radii evenly spaced from the inner to the outer radius.
const RING_INNER: f64 = 0.5;
const RING_OUTER: f64 = 1.5;
/// Spirals: arm c is r(t) = R0 + (R1 − R0)·t at angle 2πc/C + 2π·TURNS·t, t ∈ [0, 1].
const SPIRAL_R0: f64 = 0.2;
const SPIRAL_R1: f64 = 1.5;
const SPIRAL_TURNS: f64 = 1.0;
/// XOR: points are uniform in the square [−XOR_HALF, XOR_HALF]², class = quadrant parity.
const XOR_HALF: f64 = 1.5;
/// Blobs, rings and spirals flag points whose clearance is below this fraction of half the gap between
/// neighbouring skeletons (the clearance of a noise-free point).
const BAND: f64 = 0.4;
/// Moons: the half circles' tips are 0.5 from the other moon; flag clearance below this (input units).
const MOONS_MARGIN: f64 = 0.2;
/// XOR: flag points within this distance of an axis (or across it).
const XOR_MARGIN: f64 = 0.1;

/// Generates `n` points of a toy data set. `classes` applies to blobs, rings and spirals (at least 2); moons
/// and xor always have 2. `noise` is the std of the Gaussian noise, in input units.
pub fn generate(kind: DatasetKind, n: usize, classes: usize, noise: f32, seed: u64) -> Result<Dataset> {
    if n == 0 {
        return Err(Error::invalid(format!("{}: n = 0: ask for at least one sample", kind.name())));
    }
    if !(noise >= 0.0 && noise.is_finite()) {
        return Err(Error::invalid(format!("{}: noise = {noise} must be a number ≥ 0", kind.name())));
    }
    let shape = Shape::new(kind, classes)?;
    let classes = shape.classes();
    let noise = noise as f64;
    let mut r = rng::rng(seed, stream::DATA);
    let mut x = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    let mut boundary = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % classes;
        let clean = shape.sample(c, &mut r);
        let p = [clean[0] + noise * normal(&mut r), clean[1] + noise * normal(&mut r)];
        boundary.push(shape.clearance(p, c) < shape.margin());
        x.extend([p[0] as f32, p[1] as f32]);
        labels.push(c);
    }
    Ok(Dataset {
        name: kind.name().to_string(),
        kind: InputKind::Points,
        dim: 2,
        x,
        labels,
        classes,
        has_labels: true,
        mixed: vec![false; n],
        boundary,
    })
}

type P2 = [f64; 2];

fn dist(a: P2, b: P2) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// A generator's class skeletons: how to draw a noise-free point and how far a point is from the boundary.
enum Shape {
    Blobs { centres: Vec<P2>, std: f64 },
    Moons,
    Rings { radii: Vec<f64> },
    Spirals { classes: usize },
    Xor,
}

impl Shape {
    fn new(kind: DatasetKind, classes: usize) -> Result<Self> {
        let need_classes = || {
            if classes < 2 {
                Err(Error::invalid(format!("{}: classes = {classes} must be at least 2", kind.name())))
            } else {
                Ok(())
            }
        };
        Ok(match kind {
            DatasetKind::Blobs => {
                need_classes()?;
                let centres = (0..classes)
                    .map(|c| {
                        let a = 2.0 * PI * c as f64 / classes as f64;
                        [BLOB_RADIUS * a.cos(), BLOB_RADIUS * a.sin()]
                    })
                    .collect();
                Shape::Blobs { centres, std: BLOB_STD_PER_CHORD * Self::blob_chord(classes) }
            }
            DatasetKind::Moons => Shape::Moons,
            DatasetKind::Rings => {
                need_classes()?;
                let step = (RING_OUTER - RING_INNER) / (classes - 1) as f64;
                Shape::Rings { radii: (0..classes).map(|c| RING_INNER + step * c as f64).collect() }
            }
            DatasetKind::Spirals => {
                need_classes()?;
                Shape::Spirals { classes }
            }
            DatasetKind::Xor => Shape::Xor,
            DatasetKind::Digits | DatasetKind::Csv => {
                return Err(Error::invalid(format!(
                    "{} is not a generated data set: use data::digits or data::parse_csv",
                    kind.name()
                )));
            }
        })
    }

    /// Distance between neighbouring blob centres on the circle: 2R·sin(π/C).
    fn blob_chord(classes: usize) -> f64 {
        2.0 * BLOB_RADIUS * (PI / classes as f64).sin()
    }

    fn classes(&self) -> usize {
        match self {
            Shape::Blobs { centres, .. } => centres.len(),
            Shape::Rings { radii } => radii.len(),
            Shape::Spirals { classes } => *classes,
            Shape::Moons | Shape::Xor => 2,
        }
    }

    /// Points whose clearance is below this are boundary points (see the module comment).
    fn margin(&self) -> f64 {
        match self {
            Shape::Blobs { centres, .. } => BAND * Self::blob_chord(centres.len()) / 2.0,
            Shape::Rings { radii } => BAND * (radii[1] - radii[0]) / 2.0,
            Shape::Spirals { classes } => BAND * Self::spiral_gap(*classes) / 2.0,
            Shape::Moons => MOONS_MARGIN,
            Shape::Xor => XOR_MARGIN,
        }
    }

    /// A noise-free point of class c.
    fn sample(&self, c: usize, r: &mut rng::Rng) -> P2 {
        match self {
            Shape::Blobs { centres, std } => [centres[c][0] + std * normal(r), centres[c][1] + std * normal(r)],
            Shape::Moons => {
                let (q, a0, _) = Self::moon(c);
                let a = a0 + uniform(r, 0.0, PI);
                [q[0] + a.cos(), q[1] + a.sin()]
            }
            Shape::Rings { radii } => {
                let a = uniform(r, 0.0, 2.0 * PI);
                [radii[c] * a.cos(), radii[c] * a.sin()]
            }
            Shape::Spirals { classes } => Self::arm_point(c, *classes, uniform(r, 0.0, 1.0)),
            Shape::Xor => {
                // Class 0 owns quadrants I and III (x·y > 0), class 1 quadrants II and IV.
                let sx = if uniform(r, 0.0, 1.0) < 0.5 { 1.0 } else { -1.0 };
                let sy = if c == 0 { sx } else { -sx };
                [sx * uniform(r, 0.0, XOR_HALF), sy * uniform(r, 0.0, XOR_HALF)]
            }
        }
    }

    /// Signed distance of p (of class c) from the other classes' side; see the module comment.
    fn clearance(&self, p: P2, c: usize) -> f64 {
        match self {
            Shape::Blobs { centres, .. } => {
                let a = centres[c];
                let pa2 = (p[0] - a[0]).powi(2) + (p[1] - a[1]).powi(2);
                centres
                    .iter()
                    .enumerate()
                    .filter(|&(b, _)| b != c)
                    .map(|(_, &b)| {
                        let pb2 = (p[0] - b[0]).powi(2) + (p[1] - b[1]).powi(2);
                        (pb2 - pa2) / (2.0 * dist(a, b))
                    })
                    .fold(f64::INFINITY, f64::min)
            }
            Shape::Moons => (Self::moon_dist(p, 1 - c) - Self::moon_dist(p, c)) / 2.0,
            Shape::Rings { radii } => {
                let rho = p[0].hypot(p[1]);
                let other = radii.iter().enumerate().filter(|&(b, _)| b != c).map(|(_, &rb)| (rho - rb).abs());
                (other.fold(f64::INFINITY, f64::min) - (rho - radii[c]).abs()) / 2.0
            }
            Shape::Spirals { classes } => {
                let other = (0..*classes).filter(|&b| b != c).map(|b| Self::arm_dist(p, b, *classes));
                (other.fold(f64::INFINITY, f64::min) - Self::arm_dist(p, c, *classes)) / 2.0
            }
            Shape::Xor => {
                let near_axis = p[0].abs().min(p[1].abs());
                let side = if p[0] * p[1] > 0.0 { 0 } else { 1 };
                if side == c { near_axis } else { -near_axis }
            }
        }
    }

    /// Moon c as (centre, first angle, last angle) of a unit half circle. The upper moon (class 0) is
    /// centred at (0, 0), angles [0, π]; the lower one at (1, 0.5), angles [π, 2π]; both shifted by
    /// (−0.5, −0.25) so the data set is centred near the origin.
    fn moon(c: usize) -> (P2, f64, f64) {
        if c == 0 { ([-0.5, -0.25], 0.0, PI) } else { ([0.5, 0.25], PI, 2.0 * PI) }
    }

    /// Exact distance from p to moon c's half circle: radial where p's angle falls on the arc, else to an end.
    fn moon_dist(p: P2, c: usize) -> f64 {
        let (q, a0, a1) = Self::moon(c);
        let v = [p[0] - q[0], p[1] - q[1]];
        let mut phi = v[1].atan2(v[0]);
        if phi < 0.0 {
            phi += 2.0 * PI;
        }
        if (a0..=a1).contains(&phi) {
            (v[0].hypot(v[1]) - 1.0).abs()
        } else {
            let end = |a: f64| dist(p, [q[0] + a.cos(), q[1] + a.sin()]);
            end(a0).min(end(a1))
        }
    }

    /// Radial distance between neighbouring arms: the radius grows by (R1 − R0)/TURNS per turn, shared by C arms.
    fn spiral_gap(classes: usize) -> f64 {
        (SPIRAL_R1 - SPIRAL_R0) / (SPIRAL_TURNS * classes as f64)
    }

    fn arm_point(c: usize, classes: usize, t: f64) -> P2 {
        let r = SPIRAL_R0 + (SPIRAL_R1 - SPIRAL_R0) * t;
        let a = 2.0 * PI * c as f64 / classes as f64 + 2.0 * PI * SPIRAL_TURNS * t;
        [r * a.cos(), r * a.sin()]
    }

    /// Distance from p to arm c, measured along the ray from the origin through p (the arm crosses that ray at
    /// t_k = (φ − 2πc/C + 2πk) / (2π·TURNS) for integers k), or to the arm's ends. This is an upper bound on
    /// the Euclidean distance, close to it because the arms wind slowly; it keeps the flag O(C) per point.
    fn arm_dist(p: P2, c: usize, classes: usize) -> f64 {
        let rho = p[0].hypot(p[1]);
        let phi = p[1].atan2(p[0]);
        let offset = 2.0 * PI * c as f64 / classes as f64;
        let mut best = dist(p, Self::arm_point(c, classes, 0.0)).min(dist(p, Self::arm_point(c, classes, 1.0)));
        let turns = SPIRAL_TURNS.ceil() as i64;
        for k in -2..=turns + 2 {
            let t = (phi - offset + 2.0 * PI * k as f64) / (2.0 * PI * SPIRAL_TURNS);
            if (0.0..=1.0).contains(&t) {
                best = best.min((rho - (SPIRAL_R0 + (SPIRAL_R1 - SPIRAL_R0) * t)).abs());
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENERATED: [DatasetKind; 5] =
        [DatasetKind::Blobs, DatasetKind::Moons, DatasetKind::Rings, DatasetKind::Spirals, DatasetKind::Xor];

    #[test]
    fn every_generator_is_deterministic_per_seed_and_differs_across_seeds() {
        for kind in GENERATED {
            let a = generate(kind, 300, 3, 0.1, 7).unwrap();
            let b = generate(kind, 300, 3, 0.1, 7).unwrap();
            let c = generate(kind, 300, 3, 0.1, 8).unwrap();
            assert_eq!(a, b, "{}", kind.name());
            assert_ne!(a.x, c.x, "{}", kind.name());
        }
    }

    #[test]
    fn every_generator_makes_n_points_in_balanced_classes() {
        for kind in GENERATED {
            for classes in [2, 3, 5] {
                let n = 301;
                let ds = generate(kind, n, classes, 0.1, 1).unwrap();
                let c = if matches!(kind, DatasetKind::Moons | DatasetKind::Xor) { 2 } else { classes };
                assert_eq!((ds.len(), ds.x.len(), ds.dim, ds.classes), (n, 2 * n, 2, c), "{}", kind.name());
                assert_eq!((ds.mixed.len(), ds.boundary.len()), (n, n));
                let counts = ds.class_counts();
                assert_eq!(counts.iter().sum::<usize>(), n);
                assert!(counts.iter().all(|&k| k == n / c || k == n / c + 1), "{}: {counts:?}", kind.name());
                assert!(ds.has_labels && ds.kind == InputKind::Points);
            }
        }
    }

    #[test]
    fn every_generator_has_unit_scale_inputs_centred_near_zero() {
        for kind in GENERATED {
            let ds = generate(kind, 2000, 3, 0.1, 2).unwrap();
            for j in 0..2 {
                let col: Vec<f64> = (0..ds.len()).map(|i| ds.sample(i)[j] as f64).collect();
                let mean = col.iter().sum::<f64>() / col.len() as f64;
                let std = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64).sqrt();
                assert!(mean.abs() < 0.2, "{} mean {mean}", kind.name());
                assert!((0.3..1.5).contains(&std), "{} std {std}", kind.name());
            }
        }
    }

    #[test]
    fn every_generator_flags_a_minority_of_boundary_points_and_more_with_more_noise() {
        for kind in GENERATED {
            let count = |noise| generate(kind, 2000, 3, noise, 3).unwrap().boundary.iter().filter(|&&b| b).count();
            let (low, high) = (count(0.1), count(0.3));
            assert!(low > 0 && low < 2000 / 3, "{}: {low} boundary points of 2000", kind.name());
            assert!(high > low, "{}: {high} at noise 0.3 vs {low} at 0.1", kind.name());
        }
    }

    #[test]
    fn boundary_points_are_closer_to_another_class_than_the_rest() {
        // The flag should mean something geometric: a flagged point's nearest point of another class is, on
        // average, much closer than an unflagged point's.
        for kind in GENERATED {
            let ds = generate(kind, 600, 3, 0.1, 4).unwrap();
            let nearest_other = |i: usize| {
                (0..ds.len())
                    .filter(|&j| ds.labels[j] != ds.labels[i])
                    .map(|j| {
                        let (a, b) = (ds.sample(i), ds.sample(j));
                        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
                    })
                    .fold(f32::INFINITY, f32::min)
            };
            let mean = |flag: bool| {
                let d: Vec<f32> = (0..ds.len()).filter(|&i| ds.boundary[i] == flag).map(nearest_other).collect();
                d.iter().sum::<f32>() / d.len() as f32
            };
            assert!(mean(true) < 0.6 * mean(false), "{}: {} vs {}", kind.name(), mean(true), mean(false));
        }
    }

    #[test]
    fn noise_free_points_lie_on_their_skeleton() {
        let ds = generate(DatasetKind::Rings, 90, 3, 0.0, 5).unwrap();
        for i in 0..ds.len() {
            let r = ds.sample(i)[0].hypot(ds.sample(i)[1]);
            assert!((r - [0.5, 1.0, 1.5][ds.labels[i]]).abs() < 1e-5);
        }
        let ds = generate(DatasetKind::Xor, 90, 2, 0.0, 5).unwrap();
        for i in 0..ds.len() {
            let p = ds.sample(i);
            assert_eq!(ds.labels[i], if p[0] * p[1] > 0.0 { 0 } else { 1 });
        }
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        assert!(generate(DatasetKind::Blobs, 0, 3, 0.1, 0).is_err());
        assert!(generate(DatasetKind::Rings, 10, 1, 0.1, 0).is_err());
        assert!(generate(DatasetKind::Spirals, 10, 3, -1.0, 0).is_err());
        assert!(generate(DatasetKind::Moons, 10, 3, f32::NAN, 0).is_err());
        let e = generate(DatasetKind::Digits, 10, 3, 0.1, 0).unwrap_err().to_string();
        assert!(e.contains("digits"), "{e}");
        // Moons and xor ignore `classes`, even a nonsensical one.
        assert_eq!(generate(DatasetKind::Moons, 10, 0, 0.1, 0).unwrap().classes, 2);
    }
}
