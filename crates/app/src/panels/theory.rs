//! The theory calculator (docs/math.md §5, the seed paper's similarity-graph model): sliders for n, r, n_d, α, β,
//! γ, δ; every bound on the downstream error (without difficult examples, with them, with them removed, with
//! a margin, with a smaller temperature on their pairs); a verdict computed from those bounds; a map of the
//! verdicts over n_d and γ − β with the sliders' point marked; the spectrum of the explicit similarity matrix;
//! and a button that estimates α, β, γ from the current run.

use egui::{Color32, Rect, RichText, Sense, Stroke, Vec2, pos2};
use egui_plot::{HLine, Legend, Plot, Points};
use serde::{Deserialize, Serialize};

use crate::lab::{Command, Lab, Notice};
use spherelab_core::Matrix;
use spherelab_core::theory::{Construction, TheoryInput, TheoryReport, closed_forms, evaluate, explicit_spectrum};

/// Rows of the verdict map (values of γ − β); its columns are n_d = 0..=n.
const MAP_ROWS: usize = 40;
/// Height of the verdict map on screen.
const MAP_HEIGHT: f32 = 120.0;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct TheoryPanel {
    pub n: usize,
    pub r: usize,
    pub n_d: usize,
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
    pub block: bool,
    #[serde(skip)]
    spectrum: Option<([u64; 8], Vec<f64>)>,
    /// The verdict map, keyed on what it depends on (n, r, α, β, δ): recomputed only when one of them changes.
    #[serde(skip)]
    map: Option<([u64; 5], VerdictMap)>,
    /// What the last estimate found, for the user to see where the numbers came from.
    #[serde(skip)]
    estimate_note: Option<String>,
    /// α, β, γ, r as the last estimate set them, and the step it read: while the sliders still hold these
    /// values, the map's point is labelled as the run's.
    #[serde(skip)]
    estimated: Option<(f64, f64, f64, usize, usize)>,
}

impl Default for TheoryPanel {
    fn default() -> Self {
        // The worked example of docs/math.md §5.
        Self {
            n: 8,
            r: 2,
            n_d: 2,
            alpha: 0.387,
            beta: 0.208,
            gamma: 0.241,
            delta: 0.01,
            block: false,
            spectrum: None,
            map: None,
            estimate_note: None,
            estimated: None,
        }
    }
}

/// The cases the verdict compares: keeping the difficult examples, and the three remedies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    Keep,
    Removal,
    Margin,
    Temperature,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::Keep => "keeping them",
            Case::Removal => "removal",
            Case::Margin => "the margin",
            Case::Temperature => "the temperature",
        }
    }
}

/// The four bounds a verdict compares: with the difficult examples kept, and with each remedy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub keep: f64,
    pub removal: f64,
    /// The margin recovers E(λ_wo) exactly.
    pub margin: f64,
    pub temperature: f64,
}

impl Bounds {
    pub fn of_report(rep: &TheoryReport) -> Self {
        Self {
            keep: rep.bound_wd,
            removal: rep.bound_removed,
            margin: rep.bound_wo,
            temperature: rep.bound_temperature,
        }
    }

    /// The same four bounds from core's closed forms alone (`theory::closed_forms`, without `evaluate`'s
    /// eigen-decompositions: cheap enough for every cell of the map); `None` when the input fails
    /// `TheoryInput::validate`.
    pub fn closed_form(input: &TheoryInput) -> Option<Self> {
        input.validate().ok()?;
        Some(Self::of_report(&closed_forms(input)))
    }

    fn remedies(&self) -> [(Case, f64); 3] {
        [(Case::Removal, self.removal), (Case::Margin, self.margin), (Case::Temperature, self.temperature)]
    }

    /// A remedy helps when its bound is below keeping the difficult examples (as the report's `removal_helps`,
    /// `margin_helps`, `temperature_helps`, except that a difference of rounding only is a tie).
    pub fn helps(&self, case: Case) -> bool {
        match case {
            Case::Keep => false,
            Case::Removal => below(self.removal, self.keep),
            Case::Margin => below(self.margin, self.keep),
            Case::Temperature => below(self.temperature, self.keep),
        }
    }

