//! The held-out split the metrics are computed on, stratified so every class is seen in both parts.

use super::{Dataset, Split};
use crate::rng::{self, shuffle, stream};

/// Splits the samples into train and test, class by class: round(test_fraction·m) of a class's m samples go
/// to test, but at least 1 and at most m − 1 when m ≥ 2 (a class of one sample stays in train). Unlabelled
/// data (all labels 0) is one class, so this is then a plain random split. The SPLIT stream shuffles each
/// class; the test part is the first samples of that order that are not ω-mixed (docs/math.md §3: the test
/// split is clean). Mixing touches training samples only (`build`), so splitting the same labels before or
/// after mixing gives the same split. Both lists are sorted.
pub fn split(ds: &Dataset, test_fraction: f32, seed: u64) -> Split {
    let fraction = if test_fraction.is_finite() { test_fraction.clamp(0.0, 1.0) as f64 } else { 0.0 };
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); ds.labels.iter().max().map_or(0, |&m| m + 1)];
    for (i, &c) in ds.labels.iter().enumerate() {
        members[c].push(i);
    }
    let mut r = rng::rng(seed, stream::SPLIT);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut class in members.into_iter().filter(|m| !m.is_empty()) {
        shuffle(&mut r, &mut class);
        let m = class.len();
        let k = if m >= 2 { ((fraction * m as f64).round() as usize).clamp(1, m - 1) } else { 0 };
        let mut taken = 0;
        for i in class {
            if taken < k && !ds.mixed[i] {
                test.push(i);
                taken += 1;
            } else {
                train.push(i);
            }
        }
    }
    train.sort_unstable();
    test.sort_unstable();
    Split { train, test }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatasetKind;
    use crate::data::{digits, generate, parse_csv};

    fn check_partition(ds: &Dataset, s: &Split) {
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..ds.len()).collect::<Vec<_>>(), "train and test are disjoint and cover everything");
        assert!(s.train.windows(2).all(|w| w[0] < w[1]) && s.test.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn split_is_stratified_disjoint_and_covers_everything() {
        let ds = digits();
        let s = split(&ds, 0.25, 3);
        check_partition(&ds, &s);
        for (c, &count) in ds.class_counts().iter().enumerate() {
            let in_test = s.test.iter().filter(|&&i| ds.labels[i] == c).count();
            assert_eq!(in_test, (0.25 * count as f64).round() as usize, "class {c}");
        }
    }

    #[test]
    fn split_is_fixed_by_the_seed() {
        let ds = generate(DatasetKind::Rings, 300, 3, 0.1, 1).unwrap();
        assert_eq!(split(&ds, 0.3, 4), split(&ds, 0.3, 4));
        assert_ne!(split(&ds, 0.3, 4), split(&ds, 0.3, 5));
    }

    #[test]
    fn every_class_of_two_or_more_has_a_test_and_a_train_sample() {
        let ds = parse_csv("v,label\n1,a\n2,a\n3,b\n4,b\n5,b\n6,c\n", "t").unwrap();
        for fraction in [0.01, 0.5, 0.99] {
            let s = split(&ds, fraction, 1);
            check_partition(&ds, &s);
            for c in 0..2 {
                assert!(s.test.iter().any(|&i| ds.labels[i] == c), "class {c} missing in test at {fraction}");
                assert!(s.train.iter().any(|&i| ds.labels[i] == c), "class {c} missing in train at {fraction}");
            }
            assert!(s.train.contains(&5), "the single sample of class c stays in train");
        }
    }

    #[test]
    fn unlabelled_data_gets_a_plain_random_split() {
        let ds = parse_csv("1,2\n2,3\n3,1\n4,4\n5,5\n6,1\n7,0\n8,2\n", "t").unwrap();
        let s = split(&ds, 0.25, 2);
        check_partition(&ds, &s);
        assert_eq!(s.test.len(), 2);
    }

    #[test]
    fn mixed_samples_never_enter_the_test_split() {
        let mut ds = generate(DatasetKind::Blobs, 120, 3, 0.1, 2).unwrap();
        for i in (0..120).step_by(5) {
            ds.mixed[i] = true;
        }
        let s = split(&ds, 0.3, 2);
        check_partition(&ds, &s);
        assert!(s.test.iter().all(|&i| !ds.mixed[i]));
        let per_class = ds.class_counts().iter().map(|&m| (0.3 * m as f64).round() as usize).sum::<usize>();
        assert_eq!(s.test.len(), per_class, "round(0.3 · m) per class, all unmixed");
    }
}
