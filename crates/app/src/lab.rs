//! The shared state every panel reads: the run (a `Box<dyn Session>` on whichever backend was usable), the
//! config being edited, play/pause/speed, the latest snapshot of the embeddings, the comparison run of a
//! pruning experiment, and the notices shown to the user.
//!
//! Panels never change the lab while drawing. They return `Command`s, which the app applies after the
//! frame is drawn (`Lab::apply`), so no panel reaches into another and every change has one code path.
//! Training happens in `Lab::tick`, called once per frame: as many steps as fit in the frame budget.

use spherelab_core::analysis::density::{self, angular_density};
use spherelab_core::analysis::projection::Pca2;
use spherelab_core::config::DatasetKind;
use spherelab_core::data::{Dataset, InputKind};
use spherelab_core::difficulty::{self, PruneSpec};
use spherelab_core::experiment::Experiment;
use spherelab_core::study::Method;
use spherelab_core::trainer::{BatchInspection, Embeddings, Rebuilt};
use spherelab_core::{Error, RunConfig, Session};
use web_time::Instant;

use crate::backend_choice::{self, BackendPreference};
use crate::guide::Guide;
use crate::regions::ProbeRegions;
use crate::theory_view::TheoryView;
use spherelab_core::lesson::{self, Panel};
use spherelab_core::url_state::ViewLink;

/// What a panel asks the lab to do. Applied after drawing, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Play,
    Pause,
    /// One training step (and a fresh snapshot), while paused.
    Step,
    /// Back to step 0 with the same initialisation.
    Reset,
    /// A new seed: new data draw, new initialisation, new batches.
    Reseed,
    /// At most this many steps per frame.
    SetSpeed(usize),
    /// Train with this config from now on (rebuilding only what its changes require).
    SetConfig(Box<RunConfig>),
    /// The controls' config as edited this frame, with the pointer down or not: applied or held back by the
    /// draft-versus-applied rule (`edit_outcome`).
    EditConfig {
        config: Box<RunConfig>,
        pointer_down: bool,
    },
    /// Adds a sample at this input-plane position with this class (2-D data only).
    AddPoint {
        x: [f32; 2],
        class: usize,
    },
    /// The class of the points a click on the input plane adds.
    SetAddClass(usize),
    /// Replaces the data by the user's CSV (its text and a name for it).
    LoadCsv {
        name: String,
        text: String,
    },
    /// Replaces the config by one read from JSON.
    LoadConfigJson(String),
    /// The sample under the pointer (input plane or embedding view), for the views and positive pairs.
    Hover(Option<usize>),
    /// The grid over the input plane the model is evaluated on with each snapshot (the heat map), or none.
    SetHeatGrid(Option<HeatGrid>),
    /// Fit the linear probe's decision regions over that grid, in the background (or stop).
    ShowProbeRegions(bool),
    /// The anchor view (row of the current batch) whose hardness weights are shown.
    SelectAnchor(Option<usize>),
    /// Scores the training samples on the snapshot's features h and marks the ones this score and fraction
    /// would leave out (a preview; per class when there are labels, the paper's Table 10 recipe).
    PreviewPruning(PruneSpec),
    /// Retrains from the same seed without the previewed samples, alongside the main run.
    StartComparison,
    StopComparison,
    /// Starts the Pruning tab's experiment: `seeds` seeds of baseline against `remedy` on `base`, trained in
    /// the background a piece at a time within the frame budget.
    StartExperiment {
        base: Box<RunConfig>,
        remedy: Method,
        seeds: usize,
    },
    StopExperiment,
    /// Asks the window for a screenshot (saved as PNG when it arrives).
    Screenshot,
    Notify(Notice),
    DismissDivergence,
    /// Opens the lesson with this id at this step (0-based), applying the step's settings to the run.
    OpenLesson {
        id: String,
        step: usize,
    },
    /// Goes to this step (0-based) of the open lesson.
    LessonStep(usize),
    /// Picks this choice (0-based) for the shown step's question.
    Answer(usize),
    /// Leaves the lesson for the full lab; the run goes on as it is.
    CloseLesson,
    SetPresenter(bool),
    /// The first-start card was answered.
    DismissWelcome,
    /// The theory tab's sliders: compute the bounds, the spectrum and the verdict map for them.
    SetTheory {
        input: spherelab_core::theory::TheoryInput,
        construction: spherelab_core::theory::Construction,
    },
    /// Estimate the theory's α, β, γ from the snapshot's features of the training samples.
    EstimateTheory,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// A message to the user, shown in the status bar (errors stay until dismissed or replaced).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Self {
        Self { level: Level::Info, text: text.into() }
    }
    pub fn warning(text: impl Into<String>) -> Self {
        Self { level: Level::Warning, text: text.into() }
    }
    pub fn error(text: impl Into<String>) -> Self {
        Self { level: Level::Error, text: text.into() }
    }
}

/// The second run of a pruning experiment: same seed and initialisation, fewer training samples.
pub struct Comparison {
    pub session: Box<dyn Session>,
    /// Training samples left out.
    pub excluded: Vec<usize>,
    /// Which score chose them, for the legend.
    pub label: String,
    pub diverged: Option<String>,
}

