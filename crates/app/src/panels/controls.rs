//! The controls on the left: data (a gallery of the datasets, n, noise, ω, augmentations, your own CSV, the
//! class of points you add by clicking the input plane), model, loss, selection of difficult pairs, and the
//! optimiser. They edit a copy of the config; the lab applies it while training runs.

use egui::{Color32, RichText, Sense, Vec2};
use serde::{Deserialize, Serialize};
use spherelab_core::RunConfig;
use spherelab_core::config::{Activation, DatasetKind, LossKind, OptimizerKind, PairMode, Schedule};
use spherelab_core::data::{self, Dataset, InputKind};
use spherelab_core::lesson::Panel;

use super::class_color;
use crate::lab::{Command, Lab};

/// A dataset's thumbnail: a few hundred generated points (or one digit), drawn once.
struct Thumbnail {
    kind: DatasetKind,
    data: Option<Dataset>,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Controls {
    /// CSV text pasted or dropped in.
    #[serde(skip)]
    pub csv_text: String,
    #[serde(skip)]
    csv_name: String,
    /// Encoder widths as the user types them ("32, 32, 16").
    #[serde(skip)]
    encoder_text: Option<String>,
    #[serde(skip)]
    thumbnails: Vec<Thumbnail>,
}

impl Controls {
    /// Draws the sections `show` lets through (a lesson shows a few, a link can hide some).
    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab, show: &dyn Fn(Panel) -> bool) -> Vec<Command> {
        let mut out = Vec::new();
        // What the controls show: an edit held back mid-drag, else the applied config (Lab::pending, Lab::draft).
        let mut cfg = lab.pending.clone().unwrap_or_else(|| lab.draft.clone());
        let before = cfg.clone();
        let section = |ui: &mut egui::Ui, panel: Panel, add: &mut dyn FnMut(&mut egui::Ui)| {
            if show(panel) {
                egui::CollapsingHeader::new(RichText::new(panel.title()).strong())
                    .default_open(true)
                    .show(ui, |ui| add(ui));
            }
        };
        section(ui, Panel::Data, &mut |ui| self.data_ui(ui, lab, &mut cfg, &mut out));
        section(ui, Panel::Model, &mut |ui| self.model_ui(ui, &mut cfg));
        section(ui, Panel::Loss, &mut |ui| loss_ui(ui, &mut cfg));
        section(ui, Panel::Selection, &mut |ui| selection_ui(ui, &mut cfg));
        section(ui, Panel::Optimiser, &mut |ui| optimizer_ui(ui, &mut cfg));

        // The lab applies the edit or holds it back until the pointer's release (lab::edit_outcome).
        if cfg != before || lab.pending.is_some() {
            let pointer_down = ui.input(|i| i.pointer.any_down());
            out.push(Command::EditConfig { config: Box::new(cfg), pointer_down });
        }
        out
    }

