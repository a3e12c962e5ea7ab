//! The lab's guide: which lesson is open and where the student is in it, which panels are shown, and the
//! presenter and embed modes. Plain state, changed only through the lab's commands (`Lab::apply`), and
//! read by the app's layout; the lessons themselves are data (lessons/*.toml, core's `lesson` module).

use spherelab_core::RunConfig;
use spherelab_core::lesson::{self, Lesson, Metric, Panel, Step};
use spherelab_core::training::history::MetricRecord;

/// Where the student is in an open lesson.
#[derive(Clone, Debug, PartialEq)]
pub struct LessonProgress {
    /// Index into `Guide::lessons`.
    pub lesson: usize,
    /// The step shown (0-based).
    pub step: usize,
    /// Each step's condition has held at some point while it was shown.
    pub observed: Vec<bool>,
    /// The choice picked for each step's question.
    pub answers: Vec<Option<usize>>,
    /// The run's step count when the shown step's settings were applied: its condition reads only what
    /// happened since (evaluations taken after it, steps counted from it), never what the previous step's
    /// settings did.
    pub entered_at: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Guide {
    pub lessons: Vec<Lesson>,
    pub active: Option<LessonProgress>,
    /// Panels and control sections a link folded away (`hide=`): never shown, in a lesson or the full lab.
    pub hidden: Vec<Panel>,
    /// Large type, only the lesson's panels: for a projector.
    pub presenter: bool,
    /// No chrome, only the lesson's panels: for an iframe in slides or a course page.
    pub embed: bool,
    /// The first-start card is showing (the lab trains behind it).
    pub welcome: bool,
    /// The card was answered (or a lesson opened): it is not shown again (the app saves this).
    pub welcome_answered: bool,
}

/// A metric of the live run, as a lesson's condition reads it: the step count, or the latest evaluation
/// (docs/math.md §4). None before the first evaluation, and for the selection's metrics with selection off.
pub fn metric_value(metric: Metric, step: usize, latest: Option<&MetricRecord>) -> Option<f64> {
    if metric == Metric::Step {
        return Some(step as f64);
    }
    let r = latest?;
    match metric {
        Metric::Step => Some(step as f64),
        Metric::Loss => Some(r.loss as f64),
        Metric::Alignment => Some(r.alignment),
        Metric::Uniformity => Some(r.uniformity),
        Metric::Tolerance => Some(r.tolerance),
        Metric::Knn => Some(r.knn_accuracy),
        Metric::Probe => Some(r.probe_accuracy),
        Metric::Rank => Some(r.effective_rank),
        Metric::Precision => r.selection_precision,
        Metric::Flagged => r.flagged_fraction,
    }
}

impl Guide {
    /// The shipped lessons, read against the app's default run.
    pub fn new(base: &RunConfig) -> Self {
        // The shipped files are checked by the tests; a broken one would leave the lessons out, not the lab.
        Self { lessons: lesson::builtin(base).unwrap_or_default(), ..Self::default() }
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.lessons.iter().position(|l| l.id == id)
    }

    pub fn lesson(&self) -> Option<&Lesson> {
        self.active.as_ref().and_then(|p| self.lessons.get(p.lesson))
    }

    pub fn step(&self) -> Option<&Step> {
        let p = self.active.as_ref()?;
        self.lessons.get(p.lesson)?.steps.get(p.step)
    }

    /// Opens lesson `index` at `step`; returns the lesson for the lab to apply its config.
    pub fn open(&mut self, index: usize, step: usize) -> Option<&Lesson> {
        let l = self.lessons.get(index)?;
        let n = l.steps.len();
        self.active = Some(LessonProgress {
            lesson: index,
            step: step.min(n - 1),
            observed: vec![false; n],
            answers: vec![None; n],
            entered_at: 0,
        });
        self.welcome = false;
        self.welcome_answered = true;
        self.lessons.get(index)
    }

    /// Goes to step `step` of the open lesson (clamped); returns whether it moved.
    pub fn go(&mut self, step: usize) -> bool {
        let Some(p) = self.active.as_mut() else { return false };
        let n = self.lessons[p.lesson].steps.len();
        let to = step.min(n - 1);
        let moved = to != p.step;
        p.step = to;
        moved
    }

    pub fn answer(&mut self, choice: usize) {
        if let Some(p) = self.active.as_mut()
            && let Some(q) = self.lessons[p.lesson].steps[p.step].question.as_ref()
            && choice < q.choices.len()
        {
            p.answers[p.step] = Some(choice);
        }
    }

    /// Marks the shown step observed when its condition holds on the run now; returns true the moment it does.
    /// `step` counts the steps since the step's settings were applied, and only evaluations taken since count.
    pub fn observe(&mut self, step_count: usize, latest: Option<&MetricRecord>) -> bool {
        let Some(p) = self.active.as_mut() else { return false };
        let Some(cond) = self.lessons[p.lesson].steps[p.step].until.as_ref() else { return false };
        // A run that restarted counts from 0 again.
        p.entered_at = p.entered_at.min(step_count);
        let latest = latest.filter(|r| r.step > p.entered_at);
        let steps = step_count - p.entered_at;
        if p.observed[p.step] || !cond.holds(|metric| metric_value(metric, steps, latest)) {
            return false;
        }
        p.observed[p.step] = true;
        true
    }

    /// Whether `panel` is drawn now: in a lesson, those its step shows; in the full lab, all; never one a link
    /// hid.
    pub fn shows(&self, panel: Panel) -> bool {
        if self.hidden.contains(&panel) {
            return false;
        }
        match self.step() {
            Some(s) => s.show.contains(&panel),
            None => true,
        }
    }

    /// The panel the step points at.
    pub fn watched(&self) -> Option<Panel> {
        self.step().map(|s| s.watch)
    }

    /// Reads a `hide=` list; returns the names it did not know.
    pub fn hide(&mut self, names: &[String]) -> Vec<String> {
        let mut unknown = Vec::new();
        for n in names {
            match Panel::parse(n) {
                Ok(p) if !self.hidden.contains(&p) => self.hidden.push(p),
                Ok(_) => {}
                Err(_) => unknown.push(n.clone()),
            }
        }
        unknown
    }

    /// The link to this view: the lesson and step (counting from 1), the modes and the hidden panels, for
    /// the Export tab's snippets.
    pub fn link_keys(&self, embed: bool, presenter: bool) -> String {
        let mut keys = Vec::new();
        if let (Some(l), Some(p)) = (self.lesson(), self.active.as_ref()) {
            keys.push(format!("lesson={}", l.id));
            keys.push(format!("step={}", p.step + 1));
        }
        if presenter {
            keys.push("presenter=1".to_string());
        }
        if embed {
            keys.push("embed=1".to_string());
        }
        if !self.hidden.is_empty() {
            keys.push(format!("hide={}", self.hidden.iter().map(|p| p.name()).collect::<Vec<_>>().join(",")));
        }
        keys.join("&")
    }
}