    /// The case with the lowest bound; keeping the difficult examples wins a tie (a remedy must lower the bound),
    /// and among remedies that tie the margin, which gives E(λ_wo) exactly, goes first.
    pub fn best(&self) -> Case {
        let mut best = (Case::Keep, self.keep);
        for (c, e) in
            [(Case::Margin, self.margin), (Case::Removal, self.removal), (Case::Temperature, self.temperature)]
        {
            if below(e, best.1) {
                best = (c, e);
            }
        }
        best.0
    }
}

/// Whether bound `e` is below `than` by more than rounding: the closed forms of bounds that are equal in exact
/// arithmetic (every case at n_d = 0) differ in their last bits.
fn below(e: f64, than: f64) -> bool {
    e < than - 1e-12 * than.abs()
}

fn fmt_bound(e: f64) -> String {
    if e.is_finite() { format!("{e:.6}") } else { "∞".into() }
}

/// The verdict beside the table, computed from all four bounds: for each remedy whether it lowers the bound of
/// keeping the difficult examples, and which case is lowest (stated plainly when no remedy helps).
pub fn verdict(b: &Bounds, n_d: usize) -> String {
    if n_d == 0 {
        return "With n_d = 0 there are no difficult examples and nothing to remedy: every bound is the clean one."
            .into();
    }
    let says = |c: Case, e: f64| {
        let what = match c {
            Case::Removal => "removing them",
            Case::Margin => "a margin",
            _ => "a temperature",
        };
        let verb = if below(e, b.keep) {
            "lowers the bound"
        } else if !below(b.keep, e) {
            "leaves the bound unchanged"
        } else {
            "raises the bound"
        };
        let value =
            if c == Case::Removal && !e.is_finite() { "∞: no sample is left".to_string() } else { fmt_bound(e) };
        format!("{what} {verb} ({value})")
    };
    let parts: Vec<String> = b.remedies().iter().map(|&(c, e)| says(c, e)).collect();
    let helping: Vec<&str> = b.remedies().iter().filter(|(c, _)| b.helps(*c)).map(|(c, _)| c.label()).collect();
    let failing: Vec<&str> = b.remedies().iter().filter(|(c, _)| !b.helps(*c)).map(|(c, _)| c.label()).collect();
    let list = |v: &[&str]| match v {
        [a] => a.to_string(),
        [a, b] => format!("{a} and {b}"),
        _ => format!("{}, {} and {}", v[0], v[1], v[2]),
    };
    let tail = match b.best() {
        Case::Keep => "No remedy helps here: keeping the difficult examples gives the lowest bound.".to_string(),
        best => {
            let mut t = format!("Lowest bound: {}.", best.label());
            if helping.len() > 1 {
                t.push_str(&format!(" Helping: {}.", list(&helping)));
            }
            if !failing.is_empty() {
                t.push_str(&format!(" Not helping: {}.", list(&failing)));
            }
            t
        }
    };
    format!(
        "Against keeping the difficult examples (E = {}): {}; {}; {}. {tail}",
        fmt_bound(b.keep),
        parts[0],
        parts[1],
        parts[2]
    )
}

/// What the numbers say about λ (the graph's eigenvalue), computed from the report rather than asserted.
pub fn lambda_text(rep: &TheoryReport, input: &TheoryInput) -> String {
    let (wo, wd, rm) = (rep.lambda_wo, rep.lambda_wd, rep.lambda_removed);
    let first = if input.n_d == 0 {
        format!("With n_d = 0 no sample is difficult: the graph is the clean one, λ_wd = λ_wo = {wo:.4}.")
    } else if wd > wo {
        format!("Difficult examples raise λ from λ_wo = {wo:.4} to λ_wd = {wd:.4}.")
    } else if wd < wo {
        format!("Here difficult examples lower λ, from λ_wo = {wo:.4} to λ_wd = {wd:.4}.")
    } else {
        format!("Difficult examples leave λ at {wo:.4}.")
    };
    let second = if input.n_d == 0 {
        String::new()
    } else if rm >= 1.0 {
        " Removing them leaves no sample: λ_R = 1 and the bound says nothing.".to_string()
    } else {
        let cmp = if rm < wd {
            "below λ_wd"
        } else if rm > wd {
            "above λ_wd"
        } else {
            "equal to λ_wd"
        };
        let why = if rm > wo { " (removal leaves fewer samples per class, which raises λ above λ_wo)" } else { "" };
        format!(" Removing them gives λ_R = {rm:.4}, {cmp}{why}.")
    };
    let q = input.n_d as f64 / input.n.max(1) as f64;
    let bracket = if input.n_d == 0 { 1.0 } else { 1.0 - q * q + (input.gamma / input.beta).powi(2) * q * q };
    format!(
        "{first}{second} The margin's bound is E(λ_wo); the temperature's is E(λ_wo) with its first term \
         multiplied by 1 − q² + (γ/β)²q² = {bracket:.4} (q = n_d/n), never below the margin's."
    )
}

