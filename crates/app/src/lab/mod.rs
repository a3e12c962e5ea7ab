//! The shared state every panel reads, split by job:
//! - the run and its lifecycle (`Lab`'s own fields; run.rs): the session on whichever backend was usable, the
//!   applied config and an edit pending mid-drag, restarts, custom data, the pruning comparison, lessons;
//! - the frame scheduler (`Lab::schedule`; schedule.rs): the one place background work is spread over frames
//!   within the budget — metric pieces, training steps, the snapshot refresh, the experiment, probe regions;
//! - the view snapshots (`Lab::views`; views.rs): what the views draw and what is computed from it
//!   (projections, the angular density, the heat grid, the hovered sample's views, the theory tab's numbers).
//!
//! The command vocabulary and the notices are in command.rs.
//!
//! Panels never change the lab while drawing. They return `Command`s, which the app applies after the
//! frame is drawn (`Lab::apply`), so no panel reaches into another and every change has one code path.
//! Training happens in `Lab::tick`, called once per frame: as many steps as fit in the frame budget.

mod command;
mod run;
mod schedule;
mod views;

pub use command::{Command, Level, Notice};
pub use run::{Comparison, EditOutcome, edit_outcome};
pub use schedule::Schedule;
pub use views::{BatchSimilarity, HeatGrid, HeatValues, HoverViews, SIMILARITY_SAMPLES, Views, selection_marks};

use spherelab_core::config::DatasetKind;
use spherelab_core::data::{Dataset, InputKind};
use spherelab_core::experiment::Experiment;
use spherelab_core::{RunConfig, Session};

use crate::backend_choice::BackendPreference;
use crate::guide::Guide;
use crate::regions::ProbeRegions;
use crate::theory_view::TheoryView;

/// The whole lab: the run and its lifecycle (these fields, lab/run.rs), the frame scheduler's state
/// (`schedule`, lab/schedule.rs) and the snapshots the views draw (`views`, lab/views.rs).
pub struct Lab {
    /// The run. `None` only when it could not be opened (the notice says why).
    pub session: Option<Box<dyn Session>>,
    pub backend_pref: BackendPreference,
    /// "cpu-f32 · CPU, 2 threads" and why this backend.
    pub backend_line: String,
    /// The applied config: the run's, and what the controls start from. Changed only through `set_config`.
    pub draft: RunConfig,
    /// An edit held back while the pointer is down (a slider being dragged) because it would rebuild the data
    /// or the model; the controls show it, and it applies on release (`edit_outcome`). None: nothing pending.
    pub pending: Option<RunConfig>,
    /// Training samples a pruning run leaves out (preview, or those of the running comparison).
    pub pruned: Vec<usize>,
    pub comparison: Option<Comparison>,
    /// The Pruning tab's k-seed experiment (its own runs on the CPU engine, in the background).
    pub experiment: Option<Experiment>,
    /// Data that is not what the config generates (a CSV, or points the user added).
    pub custom_data: Option<Dataset>,
    pub notices: Vec<Notice>,
    /// Why training stopped, when it diverged. Shown prominently; nothing new is drawn from the run.
    pub diverged: Option<String>,
    /// A screenshot was requested and not yet received.
    pub screenshot_pending: bool,
    /// The class of the points a click on the input plane adds.
    pub add_class: usize,
    /// Why the last CSV could not be loaded (shown under the CSV box until the next attempt).
    pub csv_error: Option<String>,
    /// The open lesson and the step shown, the panels shown, the presenter and embed modes.
    pub guide: Guide,
    /// Play/pause, speed, the frame budget and what the scheduler measured.
    pub schedule: Schedule,
    /// What the views draw, refreshed from the run within the frame budget.
    pub views: Views,
}

impl Lab {
    /// The default run of the app: two moons, an embedding on the circle, InfoNCE.
    pub fn default_config() -> RunConfig {
        let mut cfg = RunConfig::default();
        cfg.data.dataset = DatasetKind::Moons;
        cfg.data.n = 512;
        cfg.data.noise = 0.08;
        cfg.train.batch_size = 128;
        cfg.train.steps = 5000;
        cfg.train.eval_every = 25;
        cfg.train.eval_max_points = 512;
        cfg.optimizer.lr = 3e-3;
        cfg.loss.tau = 0.2;
        cfg.model.encoder = vec![32, 32, 16];
        cfg.model.projector = vec![16, 2];
        cfg
    }

