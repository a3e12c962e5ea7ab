//! The lab's vocabulary: what a panel asks (`Command`, applied after the frame by `Lab::apply`) and what the
//! lab tells the user (`Notice`).

use spherelab_core::RunConfig;
use spherelab_core::difficulty::PruneSpec;
use spherelab_core::study::Method;

use super::HeatGrid;

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
    /// The hardness view's second temperature, as a factor of τ.
    SetHardnessCompare(f32),
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
    /// The same on the regime of spherelab's study (its `paper` preset: digits, its largest ω, its model).
    StartPaperExperiment {
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