/// One cell of the verdict map: which case gives the lowest bound there, and (where the margin is lowest) which
/// other remedies also lower the bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    Invalid,
    /// n_d = 0: no difficult examples, nothing to remedy.
    NoDifficult,
    Keep,
    Removal,
    Temperature,
    Margin {
        removal: bool,
        temperature: bool,
    },
}

impl Cell {
    const ALL: [Cell; 9] = [
        Cell::Keep,
        Cell::Margin { removal: false, temperature: false },
        Cell::Margin { removal: false, temperature: true },
        Cell::Margin { removal: true, temperature: false },
        Cell::Margin { removal: true, temperature: true },
        Cell::Removal,
        Cell::Temperature,
        Cell::NoDifficult,
        Cell::Invalid,
    ];

    fn of(bounds: Option<Bounds>) -> Cell {
        let Some(b) = bounds else { return Cell::Invalid };
        match b.best() {
            Case::Keep => Cell::Keep,
            Case::Removal => Cell::Removal,
            Case::Temperature => Cell::Temperature,
            Case::Margin => Cell::Margin { removal: b.helps(Case::Removal), temperature: b.helps(Case::Temperature) },
        }
    }

    fn color(self) -> Color32 {
        match self {
            Cell::Invalid => Color32::from_rgb(90, 90, 90),
            Cell::NoDifficult => Color32::from_rgb(40, 40, 40),
            Cell::Keep => Color32::from_rgb(213, 94, 0),
            Cell::Removal => Color32::from_rgb(204, 121, 167),
            Cell::Temperature => Color32::from_rgb(230, 159, 0),
            Cell::Margin { removal: false, temperature: false } => Color32::from_rgb(0, 114, 178),
            Cell::Margin { removal: false, temperature: true } => Color32::from_rgb(86, 180, 233),
            Cell::Margin { removal: true, temperature: false } => Color32::from_rgb(0, 158, 115),
            Cell::Margin { removal: true, temperature: true } => Color32::from_rgb(240, 228, 66),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Cell::Invalid => "not a valid input (the model needs 0 ≤ β < γ < α < 1, δ > 0)",
            Cell::NoDifficult => "n_d = 0: no difficult examples, nothing to remedy",
            Cell::Keep => "no remedy helps: keeping the difficult examples is lowest",
            Cell::Removal => "removal is lowest",
            Cell::Temperature => "the temperature is lowest",
            Cell::Margin { removal: false, temperature: false } => "the margin is lowest; only it helps",
            Cell::Margin { removal: false, temperature: true } => "the margin is lowest; the temperature helps too",
            Cell::Margin { removal: true, temperature: false } => "the margin is lowest; removal helps too",
            Cell::Margin { removal: true, temperature: true } => {
                "the margin is lowest; removal and the temperature help too"
            }
        }
    }
}

/// The verdict over n_d (columns 0..=n) and γ − β (rows, bottom to top, cell centres spanning (0, α − β)), the
/// other parameters at the sliders.
struct VerdictMap {
    cols: usize,
    rows: usize,
    /// γ − β at the top edge of the map: α − β.
    span: f64,
    /// Row-major from the bottom row: cells[row * cols + n_d].
    cells: Vec<Cell>,
}

impl VerdictMap {
    fn compute(input: &TheoryInput) -> Self {
        let cols = input.n + 1;
        let rows = MAP_ROWS;
        let span = (input.alpha - input.beta).max(0.0);
        let mut cells = Vec::with_capacity(cols * rows);
        for row in 0..rows {
            let gap = span * (row as f64 + 0.5) / rows as f64;
            for n_d in 0..cols {
                let cell_input = TheoryInput { n_d, gamma: input.beta + gap, ..*input };
                let bounds = if span > 0.0 { Bounds::closed_form(&cell_input) } else { None };
                cells.push(match bounds {
                    None => Cell::Invalid,
                    Some(_) if n_d == 0 => Cell::NoDifficult,
                    b => Cell::of(b),
                });
            }
        }
        Self { cols, rows, span, cells }
    }