    fn data_ui(&mut self, ui: &mut egui::Ui, lab: &Lab, cfg: &mut RunConfig, out: &mut Vec<Command>) {
        self.gallery(ui, cfg);
        let is_points = cfg.data.dataset != DatasetKind::Digits && cfg.data.dataset != DatasetKind::Csv;
        ui.add_enabled_ui(is_points, |ui| {
            ui.add(egui::Slider::new(&mut cfg.data.n, 64..=4096).logarithmic(true).text("samples n")).on_hover_text(
                "How many points to generate. More points: smoother classes, slower metrics. The batch is drawn \
                 from these.",
            );
            if matches!(cfg.data.dataset, DatasetKind::Blobs | DatasetKind::Rings | DatasetKind::Spirals) {
                ui.add(egui::Slider::new(&mut cfg.data.classes, 2..=8).text("classes")).on_hover_text(
                    "Number of classes (blobs, rings, spiral arms). Contrastive learning never sees the labels: \
                     watch whether the classes still separate on the sphere.",
                );
            }
            ui.add(egui::Slider::new(&mut cfg.data.noise, 0.0..=0.5).text("noise")).on_hover_text(
                "Gaussian noise of the generator. More noise blurs the boundary between classes: more points \
                 become hard to tell apart.",
            );
        });
        ui.add_enabled_ui(cfg.data.dataset != DatasetKind::Csv, |ui| {
            ui.add(egui::Slider::new(&mut cfg.data.omega, 0.0..=0.5).text("ω difficult mix")).on_hover_text(format!(
                "ω: this fraction of the training samples is mixed with a partner of another class: a becomes \
                 λ·a + (1−λ)·b, with the mixing weight λ drawn from [{:.2}, {:.2}] (not the theory tab's \
                 eigenvalue λ), and keeps its label; test samples are never mixed (docs/math.md §3.1). These are \
                 the paper's difficult-to-learn examples, ringed red in the input plane. The paper reports that \
                 they lower accuracy; spherelab's study (docs/study.md) measured a cost of about 1–2 probe points \
                 at ω = 0.3 on digits and moons (digits: +1.2 [−0.2, +2.6] over 10 seeds, an interval that still \
                 includes 0) and none on blobs, rings and spirals.",
                cfg.data.mix_lambda_min, cfg.data.mix_lambda_max
            ));
        });
        ui.label(RichText::new("Augmentations (how the two views of a sample differ)").small().weak());
        if cfg.data.dataset == DatasetKind::Digits {
            ui.add(egui::Slider::new(&mut cfg.augment.shift_prob, 0.0..=1.0).text("shift prob.")).on_hover_text(
                "Chance of shifting the digit by one pixel. Stronger augmentation: the model must ignore more, \
                 so alignment is harder but features are more robust.",
            );
            ui.add(egui::Slider::new(&mut cfg.augment.pixel_noise, 0.0..=0.5).text("pixel noise"))
                .on_hover_text("Noise added to every pixel of a view. The model learns to ignore it.");
            ui.add(egui::Slider::new(&mut cfg.augment.erase_prob, 0.0..=1.0).text("erase prob."))
                .on_hover_text("Chance of blanking a small square of the digit in a view.");
        } else {
            ui.add(egui::Slider::new(&mut cfg.augment.jitter, 0.0..=0.5).text("jitter")).on_hover_text(
                "Gaussian jitter of a view (in units of the data's spread). Hover a point in the input plane to \
                 see its views. Too much jitter and views of different classes overlap: the positives lie.",
            );
            ui.add(egui::Slider::new(&mut cfg.augment.rotation_deg, 0.0..=90.0).text("rotation °"))
                .on_hover_text("Random rotation of a view about the data's centre, up to this angle.");
            ui.add(egui::Slider::new(&mut cfg.augment.scale, 0.0..=0.5).text("scale"))
                .on_hover_text("Random scaling of a view: 0.1 means ×0.9 to ×1.1.");
        }

        ui.add_space(4.0);
        let classes = lab.data().map(|d| d.classes).unwrap_or(2).max(1);
        ui.horizontal(|ui| {
            ui.label("click adds class").on_hover_text(
                "Click on the input plane to add a point of this class (2-D data). The run restarts on the new \
                 data: try adding a point of one class deep inside another.",
            );
            for c in 0..classes.min(10) {
                let selected = lab.add_class.min(classes - 1) == c;
                let text = RichText::new(format!("{c}")).color(if selected { Color32::BLACK } else { class_color(c) });
                let b = egui::Button::new(text).fill(if selected { class_color(c) } else { Color32::TRANSPARENT });
                if ui.add(b).on_hover_text(format!("Clicks on the input plane add class {c}.")).clicked() {
                    out.push(Command::SetAddClass(c));
                }
            }
        });
        if !lab.data_is_planar() {
            ui.label(RichText::new("(adding points needs 2-D data)").small().weak());
        }

        ui.add_space(4.0);
        egui::CollapsingHeader::new("Your own data (CSV)").default_open(false).show(ui, |ui| {
            ui.label(RichText::new("Paste or drop a CSV: numeric feature columns, the last column the class.").small());
            ui.add(
                egui::TextEdit::multiline(&mut self.csv_text)
                    .hint_text("x,y,class\n0.1,0.2,a\n…")
                    .desired_rows(4)
                    .desired_width(f32::INFINITY)
                    .font(egui::TextStyle::Monospace),
            )
            .on_hover_text("Paste CSV text here (or drop a .csv file on the window), then press Load CSV.");
            ui.horizontal(|ui| {
                if ui
                    .button("Load CSV")
                    .on_hover_text("Train on this data instead. Two columns are drawn as points in the plane.")
                    .clicked()
                {
                    let name = if self.csv_name.is_empty() { "pasted.csv".to_string() } else { self.csv_name.clone() };
                    out.push(Command::LoadCsv { name, text: self.csv_text.clone() });
                }
            });
            if let Some(err) = &lab.csv_error {
                ui.colored_label(Color32::from_rgb(255, 90, 90), err);
            }
        });
        // Files dropped on the window (native and browser alike) are read as CSV.
        let dropped = ui.input(|i| i.raw.dropped_files.clone());
        for f in dropped {
            let name = f.path().file_name().map(|n| n.to_string_lossy().to_string());
            let name = name.unwrap_or_else(|| "dropped.csv".to_string());
            #[cfg(not(target_arch = "wasm32"))]
            match f.bytes() {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes).to_string();
                    self.csv_text = text.clone();
                    self.csv_name = name.clone();
                    out.push(Command::LoadCsv { name, text });
                }
                Err(e) => out.push(Command::Notify(crate::lab::Notice::error(format!("{name}: {e}")))),
            }
            // The browser reads dropped files asynchronously; until the web build wires that up, pasting works.
            #[cfg(target_arch = "wasm32")]
            out.push(Command::Notify(crate::lab::Notice::warning(format!(
                "{name}: in the browser, paste the CSV's text into the box instead"
            ))));
        }
    }

    /// The gallery of datasets: a clickable thumbnail each, drawn from generated data.
    fn gallery(&mut self, ui: &mut egui::Ui, cfg: &mut RunConfig) {
        if self.thumbnails.is_empty() {
            for kind in [
                DatasetKind::Moons,
                DatasetKind::Blobs,
                DatasetKind::Rings,
                DatasetKind::Spirals,
                DatasetKind::Xor,
                DatasetKind::Digits,
            ] {
                let mut d = cfg.data.clone();
                d.dataset = kind;
                d.n = 240;
                d.omega = 0.0;
                d.csv_path = None;
                d.classes = 3;
                self.thumbnails.push(Thumbnail { kind, data: data::build(&d, 1).ok() });
            }
        }
        let tips = |k: DatasetKind| match k {
            DatasetKind::Moons => "Two moons: two interleaving half circles. Not separable by a line in the input.",
            DatasetKind::Blobs => "Gaussian blobs: the easy case. Each class is a cloud around its own centre.",
            DatasetKind::Rings => "Concentric rings: classes differ by radius, so a good embedding must untangle them.",
            DatasetKind::Spirals => "Spirals: one arm per class, wound around each other. Hard for a small model.",
            DatasetKind::Xor => "XOR / checkerboard: the class is the parity of the quadrant.",
            DatasetKind::Digits => "The 8×8 handwritten digits (1,797 images, 10 classes): a small real image task.",
            DatasetKind::Csv => "Your own CSV file.",
        };
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing = Vec2::splat(4.0);
            for t in &self.thumbnails {
                let selected = cfg.data.dataset == t.kind;
                let (rect, resp) = ui.allocate_exact_size(Vec2::new(46.0, 58.0), Sense::click());
                let p = ui.painter_at(rect);
                let bg = if selected { ui.visuals().selection.bg_fill } else { ui.visuals().extreme_bg_color };
                p.rect_filled(rect, 4.0, bg);
                let img = egui::Rect::from_min_size(rect.min + Vec2::new(3.0, 3.0), Vec2::splat(40.0));
                draw_thumbnail(&p, img, t.data.as_ref());
                p.text(
                    egui::pos2(rect.center().x, rect.bottom() - 7.0),
                    egui::Align2::CENTER_CENTER,
                    t.kind.name(),
                    egui::FontId::proportional(10.0),
                    ui.visuals().text_color(),
                );
                let resp = resp.on_hover_text(tips(t.kind));
                if resp.clicked() {
                    cfg.data.dataset = t.kind;
                    cfg.data.csv_path = None;
                    if t.kind == DatasetKind::Digits {
                        // Digits are 64 pixels: a wider encoder and weaker learning rate suit them.
                        cfg.model.encoder = vec![128, 64];
                        cfg.optimizer.lr = cfg.optimizer.lr.min(2e-3);
                    } else if cfg.model.encoder.first() == Some(&128) {
                        cfg.model.encoder = vec![32, 32, 16];
                    }
                }
            }
        });
    }

    fn model_ui(&mut self, ui: &mut egui::Ui, cfg: &mut RunConfig) {
        let current = cfg.model.encoder.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", ");
        let mut text = self.encoder_text.clone().unwrap_or(current.clone());
        ui.horizontal(|ui| {
            let label = ui.label("encoder widths");
            let r = ui.add(egui::TextEdit::singleline(&mut text).desired_width(110.0)).labelled_by(label.id);
            let r = r.on_hover_text(
                "Widths of the encoder's layers, comma-separated (e.g. 32, 32, 16). The last is the size of the \
                 features h that the probe and the selection use. Press Enter to apply; the model restarts.",
            );
            if r.changed() {
                self.encoder_text = Some(text.clone());
            }
            if r.lost_focus() {
                let parsed: Option<Vec<usize>> = text.split(',').map(|s| s.trim().parse().ok()).collect();
                match parsed {
                    Some(w) if !w.is_empty() && w.iter().all(|&v| (1..=1024).contains(&v)) => cfg.model.encoder = w,
                    _ => {}
                }
                self.encoder_text = None;
            }
        });
        egui::ComboBox::from_label("activation")
            .selected_text(cfg.model.activation.name())
            .show_ui(ui, |ui| {
                for (a, tip) in [
                    (Activation::Relu, "ReLU: max(0, x). The usual choice; piecewise-linear maps."),
                    (Activation::Tanh, "tanh: smooth and bounded; smoother embeddings."),
                    (Activation::Gelu, "GELU: a smooth ReLU, as in transformers."),
                    (Activation::Identity, "None: the whole model is linear. Can it still separate the moons?"),
                ] {
                    ui.selectable_value(&mut cfg.model.activation, a, a.name()).on_hover_text(tip);
                }
            })
            .response
            .on_hover_text("The non-linearity between layers. Watch the heat map's shape change with it.");
        let mut has_projector = !cfg.model.projector.is_empty();
        let dim = cfg.model.embedding_dim();
        if ui
            .checkbox(&mut has_projector, "projector head")
            .on_hover_text(
                "A small MLP after the encoder; the loss sees its output z, the probe sees the encoder's h. \
                 SimCLR found features before the projector generalise better.",
            )
            .changed()
        {
            if has_projector {
                let hidden = cfg.model.feature_dim().max(dim);
                cfg.model.projector = vec![hidden, dim];
                if let Some(last) = cfg.model.encoder.last_mut() {
                    *last = hidden;
                }
            } else {
                cfg.model.projector.clear();
                if let Some(last) = cfg.model.encoder.last_mut() {
                    *last = dim;
                }
            }
        }
        ui.horizontal(|ui| {
            ui.label("embedding dim").on_hover_text(
                "Dimension of z. 2: points on a circle. 3: a sphere you can turn. More: shown by a 2-D projection \
                 (PCA). Uniformity's best value depends on it.",
            );
            for d in [2usize, 3, 8, 32] {
                if ui
                    .selectable_label(dim == d, d.to_string())
                    .on_hover_text(format!("Embed on the sphere in {d} dimensions."))
                    .clicked()
                {
                    match cfg.model.projector.last_mut() {
                        Some(last) => *last = d,
                        None => {
                            if let Some(last) = cfg.model.encoder.last_mut() {
                                *last = d;
                            }
                        }
                    }
                }
            }
        });
        ui.checkbox(&mut cfg.model.normalize, "ℓ2-normalise (on the sphere)").on_hover_text(
            "Divide z by its length so every embedding lies on the unit sphere. Turn it off (with the spectral \
             loss) to see free embeddings.",
        );
    }
}