/// The augmented views of the hovered sample, in input space and embedded.
#[derive(Clone, Debug, PartialEq)]
pub struct HoverViews {
    pub sample: usize,
    /// Input rows of the views (views × dim).
    pub x: Vec<Vec<f32>>,
    /// The model's output for each view.
    pub z: Vec<Vec<f32>>,
}

/// A regular grid over (part of) the input plane: `res` × `res` cell centres between `min` and `max`,
/// row 0 at the top (largest y), as an image is stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeatGrid {
    pub min: [f32; 2],
    pub max: [f32; 2],
    pub res: usize,
}

impl HeatGrid {
    /// The cell centres, row by row (res² × 2, row-major).
    pub fn points(&self) -> Vec<f32> {
        let g = self.res;
        let mut grid = Vec::with_capacity(g * g * 2);
        for row in 0..g {
            for col in 0..g {
                let x = self.min[0] + (col as f32 + 0.5) / g as f32 * (self.max[0] - self.min[0]);
                let y = self.max[1] - (row as f32 + 0.5) / g as f32 * (self.max[1] - self.min[1]);
                grid.extend_from_slice(&[x, y]);
            }
        }
        grid
    }
}

/// The model on a `HeatGrid`, at the snapshot's step.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatValues {
    pub step: usize,
    pub grid: HeatGrid,
    /// Features h and outputs z of every cell centre (res² rows).
    pub h: spherelab_core::Matrix<f32>,
    pub z: spherelab_core::Matrix<f32>,
}

/// What an edit of the config does now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditOutcome {
    /// Apply it to the run (`Lab::set_config`).
    Apply,
    /// Hold it back as `Lab::pending` until the pointer is released.
    Wait,
    /// It is the applied config: nothing to do, nothing pending.
    Nothing,
}

/// The draft-versus-applied rule, decided here once: an edit that changes only hyper-parameters applies at
/// once (the run goes on); one that rebuilds the data or the model (`RunConfig::rebuild_for`, the restart
/// rule) waits while the pointer is down — a slider being dragged — and applies on release, so nothing is
/// rebuilt at every pixel of a drag.
pub fn edit_outcome(applied: &RunConfig, edited: &RunConfig, pointer_down: bool) -> EditOutcome {
    if edited == applied {
        EditOutcome::Nothing
    } else if pointer_down && applied.rebuild_for(edited) != Rebuilt::Nothing {
        EditOutcome::Wait
    } else {
        EditOutcome::Apply
    }
}