    fn cell_at(&self, n_d: usize, row: usize) -> Cell {
        self.cells[row * self.cols + n_d]
    }
}

impl TheoryPanel {
    fn input(&self) -> TheoryInput {
        TheoryInput {
            n: self.n,
            r: self.r,
            n_d: self.n_d,
            alpha: self.alpha,
            beta: self.beta,
            gamma: self.gamma,
            delta: self.delta,
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Theory: when do difficult examples raise the error bound?").strong());
            super::help(
                ui,
                "The seed paper's model (Zhang et al. 2025; docs/math.md §5): r+1 classes of n samples, the first \
                 n_d of each class difficult. Two samples are similar with strength α within a class, β across \
                 classes, and γ (between β and α) when both are difficult samples of different classes. \
                 λ here is an eigenvalue of this similarity graph (the (r+2)-th largest of the normalised \
                 similarity matrix), not the mixing weight λ of ω's mixes in the Data controls. The bound \
                 E(λ) = 4δ/(1−λ) + 8δ on the linear-probe error (the error of a linear classifier on the learned \
                 features) grows with λ. The table gives λ and E without \
                 and with the difficult examples and for each remedy; the sentences below it say what these \
                 numbers show. A lower bound is not a measured accuracy: docs/study.md compares the model with runs.",
            );
        });
        ui.add(egui::Slider::new(&mut self.n, 2..=40).text("n per class")).on_hover_text(
            "Samples per class. As n grows, the closed form for λ_wd gets closer to the explicit matrix's eigenvalue.",
        );
        ui.add(egui::Slider::new(&mut self.r, 1..=9).text("r (classes − 1)")).on_hover_text("There are r + 1 classes.");
        ui.add(egui::Slider::new(&mut self.n_d, 0..=self.n).text("n_d difficult")).on_hover_text(
            "Difficult samples per class: each is γ-similar (instead of β) to difficult samples of the other classes.",
        );
        ui.add(egui::Slider::new(&mut self.alpha, 0.0..=0.99).text("α same class"))
            .on_hover_text("Similarity of two samples of one class. The model needs γ < α < 1.");
        ui.add(egui::Slider::new(&mut self.gamma, 0.0..=0.99).text("γ difficult")).on_hover_text(
            "Similarity of a cross-class pair of two difficult samples: between β and α. The closer to α, the \
             harder the pair is to tell apart.",
        );
        ui.add(egui::Slider::new(&mut self.beta, 0.0..=0.99).text("β easy cross"))
            .on_hover_text("Similarity of an easy pair from different classes. The model needs 0 ≤ β < γ.");
        ui.add(egui::Slider::new(&mut self.delta, 0.0..=0.2).text("δ label error")).on_hover_text(
            "How often a sample's augmentations fail to determine its label (the augmentation graph's label \
             error). Every bound is proportional to δ, so δ changes no verdict; it must be above 0.",
        );
        ui.horizontal(|ui| {
            let has_embeddings = lab.snapshot.is_some();
            if ui
                .add_enabled(has_embeddings, egui::Button::new("Estimate α, β, γ from the run"))
                .on_hover_text(
                    "Measure, on the training samples' encoder features h (docs/math.md §3.1 and §4): α est. = mean \
                     cosine of same-class pairs, β est. = of cross-class pairs with no difficult member, γ est. = \
                     of cross-class pairs with a difficult member, and fill them in; r is set from the number of \
                     classes, n and n_d stay as they are. 'Difficult' is the generator's flag (ω-mixes and boundary \
                     points), where the paper's Table 10 used the 8 % with the smallest probe margin. Needs ω > 0 \
                     or boundary points for γ est.",
                )
                .clicked()
            {
                out.extend(self.estimate(lab));
            }
        });
        if let Some(note) = &self.estimate_note {
            ui.label(RichText::new(note).small().weak());
        }