fn loss_ui(ui: &mut egui::Ui, cfg: &mut RunConfig) {
    let tip = |k: LossKind| match k {
        LossKind::Infonce => {
            "InfoNCE / NT-Xent (SimCLR): pull each view toward its partner, push it from all other views in the batch, \
             weighted by exp(similarity/τ)."
        }
        LossKind::Spectral => {
            "Spectral contrastive loss (HaoChen et al.): −2·z₁·z₂ + (z₁·z₂')² over other pairs. No temperature."
        }
        LossKind::AlignUniform => "Alignment + uniformity (Wang & Isola): the two properties as the loss itself.",
        LossKind::Supcon => {
            "Supervised contrastive (Khosla et al.): uses the labels, every same-class view is a positive."
        }
        LossKind::Dcl => "Decoupled contrastive (Yeh et al.): InfoNCE without the positive in the denominator.",
    };
    egui::ComboBox::from_label("loss")
        .selected_text(cfg.loss.kind.name())
        .show_ui(ui, |ui| {
            for k in LossKind::ALL {
                ui.selectable_value(&mut cfg.loss.kind, k, k.name()).on_hover_text(tip(k));
            }
        })
        .response
        .on_hover_text("Which contrastive loss trains the model. It changes while training runs: watch the curves.");
    if !cfg.loss.kind.supports_selection() {
        cfg.selection.mode = PairMode::None;
    }
    if cfg.loss.kind == LossKind::Spectral && cfg.selection.mode == PairMode::Temperature {
        cfg.selection.mode = PairMode::Removal;
    }
    match cfg.loss.kind {
        LossKind::Infonce | LossKind::Supcon | LossKind::Dcl => {
            ui.add(egui::Slider::new(&mut cfg.loss.tau, 0.02..=2.0).logarithmic(true).text("temperature τ"))
                .on_hover_text(
                    "τ: the hardness knob. Small τ pushes hardest on the nearest negatives (look at the Hardness \
                     view) and spreads the embedding uniformly; large τ treats all negatives alike and tolerates \
                     same-class neighbours. Too small and training can diverge.",
                );
        }
        LossKind::Spectral => {
            ui.add(egui::Slider::new(&mut cfg.loss.mu, 0.1..=10.0).logarithmic(true).text("μ")).on_hover_text(
                "μ of the spectral loss: embeddings are clipped to norm √μ and the loss is divided by μ.",
            );
        }
        LossKind::AlignUniform => {
            ui.add(egui::Slider::new(&mut cfg.loss.w_align, 0.0..=4.0).text("weight alignment")).on_hover_text(
                "How much pulling positives together counts. Too much: everything collapses to a point.",
            );
            ui.add(egui::Slider::new(&mut cfg.loss.w_unif, 0.0..=4.0).text("weight uniformity")).on_hover_text(
                "How much spreading everything over the sphere counts. Set it to 0 and watch the collapse.",
            );
            ui.add(egui::Slider::new(&mut cfg.loss.unif_t, 0.5..=8.0).text("uniformity t"))
                .on_hover_text("t in log mean exp(−t|x−y|²): larger t cares only about very close pairs.");
            ui.add(egui::Slider::new(&mut cfg.loss.align_alpha, 1.0..=3.0).text("alignment α"))
                .on_hover_text("The power α in |z₁ − z₂|^α.");
        }
    }
}

