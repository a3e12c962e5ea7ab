//! Sample-level difficulty scores and pruning (docs/math.md §3).
//!
//! A score says how difficult each sample is (higher = more difficult); `prune` picks the top fraction to
//! drop, and the trainer retrains without them from the same seed.
//! - oracle: the ground-truth flag (1 for a mixed or boundary sample, else 0)
//! - supervised margin: 1 − (p_top1 − p_top2) of a linear probe fitted on h with the labels
//! - unsupervised margin: the same gap for soft assignments softmax_c(−‖ĥ − μ_c‖²/T) to C k-means
//!   centroids μ_c of the row-normalised ĥ (k-means++ seeding from stream KMEANS, fixed iterations).
//!   T is the mean squared distance of a point to its own centroid, so a point as far from a second
//!   centroid as a typical point is from its own gets a visibly soft assignment (scale-free in h).
//! - random: uniform in [0, 1) from the seed's PRUNE stream: the control that separates "fewer samples" from
//!   "fewer difficult samples" (docs/math.md §3.2)

use crate::matrix::Matrix;
use crate::metrics::LinearProbe;
use crate::rng::{rng, stream, uniform};
use serde::{Deserialize, Serialize};

/// Lloyd iterations after k-means++ seeding (stops earlier once assignments no longer change).
const KMEANS_ITERATIONS: usize = 50;

/// Which difficulty score to compute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreKind {
    /// The generator's ground-truth flag.
    #[default]
    Oracle,
    /// 1 − top-2 probability gap of a linear probe on h (uses labels).
    SupervisedMargin,
    /// 1 − top-2 gap of soft k-means assignments on ĥ (no labels).
    UnsupervisedMargin,
    /// A uniform random score: the control.
    Random,
}

impl ScoreKind {
    pub const ALL: [ScoreKind; 4] =
        [ScoreKind::Oracle, ScoreKind::SupervisedMargin, ScoreKind::UnsupervisedMargin, ScoreKind::Random];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ScoreKind::Oracle => "oracle",
            ScoreKind::SupervisedMargin => "supervised-margin",
            ScoreKind::UnsupervisedMargin => "unsupervised-margin",
            ScoreKind::Random => "random",
        }
    }

    /// Whether the score needs a trained model's features h (the margins), so a pruned run trains twice.
    pub fn needs_features(self) -> bool {
        matches!(self, ScoreKind::SupervisedMargin | ScoreKind::UnsupervisedMargin)
    }
}

impl std::fmt::Display for ScoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ScoreKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        ScoreKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            crate::Error::invalid(format!(
                "unknown difficulty score {s:?}: use {}",
                ScoreKind::ALL.map(ScoreKind::name).join(", ")
            ))
        })
    }
}

/// Difficulty of every sample (length labels.len(); higher = more difficult), from the rows of `h` for the
/// margins (h.rows = labels.len() then; the oracle and random scores do not read h).
/// `labels` are used by the supervised margin, `ground_truth_difficult` by the oracle (a missing flag counts
/// as not difficult), `classes` is the probe's class count and the number of k-means clusters.
pub fn scores(
    kind: ScoreKind,
    h: &Matrix<f32>,
    labels: &[usize],
    classes: usize,
    ground_truth_difficult: &[bool],
    seed: u64,
) -> Vec<f64> {
    let n = labels.len();
    match kind {
        ScoreKind::Oracle => {
            (0..n).map(|i| if ground_truth_difficult.get(i).copied().unwrap_or(false) { 1.0 } else { 0.0 }).collect()
        }
        ScoreKind::SupervisedMargin => {
            let p = LinearProbe::fit(h, labels, classes, seed).predict_proba(h);
            (0..p.rows).map(|r| 1.0 - top2_gap(p.row(r).iter().map(|&v| v as f64))).collect()
        }
        ScoreKind::UnsupervisedMargin => unsupervised_margin(h, classes, seed),
        ScoreKind::Random => {
            let mut g = rng(seed, stream::PRUNE);
            (0..n).map(|_| uniform(&mut g, 0.0, 1.0)).collect()
        }
    }
}