        let input = self.input();
        if let Err(e) = input.validate() {
            ui.colored_label(Color32::from_rgb(255, 120, 80), format!("{e}"));
            return out;
        }
        let rep = evaluate(&input);
        let bounds = Bounds::of_report(&rep);
        // With no difficult examples there is nothing to remedy: no colours.
        let judge = |c: Case| (self.n_d > 0).then(|| bounds.helps(c));
        egui::Grid::new("bounds").striped(true).num_columns(3).show(ui, |ui| {
            ui.label(RichText::new("case").strong());
            ui.label(RichText::new("λ").strong()).on_hover_text(
                "The similarity graph's eigenvalue for the case (the (r+2)-th largest of the normalised similarity \
                 matrix): the bound grows with it. Not ω's mixing weight λ.",
            );
            ui.label(RichText::new("error bound E").strong()).on_hover_text(
                "E(λ) = 4δ/(1−λ) + 8δ, an upper bound on the linear-probe error. Green: below the row 'with \
                 difficult examples'; red: not below it.",
            );
            ui.end_row();
            let row = |ui: &mut egui::Ui, name: &str, tip: &str, lambda: Option<f64>, e: f64, good: Option<bool>| {
                ui.label(name).on_hover_text(tip);
                ui.label(lambda.map(|l| format!("{l:.4}")).unwrap_or_default());
                let text = RichText::new(fmt_bound(e));
                let text = match good {
                    Some(true) => text.color(Color32::from_rgb(80, 200, 120)),
                    Some(false) => text.color(Color32::from_rgb(255, 120, 80)),
                    None => text,
                };
                ui.label(text);
                ui.end_row();
            };
            row(
                ui,
                "no difficult examples",
                "E(λ_wo): the same classes with every γ pair at β, as if no sample were difficult.",
                Some(rep.lambda_wo),
                rep.bound_wo,
                None,
            );
            row(
                ui,
                "with difficult examples",
                "E(λ_wd): the n_d difficult samples per class kept. Each remedy below is compared with this row.",
                Some(rep.lambda_wd),
                rep.bound_wd,
                None,
            );
            row(
                ui,
                "difficult removed",
                "E(λ_R): the difficult samples removed, n − n_d per class left. Green if its bound is below keeping \
                 them: fewer samples, but no γ pairs.",
                Some(rep.lambda_removed),
                rep.bound_removed,
                judge(Case::Removal),
            );
            row(
                ui,
                "margin on their pairs",
                "The margin m (below) on the difficult pairs gives exactly E(λ_wo), the bound without difficult \
                 examples. Green if that is below keeping them.",
                None,
                rep.bound_wo,
                judge(Case::Margin),
            );
            row(
                ui,
                "temperature on their pairs",
                "The temperature τ_d (below) on the difficult pairs gives E_T = 4δ·[1 − q² + (γ/β)²q²]/(1 − λ_wo) + 8δ, \
                 q = n_d/n. Green if that is below keeping them.",
                None,
                rep.bound_temperature,
                judge(Case::Temperature),
            );
        });
        ui.label(RichText::new(verdict(&bounds, self.n_d)).italics());
        ui.label(RichText::new(lambda_text(&rep, &input)).small());
        ui.label(format!(
            "c₀ = {:.3}, c₁ = {:.3}, c₂ = {:.3} · margin m = {:.3e} · temperature τ_d = {:.3}",
            rep.c0, rep.c1, rep.c2, rep.margin, rep.tau_difficult
        ))
        .on_hover_text(
            "The constants of docs/math.md §5. m and τ_d are the margin and pair temperature of the model's own \
             analysis, for this graph; they are not values for the selection's σ and ρ controls.",
        );
        let f = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into());
        ui.label(format!(
            "explicit matrix: λ_wo = {}, λ_wd = {} (index-matched) / {} (block), λ_R = {}",
            f(rep.explicit_lambda_clean),
            f(rep.explicit_lambda_index_matched),
            f(rep.explicit_lambda_block),
            f(rep.explicit_lambda_removed)
        ))
        .on_hover_text(
            "The same eigenvalues read off the explicit similarity matrices. λ_wo and λ_R agree with the closed \
             forms exactly; λ_wd only approximately (the gap shrinks as n grows).",
        );

        self.map_ui(ui, &input);

        ui.horizontal(|ui| {
            ui.label("spectrum of the explicit matrix").on_hover_text(
                "Eigenvalues of D^{-1/2} A D^{-1/2} for the explicit (r+1)n × (r+1)n similarity matrix A. The \
                 lines mark λ_wo, λ_wd, λ_R: λ_wo and λ_R match eigenvalues exactly, λ_wd only approximately.",
            );
            ui.checkbox(&mut self.block, "block").on_hover_text(
                "Off: index-matched (sample ℓ of one class is γ-similar only to sample ℓ of another). On: every \
                 difficult sample is γ-similar to every difficult sample of other classes.",
            );
        });
        let key = [
            self.n as u64,
            self.r as u64,
            self.n_d as u64,
            self.alpha.to_bits(),
            self.beta.to_bits(),
            self.gamma.to_bits(),
            self.block as u64,
            0,
        ];
        if self.spectrum.as_ref().is_none_or(|(k, _)| *k != key) {
            let c = if self.block { Construction::Block } else { Construction::IndexMatched };
            self.spectrum = Some((key, explicit_spectrum(&input, c)));
        }
        let ev = self.spectrum.as_ref().map(|(_, v)| v.clone()).unwrap_or_default();
        let pts: Vec<[f64; 2]> = ev.iter().enumerate().map(|(i, &v)| [i as f64, v]).collect();
        Plot::new("spectrum")
            .height(ui.available_height().max(140.0))
            .legend(Legend::default())
            .allow_scroll(false)
            .x_axis_label("index (descending)")
            .show(ui, |p| {
                p.points(Points::new("eigenvalues", pts).radius(2.5).color(Color32::from_rgb(86, 180, 233)));
                p.hline(HLine::new("λ_wo", rep.lambda_wo).color(Color32::from_rgb(80, 200, 120)));
                p.hline(HLine::new("λ_wd", rep.lambda_wd).color(Color32::from_rgb(255, 120, 80)));
                p.hline(HLine::new("λ_R", rep.lambda_removed).color(Color32::from_rgb(204, 121, 167)));
            });
        out
    }

    /// The verdict map: which case gives the lowest bound over n_d (x) and γ − β (y), n, r, α, β, δ at the
    /// sliders; the sliders' point ringed. Computed when n, r, α, β or δ change, never per frame.
    fn map_ui(&mut self, ui: &mut egui::Ui, input: &TheoryInput) {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("verdict map").strong());
            super::help(
                ui,
                "Each cell is the model at one n_d (x: 0 to n) and one γ − β (y: from 0 up to α − β, γ = β + y), \
                 with n, r, α, β, δ at the sliders. Its colour says which case gives the lowest bound and, where \
                 the margin is lowest, whether removal and the temperature lower the bound too. In this model the \
                 margin's bound E(λ_wo) is never above removal's or the temperature's, so wherever any remedy \
                 helps, the margin is lowest. Grey: inputs the model does not accept. The ring marks the sliders' \
                 n_d and γ − β. Hover a cell for its verdict. These are bounds, not measured accuracies.",
            );
        });
        let key = [self.n as u64, self.r as u64, self.alpha.to_bits(), self.beta.to_bits(), self.delta.to_bits()];
        if self.map.as_ref().is_none_or(|(k, _)| *k != key) {
            self.map = Some((key, VerdictMap::compute(input)));
        }
        let from_run = self
            .estimated
            .filter(|&(a, b, g, r, _)| a == self.alpha && b == self.beta && g == self.gamma && r == self.r)
            .map(|(.., step)| step);
        let Some((_, map)) = &self.map else { return };
        let width = ui.available_width().clamp(120.0, 480.0);
        let (rect, resp) = ui.allocate_exact_size(Vec2::new(width, MAP_HEIGHT), Sense::hover());
        let painter = ui.painter_at(rect);
        let cw = rect.width() / map.cols as f32;
        let ch = rect.height() / map.rows as f32;
        // One rectangle per vertical run of equal cells.
        for col in 0..map.cols {
            let mut start = 0;
            for row in 1..=map.rows {
                if row == map.rows || map.cell_at(col, row) != map.cell_at(col, start) {
                    let r = Rect::from_min_max(
                        pos2(rect.left() + col as f32 * cw, rect.bottom() - row as f32 * ch),
                        pos2(rect.left() + (col + 1) as f32 * cw, rect.bottom() - start as f32 * ch),
                    );
                    painter.rect_filled(r, 0.0, map.cell_at(col, start).color());
                    start = row;
                }
            }
        }
        // The sliders' point.
        let gap = self.gamma - self.beta;
        if map.span > 0.0 && self.n_d < map.cols && gap > 0.0 && gap < map.span {
            let p = pos2(
                rect.left() + (self.n_d as f32 + 0.5) * cw,
                rect.bottom() - (gap / map.span) as f32 * rect.height(),
            );
            painter.circle_stroke(p, 5.5, Stroke::new(3.0, Color32::BLACK));
            painter.circle_stroke(p, 5.5, Stroke::new(1.5, Color32::WHITE));
            let text = match from_run {
                Some(step) => format!("γ − β from the run (step {step})"),
                None => "sliders".to_string(),
            };
            let right = p.x < rect.center().x;
            let anchor = if right { egui::Align2::LEFT_CENTER } else { egui::Align2::RIGHT_CENTER };
            let at = p + Vec2::new(if right { 9.0 } else { -9.0 }, 0.0);
            let font = egui::FontId::proportional(11.0);
            let galley = painter.layout_no_wrap(text.clone(), font.clone(), Color32::WHITE);
            let bg = anchor.anchor_size(at, galley.size()).expand(2.0);
            painter.rect_filled(bg, 2.0, Color32::from_black_alpha(170));
            painter.text(at, anchor, text, font, Color32::WHITE);
        }
        if let Some(pos) = resp.hover_pos() {
            let col = (((pos.x - rect.left()) / cw) as usize).min(map.cols - 1);
            let row = (((rect.bottom() - pos.y) / ch) as usize).min(map.rows - 1);
            let gap = map.span * (row as f64 + 0.5) / map.rows as f64;
            resp.on_hover_text_at_pointer(format!(
                "n_d = {col}, γ − β = {gap:.3} (γ = {:.3}): {}",
                self.beta + gap,
                map.cell_at(col, row).describe()
            ));
        }
        ui.label(
            RichText::new(format!(
                "x: n_d = 0 … {} · y: γ − β = 0 … {:.3} (α − β) · n, r, α, β, δ at the sliders",
                map.cols - 1,
                map.span
            ))
            .small()
            .weak(),
        );
        for cell in Cell::ALL {
            if !map.cells.contains(&cell) {
                continue;
            }
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = 4.0;
                let (swatch, _) = ui.allocate_exact_size(Vec2::splat(10.0), Sense::hover());
                ui.painter().rect_filled(swatch, 2.0, cell.color());
                ui.label(RichText::new(cell.describe()).small());
            });
        }
    }

    /// Fills α, β, γ from the training samples' encoder features h (docs/math.md §3.1), and r from the data.
    fn estimate(&mut self, lab: &Lab) -> Vec<Command> {
        let (Some(session), Some(snap)) = (lab.session(), lab.snapshot.as_ref()) else { return Vec::new() };
        let data = session.data();
        let h = &snap.h;
        let train: Vec<usize> =
            session.split().train.iter().copied().filter(|&i| i < h.rows && i < data.labels.len()).collect();
        let mut rows = Vec::with_capacity(train.len() * h.cols);
        for &i in &train {
            rows.extend_from_slice(h.row(i));
        }
        let h_train = Matrix::from_vec(train.len(), h.cols, rows);
        let labels: Vec<usize> = train.iter().map(|&i| data.labels[i]).collect();
        let difficult: Vec<bool> = train.iter().map(|&i| data.difficult(i)).collect();
        let est = spherelab_core::metrics::similarity_estimates(&h_train, &labels, &difficult);
        let mut missing = Vec::new();
        match est.alpha {
            Some(a) => self.alpha = a.clamp(0.0, 0.99),
            None => missing.push("α"),
        }
        match est.beta {
            Some(b) => self.beta = b.clamp(0.0, 0.99),
            None => missing.push("β"),
        }
        match est.gamma {
            Some(g) => self.gamma = g.clamp(0.0, 0.99),
            None => missing.push("γ (no difficult training samples: raise ω)"),
        }
        self.r = data.classes.saturating_sub(1).clamp(1, 9);
        self.estimated = Some((self.alpha, self.beta, self.gamma, self.r, snap.step));
        self.estimate_note = Some(format!(
            "From step {}, on h of the {} training samples: α est. = {}, β est. = {}, γ est. = {}. The model \
             needs 0 ≤ β < γ < α < 1; values are clipped to [0, 0.99]. n and n_d stay at the sliders.",
            snap.step,
            train.len(),
            fmt(est.alpha),
            fmt(est.beta),
            fmt(est.gamma)
        ));
        if missing.is_empty() {
            vec![Command::Notify(Notice::info("Filled in α, β, γ from the run's training features h."))]
        } else {
            vec![Command::Notify(Notice::warning(format!("Could not estimate {}.", missing.join(", "))))]
        }
    }
}

