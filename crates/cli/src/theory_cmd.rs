//! `spherelab theory`: the similarity-graph model of docs/math.md §5. Given the class structure and the three
//! similarities, prints the spectral gaps and error bounds with and without difficult examples, and whether
//! removal, a margin or a temperature on the difficult pairs helps.

use anyhow::Result;
use clap::Args;
use serde_json::Value;
use spherelab_core::theory::{self, TheoryInput};

#[derive(Args, Debug)]
pub struct TheoryArgs {
    /// n: samples per class.
    #[arg(long)]
    pub n: usize,
    /// r: the number of classes is r + 1.
    #[arg(long)]
    pub r: usize,
    /// n_d: difficult samples per class.
    #[arg(long = "nd", value_name = "ND")]
    pub n_d: usize,
    /// α: similarity of two samples of the same class.
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: f64,
    /// β: similarity of easy cross-class pairs.
    #[arg(long, allow_negative_numbers = true)]
    pub beta: f64,
    /// γ: similarity of difficult cross-class pairs (β < γ < α).
    #[arg(long, allow_negative_numbers = true)]
    pub gamma: f64,
    /// δ: error of recovering labels from augmentations.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub delta: f64,
    /// Print the full report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: TheoryArgs) -> Result<()> {
    let input =
        TheoryInput { n: a.n, r: a.r, n_d: a.n_d, alpha: a.alpha, beta: a.beta, gamma: a.gamma, delta: a.delta };
    input.validate()?;
    let report = theory::evaluate(&input);
    if a.json {
        crate::emit(&(serde_json::to_string(&report)? + "\n"));
        return Ok(());
    }
    // The human table reads the report through its JSON form, so it shows exactly what --json prints.
    let v = serde_json::to_value(&report)?;
    crate::emit(&render(&a, &v));
    Ok(())
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// An optional number (the explicit spectra are skipped for very large matrices): "-" when absent.
fn opt(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_f64).map_or("-".into(), |x| format!("{x:.6}"))
}

fn yes(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The human-readable report: inputs, constants, gaps and bounds, the explicit spectra, then a verdict per
/// intervention.
fn render(a: &TheoryArgs, v: &Value) -> String {
    let mut s = String::new();
    let line = |s: &mut String, label: &str, value: String| s.push_str(&format!("  {label:<44} {value}\n"));
    let g = |x: f64| format!("{x:.6}");
    s.push_str(&format!(
        "similarity-graph model: {} classes × {} samples, {} difficult per class; α = {}, β = {}, γ = {}, δ = {}\n\n",
        a.r + 1,
        a.n,
        a.n_d,
        a.alpha,
        a.beta,
        a.gamma,
        a.delta
    ));
    s.push_str("constants\n");
    line(&mut s, "c0 (difficult pairs at β)", g(num(v, "c0")));
    line(&mut s, "c1 (with difficult examples)", g(num(v, "c1")));
    line(&mut s, "c2 (without difficult examples)", g(num(v, "c2")));
    s.push_str("\n(r+2)-th eigenvalue λ           closed form   explicit matrix\n");
    let pair = |s: &mut String, label: &str, closed: f64, explicit: String| {
        s.push_str(&format!("  {label:<30} {closed:>12.6}   {explicit}\n"))
    };
    pair(&mut s, "without difficult (λ_wo)", num(v, "lambda_wo"), opt(v, "explicit_lambda_clean"));
    pair(
        &mut s,
        "with difficult (λ_wd)",
        num(v, "lambda_wd"),
        format!(
            "{} (index-matched), {} (block)",
            opt(v, "explicit_lambda_index_matched"),
            opt(v, "explicit_lambda_block")
        ),
    );
    pair(&mut s, "difficult removed (λ_R)", num(v, "lambda_removed"), opt(v, "explicit_lambda_removed"));
    s.push_str("\nerror bound E(λ) = 4δ/(1−λ) + 8δ\n");
    line(&mut s, "without difficult examples (E_wo)", g(num(v, "bound_wo")));
    line(&mut s, "with difficult examples (E_wd)", g(num(v, "bound_wd")));
    line(&mut s, "difficult examples removed (E_R)", g(num(v, "bound_removed")));
    line(&mut s, "temperature on difficult pairs (E_T)", g(num(v, "bound_temperature")));
    s.push_str("\nverdicts\n");
    if a.n_d == 0 {
        s.push_str("  no difficult samples (n_d = 0): E_wd = E_wo, nothing to remedy\n");
        return s;
    }
    let (wd, wo) = (num(v, "bound_wd"), num(v, "bound_wo"));
    let verdict = |helps: bool| if helps { "helps" } else { "does not help" };
    s.push_str(&format!(
        "  removal:     {}: E_R = {:.6} vs E_wd = {wd:.6} (removal wins iff γ − β > {:.6}; here γ − β = {:.6})\n",
        verdict(yes(v, "removal_helps")),
        num(v, "bound_removed"),
        num(v, "removal_threshold"),
        a.gamma - a.beta
    ));
    s.push_str(&format!(
        "  margin:      {}: m = {:.4e} on difficult pairs restores E_wo = {wo:.6} (from E_wd = {wd:.6})\n",
        verdict(v.get("margin_helps").and_then(Value::as_bool).unwrap_or(wo < wd)),
        num(v, "margin")
    ));
    s.push_str(&format!(
        "  temperature: {}: τ_d = {:.4} on difficult pairs gives E_T = {:.6} vs E_wd = {wd:.6}\n",
        verdict(yes(v, "temperature_helps")),
        num(v, "tau_difficult"),
        num(v, "bound_temperature")
    ));
    s
}
