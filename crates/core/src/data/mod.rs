//! Data: seeded 2-D generators, the 8×8 digits, the user's CSV, ω mixing, augmentations, the split.
//! STUB: the types and signatures are fixed; bodies to be written.

use crate::config::{AugmentConfig, DataConfig};
use crate::error::Result;
use crate::rng::Rng;

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
}

/// Builds the data set a config asks for (generated, digits, or the CSV at `csv_path`), with ω mixing applied.
pub fn build(cfg: &DataConfig, seed: u64) -> Result<Dataset> {
    let _ = (cfg, seed);
    todo!()
}

/// Held-out split, fixed by the seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

pub fn split(ds: &Dataset, test_fraction: f32, seed: u64) -> Split {
    let _ = (ds, test_fraction, seed);
    todo!()
}

/// Two augmented views of each sample in `idx`, stacked: rows 0..n are view 1, rows n..2n view 2 (2n × dim).
pub fn make_views(ds: &Dataset, idx: &[usize], aug: &AugmentConfig, rng: &mut Rng) -> Vec<f32> {
    let _ = (ds, idx, aug, rng);
    todo!()
}