fn fmt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The map's closed forms give `evaluate`'s bounds, and its verdicts the report's flags.
    #[test]
    fn closed_form_bounds_match_evaluate() {
        let mut checked = 0;
        for n in [2, 5, 8, 20] {
            for n_d in 0..=n {
                for (a, b, g) in [(0.387, 0.208, 0.241), (0.3, 0.05, 0.1), (0.9, 0.0, 0.8), (0.5, 0.1, 0.45)] {
                    let input = TheoryInput { n, r: 2, n_d, alpha: a, beta: b, gamma: g, delta: 0.05 };
                    let rep = evaluate(&input);
                    let want = Bounds::of_report(&rep);
                    let got = Bounds::closed_form(&input).expect("valid");
                    for (x, y) in [
                        (got.keep, want.keep),
                        (got.removal, want.removal),
                        (got.margin, want.margin),
                        (got.temperature, want.temperature),
                    ] {
                        assert!(x == y || (x - y).abs() <= 1e-12 * y.abs(), "{input:?}: {got:?} vs {want:?}");
                    }
                    // The report compares strictly; away from ties the two agree.
                    for (case, e, flag) in [
                        (Case::Removal, want.removal, rep.removal_helps),
                        (Case::Margin, want.margin, rep.margin_helps),
                        (Case::Temperature, want.temperature, rep.temperature_helps),
                    ] {
                        if (e - want.keep).abs() > 1e-9 * want.keep {
                            assert_eq!(got.helps(case), flag, "{case:?} at {input:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 200, "{checked}");
        assert!(Bounds::closed_form(&TheoryInput { gamma: 0.1, ..TheoryInput::default() }).is_none());
    }

    #[test]
    fn the_verdict_reads_every_remedy() {
        // The worked example: only the margin helps; the temperature's bound is above keeping them.
        let b = Bounds::of_report(&evaluate(&TheoryInput::default()));
        let v = verdict(&b, 2);
        assert!(v.contains("removing them raises the bound (0.125089)"), "{v}");
        assert!(v.contains("a margin lowers the bound (0.123817)"), "{v}");
        assert!(v.contains("a temperature raises the bound (0.124755)"), "{v}");
        assert!(v.contains("Lowest bound: the margin. Not helping: removal and the temperature."), "{v}");
        // All three fail: difficult examples lower λ here.
        let input = TheoryInput { n: 20, r: 2, n_d: 18, alpha: 0.3, beta: 0.05, gamma: 0.1, delta: 0.01 };
        let rep = evaluate(&input);
        let b = Bounds::of_report(&rep);
        assert_eq!(b.best(), Case::Keep);
        let v = verdict(&b, 18);
        assert!(v.contains("No remedy helps here"), "{v}");
        assert!(lambda_text(&rep, &input).starts_with("Here difficult examples lower λ"));
        assert!(
            lambda_text(&evaluate(&TheoryInput::default()), &TheoryInput::default())
                .contains("above λ_wd (removal leaves fewer samples per class, which raises λ above λ_wo)")
        );
        assert!(verdict(&b, 0).contains("no difficult examples"));
        // At n_d = 0 every bound is E(λ_wo): keeping them is as good as any remedy, and none is said to help.
        let b = Bounds::closed_form(&TheoryInput { n_d: 0, ..TheoryInput::default() }).unwrap();
        assert_eq!(b.best(), Case::Keep);
        assert!([Case::Removal, Case::Margin, Case::Temperature].iter().all(|c| !b.helps(*c)));
    }

    #[test]
    fn the_map_covers_n_d_and_the_gap() {
        let map = VerdictMap::compute(&TheoryInput::default());
        assert_eq!((map.cols, map.rows, map.cells.len()), (9, MAP_ROWS, 9 * MAP_ROWS));
        // n_d = 0: nothing to remedy.
        assert!((0..map.rows).all(|r| map.cell_at(0, r) == Cell::NoDifficult));
        assert!(map.cells.iter().all(|&c| c != Cell::Invalid));
        // The worked example's cell: n_d = 2, γ − β = 0.033 of 0.179 → row 7.
        let row = ((0.033 / map.span) * MAP_ROWS as f64) as usize;
        assert_eq!(map.cell_at(2, row), Cell::Margin { removal: false, temperature: false });
        let invalid = VerdictMap::compute(&TheoryInput { alpha: 0.2, ..TheoryInput::default() });
        assert!(invalid.cells.iter().all(|&c| c == Cell::Invalid));
    }
}
