//! Data: seeded 2-D generators, the 8×8 digits, the user's CSV, ω mixing, augmentations, the split.
//!
//! One module per job: `generators` (blobs, moons, rings, spirals, xor, with boundary flags), `digits` (the
//! embedded 8×8 digits), `csv` (the user's file, from text), `mixing` (the difficulty knob ω), `augment` (the
//! two positive views) and `split` (the stratified held-out split). This file holds the shared types and
//! `build`, which puts a config's data set together. Every random draw comes from the run seed's DATA, MIX,
//! SPLIT or AUGMENT stream, so the same seed gives the same data on every platform.

mod augment;
pub mod csv;
mod digits;
mod generators;
mod mixing;
mod split;

pub use augment::{ViewStats, make_views_with};
pub use csv::parse_csv;
pub use digits::digits;
pub use generators::generate;
pub use mixing::mix;

use crate::config::{AugmentConfig, DataConfig, DatasetKind};
use crate::error::{Error, Result};
use crate::rng::{self, Rng, stream};

/// What the input of a sample is, for drawing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A point in the plane (dim = 2).
    Points,
    /// A greyscale image, row-major (dim = width·height).
    Image { width: usize, height: usize },
    /// Any other table of numeric columns.
    Table,
}

/// A labelled data set with its ground-truth difficulty.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub kind: InputKind,
    pub dim: usize,
    /// n × dim, row-major, already scaled for the model.
    pub x: Vec<f32>,
    /// Class id per sample (all 0 when the data has no labels).
    pub labels: Vec<usize>,
    pub classes: usize,
    pub has_labels: bool,
    /// Replaced by an ω mix of two samples of different classes.
    pub mixed: Vec<bool>,
    /// Lies near a class boundary by the generator's own construction.
    pub boundary: Vec<bool>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn sample(&self, i: usize) -> &[f32] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }

    /// Ground-truth difficulty: mixed or boundary.
    pub fn difficult(&self, i: usize) -> bool {
        self.mixed[i] || self.boundary[i]
    }

    /// Number of samples of each class (length `classes`).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &c in &self.labels {
            if c < counts.len() {
                counts[c] += 1;
            }
        }
        counts
    }

    /// Adds one sample (the app's click-to-add-a-point), not mixed, not on a boundary. `x` is in the model's
    /// units, like `self.x`. A label ≥ `classes` adds classes up to it; data without labels takes only label 0.
    pub fn push_point(&mut self, x: &[f32], label: usize) -> Result<()> {
        if x.len() != self.dim {
            return Err(Error::invalid(format!(
                "{}: a new sample needs {} values, got {}",
                self.name,
                self.dim,
                x.len()
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(format!("{}: a new sample's values must be finite numbers", self.name)));
        }
        if !self.has_labels && label != 0 {
            return Err(Error::invalid(format!(
                "{} has no labels: a new sample takes label 0, not {label}",
                self.name
            )));
        }
        self.x.extend_from_slice(x);
        self.labels.push(label);
        self.classes = self.classes.max(label + 1);
        self.mixed.push(false);
        self.boundary.push(false);
        Ok(())
    }

    /// Sample i as a greyscale thumbnail: (width, height, row-major bytes, pixel value 0 → 0 and 1 → 255,
    /// clipped), or None when the data set is not made of images.
    pub fn thumbnail(&self, i: usize) -> Option<(usize, usize, Vec<u8>)> {
        match self.kind {
            InputKind::Image { width, height } if width * height == self.dim => {
                let bytes = self.sample(i).iter().map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8).collect();
                Some((width, height, bytes))
            }
            _ => None,
        }
    }
}

/// Builds the data set a config asks for (generated, digits, or the CSV at `csv_path`), with ω mixing applied
/// to the training split alone (docs/math.md §3): the split is drawn first (it depends on the labels only, so
/// `split` of the result gives it back), then ω of its training samples are mixed with training partners.
/// Generated data sets draw from the DATA stream, the mixing from the MIX stream. A CSV path that cannot be read
/// is an `Error::Io` naming the path (in the browser there is no file system: use `parse_csv` on the bytes).
pub fn build(cfg: &DataConfig, seed: u64) -> Result<Dataset> {
    let mut ds = match cfg.dataset {
        DatasetKind::Digits => digits(),
        DatasetKind::Csv => {
            let path =
                cfg.csv_path.as_deref().ok_or_else(|| Error::invalid("data.dataset = \"csv\" needs data.csv_path"))?;
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_string(), source })?;
            parse_csv(&text, path)?
        }
        kind => generate(kind, cfg.n, cfg.classes, cfg.noise, seed)?,
    };
    let train = split::split(&ds, cfg.test_fraction, seed).train;
    mix(&mut ds, cfg.omega, cfg.mix_lambda_min, cfg.mix_lambda_max, &train, &mut rng::rng(seed, stream::MIX))?;
    Ok(ds)
}

/// Held-out split, fixed by the seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// Stratified by label (see `split::split`): test_fraction of each class is held out, at least one sample of
/// every class with two or more; the SPLIT stream decides which; both index lists are sorted.
pub fn split(ds: &Dataset, test_fraction: f32, seed: u64) -> Split {
    split::split(ds, test_fraction, seed)
}