fn selection_ui(ui: &mut egui::Ui, cfg: &mut RunConfig) {
    let supported = cfg.loss.kind.supports_selection();
    if !supported {
        ui.label(RichText::new("Selection works with infonce, dcl and spectral.").small().weak());
    }
    ui.add_enabled_ui(supported, |ui| {
        let spectral = cfg.loss.kind == LossKind::Spectral;
        egui::ComboBox::from_label("mode")
            .selected_text(cfg.selection.mode.name())
            .show_ui(ui, |ui| {
                for (m, tip) in [
                    (PairMode::None, "Off: every negative pair is treated the same."),
                    (
                        PairMode::Removal,
                        "Remove: flagged pairs stop pushing. InfoNCE and DCL set their logit to 0, a constant with no \
                         gradient (it stays in the sum); the spectral loss leaves them out of its sum.",
                    ),
                    (PairMode::Margin, "Margin: add σ to flagged similarities, pushing difficult pairs apart harder."),
                    (PairMode::Temperature, "Temperature: flagged pairs use the smaller temperature ρ·τ."),
                    (
                        PairMode::Combined,
                        "Margin and temperature together: the paper's best on its image benchmarks. In spherelab's \
                         study it did not help on digits and hurt on moons (docs/study.md).",
                    ),
                ] {
                    if spectral && m == PairMode::Temperature {
                        continue;
                    }
                    ui.selectable_value(&mut cfg.selection.mode, m, m.name()).on_hover_text(tip);
                }
            })
            .response
            .on_hover_text(
                "What happens to pairs flagged as difficult (similar, yet probably of different classes). Pairs \
                 are flagged every step from the cosine similarities of the encoder features h, without labels. \
                 Flagged points are ringed yellow in the input plane; the similarity matrix tints the flagged \
                 pairs yellow. Watch 'selection precision' in the curves: the fraction of flags that truly are \
                 cross-class. (A pair's logit is the score InfoNCE's softmax takes: its similarity divided by τ.)",
            );
        let on = cfg.selection.mode != PairMode::None;
        ui.add_enabled_ui(on, |ui| {
            ui.add(egui::Slider::new(&mut cfg.selection.pos_high, 0.01..=1.0).text("posHigh")).on_hover_text(
                "Each anchor ranks its candidate pairs (the other views of the batch, its positive excepted; for \
                 the spectral loss the other samples' second views) from most to least similar, on the features \
                 h. The top posHigh fraction of that ranking (a quantile counted from the top; at least one pair) \
                 is taken to be of the same class and left alone; flagging starts just below it. The paper's \
                 choice: about 1/(number of classes).",
            );
            ui.add(egui::Slider::new(&mut cfg.selection.pos_low, 0.01..=1.0).text("posLow")).on_hover_text(
                "Where flagging stops, as a fraction of the same ranking from the top: pairs ranked below the top \
                 posHigh fraction and within the top posLow fraction are flagged as difficult; the rest, the least \
                 similar 1 − posLow, are easy negatives. posLow = 1 flags everything below posHigh; posLow is \
                 kept at or above posHigh (equal: nothing is flagged).",
            );
            if cfg.selection.pos_low < cfg.selection.pos_high {
                cfg.selection.pos_low = cfg.selection.pos_high;
            }
            let m = cfg.selection.mode;
            if !spectral {
                ui.add_enabled(
                    matches!(m, PairMode::Margin | PairMode::Combined),
                    egui::Slider::new(&mut cfg.selection.sigma, 0.0..=0.5).text("margin σ"),
                )
                .on_hover_text(
                    "σ added to a flagged pair's similarity before dividing by τ: its logit rises, so InfoNCE pushes \
                     the pair apart harder. The paper used σ ≈ 0.1.",
                );
                ui.add_enabled(
                    matches!(m, PairMode::Temperature | PairMode::Combined),
                    egui::Slider::new(&mut cfg.selection.rho, 0.1..=1.0).text("temperature ρ"),
                )
                .on_hover_text("Flagged pairs use temperature ρ·τ: ρ < 1 pushes them harder. The paper used ρ ≈ 0.7.");
            } else {
                ui.add_enabled(
                    matches!(m, PairMode::Margin | PairMode::Combined),
                    egui::Slider::new(&mut cfg.selection.margin, 0.0..=0.5).text("margin m"),
                )
                .on_hover_text("m added inside the spectral loss's squared term for flagged pairs.");
            }
            ui.checkbox(&mut cfg.selection.all_pairs, "apply to all pairs (ablation)").on_hover_text(
                "The paper's control experiment: treat every negative pair as flagged. If the gain disappears, \
                 it came from picking the right pairs, not from the margin or temperature itself.",
            );
        });
    });
}

