//! The run and its lifecycle: opening a run on a backend, applying a config (hyper-parameters at once, a
//! rebuild when the model or the data change: the restart rule, `RunConfig::rebuild_for`, decided once in
//! `edit_outcome`), custom data (a CSV, added points), the pruning preview and comparison run, lessons and links.

use spherelab_core::analysis::projection::Pca2;
use spherelab_core::config::DatasetKind;
use spherelab_core::data::{Dataset, InputKind};
use spherelab_core::difficulty::{self, PruneSpec};
use spherelab_core::trainer::Rebuilt;
use spherelab_core::{RunConfig, Session};

use super::{Lab, Notice};
use crate::backend_choice;
use spherelab_core::lesson::{self, Panel};
use spherelab_core::url_state::ViewLink;

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

/// The second run of a pruning experiment: same seed and initialisation, fewer training samples.
pub struct Comparison {
    pub session: Box<dyn Session>,
    /// Training samples left out.
    pub excluded: Vec<usize>,
    /// Which score chose them, for the legend.
    pub label: String,
    pub diverged: Option<String>,
}

impl Lab {
    /// Replaces the run by a new one on `config` (and `data`, when given).
    pub(super) fn open(&mut self, config: RunConfig, data: Option<Dataset>) {
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
    pub(super) fn after_restart(&mut self) {
        self.diverged = None;
        self.views.batch = None;
        self.views.anchor = None;
        self.views.hover_views = None;
        self.views.selection_marked.clear();
        self.schedule.steps_since_snapshot = 0;
        self.views.data_projection = self.data().filter(|d| d.dim > 2).map(|d| Pca2::fit(&d.x, d.dim));
        self.refresh_snapshot();
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
            Ok(Rebuilt::Nothing) => {
                self.draft = cfg;
                self.refresh_hardness(); // τ may have changed
            }
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

    pub(super) fn add_point(&mut self, x: [f32; 2], class: usize) {
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

    pub(super) fn load_csv(&mut self, name: &str, text: &str) {
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

    pub(super) fn start_comparison(&mut self) {
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
                self.schedule.playing = true;
                self.notify(Notice::info(format!(
                    "Retraining from the same seed without {n} samples, alongside the full run (both from step 0)."
                )));
            }
            Err(e) => self.notify(Notice::error(format!("The pruned run could not start: {e}"))),
        }
    }

    /// The training samples `spec` removes, scored on the snapshot's h of the training samples (k-means and
    /// probe fits for the margin scores: work done once, on the click, not while drawing).
    pub(super) fn preview_pruning(&mut self, spec: PruneSpec) {
        let (Some(session), Some(snap)) = (self.session.as_deref(), self.views.snapshot.as_ref()) else { return };
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
    pub(super) fn open_lesson(&mut self, id: &str, step: usize) {
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
    pub(super) fn apply_lesson_step(&mut self) {
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
}