/// Two augmented views of each sample in `idx`, stacked: rows 0..n are view 1, rows n..2n view 2 (2n × dim).
/// The augmentations are described in `augment`; all strengths 0 give views equal to the inputs. Costs
/// O(idx.len()·dim) plus, for points and tables, O(n·dim) for the data set's centroid and std: call
/// [`make_views_with`] with a [`ViewStats`] computed once to skip the latter.
pub fn make_views(ds: &Dataset, idx: &[usize], aug: &AugmentConfig, rng: &mut Rng) -> Vec<f32> {
    let stats = match ds.kind {
        // Images need no statistics of the data set.
        InputKind::Image { .. } => ViewStats { centroid: vec![0.0; ds.dim], std: 1.0 },
        InputKind::Points | InputKind::Table => ViewStats::of(ds),
    };
    make_views_with(ds, &stats, idx, aug, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;

    #[test]
    fn build_makes_each_kind_of_data_set_and_applies_omega() {
        for kind in DatasetKind::ALL.into_iter().filter(|&k| k != DatasetKind::Csv) {
            let cfg = DataConfig { dataset: kind, n: 200, omega: 0.1, ..DataConfig::default() };
            let ds = build(&cfg, 3).unwrap();
            let s = split(&ds, cfg.test_fraction, 3);
            assert_eq!(ds.mixed.iter().filter(|&&m| m).count(), (0.1 * s.train.len() as f64).round() as usize);
            assert_eq!(ds, build(&cfg, 3).unwrap(), "{}", kind.name());
        }
        assert_eq!(build(&RunConfig::default().data, 0).unwrap().len(), 1024);
    }

    /// docs/math.md §3: the test split is clean, whatever the dataset, ω and seed, and splitting the mixed
    /// data gives the split the mixing was restricted to.
    #[test]
    fn no_test_sample_is_mixed() {
        for kind in [DatasetKind::Blobs, DatasetKind::Moons, DatasetKind::Digits] {
            for (omega, seed) in [(0.3, 1), (1.0, 2)] {
                let cfg = DataConfig { dataset: kind, n: 300, omega, test_fraction: 0.3, ..DataConfig::default() };
                let ds = build(&cfg, seed).unwrap();
                let unmixed = build(&DataConfig { omega: 0.0, ..cfg.clone() }, seed).unwrap();
                let s = split(&ds, cfg.test_fraction, seed);
                assert_eq!(s, split(&unmixed, cfg.test_fraction, seed), "{} ω={omega}", kind.name());
                assert!(s.test.iter().all(|&i| !ds.mixed[i]), "{} ω={omega}: a test sample is mixed", kind.name());
                assert!(
                    s.test.iter().all(|&i| ds.sample(i) == unmixed.sample(i)),
                    "{}: test rows changed",
                    kind.name()
                );
                let mixed = ds.mixed.iter().filter(|&&m| m).count();
                assert_eq!(mixed, (omega as f64 * s.train.len() as f64).round() as usize);
            }
        }
    }

    #[test]
    fn build_reads_a_csv_file_and_names_a_missing_one() {
        let path = std::env::temp_dir().join(format!("spherelab-data-test-{}.csv", std::process::id()));
        std::fs::write(&path, "x,y,label\n0,0,a\n1,1,b\n0,1,a\n1,0,b\n").unwrap();
        let cfg = DataConfig {
            dataset: DatasetKind::Csv,
            csv_path: Some(path.to_string_lossy().into_owned()),
            ..DataConfig::default()
        };
        let ds = build(&cfg, 0).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!((ds.len(), ds.kind, ds.classes), (4, InputKind::Points, 2));
        let cfg = DataConfig { csv_path: Some("/no/such/file.csv".into()), ..cfg };
        let e = build(&cfg, 0).unwrap_err();
        assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("/no/such/file.csv"), "{e}");
    }

    #[test]
    fn push_point_adds_a_sample_and_checks_it() {
        let mut ds = generate(DatasetKind::Moons, 10, 2, 0.1, 0).unwrap();
        ds.push_point(&[0.5, -0.5], 1).unwrap();
        assert_eq!((ds.len(), ds.sample(10), ds.labels[10], ds.difficult(10)), (11, &[0.5, -0.5][..], 1, false));
        ds.push_point(&[0.0, 0.0], 2).unwrap();
        assert_eq!(ds.classes, 3);
        assert!(ds.push_point(&[0.0], 0).is_err());
        assert!(ds.push_point(&[f32::NAN, 0.0], 0).is_err());
        assert_eq!(ds.len(), 12);
    }

    #[test]
    fn thumbnails_exist_only_for_images() {
        let ds = digits();
        let (w, h, bytes) = ds.thumbnail(0).unwrap();
        assert_eq!((w, h, bytes.len(), bytes[2]), (8, 8, 64, 80)); // pixel 5/16 → 79.7
        assert!(generate(DatasetKind::Xor, 10, 2, 0.1, 0).unwrap().thumbnail(0).is_none());
    }
}