/// The whole lab.
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
    pub playing: bool,
    /// Upper bound on steps per frame (the speed control).
    pub steps_per_frame: usize,
    /// Time for training steps per frame, so the window stays responsive (and the browser never freezes).
    pub frame_budget_ms: f64,
    /// Training waits while more steps than this await their loss read-back, and while more than the
    /// previous training frame's steps do: a GPU in the browser queues work without blocking, and a device
    /// slower than the page (a software WebGPU) would otherwise fall further behind every frame, its queue
    /// competing with the page's drawing and the views lagging the step counter. So at most about two frames
    /// of steps are in flight. The web entry sets it. `None`: no limit (native read-backs block instead).
    pub max_unread_steps: Option<usize>,
    /// Steps the last frame that trained took.
    steps_last_frame: usize,
    /// Refresh the embeddings snapshot after this many steps.
    pub snapshot_every: usize,
    pub snapshot: Option<Embeddings>,
    /// The embedding view's 2-D projection of the snapshot's z when it has more than three dimensions, fitted
    /// with each snapshot (inside the frame's budget, not while drawing).
    pub z_projection: Option<Pca2>,
    /// Each class's density of angles around the circle (analysis::density) when the snapshot's z has two
    /// dimensions, computed with each snapshot for the embedding view to draw.
    pub z_density: Option<Vec<Vec<f32>>>,
    /// The input plane's 2-D projection of the data when it has more than two dimensions (the digits),
    /// fitted when the run (re)starts.
    pub data_projection: Option<Pca2>,
    /// The grid the input plane asked for, and the model on it (refreshed with the snapshot, so its cost is
    /// counted in the frame's budget like the snapshot's).
    pub heat_grid: Option<HeatGrid>,
    pub heat: Option<HeatValues>,
    /// The linear probe's regions over the heat grid, refitted a piece a frame while the input plane shows them.
    pub probe_regions: ProbeRegions,
    pub batch: Option<BatchInspection>,
    /// Samples the selection singles out in the last batch: the hardest flagged partner of some anchor.
    pub selection_marked: Vec<usize>,
    pub hovered: Option<usize>,
    pub hover_views: Option<HoverViews>,
    pub anchor: Option<usize>,
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
    /// Measured speed (steps per wall-clock second while playing), for the status bar.
    pub steps_per_second: f64,
    /// When the previous playing frame started (`None` while paused).
    last_playing_tick: Option<Instant>,
    /// How long the last `tick` took (training, metrics and the snapshot), in ms: the browser reports it.
    pub last_tick_ms: f64,
    /// The last `tick`'s parts, in ms: metric pieces, training steps, the snapshot refresh.
    pub last_tick_parts: [(&'static str, f64); 3],
    /// Average milliseconds a snapshot refresh takes (subtracted from the training budget).
    pub snapshot_ms: f64,
    /// Average milliseconds a training step takes (of both runs when comparing): a frame takes another
    /// step only when one fits in what is left of its budget.
    pub step_ms: f64,
    steps_since_snapshot: usize,
    /// A screenshot was requested and not yet received.
    pub screenshot_pending: bool,
    /// The class of the points a click on the input plane adds.
    pub add_class: usize,
    /// Why the last CSV could not be loaded (shown under the CSV box until the next attempt).
    pub csv_error: Option<String>,
    /// The open lesson and the step shown, the panels shown, the presenter and embed modes.
    pub guide: Guide,
    /// The theory tab's numbers, computed when its sliders change.
    pub theory: TheoryView,
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
            playing: false,
            steps_per_frame: 8,
            frame_budget_ms: 12.0,
            max_unread_steps: None,
            steps_last_frame: 0,
            snapshot_every: 4,
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
            pruned: Vec::new(),
            comparison: None,
            experiment: None,
            custom_data: None,
            notices: Vec::new(),
            diverged: None,
            steps_per_second: 0.0,
            last_playing_tick: None,
            last_tick_ms: 0.0,
            last_tick_parts: [("metrics", 0.0), ("steps", 0.0), ("snapshot", 0.0)],
            snapshot_ms: 0.0,
            step_ms: 0.0,
            steps_since_snapshot: 0,
            screenshot_pending: false,
            csv_error: None,
            add_class: 0,
            guide: Guide::new(&Self::default_config()),
            // The worked example the theory tab opens on, ready before the tab is first drawn.
            theory: TheoryView::for_input(Default::default(), spherelab_core::theory::Construction::IndexMatched),
        };
        lab.open(config, None);
        lab
    }

    /// Replaces the run by a new one on `config` (and `data`, when given).
    fn open(&mut self, config: RunConfig, data: Option<Dataset>) {
        match backend_choice::open(self.backend_pref, config.clone(), data, &[]) {
            Ok(opened) => {
                let info = opened.session.info();
                self.backend_line = if opened.notice.is_empty() {
                    format!("{} · {}", info.kind, info.adapter)
                } else {
                    format!("{} · {} — {}", info.kind, info.adapter, opened.notice)
                };
                self.session = Some(opened.session);
                self.draft = config;
                self.after_restart();
            }
            Err(e) => self.notify(Notice::error(format!("Could not start the run: {e}"))),
        }
    }

    /// State that belongs to the old run is dropped when a run starts over.
    fn after_restart(&mut self) {
        self.diverged = None;
        self.batch = None;
        self.anchor = None;
        self.hover_views = None;
        self.selection_marked.clear();
        self.steps_since_snapshot = 0;
        self.data_projection = self.data().filter(|d| d.dim > 2).map(|d| Pca2::fit(&d.x, d.dim));
        self.refresh_snapshot();
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
                    self.playing = true;
                }
            }
            Command::Pause => self.playing = false,
            Command::Step => {
                self.playing = false;
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
            Command::SetSpeed(n) => self.steps_per_frame = n.clamp(1, 500),
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
                if h != self.hovered {
                    self.hovered = h;
                    self.refresh_hover_views();
                }
            }
            Command::SetHeatGrid(g) => {
                if g != self.heat_grid {
                    self.heat_grid = g;
                    self.refresh_heat();
                }
            }
            Command::ShowProbeRegions(on) => self.probe_regions.wanted = on,
            Command::SelectAnchor(a) => self.anchor = a,
            Command::PreviewPruning(spec) => self.preview_pruning(spec),
            Command::StartComparison => self.start_comparison(),
            Command::StartExperiment { base, remedy, seeds } => {
                match Experiment::new(*base, remedy, (1..=seeds.max(1) as u64).collect()) {
                    Ok(e) => self.experiment = Some(e),
                    Err(e) => self.notify(Notice::error(format!("The experiment could not start: {e}"))),
                }
            }
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
            Command::SetTheory { input, construction } => self.theory.set(input, construction),
            Command::EstimateTheory => self.estimate_theory(),
        }
    }

    /// Fills the theory's α, β, γ estimate from the snapshot and says what could not be estimated.
    fn estimate_theory(&mut self) {
        let (Some(session), Some(snap)) = (self.session.as_deref(), self.snapshot.as_ref()) else { return };
        let e = self.theory.estimate_from(session, snap);
        let missing: Vec<&str> = [
            (e.alpha.is_none(), "α"),
            (e.beta.is_none(), "β"),
            (e.gamma.is_none(), "γ (no difficult training samples: raise ω)"),
        ]
        .into_iter()
        .filter_map(|(m, name)| m.then_some(name))
        .collect();
        self.notify(if missing.is_empty() {
            Notice::info("Filled in α, β, γ from the run's training features h.")
        } else {
            Notice::warning(format!("Could not estimate {}.", missing.join(", ")))
        });
    }

    /// The training samples `spec` removes, scored on the snapshot's h of the training samples (k-means and
    /// probe fits for the margin scores: work done once, on the click, not while drawing).
    fn preview_pruning(&mut self, spec: PruneSpec) {
        let (Some(session), Some(snap)) = (self.session.as_deref(), self.snapshot.as_ref()) else { return };
        let train = session.active_train();
        let h_train = spherelab_core::Matrix::from_vec(
            train.len(),
            snap.h.cols,
            train.iter().flat_map(|&i| snap.h.row(i).iter().copied()).collect(),
        );
        self.pruned = difficulty::pick_training_samples(spec, session.data(), train, &h_train, session.config().seed);
    }

    /// Shows the lab as a link asks (`#lesson=temperature&step=3&presenter=1&hide=loss`, or the desktop's
    /// `--lesson temperature --step 3 --presenter --hide loss`). What it cannot use — an unknown lesson, step
    /// or panel — is named in a notice, and the lab opens without it.
    pub fn open_link(&mut self, link: &ViewLink) {
        self.guide.presenter = link.presenter;
        self.guide.embed = link.embed;
        let unknown = self.guide.hide(&link.hide);
        if !unknown.is_empty() {
            let names: Vec<String> = unknown.iter().map(|n| format!("'{}'", n.escape_debug())).collect();
            self.notify(Notice::warning(format!(
                "hide=: no panel named {} (the panels are {}); the others are hidden.",
                names.join(", "),
                Panel::names().join(", ")
            )));
        }
        let Some(id) = &link.lesson else {
            if link.step.is_some() {
                self.notify(Notice::warning(
                    "A step was given without a lesson (add lesson=ID); here is the full lab.",
                ));
            }
            return;
        };
        self.guide.welcome = false;
        let Some(index) = self.guide.find(id) else {
            self.open_lesson(id, 0);
            return;
        };
        let steps = self.guide.lessons[index].steps.len();
        let step = match link.step.as_deref().map(|t| lesson::parse_step(t, steps)) {
            None => 0,
            Some(Ok(k)) => k,
            Some(Err(e)) => {
                self.notify(Notice::warning(format!("Lesson '{id}': {e}. Here is the full lab.")));
                return;
            }
        };
        self.open_lesson(id, step);
    }

    /// Opens a lesson at a step; an unknown id leaves the lab as it is and says which lessons there are.
    fn open_lesson(&mut self, id: &str, step: usize) {
        let Some(index) = self.guide.find(id) else {
            let ids: Vec<&str> = self.guide.lessons.iter().map(|l| l.id.as_str()).collect();
            self.notify(Notice::warning(format!(
                "There is no lesson '{}'. The lessons are: {}. Here is the full lab.",
                id.escape_debug(),
                ids.join(", ")
            )));
            return;
        };
        self.guide.open(index, step);
        // A lesson starts from its own run (the app's default with the lesson's settings up to this step), not
        // from whatever an earlier lesson or the student left; inside it, moving between steps changes only
        // what the lesson sets.
        let cfg = self.guide.lessons[index].step_config(step.min(self.guide.lessons[index].steps.len() - 1)).clone();
        self.custom_data = None;
        self.set_config(cfg);
        self.apply_lesson_step();
    }

    /// Puts the keys the open lesson sets to their values at the shown step (a new model or data only when
    /// those change) and says where the student is.
    fn apply_lesson_step(&mut self) {
        let (Some(lesson), Some(p)) = (self.guide.lesson(), self.guide.active.as_ref()) else { return };
        let (step, n, title, restart) =
            (p.step, lesson.steps.len(), lesson.title.clone(), lesson.steps[p.step].restart);
        match lesson.config_at(step, &self.draft) {
            Ok(cfg) => self.set_config(cfg),
            Err(e) => self.notify(Notice::error(format!("This step's settings could not be applied: {e}"))),
        }
        if restart && self.step_count() > 0 {
            if let Some(s) = self.session.as_mut() {
                s.reset();
            }
            self.after_restart();
        }
        let now = self.step_count();
        if let Some(p) = self.guide.active.as_mut() {
            p.entered_at = now;
        }
        self.notify(Notice::info(format!("Lesson: {title} — step {} of {n}.", step + 1)));
    }

    /// Applies a config to the run: hyper-parameters at once, a new model shape or new data by rebuilding
    /// (and saying so). An invalid config is refused with the reason; the run goes on unchanged.
    pub fn set_config(&mut self, cfg: RunConfig) {
        if let Err(e) = cfg.validate() {
            self.notify(Notice::error(e.to_string()));
            return;
        }
        let Some(session) = self.session.as_mut() else {
            self.open(cfg, None);
            return;
        };
        let old = session.config().clone();
        if old == cfg {
            self.draft = cfg;
            return;
        }
        // Custom data (a CSV, added points) is not what the config generates: a new seed or model keeps it by
        // reopening on it; picking another dataset drops it.
        if let Some(custom) = self.custom_data.clone() {
            if cfg.data != old.data && cfg.data.dataset != DatasetKind::Csv {
                self.custom_data = None;
            } else if old.rebuild_for(&cfg) == Rebuilt::Data {
                self.comparison = None;
                self.open(cfg, Some(custom));
                self.notify(Notice::info("New settings on your own data: the run starts again from step 0."));
                return;
            }
        }
        match session.set_config(cfg.clone()) {
            Ok(Rebuilt::Nothing) => self.draft = cfg,
            Ok(Rebuilt::Model) => {
                self.draft = cfg;
                self.comparison = None;
                self.after_restart();
                self.notify(Notice::info(
                    "The model's shape changed: it was re-initialised and training starts again from step 0.",
                ));
            }
            Ok(Rebuilt::Data) => {
                self.draft = cfg;
                self.comparison = None;
                self.pruned.clear();
                self.after_restart();
                self.notify(Notice::info("New data (or seed): a new data set, a new model, back to step 0."));
            }
            Err(e) => {
                self.draft = old;
                self.notify(Notice::error(e.to_string()));
            }
        }
        // Hyper-parameters apply to the comparison run too, so the two runs differ only in their data.
        if let Some(c) = self.comparison.as_mut() {
            let mut ccfg = self.draft.clone();
            ccfg.data = c.session.config().data.clone();
            if let Err(e) = c.session.set_config(ccfg) {
                self.notify(Notice::warning(format!("The comparison run kept its old settings: {e}")));
            }
        }
    }

    fn add_point(&mut self, x: [f32; 2], class: usize) {
        let Some(data) = self.data() else { return };
        if data.kind != InputKind::Points || data.dim != 2 {
            self.notify(Notice::warning("Points can be added only to 2-D data."));
            return;
        }
        let mut d = data.clone();
        let class = class.min(d.classes.saturating_sub(1));
        d.x.extend_from_slice(&x);
        d.labels.push(class);
        d.mixed.push(false);
        d.boundary.push(false);
        self.custom_data = Some(d.clone());
        self.comparison = None;
        self.pruned.clear();
        if let Some(s) = self.session.as_mut() {
            s.replace_data(d);
        }
        self.after_restart();
        self.notify(Notice::info(format!(
            "Added a point of class {class} at ({:.2}, {:.2}): training starts again on the new data.",
            x[0], x[1]
        )));
    }

    fn load_csv(&mut self, name: &str, text: &str) {
        self.csv_error = None;
        match spherelab_core::data::parse_csv(text, name) {
            Ok(data) => {
                let mut cfg = self.draft.clone();
                cfg.data.dataset = DatasetKind::Csv;
                cfg.data.csv_path = Some(name.to_string());
                let summary = format!(
                    "Loaded {name}: {} samples, {} columns, {} classes. Training starts from step 0.",
                    data.len(),
                    data.dim,
                    data.classes
                );
                self.custom_data = Some(data.clone());
                self.comparison = None;
                self.pruned.clear();
                self.open(cfg, Some(data));
                self.notify(Notice::info(summary));
            }
            Err(e) => {
                let msg = format!("{name} could not be loaded: {e}");
                self.csv_error = Some(msg.clone());
                self.notify(Notice::error(msg));
            }
        }
    }

    fn start_comparison(&mut self) {
        let Some(session) = self.session.as_ref() else { return };
        if self.pruned.is_empty() {
            self.notify(Notice::warning("Nothing to leave out: preview a pruning first."));
            return;
        }
        let cfg = session.config().clone();
        let data = session.data().clone();
        match backend_choice::open(self.backend_pref, cfg, Some(data), &self.pruned) {
            Ok(opened) => {
                let n = self.pruned.len();
                self.comparison = Some(Comparison {
                    session: opened.session,
                    excluded: self.pruned.clone(),
                    label: format!("pruned ({n} left out)"),
                    diverged: None,
                });
                // Both runs start from step 0 with the same seed, so their curves line up step for step.
                if let Some(s) = self.session.as_mut() {
                    s.reset();
                }
                self.after_restart();
                self.playing = true;
                self.notify(Notice::info(format!(
                    "Retraining from the same seed without {n} samples, alongside the full run (both from step 0)."
                )));
            }
            Err(e) => self.notify(Notice::error(format!("The pruned run could not start: {e}"))),
        }
    }

    /// Trains for at most `max_steps` steps within `budget_ms` milliseconds: a step is taken only when the
    /// measured time of a step still fits (the first one always when `first_free`, so training moves even
    /// when a step costs more than the budget). Metrics due at a step are started, not computed: their
    /// pieces run in later frames (`advance_evaluations`). Returns the number of steps taken.
    fn train_steps(&mut self, max_steps: usize, budget_ms: f64, first_free: bool) -> usize {
        let start = Instant::now();
        let mut taken = 0;
        if let (Some(cap), Some(s)) = (self.max_unread_steps, self.session.as_mut()) {
            let read = s.history().steps.last().map(|r| r.step).unwrap_or(0);
            let limit = cap.min(self.steps_last_frame.max(1));
            if s.step_count().saturating_sub(read) > limit {
                if let Err(e) = s.collect_losses(false) {
                    self.fail(e);
                }
                return 0;
            }
        }
        while taken < max_steps {
            let fits = start.elapsed().as_secs_f64() * 1e3 + self.step_ms <= budget_ms;
            if !(fits || taken == 0 && first_free) {
                break;
            }
            let Some(session) = self.session.as_mut() else { return taken };
            let t = Instant::now();
            if let Err(e) = session.step() {
                self.fail(e);
                break;
            }
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let every = session.config().train.eval_every.max(1);
            if session.step_count() % every == 0
                && let Err(e) = session.start_evaluation()
            {
                self.fail(e);
                break;
            }
            let t = Instant::now();
            if let Some(c) = self.comparison.as_mut()
                && c.diverged.is_none()
            {
                let every = c.session.config().train.eval_every.max(1);
                let r = c.session.step().and_then(|_| {
                    if c.session.step_count() % every == 0 { c.session.start_evaluation() } else { Ok(()) }
                });
                if let Err(e) = r {
                    c.diverged = Some(e.to_string());
                }
            }
            // The cost of one step of the run (and of the comparison run, when there is one), smoothed.
            let ms = ms + t.elapsed().as_secs_f64() * 1e3;
            self.step_ms = if self.step_ms == 0.0 { ms } else { 0.9 * self.step_ms + 0.1 * ms };
            taken += 1;
            self.steps_since_snapshot += 1;
        }
        if let Some(s) = self.session.as_mut()
            && let Err(e) = s.collect_losses(false)
        {
            self.fail(e);
        }
        if taken > 0 {
            self.steps_last_frame = taken;
        }
        taken
    }

    /// Does pieces of the pending evaluations (the run's, then the comparison's) while `budget_ms` lasts,
    /// counted from `start`. Returns whether work remains.
    fn advance_evaluations(&mut self, start: Instant, budget_ms: f64) -> bool {
        loop {
            let mut more = false;
            if let Some(s) = self.session.as_mut() {
                match s.advance_evaluation() {
                    Ok(m) => more |= m,
                    Err(e) => {
                        self.fail(e);
                        return false;
                    }
                }
            }
            if let Some(c) = self.comparison.as_mut()
                && c.diverged.is_none()
            {
                match c.session.advance_evaluation() {
                    Ok(m) => more |= m,
                    Err(e) => c.diverged = Some(e.to_string()),
                }
            }
            if !more || start.elapsed().as_secs_f64() * 1e3 >= budget_ms {
                return more;
            }
        }
    }

    /// Stops training after an error; divergence gets the prominent banner.
    fn fail(&mut self, e: Error) {
        self.playing = false;
        match e {
            Error::Diverged(msg) => self.diverged = Some(msg),
            other => self.notify(Notice::error(format!("Training stopped: {other}"))),
        }
    }

    /// Called once per frame: within the frame budget, first the pending metrics (they belong to steps
    /// already taken), then, while playing, training steps with the time left, then pieces of the
    /// experiment (half the budget goes to it while the main run plays, so both move). Returns whether there
    /// is more to do (the caller then asks for another frame).
    pub fn tick(&mut self) -> bool {
        let start = Instant::now();
        let experimenting = self.experiment.as_ref().is_some_and(|e| !e.is_done());
        let run_budget = if experimenting { self.frame_budget_ms / 2.0 } else { self.frame_budget_ms };
        let main = self.tick_run(run_budget);
        let used = start.elapsed().as_secs_f64() * 1e3;
        let more = experimenting && self.advance_experiment(self.frame_budget_ms - used);
        let regions = match self.session.as_deref() {
            Some(s) => self.probe_regions.advance(s, self.snapshot.as_ref(), self.heat.as_ref()),
            None => false,
        };
        self.observe_lesson();
        main || more || regions
    }

    /// Marks the lesson's step observed when its condition holds on the run.
    fn observe_lesson(&mut self) {
        let step = self.step_count();
        let latest = self.session.as_deref().and_then(|s| s.history().metrics.last().cloned());
        if self.guide.observe(step, latest.as_ref())
            && let Some(c) = self.guide.step().and_then(|s| s.until)
        {
            self.notify(Notice::info(format!("Observed: {c} at step {step} ✓")));
        }
    }

    /// Does pieces of the experiment for about `budget_ms` (at least one piece, so it always moves).
    /// Returns whether it has work left.
    fn advance_experiment(&mut self, budget_ms: f64) -> bool {
        let Some(e) = self.experiment.as_mut() else { return false };
        let start = Instant::now();
        let mut more = e.advance();
        while more && start.elapsed().as_secs_f64() * 1e3 < budget_ms {
            more = e.advance();
        }
        more
    }

    fn tick_run(&mut self, budget_ms: f64) -> bool {
        if self.diverged.is_some() || self.session.is_none() {
            return false;
        }
        let start = Instant::now();
        // The snapshot refresh after training shares the frame's budget.
        let budget = (budget_ms - self.snapshot_ms).max(0.0);
        let metric_work = self.session().map_or(0, |s| s.evaluations_pending())
            + self.comparison.as_ref().map_or(0, |c| c.session.evaluations_pending());
        let evaluating = metric_work > 0 && self.advance_evaluations(start, budget);
        if !self.playing {
            self.last_playing_tick = None;
            let metrics_ms = start.elapsed().as_secs_f64() * 1e3;
            let catching_up = self.catch_up();
            self.last_tick_ms = start.elapsed().as_secs_f64() * 1e3;
            self.last_tick_parts =
                [("metrics", metrics_ms), ("steps", 0.0), ("snapshot", self.last_tick_ms - metrics_ms)];
            return catching_up || evaluating;
        }
        // Metrics still unfinished after the budget: no steps this frame, so they never pile up. A frame
        // that did some metric work trains only with the time left; one that did none takes at least a step.
        let metrics_ms = start.elapsed().as_secs_f64() * 1e3;
        let left = budget - metrics_ms;
        let taken = if evaluating { 0 } else { self.train_steps(self.steps_per_frame, left, metric_work == 0) };
        let steps_ms = start.elapsed().as_secs_f64() * 1e3 - metrics_ms;
        let mut snapshot_ms = 0.0;
        // Steps per second of wall-clock time, from one playing frame to the next (drawing included), with an
        // exponential average to keep the displayed speed steady.
        if let Some(previous) = self.last_playing_tick {
            let rate = taken as f64 / (start - previous).as_secs_f64().max(1e-6);
            self.steps_per_second =
                if self.steps_per_second == 0.0 { rate } else { 0.9 * self.steps_per_second + 0.1 * rate };
        }
        self.last_playing_tick = Some(start);
        if self.steps_since_snapshot >= self.snapshot_every {
            let t = Instant::now();
            self.refresh_snapshot();
            snapshot_ms = t.elapsed().as_secs_f64() * 1e3;
            self.snapshot_ms =
                if self.snapshot_ms == 0.0 { snapshot_ms } else { 0.8 * self.snapshot_ms + 0.2 * snapshot_ms };
        }
        self.last_tick_ms = start.elapsed().as_secs_f64() * 1e3;
        self.last_tick_parts = [("metrics", metrics_ms), ("steps", steps_ms), ("snapshot", snapshot_ms)];
        let cfg_steps = self.session().map(|s| s.config().train.steps).unwrap_or(0);
        if self.step_count() >= cfg_steps && cfg_steps > 0 {
            self.playing = false;
            self.notify(Notice::info(format!(
                "Reached {cfg_steps} steps, the schedule's length. Press Play to keep training, or raise \"steps\"."
            )));
            // The next Play continues past the end: the schedule holds its final learning rate.
            if let Some(s) = self.session.as_mut() {
                let mut cfg = s.config().clone();
                cfg.train.steps = cfg_steps * 2;
                if s.set_config(cfg.clone()).is_ok() {
                    self.draft.train.steps = cfg.train.steps;
                }
            }
        }
        true
    }

    /// While paused: a run whose views lag its steps (the browser's mirrored GPU run, after a pause or a
    /// single step) takes what has arrived and redraws. Returns whether it is still catching up (the
    /// caller then asks for another frame). A CPU run never lags, so this does nothing there.
    fn catch_up(&mut self) -> bool {
        let behind = self.snapshot.as_ref().is_some_and(|s| s.step < self.step_count());
        if behind {
            if let Some(s) = self.session.as_mut()
                && let Err(e) = s.collect_losses(false)
            {
                self.fail(e);
            }
            self.refresh_snapshot();
        }
        behind
    }

    /// Re-reads the embeddings of every sample, the last batch and the selection's marks from the run.
    pub fn refresh_snapshot(&mut self) {
        self.steps_since_snapshot = 0;
        let Some(session) = self.session.as_deref() else { return };
        if self.diverged.is_some() {
            return;
        }
        let emb = session.embeddings();
        if emb.z.data.iter().any(|v| !v.is_finite()) {
            self.playing = false;
            self.diverged = Some(
                "The embeddings contain NaN or infinite values: training diverged. The learning rate is probably \
                 too high (or the temperature too low); lower it and press Reset."
                    .into(),
            );
            return;
        }
        self.z_projection = (emb.z.cols > 3).then(|| Pca2::fit(&emb.z.data, emb.z.cols));
        self.z_density = (emb.z.cols == 2).then(|| {
            let data = session.data();
            angular_density(&emb.z, &data.labels, data.classes, density::DEFAULT_BANDWIDTH)
        });
        self.snapshot = Some(emb);
        self.batch = session.inspect_batch();
        self.selection_marked = self.batch.as_ref().map(selection_marks).unwrap_or_default();
        self.refresh_hover_views();
        self.refresh_heat();
    }

    /// Runs the model on the heat map's grid (2-D data only).
    fn refresh_heat(&mut self) {
        self.heat = None;
        let (Some(grid), Some(session)) = (self.heat_grid, self.session.as_deref()) else { return };
        let data = session.data();
        if data.kind != InputKind::Points || data.dim != 2 || grid.res == 0 {
            return;
        }
        let (h, z) = session.forward(&grid.points());
        self.heat = Some(HeatValues { step: self.snapshot.as_ref().map_or(0, |s| s.step), grid, h, z });
    }

    /// Recomputes the augmented views of the hovered sample and where the model puts them.
    fn refresh_hover_views(&mut self) {
        self.hover_views = None;
        let (Some(i), Some(session)) = (self.hovered, self.session.as_deref()) else { return };
        let data = session.data();
        if i >= data.len() {
            return;
        }
        let cfg = session.config();
        // A fixed stream per sample, so the views of a hovered point do not flicker between frames.
        let mut rng = spherelab_core::rng::rng(cfg.seed ^ ((i as u64) << 20), spherelab_core::rng::stream::TEST + 1);
        let mut x_rows = Vec::new();
        let mut flat = Vec::new();
        for _ in 0..4 {
            let v = spherelab_core::data::make_views(data, &[i], &cfg.augment, &mut rng);
            for row in v.chunks(data.dim) {
                x_rows.push(row.to_vec());
                flat.extend_from_slice(row);
            }
        }
        let (_, z) = session.forward(&flat);
        let z_rows = (0..z.rows).map(|r| z.row(r).to_vec()).collect();
        self.hover_views = Some(HoverViews { sample: i, x: x_rows, z: z_rows });
    }
}

