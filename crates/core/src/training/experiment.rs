//! A small experiment the app runs in the background (the Pruning tab): k seeds of `baseline` against one
//! remedy or pruning, each run trained a step at a time so a front end can spread the work over frames, and
//! scored like the study (probe accuracy on h on the clean test split, docs/math.md §3.1), with the paired
//! difference and its interval (§3.3).

use crate::analysis::stats::{self, Describe, Paired};
use crate::config::RunConfig;
use crate::cpu::Cpu;
use crate::data;
use crate::error::{Error, Result};
use crate::metrics::test_split_scores;
use crate::study::Method;
use crate::trainer::Trainer;

/// One seed's finished pair of runs: probe accuracy on h, clean test split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeedResult {
    pub seed: u64,
    pub baseline: f64,
    pub remedy: f64,
}

enum Phase {
    /// A margin score's first run, whose final features score the training samples.
    FirstRun(Box<Trainer<Cpu<f32>>>),
    /// The run whose final model is scored.
    Scored(Box<Trainer<Cpu<f32>>>),
}

/// k seeds of baseline against `remedy`, run one after the other, a step at a time.
pub struct Experiment {
    pub base: RunConfig,
    pub remedy: Method,
    pub seeds: Vec<u64>,
    results: Vec<SeedResult>,
    /// The job under way: (seed index, whether it is the remedy's run), and its phase.
    job: usize,
    phase: Option<Phase>,
    baseline_of_seed: Option<f64>,
    /// Why the experiment stopped, if it failed (a diverged run, say).
    pub error: Option<String>,
}

impl Experiment {
    /// Baseline (no selection, ω as in `base`) against `remedy` over `seeds`; the base's own selection mode
    /// is replaced by each method's.
    pub fn new(base: RunConfig, remedy: Method, seeds: Vec<u64>) -> Result<Self> {
        base.validate()?;
        if seeds.is_empty() {
            return Err(Error::invalid("an experiment needs at least one seed"));
        }
        if remedy == Method::Baseline {
            return Err(Error::invalid("compare the baseline with a remedy, a pruning or clean, not with itself"));
        }
        Ok(Experiment {
            base,
            remedy,
            seeds,
            results: Vec::new(),
            job: 0,
            phase: None,
            baseline_of_seed: None,
            error: None,
        })
    }

    fn jobs(&self) -> usize {
        2 * self.seeds.len()
    }

    pub fn is_done(&self) -> bool {
        self.error.is_some() || self.job >= self.jobs()
    }

    pub fn results(&self) -> &[SeedResult] {
        &self.results
    }

    /// Finished runs out of all, and the steps of the run under way (for a progress bar).
    pub fn progress(&self) -> (usize, usize, f64) {
        let within = match &self.phase {
            Some(Phase::FirstRun(t)) => 0.5 * t.step_count() as f64 / self.base.train.steps.max(1) as f64,
            Some(Phase::Scored(t)) => {
                let half = if self.current().1.prune().is_some_and(|p| p.score.needs_features()) { 0.5 } else { 0.0 };
                half + (1.0 - half) * t.step_count() as f64 / self.base.train.steps.max(1) as f64
            }
            None => 0.0,
        };
        (self.job.min(self.jobs()), self.jobs(), within)
    }

    /// (seed, method) of the job under way.
    fn current(&self) -> (u64, Method) {
        let seed = self.seeds[(self.job / 2).min(self.seeds.len() - 1)];
        (seed, if self.job.is_multiple_of(2) { Method::Baseline } else { self.remedy })
    }

    fn config_of(&self, seed: u64, method: Method) -> RunConfig {
        let mut c = self.base.clone();
        c.seed = seed;
        // One evaluation, at the end: the experiment scores the final model itself.
        c.train.eval_every = c.train.steps.max(1);
        method.apply(&mut c);
        c
    }

    fn start_job(&mut self) -> Result<()> {
        let (seed, method) = self.current();
        let cfg = self.config_of(seed, method);
        let data = data::build(&cfg.data, cfg.seed)?;
        self.phase = Some(match method.prune() {
            Some(spec) if spec.score.needs_features() => {
                Phase::FirstRun(Box::new(Trainer::with_data(Cpu::new(), cfg, data, &[])?))
            }
            Some(spec) => {
                let excluded = crate::pruning::excluded_without_features(spec, &data, &cfg);
                Phase::Scored(Box::new(Trainer::with_data(Cpu::new(), cfg, data, &excluded)?))
            }
            None => Phase::Scored(Box::new(Trainer::with_data(Cpu::new(), cfg, data, &[])?)),
        });
        Ok(())
    }