fn optimizer_ui(ui: &mut egui::Ui, cfg: &mut RunConfig) {
    let o = &mut cfg.optimizer;
    ui.horizontal(|ui| {
        for (k, name, tip) in [
            (OptimizerKind::Sgd, "SGD", "Stochastic gradient descent with momentum. Needs a larger learning rate."),
            (OptimizerKind::Adam, "Adam", "Adam: adapts the step per parameter. Robust default."),
            (OptimizerKind::Adamw, "AdamW", "Adam with decoupled weight decay."),
        ] {
            ui.selectable_value(&mut o.kind, k, name).on_hover_text(tip);
        }
    });
    ui.add(egui::Slider::new(&mut o.lr, 1e-4..=1.0).logarithmic(true).text("learning rate")).on_hover_text(
        "Step size. Too small: nothing moves. Too large: the loss jumps around or training diverges (the app \
         pauses and tells you).",
    );
    if o.kind == OptimizerKind::Sgd {
        ui.add(egui::Slider::new(&mut o.momentum, 0.0..=0.99).text("momentum")).on_hover_text(
            "Momentum keeps part of the last step: smoother, faster progress along consistent directions.",
        );
    }
    ui.add(egui::Slider::new(&mut o.weight_decay, 0.0..=0.1).text("weight decay"))
        .on_hover_text("Shrinks the weights a little every step; keeps them small.");
    egui::ComboBox::from_label("schedule")
        .selected_text(match o.schedule {
            Schedule::Constant => "constant",
            Schedule::Cosine => "cosine",
            Schedule::WarmupCosine => "warm-up + cosine",
        })
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut o.schedule, Schedule::Constant, "constant")
                .on_hover_text("The same learning rate at every step.");
            ui.selectable_value(&mut o.schedule, Schedule::Cosine, "cosine")
                .on_hover_text("Decays to 0 along a cosine over 'steps'.");
            ui.selectable_value(&mut o.schedule, Schedule::WarmupCosine, "warm-up + cosine")
                .on_hover_text("Rises linearly for the warm-up steps, then decays along a cosine.");
        })
        .response
        .on_hover_text("How the learning rate changes over the run's steps.");
    if o.schedule == Schedule::WarmupCosine {
        ui.add(egui::Slider::new(&mut o.warmup_steps, 0..=1000).text("warm-up steps"))
            .on_hover_text("Steps of linear warm-up at the start.");
    }
    ui.add(egui::Slider::new(&mut cfg.train.steps, 100..=20000).logarithmic(true).text("steps"))
        .on_hover_text("Length of the run: the schedule spans it, and training pauses when it is reached.");
    ui.add(egui::Slider::new(&mut cfg.train.batch_size, 8..=512).logarithmic(true).text("batch size N")).on_hover_text(
        "Samples per step (2N views). Each view is contrasted with the 2N − 2 others: a larger batch means \
             more negatives per anchor and a better estimate of uniformity, but slower steps.",
    );
}

