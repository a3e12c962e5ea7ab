//! The similarity-graph model of difficult examples (docs/math.md §5; seed paper §3–4), in closed form and as an
//! explicit matrix whose spectrum checks the closed forms.
//!
//! r+1 classes of n samples, the first n_d of each class difficult. Similarities: self 1, same class α,
//! easy cross-class β, difficult cross-class γ, 0 ≤ β < γ < α < 1. Labels are recoverable from the
//! augmentations with error δ. The downstream error bound is E(λ) = 4δ/(1−λ) + 8δ, where λ is the
//! (r+2)-th largest eigenvalue of the normalised similarity matrix Ā = D^{-1/2} A D^{-1/2}.

use crate::error::{Error, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// Largest explicit matrix ((r+1)·n rows) whose spectrum `evaluate` computes: an eigen-decomposition is
/// O(size³), and the app re-evaluates while a slider moves. Larger inputs get `None` for the explicit
/// eigenvalues.
pub const EXPLICIT_MAX_SIZE: usize = 480;

/// Parameters of the similarity-graph model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TheoryInput {
    /// Samples per class.
    pub n: usize,
    /// r + 1 classes.
    pub r: usize,
    /// Difficult samples per class.
    pub n_d: usize,
    /// Same-class similarity.
    pub alpha: f64,
    /// Easy cross-class similarity.
    pub beta: f64,
    /// Difficult cross-class similarity.
    pub gamma: f64,
    /// Label error of the augmentation graph.
    pub delta: f64,
}

impl Default for TheoryInput {
    /// The worked example of docs/math.md §5.
    fn default() -> Self {
        TheoryInput { n: 8, r: 2, n_d: 2, alpha: 0.387, beta: 0.208, gamma: 0.241, delta: 0.01 }
    }
}

impl TheoryInput {
    /// Checks 0 ≤ β < γ < α < 1, 1 ≤ n, 1 ≤ r, n_d ≤ n, δ > 0, and that every number is finite.
    /// All problems are reported at once, each naming the parameter and its value.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        for (name, v) in [("alpha", a), ("beta", b), ("gamma", g), ("delta", d)] {
            if !v.is_finite() {
                problems.push(format!("{name} ({v}) must be a finite number"));
            }
        }
        if self.n < 1 {
            problems.push(format!("n ({}) must be at least 1 sample per class", self.n));
        }
        if self.r < 1 {
            problems.push(format!("r ({}) must be at least 1 (r + 1 classes)", self.r));
        }
        if self.n_d > self.n {
            problems.push(format!("n_d ({}) must not exceed n ({})", self.n_d, self.n));
        }
        if b < 0.0 {
            problems.push(format!("beta ({b}) must not be negative"));
        }
        if b >= g {
            problems.push(format!("beta ({b}) must be smaller than gamma ({g})"));
        }
        if g >= a {
            problems.push(format!("gamma ({g}) must be smaller than alpha ({a})"));
        }
        if a >= 1.0 {
            problems.push(format!("alpha ({a}) must be smaller than 1"));
        }
        if d <= 0.0 {
            problems.push(format!("delta ({d}) must be positive"));
        }
        if problems.is_empty() { Ok(()) } else { Err(Error::invalid(problems.join("; "))) }
    }

    /// The model after removing the difficult samples: n − n_d clean samples per class.
    pub fn removed(&self) -> TheoryInput {
        TheoryInput { n: self.n.saturating_sub(self.n_d), n_d: 0, ..*self }
    }
}