    fn score(t: &Trainer<Cpu<f32>>) -> f64 {
        let e = t.embeddings();
        test_split_scores(t.data(), t.split(), &e.h, &e.z, t.config().seed).probe_accuracy
    }

    /// Does one piece of work: starts a run, takes a training step, or scores a finished run. Returns
    /// whether work remains. A failing run stops the experiment with `error` set.
    pub fn advance(&mut self) -> bool {
        if self.is_done() {
            return false;
        }
        if let Err(e) = self.try_advance() {
            self.error = Some(format!("{} (seed {}, {})", e, self.current().0, self.current().1.name()));
            self.phase = None;
        }
        !self.is_done()
    }

    fn try_advance(&mut self) -> Result<()> {
        let steps = self.base.train.steps;
        match self.phase.take() {
            None => self.start_job(),
            Some(Phase::FirstRun(mut t)) if t.step_count() < steps => {
                t.step()?;
                self.phase = Some(Phase::FirstRun(t));
                Ok(())
            }
            Some(Phase::FirstRun(t)) => {
                let spec = self.current().1.prune().expect("a first run belongs to a pruning");
                let excluded = crate::pruning::excluded_after_first_run(&t, spec);
                let (data, cfg) = (t.data().clone(), t.config().clone());
                self.phase = Some(Phase::Scored(Box::new(Trainer::with_data(t.into_backend(), cfg, data, &excluded)?)));
                Ok(())
            }
            Some(Phase::Scored(mut t)) if t.step_count() < steps => {
                t.step()?;
                self.phase = Some(Phase::Scored(t));
                Ok(())
            }
            Some(Phase::Scored(mut t)) => {
                t.collect_losses(true)?;
                let acc = Self::score(&t);
                let (seed, method) = self.current();
                if method == Method::Baseline {
                    self.baseline_of_seed = Some(acc);
                } else if let Some(baseline) = self.baseline_of_seed.take() {
                    self.results.push(SeedResult { seed, baseline, remedy: acc });
                }
                self.job += 1;
                Ok(())
            }
        }
    }

    /// Baseline and remedy over the finished seeds, and their paired difference (None before a seed finished).
    pub fn summary(&self) -> Option<(Describe, Describe, Paired)> {
        let (b, r): (Vec<f64>, Vec<f64>) = self.results.iter().map(|s| (s.baseline, s.remedy)).unzip();
        Some((stats::describe(&b)?, stats::describe(&r)?, stats::paired(&r, &b)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatasetKind;
    use crate::difficulty::{PruneSpec, ScoreKind};

    fn base() -> RunConfig {
        let mut c = RunConfig::default();
        c.data.dataset = DatasetKind::Blobs;
        c.data.n = 160;
        c.data.classes = 3;
        c.data.omega = 0.3;
        c.train.steps = 12;
        c.train.batch_size = 32;
        c.model.encoder = vec![16, 8];
        c.model.projector = vec![8, 2];
        c
    }

    /// Piece by piece, the experiment gives each seed exactly what a whole run of the same config gives.
    #[test]
    fn an_experiment_equals_its_runs_done_whole() {
        let spec = PruneSpec { score: ScoreKind::SupervisedMargin, fraction: 0.1 };
        let mut e = Experiment::new(base(), Method::Prune(spec), vec![4, 9]).unwrap();
        let mut pieces = 0;
        while e.advance() {
            pieces += 1;
            assert!(pieces < 1000);
        }
        assert_eq!(e.error, None);
        assert_eq!(e.results().len(), 2);
        for r in e.results() {
            let mut cfg = e.config_of(r.seed, Method::Baseline);
            cfg.train.eval_every = cfg.train.steps;
            let mut t = Trainer::new(Cpu::<f32>::new(), cfg.clone()).unwrap();
            t.run(12, |_| {}).unwrap();
            assert_eq!(Experiment::score(&t), r.baseline, "seed {}", r.seed);
            let mut pcfg = cfg.clone();
            Method::Prune(spec).apply(&mut pcfg);
            let (mut p, _) = crate::pruning::pruned_trainer(Cpu::<f32>::new(), pcfg, spec, |_| {}).unwrap();
            p.run(12, |_| {}).unwrap();
            assert_eq!(Experiment::score(&p), r.remedy, "seed {}", r.seed);
        }
        let (b, r, d) = e.summary().unwrap();
        assert_eq!((b.n, r.n, d.n), (2, 2, 2));
        assert_eq!(e.progress().0, 4);
    }

    #[test]
    fn bad_experiments_are_refused() {
        assert!(Experiment::new(base(), Method::Baseline, vec![1]).is_err());
        assert!(Experiment::new(base(), Method::Clean, vec![]).is_err());
    }
}
