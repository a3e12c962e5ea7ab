//! The difficulty knob ω (DESIGN.md "Data"): the paper's pixel-level mixing, in input space. A fraction ω of the
//! training samples is replaced by x_i = λ·x_i + (1 − λ)·x_b, with x_b a random training sample of another
//! class and λ ~ U[λ_min, λ_max]. The mixed sample keeps its own label, yet lies part of the way towards
//! another class: exactly the "difficult-to-learn" sample whose pairs the selection is meant to find. The test
//! split is never mixed and never a partner (docs/math.md §3, as in the paper's ω-mixed CIFAR-10).

use super::Dataset;
use crate::error::{Error, Result};
use crate::rng::{Rng, index, shuffle, uniform};

/// Replaces round(ω·|pool|) samples of `pool` (the training split), chosen with `rng` (the MIX stream), by
/// mixes with samples of `pool` of other classes, and flags them `mixed` (their `boundary` flag is cleared: it
/// described the position they no longer have). Partners are drawn from the original samples, never from
/// already-mixed ones. ω = 0 changes nothing. Errors when ω or λ is out of range, or when ω > 0 and the pool
/// has fewer than two classes to mix. Indices in `pool` past the data's end are ignored.
pub fn mix(
    ds: &mut Dataset,
    omega: f32,
    lambda_min: f32,
    lambda_max: f32,
    pool: &[usize],
    rng: &mut Rng,
) -> Result<()> {
    if !(0.0..=1.0).contains(&omega) {
        return Err(Error::invalid(format!("data.omega = {omega} must lie in [0, 1]")));
    }
    if !((0.0..=1.0).contains(&lambda_min) && (0.0..=1.0).contains(&lambda_max) && lambda_min <= lambda_max) {
        return Err(Error::invalid(format!(
            "data.mix_lambda_min = {lambda_min}, mix_lambda_max = {lambda_max}: need 0 ≤ min ≤ max ≤ 1"
        )));
    }
    let pool: Vec<usize> = pool.iter().copied().filter(|&i| i < ds.len()).collect();
    let count = (omega as f64 * pool.len() as f64).round() as usize;
    if count == 0 {
        return Ok(());
    }
    // Members of each class within the pool, so a partner of another class is one uniform draw.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); ds.labels.iter().max().map_or(0, |&m| m + 1)];
    for &i in &pool {
        members[ds.labels[i]].push(i);
    }
    if !ds.has_labels || members.iter().filter(|m| !m.is_empty()).count() < 2 {
        return Err(Error::invalid(format!(
            "data.omega = {omega} mixes samples of different classes, but {} has {}: set omega to 0",
            ds.name,
            if ds.has_labels { "only one class in its training split" } else { "no labels" }
        )));
    }

    let mut order = pool.clone();
    shuffle(rng, &mut order);
    let original = ds.x.clone();
    let dim = ds.dim;
    for &a in &order[..count] {
        let own = ds.labels[a];
        // The k-th sample outside a's class, k uniform: walk the other classes' member lists.
        let mut k = index(rng, pool.len() - members[own].len());
        let b = members
            .iter()
            .enumerate()
            .filter(|&(c, _)| c != own)
            .find_map(|(_, m)| {
                if k < m.len() {
                    Some(m[k])
                } else {
                    k -= m.len();
                    None
                }
            })
            .expect("k is below the number of samples of other classes");
        let lambda = uniform(rng, lambda_min as f64, lambda_max as f64);
        for j in 0..dim {
            let (xa, xb) = (original[a * dim + j] as f64, original[b * dim + j] as f64);
            ds.x[a * dim + j] = (lambda * xa + (1.0 - lambda) * xb) as f32;
        }
        ds.mixed[a] = true;
        ds.boundary[a] = false;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatasetKind;
    use crate::data::generate;
    use crate::rng::{rng, stream};

    fn all(n: usize) -> Vec<usize> {
        (0..n).collect()
    }

    fn moons() -> Dataset {
        generate(DatasetKind::Moons, 200, 2, 0.1, 1).unwrap()
    }

    #[test]
    fn omega_zero_changes_nothing() {
        let mut ds = moons();
        mix(&mut ds, 0.0, 0.3, 0.7, &all(200), &mut rng(1, stream::MIX)).unwrap();
        assert_eq!(ds, moons());
    }

    #[test]
    fn mixing_flags_round_omega_n_samples_and_keeps_labels() {
        for (omega, expect) in [(0.1, 20), (0.333, 67), (1.0, 200)] {
            let mut ds = moons();
            mix(&mut ds, omega, 0.3, 0.7, &all(200), &mut rng(1, stream::MIX)).unwrap();
            assert_eq!(ds.mixed.iter().filter(|&&m| m).count(), expect);
            assert_eq!(ds.labels, moons().labels);
            assert!((0..ds.len()).all(|i| !ds.mixed[i] || !ds.boundary[i]));
        }
    }

    #[test]
    fn mixed_points_lie_between_two_originals_of_different_classes() {
        let orig = generate(DatasetKind::Blobs, 150, 3, 0.1, 2).unwrap();
        let mut ds = orig.clone();
        mix(&mut ds, 0.4, 0.3, 0.7, &all(150), &mut rng(2, stream::MIX)).unwrap();
        for a in (0..ds.len()).filter(|&i| ds.mixed[i]) {
            let (p, xa) = (ds.sample(a), orig.sample(a));
            // Some original b of another class has p = λ·x_a + (1 − λ)·x_b with λ in [0.3, 0.7].
            let on_segment = (0..orig.len()).filter(|&b| orig.labels[b] != orig.labels[a]).any(|b| {
                let xb = orig.sample(b);
                // Least-squares λ along the segment: ((p − x_b)·(x_a − x_b)) / ‖x_a − x_b‖².
                let (d0, d1) = (xa[0] - xb[0], xa[1] - xb[1]);
                let lambda = ((p[0] - xb[0]) * d0 + (p[1] - xb[1]) * d1) / (d0 * d0 + d1 * d1);
                (0.3 - 1e-4..=0.7 + 1e-4).contains(&lambda)
                    && (0..2).all(|j| (lambda * xa[j] + (1.0 - lambda) * xb[j] - p[j]).abs() < 1e-4)
            });
            assert!(on_segment, "mixed sample {a} lies on no segment to another class");
        }
        for i in (0..ds.len()).filter(|&i| !ds.mixed[i]) {
            assert_eq!(ds.sample(i), orig.sample(i));
        }
    }

    #[test]
    fn mixing_is_fixed_by_the_seed_and_needs_two_classes() {
        let (mut a, mut b) = (moons(), moons());
        mix(&mut a, 0.3, 0.3, 0.7, &all(200), &mut rng(5, stream::MIX)).unwrap();
        mix(&mut b, 0.3, 0.3, 0.7, &all(200), &mut rng(5, stream::MIX)).unwrap();
        assert_eq!(a, b);
        let mut one = crate::data::parse_csv("a,b\n1,2\n2,3\n3,1\n4,4\n", "t").unwrap();
        let e = mix(&mut one, 0.5, 0.3, 0.7, &all(4), &mut rng(5, stream::MIX)).unwrap_err().to_string();
        assert!(e.contains("no labels"), "{e}");
        assert!(mix(&mut moons(), 1.5, 0.3, 0.7, &all(200), &mut rng(5, stream::MIX)).is_err());
        assert!(mix(&mut moons(), 0.5, 0.8, 0.7, &all(200), &mut rng(5, stream::MIX)).is_err());
    }

    /// The protocol of docs/math.md §3: only pool (training) samples are mixed, and every mixed sample lies
    /// on a segment to a pool sample of another class, never to one outside the pool.
    #[test]
    fn only_the_pool_is_mixed_and_partners_come_from_the_pool() {
        let orig = generate(DatasetKind::Blobs, 200, 3, 0.1, 4).unwrap();
        let pool: Vec<usize> = (0..200).filter(|i| i % 4 != 0).collect();
        let mut ds = orig.clone();
        mix(&mut ds, 0.5, 0.3, 0.7, &pool, &mut rng(4, stream::MIX)).unwrap();
        assert_eq!(ds.mixed.iter().filter(|&&m| m).count(), 75, "round(0.5 · 150)");
        for a in (0..ds.len()).filter(|&i| ds.mixed[i]) {
            assert!(a % 4 != 0, "sample {a} outside the pool was mixed");
            let (p, xa) = (ds.sample(a), orig.sample(a));
            let partners: Vec<usize> = (0..200)
                .filter(|&b| orig.labels[b] != orig.labels[a])
                .filter(|&b| {
                    let xb = orig.sample(b);
                    let (d0, d1) = (xa[0] - xb[0], xa[1] - xb[1]);
                    let lambda = ((p[0] - xb[0]) * d0 + (p[1] - xb[1]) * d1) / (d0 * d0 + d1 * d1);
                    (0.3 - 1e-4..=0.7 + 1e-4).contains(&lambda)
                        && (0..2).all(|j| (lambda * xa[j] + (1.0 - lambda) * xb[j] - p[j]).abs() < 1e-4)
                })
                .collect();
            assert!(!partners.is_empty() && partners.iter().any(|b| b % 4 != 0), "sample {a}: partners {partners:?}");
        }
    }
}