/// Every closed form of docs/math.md §5 and the explicit spectra that check them (serialised as the CLI's JSON;
/// an infinite bound, e.g. when every sample would be removed, serialises as null like a missing spectrum).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TheoryReport {
    pub c0: f64,
    pub c1: f64,
    pub c2: f64,
    pub lambda_wo: f64,
    pub lambda_wd: f64,
    pub lambda_removed: f64,
    pub bound_wo: f64,
    pub bound_wd: f64,
    pub bound_removed: f64,
    pub bound_temperature: f64,
    pub margin: f64,
    pub tau_difficult: f64,
    /// bound_removed < bound_wd; equivalent to γ − β > removal_threshold.
    pub removal_helps: bool,
    /// bound_temperature < bound_wd.
    pub temperature_helps: bool,
    /// The margin recovers bound_wo, so it helps iff bound_wo < bound_wd.
    pub margin_helps: bool,
    /// n_d(1−α)(α+rγ) / (r[(1−α) + (n−n_d)(α+rβ)]): removal beats keeping iff γ − β exceeds it (n_d ≥ 1).
    pub removal_threshold: f64,
    /// (r+2)-th eigenvalue of the explicit clean matrix (equals lambda_wo); `None` if not computed.
    pub explicit_lambda_clean: Option<f64>,
    /// (r+2)-th eigenvalue of the index-matched matrix (approximately lambda_wd).
    pub explicit_lambda_index_matched: Option<f64>,
    /// (r+2)-th eigenvalue of the block matrix (approximately lambda_wd).
    pub explicit_lambda_block: Option<f64>,
    /// (r+2)-th eigenvalue of the clean matrix with n − n_d per class (equals lambda_removed).
    pub explicit_lambda_removed: Option<f64>,
}

/// E(λ) = 4δ/(1−λ) + 8δ; infinite for λ ≥ 1 (the bound says nothing there).
pub fn bound(delta: f64, lambda: f64) -> f64 {
    if lambda >= 1.0 { f64::INFINITY } else { 4.0 * delta / (1.0 - lambda) + 8.0 * delta }
}

/// Every closed form of docs/math.md §5 for `input`, with the explicit spectra that check them. Never panics: on
/// an input that fails `validate` the numbers are whatever the formulas give (possibly infinite or NaN) and the
/// explicit eigenvalues are `None`; front ends call `validate` first and show its message.
pub fn evaluate(input: &TheoryInput) -> TheoryReport {
    let explicit = |inp: &TheoryInput, c: Construction| explicit_spectrum(inp, c).get(inp.r + 1).copied();
    let valid = input.validate().is_ok();
    let removed = input.removed();
    TheoryReport {
        explicit_lambda_clean: explicit(input, Construction::Clean),
        explicit_lambda_index_matched: explicit(input, Construction::IndexMatched),
        explicit_lambda_block: explicit(input, Construction::Block),
        explicit_lambda_removed: if valid && removed.n > 0 { explicit(&removed, Construction::Clean) } else { None },
        ..closed_forms(input)
    }
}

/// The closed forms of docs/math.md §5 alone (the explicit eigenvalues `None`): a few flops, where `evaluate`'s
/// eigen-decompositions cost O(((r+1)n)³) each — for maps over many inputs (the app's verdict map).
pub fn closed_forms(input: &TheoryInput) -> TheoryReport {
    let TheoryInput { alpha: a, beta: b, gamma: g, delta, .. } = *input;
    let (n, r, nd) = (input.n as f64, input.r as f64, input.n_d as f64);
    // Degrees: c₂ of a sample with no difficult pairs, c₁ with n_d·r of its β pairs raised to γ, c₀ after
    // removal (n − n_d per class, clean).
    let c2 = (1.0 - a) + n * a + n * r * b;
    let c1 = c2 + nd * r * (g - b);
    let c0 = (1.0 - a) + n * a + (n - nd) * r * b;
    let lambda_wo = (1.0 - a) / c2;
    // The difficult samples' eigenvalue; with none (n_d = 0) the graph is the clean one (docs/math.md §5).
    let lambda_wd = if input.n_d == 0 { lambda_wo } else { ((1.0 - a) + r * (g - b)) / c1 };
    let removed_degree = (1.0 - a) + (n - nd) * (a + r * b);
    let lambda_removed = (1.0 - a) / removed_degree;
    let removal_threshold = nd * (1.0 - a) * (a + r * g) / (r * removed_degree);
    let (bound_wo, bound_wd, bound_removed) =
        (bound(delta, lambda_wo), bound(delta, lambda_wd), bound(delta, lambda_removed));
    // Temperature τ_d on difficult pairs: E_T = 4δ[1 − q² + (γ/β)² q²]/(1 − λ_wo) + 8δ with q = n_d/n
    // (q = 0 leaves the bracket at 1 even when β = 0).
    let q = nd / n;
    let bracket = if input.n_d == 0 { 1.0 } else { 1.0 - q * q + (g / b).powi(2) * q * q };
    let bound_temperature =
        if lambda_wo >= 1.0 { f64::INFINITY } else { 4.0 * delta * bracket / (1.0 - lambda_wo) + 8.0 * delta };
    TheoryReport {
        c0,
        c1,
        c2,
        lambda_wo,
        lambda_wd,
        lambda_removed,
        bound_wo,
        bound_wd,
        bound_removed,
        bound_temperature,
        margin: c0 * (g - b) / (c1 * c1 * c2),
        tau_difficult: (c1 / c2) * (b / g),
        removal_helps: bound_removed < bound_wd,
        temperature_helps: bound_temperature < bound_wd,
        margin_helps: bound_wo < bound_wd,
        removal_threshold,
        explicit_lambda_clean: None,
        explicit_lambda_index_matched: None,
        explicit_lambda_block: None,
        explicit_lambda_removed: None,
    }
}