/// A pruning request, written `SCORE:FRACTION` (e.g. `oracle:0.1`, `supervised-margin:0.08`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PruneSpec {
    pub score: ScoreKind,
    /// Fraction of each class's training samples to remove, in [0, 1).
    pub fraction: f64,
}

impl std::fmt::Display for PruneSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.score, self.fraction)
    }
}

impl std::str::FromStr for PruneSpec {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        let bad = |why: String| {
            crate::Error::invalid(format!(
                "prune {s:?}: {why}; write SCORE:FRACTION with SCORE one of {} and FRACTION in [0, 1), \
                 e.g. oracle:0.1",
                ScoreKind::ALL.map(ScoreKind::name).join(", ")
            ))
        };
        let (score, fraction) = s.split_once(':').ok_or_else(|| bad("no ':' between score and fraction".into()))?;
        let score: ScoreKind = score.trim().parse().map_err(|_| bad(format!("unknown score {:?}", score.trim())))?;
        let fraction: f64 =
            fraction.trim().parse().map_err(|_| bad(format!("'{}' is not a number", fraction.trim())))?;
        if !(0.0..1.0).contains(&fraction) {
            return Err(bad(format!("the fraction {fraction} is not in [0, 1)")));
        }
        Ok(PruneSpec { score, fraction })
    }
}

/// The training samples `spec` removes: each of `train`'s samples is scored (the margins on `h_train`, the
/// features of those samples in that order, from a first run), and the top fraction of each class goes (of
/// all samples when the data has no labels). Returns data indices, ascending.
pub fn pick_training_samples(
    spec: PruneSpec,
    data: &crate::data::Dataset,
    train: &[usize],
    h_train: &Matrix<f32>,
    seed: u64,
) -> Vec<usize> {
    let labels: Vec<usize> = train.iter().map(|&i| data.labels[i]).collect();
    let difficult: Vec<bool> = train.iter().map(|&i| data.difficult(i)).collect();
    let scores = scores(spec.score, h_train, &labels, data.classes.max(1), &difficult, seed);
    let rows = prune(&scores, spec.fraction, data.has_labels.then_some(labels.as_slice()), true);
    rows.into_iter().map(|r| train[r]).collect()
}

/// The fraction of `pruned` samples that are difficult by the ground truth (mixed or boundary): how precise a
/// score's pruning is. None when nothing was pruned.
pub fn pruned_precision(data: &crate::data::Dataset, pruned: &[usize]) -> Option<f64> {
    (!pruned.is_empty()).then(|| pruned.iter().filter(|&&i| data.difficult(i)).count() as f64 / pruned.len() as f64)
}

/// p_top1 − p_top2 of one probability row (p_top1 when there is one class).
fn top2_gap(row: impl Iterator<Item = f64>) -> f64 {
    let (mut first, mut second) = (f64::NEG_INFINITY, 0.0f64);
    for p in row {
        if p > first {
            second = first.max(0.0);
            first = p;
        } else if p > second {
            second = p;
        }
    }
    if first.is_finite() { first - second } else { 0.0 }
}

