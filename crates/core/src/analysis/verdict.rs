//! What the seed paper's bounds say (docs/math.md §5), as words and as a map: which of keeping the difficult
//! examples, removing them, a margin or a smaller temperature on their pairs gives the lowest bound on the
//! downstream error, stated from all four bounds (`verdict`, `lambda_text`), and the same verdict over n_d and
//! γ − β (`VerdictMap`, from the closed forms alone). The theory tab draws these; the lab computes them when
//! its sliders change (never while drawing).

use crate::theory::{TheoryInput, TheoryReport, closed_forms};

/// Rows of the verdict map (values of γ − β); its columns are n_d = 0..=n.
pub const MAP_ROWS: usize = 40;

/// The cases the verdict compares: keeping the difficult examples, and the three remedies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    Keep,
    Removal,
    Margin,
    Temperature,
}

impl Case {
    pub fn label(self) -> &'static str {
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

pub fn fmt_bound(e: f64) -> String {
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
pub enum VerdictCell {
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

impl VerdictCell {
    pub const ALL: [VerdictCell; 9] = [
        VerdictCell::Keep,
        VerdictCell::Margin { removal: false, temperature: false },
        VerdictCell::Margin { removal: false, temperature: true },
        VerdictCell::Margin { removal: true, temperature: false },
        VerdictCell::Margin { removal: true, temperature: true },
        VerdictCell::Removal,
        VerdictCell::Temperature,
        VerdictCell::NoDifficult,
        VerdictCell::Invalid,
    ];

    pub fn of(bounds: Option<Bounds>) -> VerdictCell {
        let Some(b) = bounds else { return VerdictCell::Invalid };
        match b.best() {
            Case::Keep => VerdictCell::Keep,
            Case::Removal => VerdictCell::Removal,
            Case::Temperature => VerdictCell::Temperature,
            Case::Margin => {
                VerdictCell::Margin { removal: b.helps(Case::Removal), temperature: b.helps(Case::Temperature) }
            }
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            VerdictCell::Invalid => "not a valid input (the model needs 0 ≤ β < γ < α < 1, δ > 0)",
            VerdictCell::NoDifficult => "n_d = 0: no difficult examples, nothing to remedy",
            VerdictCell::Keep => "no remedy helps: keeping the difficult examples is lowest",
            VerdictCell::Removal => "removal is lowest",
            VerdictCell::Temperature => "the temperature is lowest",
            VerdictCell::Margin { removal: false, temperature: false } => "the margin is lowest; only it helps",
            VerdictCell::Margin { removal: false, temperature: true } => {
                "the margin is lowest; the temperature helps too"
            }
            VerdictCell::Margin { removal: true, temperature: false } => "the margin is lowest; removal helps too",
            VerdictCell::Margin { removal: true, temperature: true } => {
                "the margin is lowest; removal and the temperature help too"
            }
        }
    }
}

/// The verdict over n_d (columns 0..=n) and γ − β (rows, bottom to top, cell centres spanning (0, α − β)), the
/// other parameters at the sliders.
pub struct VerdictMap {
    pub cols: usize,
    pub rows: usize,
    /// γ − β at the top edge of the map: α − β.
    pub span: f64,
    /// Row-major from the bottom row: cells[row * cols + n_d].
    pub cells: Vec<VerdictCell>,
}

impl VerdictMap {
    pub fn compute(input: &TheoryInput) -> Self {
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
                    None => VerdictCell::Invalid,
                    Some(_) if n_d == 0 => VerdictCell::NoDifficult,
                    b => VerdictCell::of(b),
                });
            }
        }
        Self { cols, rows, span, cells }
    }

    pub fn cell_at(&self, n_d: usize, row: usize) -> VerdictCell {
        self.cells[row * self.cols + n_d]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::evaluate;

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
        assert!((0..map.rows).all(|r| map.cell_at(0, r) == VerdictCell::NoDifficult));
        assert!(map.cells.iter().all(|&c| c != VerdictCell::Invalid));
        // The worked example's cell: n_d = 2, γ − β = 0.033 of 0.179 → row 7.
        let row = ((0.033 / map.span) * MAP_ROWS as f64) as usize;
        assert_eq!(map.cell_at(2, row), VerdictCell::Margin { removal: false, temperature: false });
        let invalid = VerdictMap::compute(&TheoryInput { alpha: 0.2, ..TheoryInput::default() });
        assert!(invalid.cells.iter().all(|&c| c == VerdictCell::Invalid));
    }
}