/// `evaluate` after `validate`: the entry point for user input.
pub fn try_evaluate(input: &TheoryInput) -> Result<TheoryReport> {
    input.validate()?;
    Ok(evaluate(input))
}

/// How difficult samples are placed in the explicit matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Construction {
    /// No difficult samples: every cross-class entry is β.
    Clean,
    /// Difficult sample ℓ < n_d of class a is γ-similar to sample ℓ of every other class only.
    IndexMatched,
    /// Every difficult sample is γ-similar to every difficult sample of the other classes.
    Block,
}

/// The (r+1)n × (r+1)n similarity matrix A (sample ℓ of class c at row c·n + ℓ; the first n_d of each class
/// are difficult), or `None` when it is empty, larger than `EXPLICIT_MAX_SIZE`, or the input is invalid.
pub fn similarity_matrix(input: &TheoryInput, construction: Construction) -> Option<DMatrix<f64>> {
    input.validate().ok()?;
    let (n, nd) = (input.n, input.n_d);
    let size = (input.r + 1).checked_mul(n)?;
    if size == 0 || size > EXPLICIT_MAX_SIZE {
        return None;
    }
    Some(DMatrix::from_fn(size, size, |i, j| {
        let (ci, li, cj, lj) = (i / n, i % n, j / n, j % n);
        let both_difficult = li < nd && lj < nd;
        if i == j {
            1.0
        } else if ci == cj {
            input.alpha
        } else if both_difficult
            && match construction {
                Construction::Clean => false,
                Construction::IndexMatched => li == lj,
                Construction::Block => true,
            }
        {
            input.gamma
        } else {
            input.beta
        }
    }))
}