/// Squared Euclidean distance.
fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// k-means on the rows of `x` (n × d, n ≥ 1): k-means++ seeding from `seed`'s KMEANS stream, then Lloyd
/// iterations. Returns the k × d centroids (k clamped to 1..=n). An emptied cluster keeps its centroid.
pub fn kmeans(x: &Matrix<f64>, k: usize, seed: u64) -> Matrix<f64> {
    let (n, d) = (x.rows, x.cols);
    let k = k.clamp(1, n.max(1));
    let mut centroids = Matrix::zeros(k, d);
    if n == 0 {
        return centroids;
    }
    let mut g = rng(seed, stream::KMEANS);
    // k-means++: the first centre uniformly, each next one with probability ∝ D(x)², the squared distance
    // to the nearest centre chosen so far.
    let first = crate::rng::index(&mut g, n);
    centroids.row_mut(0).copy_from_slice(x.row(first));
    let mut nearest: Vec<f64> = (0..n).map(|i| dist2(x.row(i), centroids.row(0))).collect();
    for c in 1..k {
        let total: f64 = nearest.iter().sum();
        let pick = if total > 0.0 {
            let target = uniform(&mut g, 0.0, total);
            let mut acc = 0.0;
            nearest
                .iter()
                .position(|&w| {
                    acc += w;
                    acc > target
                })
                .unwrap_or(n - 1)
        } else {
            crate::rng::index(&mut g, n)
        };
        centroids.row_mut(c).copy_from_slice(x.row(pick));
        for (i, d2) in nearest.iter_mut().enumerate() {
            *d2 = d2.min(dist2(x.row(i), centroids.row(c)));
        }
    }
    let mut assignment = vec![usize::MAX; n];
    for _ in 0..KMEANS_ITERATIONS {
        let mut changed = false;
        for (i, slot) in assignment.iter_mut().enumerate() {
            let best = (0..k)
                .map(|c| (dist2(x.row(i), centroids.row(c)), c))
                .fold((f64::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a })
                .1;
            changed |= *slot != best;
            *slot = best;
        }
        if !changed {
            break;
        }
        let mut sums = Matrix::<f64>::zeros(k, d);
        let mut counts = vec![0usize; k];
        for (i, &c) in assignment.iter().enumerate() {
            sums.row_mut(c).iter_mut().zip(x.row(i)).for_each(|(s, v)| *s += v);
            counts[c] += 1;
        }
        for (c, &count) in counts.iter().enumerate() {
            if count > 0 {
                let row = centroids.row_mut(c);
                row.iter_mut().zip(sums.row(c)).for_each(|(m, s)| *m = s / count as f64);
            }
        }
    }
    centroids
}

/// 1 − top-2 gap of softmax_c(−‖ĥ_i − μ_c‖²/T) over `clusters` k-means centroids of the unit rows ĥ.
pub fn unsupervised_margin(h: &Matrix<f32>, clusters: usize, seed: u64) -> Vec<f64> {
    let n = h.rows;
    if n == 0 {
        return Vec::new();
    }
    let x = crate::metrics::unit_rows_f64(h);
    let centroids = kmeans(&x, clusters, seed);
    let k = centroids.rows;
    let d2: Vec<Vec<f64>> = (0..n).map(|i| (0..k).map(|c| dist2(x.row(i), centroids.row(c))).collect()).collect();
    // T = mean squared distance to the nearest centroid (floored: identical points give 0).
    let t = (d2.iter().map(|row| row.iter().copied().fold(f64::INFINITY, f64::min)).sum::<f64>() / n as f64).max(1e-12);
    d2.iter()
        .map(|row| {
            let min = row.iter().copied().fold(f64::INFINITY, f64::min);
            let e: Vec<f64> = row.iter().map(|&v| (-(v - min) / t).exp()).collect();
            let sum: f64 = e.iter().sum();
            1.0 - top2_gap(e.iter().map(|v| v / sum))
        })
        .collect()
}