    /// Opens the lab on a config. Never fails: a run that cannot be opened leaves an error notice.
    pub fn new(config: RunConfig, backend_pref: BackendPreference) -> Self {
        let mut lab = Self {
            session: None,
            backend_pref,
            backend_line: String::new(),
            draft: config.clone(),
            pending: None,
            pruned: Vec::new(),
            comparison: None,
            experiment: None,
            custom_data: None,
            notices: Vec::new(),
            diverged: None,
            screenshot_pending: false,
            csv_error: None,
            add_class: 0,
            guide: Guide::new(&Self::default_config()),

            schedule: Schedule {
                playing: false,
                steps_per_frame: 8,
                frame_budget_ms: 12.0,
                max_unread_steps: Some(schedule::MAX_UNREAD_STEPS),
                steps_last_frame: 0,
                snapshot_every: 4,
                pending_preview: None,
                steps_per_second: 0.0,
                last_playing_tick: None,
                last_tick_ms: 0.0,
                last_tick_parts: [("metrics", 0.0), ("steps", 0.0), ("snapshot", 0.0)],
                snapshot_ms: 0.0,
                step_ms: 0.0,
                steps_since_snapshot: 0,
            },
            views: Views {
                snapshot: None,
                z_projection: None,
                z_density: None,
                data_projection: None,
                heat_grid: None,
                heat: None,
                probe_regions: ProbeRegions::default(),
                batch: None,
                selection_marked: Vec::new(),
                hovered: None,
                hover_views: None,
                anchor: None,
                // The worked example the theory tab opens on, ready before the tab is first drawn.
                batch_similarity: None,
                hardness: None,
                hardness_compare: 4.0,
                theory: TheoryView::for_input(Default::default(), spherelab_core::theory::Construction::IndexMatched),
            },
        };
        lab.open(config, None);
        lab
    }

    pub fn session(&self) -> Option<&dyn Session> {
        self.session.as_deref()
    }

    pub fn config(&self) -> Option<&RunConfig> {
        self.session().map(|s| s.config())
    }

    pub fn data(&self) -> Option<&Dataset> {
        self.session().map(|s| s.data())
    }

    pub fn step_count(&self) -> usize {
        self.session().map(|s| s.step_count()).unwrap_or(0)
    }

    /// Whether the data can be drawn and edited as points in the plane.
    pub fn data_is_planar(&self) -> bool {
        self.data().is_some_and(|d| d.kind == InputKind::Points && d.dim == 2)
    }

    pub fn notify(&mut self, notice: Notice) {
        // Keep the list short: the status bar shows the latest, the log the last few.
        self.notices.push(notice);
        if self.notices.len() > 20 {
            self.notices.remove(0);
        }
    }

    /// Applies the commands the panels returned, in order.
    pub fn apply_all(&mut self, commands: Vec<Command>) {
        for c in commands {
            self.apply(c);
        }
    }