fn draw_thumbnail(p: &egui::Painter, rect: egui::Rect, data: Option<&Dataset>) {
    let Some(d) = data else {
        p.text(rect.center(), egui::Align2::CENTER_CENTER, "?", egui::FontId::proportional(14.0), Color32::GRAY);
        return;
    };
    match d.kind {
        InputKind::Image { width, height } if !d.is_empty() => {
            // One digit, drawn as its pixels.
            let img = d.sample(0);
            let max = img.iter().copied().fold(1e-6f32, f32::max);
            let cw = rect.width() / width as f32;
            let ch = rect.height() / height as f32;
            for y in 0..height {
                for x in 0..width {
                    let v = (img[y * width + x] / max).clamp(0.0, 1.0);
                    let c = Color32::from_gray((v * 230.0) as u8 + 20);
                    let r = egui::Rect::from_min_size(
                        rect.min + Vec2::new(x as f32 * cw, y as f32 * ch),
                        Vec2::new(cw + 0.5, ch + 0.5),
                    );
                    p.rect_filled(r, 0.0, c);
                }
            }
        }
        _ if d.dim >= 2 => {
            let (min, max) = super::bounds((0..d.len()).map(|i| [d.sample(i)[0], d.sample(i)[1]]));
            let view = super::View::fit(rect, min, max);
            for i in 0..d.len() {
                let s = d.sample(i);
                p.circle_filled(view.to_screen([s[0], s[1]]), 1.2, class_color(d.labels[i]));
            }
        }
        _ => {}
    }
}