/// Indices to drop: the top `fraction` of samples by score (highest first, lower index first on equal
/// scores; NaN counts as least difficult), returned in ascending order. With `per_class` and labels the
/// fraction is taken within each class (round(f·n_c) per class: the paper's Table 10 recipe); otherwise
/// round(f·n) overall. `fraction` is clamped to [0, 1] (NaN means 0).
pub fn prune(scores: &[f64], fraction: f64, labels: Option<&[usize]>, per_class: bool) -> Vec<usize> {
    let f = if fraction.is_nan() { 0.0 } else { fraction.clamp(0.0, 1.0) };
    let key = |i: usize| if scores[i].is_nan() { f64::NEG_INFINITY } else { scores[i] };
    let top = |mut group: Vec<usize>| -> Vec<usize> {
        let count = (f * group.len() as f64).round() as usize;
        group.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
        group.truncate(count);
        group
    };
    let mut drop = match labels {
        Some(labels) if per_class => {
            // A sample without a label forms its own group "unlabelled".
            let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
            for i in 0..scores.len() {
                groups.entry(labels.get(i).copied().unwrap_or(usize::MAX)).or_default().push(i);
            }
            groups.into_values().flat_map(top).collect()
        }
        _ => top((0..scores.len()).collect()),
    };
    drop.sort_unstable();
    drop
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::normal;

    /// Two Gaussian blobs at x = ±2 in 2-D (std 1): points near x = 0 sit on the decision boundary.
    fn two_blobs(per_class: usize, seed: u64) -> (Matrix<f32>, Vec<usize>) {
        let mut g = rng(seed, stream::TEST);
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for c in 0..2 {
            for _ in 0..per_class {
                let centre = if c == 0 { -2.0 } else { 2.0 };
                data.push((centre + normal(&mut g)) as f32);
                data.push(normal(&mut g) as f32);
                labels.push(c);
            }
        }
        (Matrix::from_vec(2 * per_class, 2, data), labels)
    }

    #[test]
    fn score_kind_names_round_trip_through_serde_and_from_str() {
        for kind in ScoreKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<ScoreKind>(&json).unwrap(), kind);
            assert_eq!(kind.name().parse::<ScoreKind>().unwrap(), kind);
        }
        assert!("margin".parse::<ScoreKind>().unwrap_err().to_string().contains("supervised-margin"));
    }

    #[test]
    fn oracle_scores_are_the_ground_truth_flags() {
        let h = Matrix::zeros(4, 2);
        let s = scores(ScoreKind::Oracle, &h, &[0, 1, 0, 1], 2, &[true, false, true], 0);
        assert_eq!(s, vec![1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn prune_drops_exactly_the_rounded_fraction_overall_and_per_class() {
        let scores: Vec<f64> = (0..50).map(|i| ((i * 37) % 50) as f64).collect();
        let drop = prune(&scores, 0.08, None, false);
        assert_eq!(drop.len(), 4);
        assert!(drop.iter().all(|&i| scores[i] >= 46.0));
        let labels: Vec<usize> = (0..50).map(|i| if i < 25 { 0 } else { 1 }).collect();
        let drop = prune(&scores, 0.1, Some(&labels), true);
        assert_eq!(drop.iter().filter(|&&i| labels[i] == 0).count(), 3);
        assert_eq!(drop.iter().filter(|&&i| labels[i] == 1).count(), 3);
        assert_eq!(prune(&scores, 0.0, None, false), Vec::<usize>::new());
        assert_eq!(prune(&scores, 2.0, None, false).len(), 50);
    }

    #[test]
    fn prune_breaks_ties_by_index() {
        assert_eq!(prune(&[1.0, 5.0, 1.0, 1.0, f64::NAN], 0.6, None, false), vec![0, 1, 2]);
    }

    #[test]
    fn supervised_margin_is_higher_near_the_decision_boundary() {
        let (h, labels) = two_blobs(200, 1);
        let s = scores(ScoreKind::SupervisedMargin, &h, &labels, 2, &[], 0);
        let (mut near, mut far) = (Vec::new(), Vec::new());
        for (i, &score) in s.iter().enumerate() {
            let x = h.at(i, 0).abs();
            if x < 0.5 {
                near.push(score);
            } else if x > 3.0 {
                far.push(score);
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(!near.is_empty() && !far.is_empty());
        assert!(mean(&near) > 0.5 && mean(&far) < 0.1, "near {} far {}", mean(&near), mean(&far));
        assert!(near.iter().copied().fold(f64::INFINITY, f64::min) > far.iter().copied().fold(0.0, f64::max));
    }

    #[test]
    fn unsupervised_margin_is_higher_between_clusters_and_is_deterministic() {
        // Directions on the circle: two clusters at angles ±60°, and points near 0° between them.
        let mut g = rng(2, stream::TEST);
        let mut data = Vec::new();
        let mut between = Vec::new();
        for i in 0..120 {
            let angle: f64 = match i % 3 {
                0 => 1.05 + 0.1 * normal(&mut g),
                1 => -1.05 + 0.1 * normal(&mut g),
                _ => 0.05 * normal(&mut g),
            };
            if i % 3 == 2 {
                between.push(i);
            }
            data.extend([angle.cos() as f32, angle.sin() as f32]);
        }
        // Only a few between-points so that k-means with k = 2 keeps the two big clusters.
        let keep: Vec<usize> = (0..120).filter(|i| i % 3 != 2 || i % 30 == 2).collect();
        let h = Matrix::from_vec(keep.len(), 2, keep.iter().flat_map(|&i| [data[2 * i], data[2 * i + 1]]).collect());
        let s = scores(ScoreKind::UnsupervisedMargin, &h, &[], 2, &[], 5);
        assert_eq!(s, scores(ScoreKind::UnsupervisedMargin, &h, &[], 2, &[], 5));
        let is_between: Vec<bool> = keep.iter().map(|i| between.contains(i)).collect();
        let min_between = (0..s.len()).filter(|&r| is_between[r]).map(|r| s[r]).fold(f64::INFINITY, f64::min);
        let max_cluster = (0..s.len()).filter(|&r| !is_between[r]).map(|r| s[r]).fold(0.0, f64::max);
        assert!(min_between > max_cluster, "between {min_between} vs cluster {max_cluster}");
    }

    #[test]
    fn scores_are_safe_on_empty_and_degenerate_input() {
        let empty = Matrix::<f32>::zeros(0, 3);
        for kind in ScoreKind::ALL {
            assert!(scores(kind, &empty, &[], 3, &[], 0).is_empty());
        }
        let same = Matrix::from_vec(3, 2, vec![1.0; 6]);
        let s = scores(ScoreKind::UnsupervisedMargin, &same, &[], 5, &[], 0);
        assert!(s.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn random_scores_are_uniform_fixed_by_the_seed_and_ignore_the_truth() {
        let h = Matrix::zeros(0, 0);
        let labels = vec![0; 2000];
        let s = scores(ScoreKind::Random, &h, &labels, 1, &[true; 2000], 3);
        assert_eq!(s, scores(ScoreKind::Random, &h, &labels, 1, &[], 3));
        assert_ne!(s, scores(ScoreKind::Random, &h, &labels, 1, &[], 4));
        assert!(s.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = s.iter().sum::<f64>() / 2000.0;
        assert!((mean - 0.5).abs() < 0.03, "{mean}");
    }

    #[test]
    fn prune_specs_parse_print_and_name_what_is_wrong() {
        let p: PruneSpec = "supervised-margin:0.08".parse().unwrap();
        assert_eq!(p, PruneSpec { score: ScoreKind::SupervisedMargin, fraction: 0.08 });
        assert_eq!(p.to_string().parse::<PruneSpec>().unwrap(), p);
        for (bad, says) in [
            ("oracle", "no ':'"),
            ("margin:0.1", "unknown score"),
            ("random:x", "'x' is not a number"),
            ("random:1", "not in [0, 1)"),
            ("random:-0.1", "not in [0, 1)"),
            ("random:NaN", "not in [0, 1)"),
        ] {
            let e = bad.parse::<PruneSpec>().unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("SCORE:FRACTION"), "{bad}: {e}");
        }
    }

    #[test]
    fn picking_removes_the_fraction_of_each_class_among_training_samples() {
        let cfg = crate::config::DataConfig {
            dataset: crate::config::DatasetKind::Blobs,
            n: 400,
            classes: 4,
            omega: 0.2,
            ..Default::default()
        };
        let data = crate::data::build(&cfg, 2).unwrap();
        let split = crate::data::split(&data, cfg.test_fraction, 2);
        let none = Matrix::zeros(0, 0);
        for score in [ScoreKind::Oracle, ScoreKind::Random] {
            let picked = pick_training_samples(PruneSpec { score, fraction: 0.1 }, &data, &split.train, &none, 2);
            assert!(picked.iter().all(|i| split.train.binary_search(i).is_ok()), "{score}: a test sample pruned");
            for c in 0..4 {
                let in_class = split.train.iter().filter(|&&i| data.labels[i] == c).count();
                let gone = picked.iter().filter(|&&i| data.labels[i] == c).count();
                assert_eq!(gone, (0.1 * in_class as f64).round() as usize, "{score} class {c}");
            }
            let precision = pruned_precision(&data, &picked).unwrap();
            if score == ScoreKind::Oracle {
                assert_eq!(precision, 1.0, "ω = 0.2 leaves more difficult samples than 10 % of each class");
            }
        }
        assert_eq!(pruned_precision(&data, &[]), None);
    }
}