/// Samples the selection singles out in a batch. For each anchor, the partner of its most similar flagged
/// pair is the hardest negative the selection found for it; a sample that is that hardest partner for
/// several anchors sits where the classes meet. Returns those samples (at most about a sixth of the batch).
pub fn selection_marks(batch: &BatchInspection) -> Vec<usize> {
    let Some(flags) = &batch.flags else { return Vec::new() };
    let n = batch.indices.len();
    let hn = batch.h.normalized_rows();
    let mut count = vec![0usize; n];
    for i in 0..flags.rows {
        let mut best: Option<(f32, usize)> = None;
        for k in 0..flags.cols {
            if !flags.get(i, k) {
                continue;
            }
            // Rows of h are views; the cross-view layout (spectral) pairs view-1 row i with view-2 row k.
            let (ri, rk) = if flags.cols == n { (i, k + n) } else { (i, k) };
            if ri >= hn.rows || rk >= hn.rows {
                continue;
            }
            let s: f32 = hn.row(ri).iter().zip(hn.row(rk)).map(|(a, b)| a * b).sum();
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, rk % n));
            }
        }
        if let Some((_, k)) = best {
            count[k] += 1;
        }
    }
    let mut order: Vec<usize> = (0..n).filter(|&k| count[k] >= 2).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(count[k]));
    order.truncate((n / 6).max(1));
    order.into_iter().map(|k| batch.indices[k]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use spherelab_core::config::PairMode;

    fn small() -> RunConfig {
        let mut c = RunConfig::default();
        c.data.n = 120;
        c.train.steps = 8;
        c.train.batch_size = 32;
        c.model.encoder = vec![8];
        c.model.projector = vec![2];
        c
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
        let (data, train) = (lab.data().unwrap().clone(), lab.session().unwrap().active_train().to_vec());
        let per_class = |c: usize| train.iter().filter(|&&i| data.labels[i] == c).count();
        let want: usize = (0..data.classes).map(|c| (0.1 * per_class(c) as f64).round() as usize).sum();
        assert_eq!(lab.pruned.len(), want);
        assert!(want > 0 && lab.pruned.iter().all(|i| train.contains(i) && data.difficult(*i)));
        let oracle = lab.pruned.clone();
        lab.apply(Command::PreviewPruning(PruneSpec { score: difficulty::ScoreKind::Random, fraction: 0.1 }));
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
        assert!(lab.probe_regions.done.is_none(), "nothing fitted unless shown");
        lab.apply(Command::ShowProbeRegions(true));
        let mut frames = 0;
        while lab.tick() {
            frames += 1;
            assert!(frames < 200, "the fit ends");
        }
        assert!(frames >= 5, "spread over frames: {frames}");
        let r = lab.probe_regions.done.clone().expect("regions");
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
        assert!(!lab.probe_regions.in_progress());
        assert_eq!(lab.probe_regions.done.as_ref().map(|d| d.step), Some(r.step), "no refit while hidden");
    }

    /// Wider data and embeddings are projected by the lab, with the snapshot: the digits' 64-D inputs and an
    /// 8-D z; two moons in a 2-D embedding need neither.
    #[test]
    fn projections_are_fitted_with_the_run_and_its_snapshots() {
        let lab = Lab::new(small(), BackendPreference::Cpu);
        assert!(lab.data_projection.is_none() && lab.z_projection.is_none());
        // d = 2: the angular density instead, every sample counted once in its class's curve.
        let density = lab.z_density.as_ref().expect("a density for d = 2");
        let data = lab.data().unwrap();
        assert_eq!(density.len(), data.classes);
        assert!(density.iter().all(|c| c.len() == density::ANGLE_BINS && c.iter().any(|&v| v > 0.0)));
        let mut cfg = small();
        cfg.data.dataset = DatasetKind::Digits;
        cfg.model.projector = vec![8];
        let lab = Lab::new(cfg, BackendPreference::Cpu);
        assert_eq!(lab.data_projection.as_ref().map(|p| p.mean.len()), Some(64));
        assert_eq!(lab.z_projection.as_ref().map(|p| p.dirs[0].len()), Some(8));
        assert!(lab.z_density.is_none());
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
            assert!(lab.last_tick_ms < 1000.0, "a frame took {} ms", lab.last_tick_ms);
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
    #[test]
    fn a_refused_change_keeps_the_run_and_its_history() {
        let mut lab = Lab::new(small(), BackendPreference::Cpu);
        lab.frame_budget_ms = f64::INFINITY;
        lab.steps_per_frame = 3;
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