/// Eigenvalues of Ā = D^{-1/2} A D^{-1/2} (D = diag of row sums of A), in descending order.
/// Empty when `similarity_matrix` gives `None`.
pub fn explicit_spectrum(input: &TheoryInput, construction: Construction) -> Vec<f64> {
    let Some(mut a) = similarity_matrix(input, construction) else {
        return Vec::new();
    };
    // Valid input has every entry ≥ 0 and a diagonal of 1, so every degree is ≥ 1.
    let inv_sqrt: Vec<f64> = a.row_iter().map(|row| 1.0 / row.sum().sqrt()).collect();
    let size = a.nrows();
    for i in 0..size {
        for j in 0..size {
            a[(i, j)] *= inv_sqrt[i] * inv_sqrt[j];
        }
    }
    let mut eig: Vec<f64> = a.symmetric_eigenvalues().iter().copied().collect();
    eig.sort_by(|x, y| y.total_cmp(x));
    eig
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, tol: f64, what: &str) {
        assert!((got - want).abs() <= tol, "{what}: got {got}, want {want} (±{tol})");
    }

    /// With no difficult samples the graph is the clean one: λ_wd = λ_wo, as the explicit matrix shows, and no
    /// remedy is said to help (the closed form [(1−α) + r(γ−β)]/c₁ is the difficult samples' eigenvalue and
    /// exists only for n_d ≥ 1). It said 0.0965 against the spectrum's 0.0871, and "helps" for all three.
    #[test]
    fn no_difficult_samples_means_nothing_to_remedy() {
        let input = TheoryInput { n_d: 0, ..TheoryInput::default() };
        let rep = evaluate(&input);
        assert_eq!(rep.lambda_wd, rep.lambda_wo);
        let explicit = rep.explicit_lambda_index_matched.unwrap();
        assert!((explicit - rep.lambda_wd).abs() < 1e-12, "{explicit} vs {}", rep.lambda_wd);
        assert!(!rep.removal_helps && !rep.margin_helps && !rep.temperature_helps, "{rep:?}");
        // One difficult sample per class brings the difficult eigenvalue back.
        let one = evaluate(&TheoryInput { n_d: 1, ..TheoryInput::default() });
        assert!(one.lambda_wd > one.lambda_wo);
    }

    #[test]
    fn worked_example_matches_math_md() {
        let rep = evaluate(&TheoryInput::default());
        close(rep.c0, 6.205, 5e-4, "c0");
        close(rep.c1, 7.169, 5e-4, "c1");
        close(rep.c2, 7.037, 5e-4, "c2");
        close(rep.bound_wo, 0.123817, 5e-7, "E_wo");
        close(rep.bound_wd, 0.124185, 5e-7, "E_wd");
        close(rep.bound_removed, 0.125089, 5e-7, "E_R");
        close(rep.margin, 5.66e-4, 5e-7, "m");
        close(rep.tau_difficult, 0.879, 5e-4, "tau_d");
        assert!(!rep.removal_helps);
        assert!(rep.margin_helps);
        // The paper's inequality agrees: γ − β = 0.033 is below the threshold.
        assert!(0.241 - 0.208 <= rep.removal_threshold);
    }

    #[test]
    fn removal_inequality_agrees_with_the_bounds() {
        let mut checked = 0;
        for n in [3, 8, 40] {
            // The paper's inequality is about difficult samples that exist (n_d ≥ 1).
            for n_d in 1..=n.min(6) {
                for (a, b, g) in [(0.387, 0.208, 0.241), (0.9, 0.01, 0.8), (0.5, 0.0, 0.45), (0.3, 0.1, 0.12)] {
                    let input = TheoryInput { n, r: 3, n_d, alpha: a, beta: b, gamma: g, delta: 0.05 };
                    let rep = evaluate(&input);
                    if ((g - b) - rep.removal_threshold).abs() > 1e-12 {
                        assert_eq!(rep.removal_helps, g - b > rep.removal_threshold, "{input:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 50);
        // Removal can help: many difficult samples with γ close to α.
        let input = TheoryInput { n: 10, r: 2, n_d: 1, alpha: 0.5, beta: 0.0, gamma: 0.45, delta: 0.01 };
        assert!(evaluate(&input).removal_helps);
    }

    #[test]
    fn clean_and_removed_closed_forms_equal_the_explicit_spectra() {
        for input in [
            TheoryInput::default(),
            TheoryInput { n: 12, r: 4, n_d: 5, alpha: 0.6, beta: 0.05, gamma: 0.3, delta: 0.01 },
        ] {
            let rep = evaluate(&input);
            close(rep.explicit_lambda_clean.unwrap(), rep.lambda_wo, 1e-9, "clean");
            close(rep.explicit_lambda_removed.unwrap(), rep.lambda_removed, 1e-9, "removed");
            let spec = explicit_spectrum(&input, Construction::Clean);
            assert_eq!(spec.len(), (input.r + 1) * input.n);
            close(spec[0], 1.0, 1e-9, "top eigenvalue of a normalised similarity matrix");
        }
    }

    /// Index-matched: λ_wd is the closed form of an exact eigenvalue [(1−α) + r(γ−β)]/(c₂ + r(γ−β)) with the
    /// degree c₁ = c₂ + n_d·r(γ−β) in place of the true c₂ + r(γ−β), so the relative gap vanishes as n grows.
    /// Block: the (r+2)-th eigenvalue is near [(1−α) + r·n_d(γ−β)]/c₁ (the difficult samples of all classes
    /// move together), so only the absolute gap vanishes (like 1/n); the relative gap stays near
    /// (n_d − 1)r(γ−β)/((1−α) + r(γ−β)).
    #[test]
    fn lambda_wd_approximates_the_explicit_spectra_better_as_n_grows() {
        let gaps = |n: usize| {
            let input = TheoryInput { n, r: 2, n_d: 2, alpha: 0.387, beta: 0.208, gamma: 0.241, delta: 0.01 };
            let rep = evaluate(&input);
            let wd = rep.lambda_wd;
            let (im, block) = (rep.explicit_lambda_index_matched.unwrap(), rep.explicit_lambda_block.unwrap());
            ((im - wd).abs() / wd, (block - wd).abs(), (block - wd).abs() / wd)
        };
        let (small_im, small_block, small_block_rel) = gaps(8);
        let (large_im, large_block, _) = gaps(100);
        assert!(small_im < 0.02 && small_block_rel < 0.1, "n = 8: relative gaps {small_im}, {small_block_rel}");
        assert!(large_im < small_im / 5.0, "index-matched relative gap {small_im} → {large_im}");
        assert!(large_block < small_block / 5.0, "block absolute gap {small_block} → {large_block}");
    }

    #[test]
    fn validation_names_the_parameter() {
        let base = TheoryInput::default();
        let msg = |i: TheoryInput| i.validate().unwrap_err().to_string();
        assert!(base.validate().is_ok());
        assert_eq!(msg(TheoryInput { beta: 0.3, gamma: 0.2, ..base }), "beta (0.3) must be smaller than gamma (0.2)");
        assert!(msg(TheoryInput { gamma: 0.5, ..base }).contains("gamma (0.5) must be smaller than alpha (0.387)"));
        assert!(msg(TheoryInput { alpha: 1.0, gamma: 0.5, ..base }).contains("alpha (1) must be smaller than 1"));
        assert!(msg(TheoryInput { beta: -0.1, ..base }).contains("beta (-0.1) must not be negative"));
        assert!(msg(TheoryInput { n_d: 9, ..base }).contains("n_d (9) must not exceed n (8)"));
        assert!(msg(TheoryInput { n: 0, n_d: 0, ..base }).contains("n (0)"));
        assert!(msg(TheoryInput { r: 0, ..base }).contains("r (0)"));
        assert!(msg(TheoryInput { delta: 0.0, ..base }).contains("delta (0) must be positive"));
        assert!(msg(TheoryInput { alpha: f64::NAN, ..base }).contains("alpha (NaN) must be a finite number"));
        assert!(try_evaluate(&TheoryInput { r: 0, ..base }).is_err());
    }

    #[test]
    fn evaluate_never_panics_on_bad_or_extreme_input() {
        let base = TheoryInput::default();
        for input in [
            TheoryInput { n: 0, n_d: 3, ..base },
            TheoryInput { r: 0, ..base },
            TheoryInput { n_d: 8, ..base },
            TheoryInput { beta: 0.0, ..base },
            TheoryInput { alpha: f64::NAN, ..base },
            TheoryInput { n: 100_000, r: 1000, ..base },
        ] {
            let rep = evaluate(&input);
            let _ = serde_json::to_string(&rep).unwrap();
        }
        // All difficult samples removed: nothing left, the bound is infinite.
        let rep = evaluate(&TheoryInput { n_d: 8, ..base });
        assert!(rep.bound_removed.is_infinite() && !rep.removal_helps && rep.explicit_lambda_removed.is_none());
    }

    #[test]
    fn report_serialises_with_the_documented_field_names() {
        let json = serde_json::to_value(evaluate(&TheoryInput::default())).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        for k in [
            "c0",
            "c1",
            "c2",
            "lambda_wo",
            "lambda_wd",
            "lambda_removed",
            "bound_wo",
            "bound_wd",
            "bound_removed",
            "bound_temperature",
            "margin",
            "tau_difficult",
            "removal_helps",
            "temperature_helps",
            "margin_helps",
            "removal_threshold",
            "explicit_lambda_clean",
            "explicit_lambda_index_matched",
            "explicit_lambda_block",
            "explicit_lambda_removed",
        ] {
            assert!(keys.contains(&k), "missing {k}");
        }
        assert_eq!(keys.len(), 20);
    }

    /// The largest explicit evaluation still gives every explicit spectrum (0.6 s here: cheap enough to run
    /// always; its speed is not asserted).
    #[test]
    fn evaluate_at_the_explicit_size_limit_gives_every_spectrum() {
        let input = TheoryInput { n: EXPLICIT_MAX_SIZE / 3, ..TheoryInput::default() };
        let rep = evaluate(&input);
        assert!(rep.explicit_lambda_clean.is_some() && rep.explicit_lambda_index_matched.is_some());
        assert!(rep.explicit_lambda_block.is_some() && rep.explicit_lambda_removed.is_some());
    }
}