    pub fn apply(&mut self, command: Command) {
        match command {
            Command::Play => {
                if let Some(msg) = &self.diverged {
                    let msg = msg.clone();
                    self.notify(Notice::warning(format!("Training diverged: press Reset first. {msg}")));
                } else {
                    self.schedule.playing = true;
                }
            }
            Command::Pause => self.schedule.playing = false,
            Command::Step => {
                self.schedule.playing = false;
                if self.diverged.is_none() {
                    self.train_steps(1, f64::INFINITY, true);
                    self.refresh_snapshot();
                }
            }
            Command::Reset => {
                if let Some(s) = self.session.as_mut() {
                    s.reset();
                }
                if let Some(c) = self.comparison.as_mut() {
                    c.session.reset();
                    c.diverged = None;
                }
                self.after_restart();
                self.notify(Notice::info("Reset: back to step 0 with the same initialisation and batches."));
            }
            Command::Reseed => {
                let mut cfg = self.draft.clone();
                cfg.seed = cfg.seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) % 1_000_000;
                self.comparison = None;
                self.pruned.clear();
                self.set_config(cfg);
            }
            Command::SetSpeed(n) => self.schedule.steps_per_frame = n.clamp(1, 500),
            Command::SetConfig(cfg) => self.set_config(*cfg),
            Command::EditConfig { config, pointer_down } => match edit_outcome(&self.draft, &config, pointer_down) {
                EditOutcome::Nothing => self.pending = None,
                EditOutcome::Wait => self.pending = Some(*config),
                EditOutcome::Apply => {
                    self.pending = None;
                    self.set_config(*config);
                }
            },
            Command::AddPoint { x, class } => self.add_point(x, class),
            Command::SetAddClass(c) => self.add_class = c,
            Command::LoadCsv { name, text } => self.load_csv(&name, &text),
            Command::LoadConfigJson(text) => match RunConfig::from_json(&text) {
                Ok(cfg) => {
                    self.custom_data = None;
                    self.comparison = None;
                    self.pruned.clear();
                    self.set_config(cfg);
                    self.notify(Notice::info("Loaded the config."));
                }
                Err(e) => self.notify(Notice::error(format!("That config could not be loaded: {e}"))),
            },
            Command::Hover(h) => {
                if h != self.views.hovered {
                    self.views.hovered = h;
                    self.refresh_hover_views();
                }
            }
            Command::SetHeatGrid(g) => {
                if g != self.views.heat_grid {
                    self.views.heat_grid = g;
                    self.refresh_heat();
                }
            }
            Command::ShowProbeRegions(on) => self.views.probe_regions.wanted = on,
            Command::SelectAnchor(a) => {
                self.views.anchor = a;
                self.refresh_hardness();
            }
            Command::SetHardnessCompare(factor) => {
                self.views.hardness_compare = factor;
                self.refresh_hardness();
            }
            Command::PreviewPruning(spec) => self.schedule.pending_preview = Some(spec),
            Command::StartComparison => self.start_comparison(),
            Command::StartExperiment { base, remedy, seeds } => {
                match Experiment::new(*base, remedy, (1..=seeds.max(1) as u64).collect()) {
                    Ok(e) => self.experiment = Some(e),
                    Err(e) => self.notify(Notice::error(format!("The experiment could not start: {e}"))),
                }
            }
            Command::StartPaperExperiment { remedy, seeds } => match paper_experiment_base() {
                Ok(base) => self.apply(Command::StartExperiment { base: Box::new(base), remedy, seeds }),
                Err(e) => self.notify(Notice::error(format!("The paper's experiment could not start: {e}"))),
            },
            Command::StopExperiment => self.experiment = None,
            Command::StopComparison => {
                self.comparison = None;
                self.notify(Notice::info("Stopped the comparison run."));
            }
            // The app sends the request to the window; the lab only remembers that one is on its way.
            Command::Screenshot => self.screenshot_pending = true,
            Command::Notify(n) => self.notify(n),
            Command::DismissDivergence => self.diverged = None,
            Command::OpenLesson { id, step } => self.open_lesson(&id, step),
            Command::LessonStep(step) => {
                if self.guide.go(step) {
                    self.apply_lesson_step();
                }
            }
            Command::Answer(choice) => self.guide.answer(choice),
            Command::CloseLesson => {
                if self.guide.active.take().is_some() {
                    self.notify(Notice::info("The full lab: every control and view. The run goes on as it was."));
                }
            }
            Command::SetPresenter(on) => self.guide.presenter = on,
            Command::DismissWelcome => {
                self.guide.welcome = false;
                self.guide.welcome_answered = true;
            }
            Command::SetTheory { input, construction } => self.views.theory.set(input, construction),
            Command::EstimateTheory => self.estimate_theory(),
        }
    }
}

