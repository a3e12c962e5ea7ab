//! A pruned run (docs/math.md §3.2): score the training samples, leave out the top fraction of each class,
//! and train from the same seed without them (same split, same initialisation). The margin scores need a
//! trained model's features, so for them a first run of the same config and seed comes before.

use crate::analysis::difficulty::{self, PruneSpec};
use crate::backend::Backend;
use crate::config::RunConfig;
use crate::data;
use crate::error::Result;
use crate::matrix::Matrix;
use crate::trainer::Trainer;

/// What a pruning removed, for summary.json and the study.
#[derive(Clone, Debug, PartialEq)]
pub struct Pruning {
    pub spec: PruneSpec,
    /// Data indices of the training samples left out, ascending.
    pub excluded: Vec<usize>,
    /// The fraction of them that are difficult by the ground truth (mixed or boundary); None when none.
    pub precision: Option<f64>,
    /// Training samples before pruning.
    pub train_before: usize,
}

/// The training samples `spec` leaves out, scored with the final features h of `first`, a margin score's
/// first run of the same config and seed.
pub fn excluded_after_first_run<B: Backend>(first: &Trainer<B>, spec: PruneSpec) -> Vec<usize> {
    let (data, train) = (first.data(), &first.split().train);
    let x: Vec<f32> = train.iter().flat_map(|&i| data.sample(i).iter().copied()).collect();
    let (h, _) = first.forward(&x);
    difficulty::pick_training_samples(spec, data, train, &h, first.config().seed)
}

/// The training samples a score that needs no features (oracle, random) leaves out of `data` under `config`.
pub fn excluded_without_features(spec: PruneSpec, data: &data::Dataset, config: &RunConfig) -> Vec<usize> {
    let split = data::split(data, config.data.test_fraction, config.seed);
    difficulty::pick_training_samples(spec, data, &split.train, &Matrix::zeros(0, 0), config.seed)
}

/// The trainer of `config`'s pruned run, at step 0, and what was pruned. For a margin score, first trains a
/// full run of `config` on `backend` (`on_first_step` sees it after each step, for progress) and scores the
/// training samples with its final features h; the oracle and random scores need no first run.
pub fn pruned_trainer<B: Backend>(
    backend: B,
    config: RunConfig,
    spec: PruneSpec,
    mut on_first_step: impl FnMut(&Trainer<B>),
) -> Result<(Trainer<B>, Pruning)> {
    config.validate()?;
    let data = data::build(&config.data, config.seed)?;
    let split = data::split(&data, config.data.test_fraction, config.seed);
    let (backend, excluded) = if spec.score.needs_features() {
        let mut first = Trainer::with_data(backend, config.clone(), data.clone(), &[])?;
        first.run(config.train.steps, &mut on_first_step)?;
        let excluded = excluded_after_first_run(&first, spec);
        (first.into_backend(), excluded)
    } else {
        (backend, excluded_without_features(spec, &data, &config))
    };
    let pruning = Pruning {
        spec,
        precision: difficulty::pruned_precision(&data, &excluded),
        excluded,
        train_before: split.train.len(),
    };
    let trainer = Trainer::with_data(backend, config, data, &pruning.excluded)?;
    Ok((trainer, pruning))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cpu;
    use crate::config::DatasetKind;
    use crate::difficulty::ScoreKind;

    fn config() -> RunConfig {
        let mut c = RunConfig::default();
        c.data.dataset = DatasetKind::Blobs;
        c.data.n = 240;
        c.data.classes = 3;
        c.data.omega = 0.3;
        c.train.steps = 30;
        c.train.batch_size = 32;
        c.train.eval_every = 15;
        c.model.encoder = vec![16, 8];
        c.model.projector = vec![8, 3];
        c
    }

    /// The pruned retrain is a run given the same exclusion, bit for bit, for every score.
    #[test]
    fn a_pruned_run_equals_a_run_given_the_same_exclusion() {
        for score in ScoreKind::ALL {
            let cfg = config();
            let spec = PruneSpec { score, fraction: 0.1 };
            let mut first_steps = 0;
            let (mut pruned, pruning) =
                pruned_trainer(Cpu::<f32>::new(), cfg.clone(), spec, |_| first_steps += 1).unwrap();
            assert_eq!(first_steps, if score.needs_features() { 30 } else { 0 }, "{score}");
            assert_eq!(pruned.active_train().len(), pruning.train_before - pruning.excluded.len());
            pruned.run(30, |_| {}).unwrap();
            let data = data::build(&cfg.data, cfg.seed).unwrap();
            let mut direct = Trainer::with_data(Cpu::<f32>::new(), cfg, data, &pruning.excluded).unwrap();
            direct.run(30, |_| {}).unwrap();
            assert_eq!(pruned.history(), direct.history(), "{score}");
            assert!(!pruning.excluded.is_empty());
        }
    }
}