/// The base run of the study's `paper` preset (docs/study.md): its first data set, its largest ω, its model.
fn paper_experiment_base() -> spherelab_core::Result<RunConfig> {
    let text = spherelab_core::study::preset("paper").expect("the paper preset is built in");
    let study = spherelab_core::study::Study::parse(text)?;
    let mut base = study.base.clone();
    base.data.dataset = study.datasets[0];
    base.data.omega = study.omega.iter().copied().fold(0.0, f32::max);
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spherelab_core::analysis::density;
    use spherelab_core::config::PairMode;
    use spherelab_core::difficulty::{self, PruneSpec};
    use spherelab_core::study::Method;

    fn small() -> RunConfig {
        let mut c = RunConfig::default();
        c.data.n = 120;
        c.train.steps = 8;
        c.train.batch_size = 32;
        c.model.encoder = vec![8];
        c.model.projector = vec![2];
        c
    }

    /// The hardness read-out follows the picked anchor and the compared temperature, computed by the lab.
    #[test]
    fn the_hardness_view_is_computed_by_the_lab() {
        let mut lab = Lab::new(small(), BackendPreference::Cpu);
        lab.apply(Command::Step);
        let h = lab.views.hardness.clone().expect("a batch, so a read-out");
        let batch = lab.views.batch.clone().unwrap();
        assert_eq!(h.anchor, 0);
        let tau = lab.config().unwrap().loss.tau;
        assert_eq!(h.weights, spherelab_core::metrics::hardness_weights(&batch.z, 0, tau));
        lab.apply(Command::SelectAnchor(Some(5)));
        assert_eq!(lab.views.hardness.as_ref().unwrap().anchor, 5);
        lab.apply(Command::SetHardnessCompare(0.5));
        let h = lab.views.hardness.clone().unwrap();
        assert_eq!(h.compared, spherelab_core::metrics::hardness_weights(&batch.z, 5, tau * 0.5));
        let sim = lab.views.batch_similarity.clone().unwrap();
        let zn = batch.z.normalized_rows();
        let n = batch.indices.len();
        let want: f32 = zn.row(1).iter().zip(zn.row(n + 2)).map(|(a, b)| a * b).sum();
        assert_eq!(sim.at(1, n + 2), want);
    }

    /// A preview scores the training samples in the lab (not in the panel): the oracle marks exactly the
    /// round(f·n_c) most difficult training samples of each class, all truly difficult here, none from the test
    /// split; a random score marks as many.
    #[test]
    fn a_pruning_preview_is_scored_by_the_lab() {
        let mut cfg = small();
        cfg.data.omega = 0.3;
        let mut lab = Lab::new(cfg, BackendPreference::Cpu);
        lab.apply(Command::PreviewPruning(PruneSpec { score: difficulty::ScoreKind::Oracle, fraction: 0.1 }));
        assert!(lab.pruned.is_empty(), "scored in the next frame's work, not in apply");
        lab.tick();
        let (data, train) = (lab.data().unwrap().clone(), lab.session().unwrap().active_train().to_vec());
        let per_class = |c: usize| train.iter().filter(|&&i| data.labels[i] == c).count();
        let want: usize = (0..data.classes).map(|c| (0.1 * per_class(c) as f64).round() as usize).sum();
        assert_eq!(lab.pruned.len(), want);
        assert!(want > 0 && lab.pruned.iter().all(|i| train.contains(i) && data.difficult(*i)));
        let oracle = lab.pruned.clone();
        lab.apply(Command::PreviewPruning(PruneSpec { score: difficulty::ScoreKind::Random, fraction: 0.1 }));
        lab.tick();
        assert_eq!(lab.pruned.len(), want);
        assert_ne!(lab.pruned, oracle);
    }

    /// The probe regions are fitted by the lab a piece a frame (a full fit takes several frames, none does it
    /// all), only while asked for, and classify every cell of the grid; the points' own regions are mostly
    /// their class after some training.
    #[test]
    fn probe_regions_are_fitted_over_frames_while_shown() {
        let mut lab = Lab::new(Lab::default_config(), BackendPreference::Cpu);
        for _ in 0..60 {
            lab.apply(Command::Step);
        }
        let grid = HeatGrid { min: [-1.5, -1.0], max: [2.5, 1.5], res: 16 };
        lab.apply(Command::SetHeatGrid(Some(grid)));
        lab.tick();
        assert!(lab.views.probe_regions.done.is_none(), "nothing fitted unless shown");
        lab.apply(Command::ShowProbeRegions(true));
        let mut frames = 0;
        while lab.tick() {
            frames += 1;
            assert!(frames < 200, "the fit ends");
        }
        assert!(frames >= 5, "spread over frames: {frames}");
        let r = lab.views.probe_regions.done.clone().expect("regions");
        assert_eq!((r.grid, r.cells.len(), r.step), (grid, 16 * 16, lab.step_count()));
        assert!(r.cells.iter().all(|&(c, conf)| c < 2 && (0.0..=1.0).contains(&conf)));
        assert!(r.cells.iter().any(|c| c.0 == 0) && r.cells.iter().any(|c| c.0 == 1), "both classes have a region");
        // Hidden again: no work.
        lab.apply(Command::ShowProbeRegions(false));
        for _ in 0..30 {
            lab.apply(Command::Step);
        }
        let mut frames = 0;
        while lab.tick() && frames < 200 {
            frames += 1;
        }
        assert!(!lab.views.probe_regions.in_progress());
        assert_eq!(lab.views.probe_regions.done.as_ref().map(|d| d.step), Some(r.step), "no refit while hidden");
    }

    /// Wider data and embeddings are projected by the lab, with the snapshot: the digits' 64-D inputs and an
    /// 8-D z; two moons in a 2-D embedding need neither.
    #[test]
    fn projections_are_fitted_with_the_run_and_its_snapshots() {
        let lab = Lab::new(small(), BackendPreference::Cpu);
        assert!(lab.views.data_projection.is_none() && lab.views.z_projection.is_none());
        // d = 2: the angular density instead, every sample counted once in its class's curve.
        let density = lab.views.z_density.as_ref().expect("a density for d = 2");
        let data = lab.data().unwrap();
        assert_eq!(density.len(), data.classes);
        assert!(density.iter().all(|c| c.len() == density::ANGLE_BINS && c.iter().any(|&v| v > 0.0)));
        let mut cfg = small();
        cfg.data.dataset = DatasetKind::Digits;
        cfg.model.projector = vec![8];
        let lab = Lab::new(cfg, BackendPreference::Cpu);
        assert_eq!(lab.views.data_projection.as_ref().map(|p| p.mean.len()), Some(64));
        assert_eq!(lab.views.z_projection.as_ref().map(|p| p.dirs[0].len()), Some(8));
        assert!(lab.views.z_density.is_none());
    }

    /// The experiment moves only through `tick`, within the frame budget, and leaves the paused main run
    /// where it was; stopping it drops it.
    #[test]
    fn the_experiment_runs_in_the_frame_budget_and_leaves_the_main_run_alone() {
        let mut lab = Lab::new(small(), BackendPreference::Cpu);
        lab.apply(Command::Pause);
        let before = lab.step_count();
        let mut base = small();
        base.data.omega = 0.3;
        lab.apply(Command::StartExperiment {
            base: Box::new(base),
            remedy: Method::Pairs(PairMode::Removal),
            seeds: 3,
        });
        let mut frames = 0;
        while lab.tick() {
            frames += 1;
            assert!(frames < 10_000, "the experiment never finished");
            assert!(lab.schedule.last_tick_ms < 1000.0, "a frame took {} ms", lab.schedule.last_tick_ms);
        }
        let e = lab.experiment.as_ref().unwrap();
        assert!(e.is_done() && e.error.is_none(), "{:?}", e.error);
        assert_eq!(e.results().len(), 3);
        assert!(e.summary().is_some());
        assert_eq!(lab.step_count(), before, "the paused main run did not move");
        lab.apply(Command::StopExperiment);
        assert!(lab.experiment.is_none());
    }

    /// Issue 16: a change over the memory budget (or any refused change) is a notice; the running run, its
    /// config and its history stay as they were.
    /// A GPU run (lavapipe in CI) is mirrored on the desktop as in the browser: frames submit steps and never
    /// wait for a download; the views come from the parameters' asynchronous copy, lag by at most the steps in
    /// flight, and catch up once paused — the same sample embeddings a blocking read of the device gives.
    #[test]
    fn a_gpu_run_trains_without_waiting_and_its_views_catch_up() {
        let mut cfg = small();
        cfg.train.steps = 1000;
        cfg.train.eval_every = 10;
        let mut lab = Lab::new(cfg.clone(), BackendPreference::Gpu);
        let kind = lab.session().map(|s| s.info().kind);
        assert_eq!(kind.as_deref(), Some("gpu"), "this test needs a GPU adapter (lavapipe): {}", lab.backend_line);
        lab.schedule.frame_budget_ms = f64::INFINITY;
        lab.schedule.steps_per_frame = 4;
        lab.apply(Command::Play);
        for _ in 0..10 {
            lab.tick();
        }
        lab.apply(Command::Pause);
        let steps = lab.step_count();
        assert!(steps >= 10, "{steps} steps in 10 frames");
        let started = std::time::Instant::now();
        while lab.tick() {
            assert!(started.elapsed().as_secs() < 60, "the views never caught up with step {steps}");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let snap = lab.views.snapshot.clone().expect("a snapshot");
        assert_eq!(snap.step, steps, "paused, the views show the last step");
        assert!(lab.views.batch.is_some() && lab.views.hardness.is_some());
        assert_eq!(lab.session().map(|s| s.history().steps.len()), Some(steps), "every loss was read back");
        // The mirror's copy is the device's state: a plain GPU trainer taking the same steps has the same
        // embeddings within the engine's tolerance.
        let gpu = crate::backend_choice::try_gpu().expect("the device opened above");
        let mut plain = spherelab_core::Trainer::new(gpu, cfg).unwrap();
        for _ in 0..steps {
            plain.step().unwrap();
        }
        let want = Session::embeddings(&plain);
        let f64s = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
        let c = spherelab_core::tolerance::VALUE.compare(&f64s(&snap.z.data), &f64s(&want.z.data));
        assert!(c.passed(), "mirrored views vs the device: {}", c.describe());
    }

    /// The paper's experiment is built by the lab from the study's preset (the panel only asks for it).
    #[test]
    fn the_papers_experiment_starts_on_the_study_regime() {
        let mut lab = Lab::new(small(), BackendPreference::Cpu);
        lab.apply(Command::StartPaperExperiment { remedy: Method::Pairs(PairMode::Removal), seeds: 2 });
        let e = lab.experiment.as_ref().expect("an experiment");
        assert_eq!(e.base.data.dataset, DatasetKind::Digits);
        assert!(e.base.data.omega > 0.0);
        assert_eq!((e.remedy, e.seeds.clone()), (Method::Pairs(PairMode::Removal), vec![1, 2]));
    }

    #[test]
    fn a_refused_change_keeps_the_run_and_its_history() {
        let mut lab = Lab::new(small(), BackendPreference::Cpu);
        lab.schedule.frame_budget_ms = f64::INFINITY;
        lab.schedule.steps_per_frame = 3;
        lab.apply(Command::Play);
        for _ in 0..3 {
            lab.tick();
        }
        lab.apply(Command::Pause);
        let (steps, config) = (lab.step_count(), lab.config().cloned());
        let history = lab.session().map(|s| s.history().clone());
        assert!(steps > 0);
        for change in [
            |c: &mut RunConfig| c.model.encoder = vec![100_000, 100_000],
            |c: &mut RunConfig| c.data.n = 500_000_000,
            |c: &mut RunConfig| c.model.encoder = vec![8; 1000],
            |c: &mut RunConfig| c.loss.tau = f32::NAN,
        ] {
            let mut cfg = small();
            change(&mut cfg);
            lab.apply(Command::SetConfig(Box::new(cfg)));
            assert_eq!(lab.step_count(), steps);
            assert_eq!(lab.config().cloned(), config);
            assert_eq!(lab.session().map(|s| s.history().clone()), history);
            let last = lab.notices.last().expect("a notice").text.clone();
            assert!(!last.is_empty() && !last.contains('\n'), "{last}");
        }
    }

    /// The draft-versus-applied rule: hyper-parameters apply at once, even mid-drag; a new model or data set
    /// waits for the pointer's release; the applied config itself is no edit.
    #[test]
    fn edits_that_rebuild_wait_for_the_release_and_the_rest_apply_at_once() {
        let applied = small();
        let mut tau = applied.clone();
        tau.loss.tau = 0.3;
        let mut wider = applied.clone();
        wider.model.encoder = vec![16];
        let mut more = applied.clone();
        more.data.n = 200;
        for down in [false, true] {
            assert_eq!(edit_outcome(&applied, &applied, down), EditOutcome::Nothing);
            assert_eq!(edit_outcome(&applied, &tau, down), EditOutcome::Apply);
        }
        for rebuild in [&wider, &more] {
            assert_eq!(edit_outcome(&applied, rebuild, true), EditOutcome::Wait);
            assert_eq!(edit_outcome(&applied, rebuild, false), EditOutcome::Apply);
        }

        let mut lab = Lab::new(applied.clone(), BackendPreference::Cpu);
        lab.apply(Command::EditConfig { config: Box::new(wider.clone()), pointer_down: true });
        assert_eq!((lab.draft.clone(), lab.pending.clone()), (applied.clone(), Some(wider.clone())));
        assert_eq!(lab.config(), Some(&applied), "the run is not rebuilt mid-drag");
        lab.apply(Command::EditConfig { config: Box::new(wider.clone()), pointer_down: false });
        assert_eq!((lab.draft.clone(), lab.pending.clone()), (wider.clone(), None));
        assert_eq!(lab.config(), Some(&wider));
        // Dragged back to where it started: nothing pending, nothing rebuilt.
        lab.apply(Command::EditConfig { config: Box::new(applied.clone()), pointer_down: true });
        lab.apply(Command::EditConfig { config: Box::new(wider.clone()), pointer_down: true });
        assert_eq!(lab.pending, None);
    }

    #[test]
    fn a_bad_experiment_is_a_notice_not_a_crash() {
        let mut lab = Lab::new(small(), BackendPreference::Cpu);
        lab.apply(Command::StartExperiment { base: Box::new(small()), remedy: Method::Baseline, seeds: 3 });
        assert!(lab.experiment.is_none());
        assert!(lab.notices.iter().any(|n| n.text.contains("experiment could not start")), "{:?}", lab.notices);
    }
}
