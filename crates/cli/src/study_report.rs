//! A study's outputs, from its finished runs (docs/study.md): runs.csv, summary.json and summary.csv (each
//! cell's mean, sd and 95 % interval; each method's difference to the baseline paired by seed, with the
//! paired t-test), report.md and its figures, with the theory's verdict (docs/math.md §5) beside what the
//! runs measured.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;
use spherelab_core::stats::{self, Describe, PAIRED_TEST, Paired};
use spherelab_core::study::{Method, PlannedRun, Study};
use spherelab_core::theory::{self, TheoryInput};

/// The accuracies a study compares, as named in runs.csv and summary.json.
pub const METRICS: [&str; 4] = ["probe_accuracy", "knn_accuracy", "probe_accuracy_z", "knn_accuracy_z"];

/// One finished (or failed) run.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: String,
    pub dataset: String,
    pub omega: f64,
    pub method: String,
    pub seed: u64,
    pub axes: Vec<(String, String)>,
    pub steps: u64,
    /// probe_accuracy, knn_accuracy, probe_accuracy_z, knn_accuracy_z (METRICS' order).
    pub accuracy: [f64; 4],
    pub alignment: f64,
    pub uniformity: f64,
    pub alpha_hat: Option<f64>,
    pub beta_hat: Option<f64>,
    pub gamma_hat: Option<f64>,
    pub pruned: Option<u64>,
    pub pruned_precision: Option<f64>,
    /// Training samples, of them difficult, and classes: the theory's n, n_d and r + 1.
    pub train: u64,
    pub train_difficult: u64,
    pub classes: u64,
    pub seconds: f64,
    pub error: Option<String>,
}

impl Row {
    fn planned(run: &PlannedRun) -> Row {
        Row {
            id: run.id.clone(),
            dataset: run.dataset.name().to_string(),
            // ω as written (0.3, not the f32's 0.30000001192092896).
            omega: run.omega.to_string().parse().unwrap_or(f64::NAN),
            method: run.method.name(),
            seed: run.seed,
            axes: run.axes.clone(),
            steps: 0,
            accuracy: [f64::NAN; 4],
            alignment: f64::NAN,
            uniformity: f64::NAN,
            alpha_hat: None,
            beta_hat: None,
            gamma_hat: None,
            pruned: None,
            pruned_precision: None,
            train: 0,
            train_difficult: 0,
            classes: 0,
            seconds: 0.0,
            error: None,
        }
    }

    pub fn failed(run: &PlannedRun, error: &str) -> Row {
        Row { error: Some(error.to_string()), ..Row::planned(run) }
    }

    /// The row of a run from its summary.json (see outputs.rs).
    pub fn from_summary(run: &PlannedRun, v: &Value) -> Result<Row> {
        let num = |path: &[&str]| -> Option<f64> {
            let mut x = v;
            for p in path {
                x = x.get(p)?;
            }
            x.as_f64()
        };
        let need = |path: &[&str]| num(path).with_context(|| format!("no number at {}", path.join(".")));
        let mut accuracy = [0.0; 4];
        for (a, m) in accuracy.iter_mut().zip(METRICS) {
            *a = need(&["test_split", m])?;
        }
        Ok(Row {
            steps: need(&["steps"])? as u64,
            accuracy,
            alignment: num(&["final", "alignment"]).unwrap_or(f64::NAN),
            uniformity: num(&["final", "uniformity"]).unwrap_or(f64::NAN),
            alpha_hat: num(&["test_split", "alpha_hat"]),
            beta_hat: num(&["test_split", "beta_hat"]),
            gamma_hat: num(&["test_split", "gamma_hat"]),
            pruned: num(&["pruning", "pruned"]).map(|p| p as u64),
            pruned_precision: num(&["pruning", "precision"]),
            train: need(&["dataset", "train"])? as u64,
            train_difficult: need(&["dataset", "train_difficult"])? as u64,
            classes: need(&["dataset", "classes"])? as u64,
            seconds: num(&["seconds"]).unwrap_or(0.0),
            ..Row::planned(run)
        })
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn runs_csv(study: &Study, rows: &[Row]) -> String {
    let mut s = String::from(
        "run_id,dataset,omega,method,seed,steps,probe_accuracy,knn_accuracy,probe_accuracy_z,knn_accuracy_z,\
         alignment,uniformity,alpha_hat,beta_hat,gamma_hat,pruned,pruned_precision,seconds,error",
    );
    for axis in &study.axes {
        s += &format!(",{}", csv_field(&axis.key));
    }
    s.push('\n');
    for r in rows {
        let acc = |i: usize| if r.error.is_some() { String::new() } else { r.accuracy[i].to_string() };
        let f = |x: f64| if x.is_finite() { x.to_string() } else { String::new() };
        let _ = write!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{}",
            r.id,
            r.dataset,
            r.omega,
            csv_field(&r.method),
            r.seed,
            r.steps,
            acc(0),
            acc(1),
            acc(2),
            acc(3),
            f(r.alignment),
            f(r.uniformity),
            opt(r.alpha_hat),
            opt(r.beta_hat),
            opt(r.gamma_hat),
            r.pruned.map_or(String::new(), |p| p.to_string()),
            opt(r.pruned_precision),
            r.seconds,
            csv_field(r.error.as_deref().unwrap_or(""))
        );
        for (_, v) in &r.axes {
            s += &format!(",{}", csv_field(v));
        }
        s.push('\n');
    }
    s
}

/// Everything but the method and the seed: where a method is compared with the baseline.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Place {
    pub dataset: String,
    /// ω in thousandths, for ordering and equality.
    #[serde(skip)]
    pub omega_milli: i64,
    pub omega: String,
    pub axes: Vec<(String, String)>,
}

fn place(r: &Row, omega: f64) -> Place {
    Place {
        dataset: r.dataset.clone(),
        omega_milli: (omega * 1000.0).round() as i64,
        omega: format!("{omega}"),
        axes: r.axes.clone(),
    }
}

#[derive(Serialize)]
struct CellSummary {
    #[serde(flatten)]
    place: Place,
    method: String,
    n: usize,
    failed: usize,
    probe_accuracy: Option<Describe>,
    knn_accuracy: Option<Describe>,
    probe_accuracy_z: Option<Describe>,
    knn_accuracy_z: Option<Describe>,
    alpha_hat: Option<Describe>,
    beta_hat: Option<Describe>,
    gamma_hat: Option<Describe>,
    pruned_precision: Option<Describe>,
}

#[derive(Serialize)]
struct Comparison {
    #[serde(flatten)]
    place: Place,
    method: String,
    baseline: &'static str,
    test: &'static str,
    /// Seeds present in both the method's and the baseline's runs.
    seeds: Vec<u64>,
    probe_accuracy: Option<Paired>,
    knn_accuracy: Option<Paired>,
    probe_accuracy_z: Option<Paired>,
    knn_accuracy_z: Option<Paired>,
}

#[derive(Serialize)]
struct TheoryVerdict {
    #[serde(flatten)]
    place: Place,
    /// The theory's input: measured α̂ β̂ γ̂ (baseline means), n and n_d per class, r = classes − 1.
    input: Option<TheoryInput>,
    /// Why the theory does not apply, when it does not (e.g. β̂ ≥ γ̂ measured).
    not_applicable: Option<String>,
    predicts_removal_helps: Option<bool>,
    predicts_margin_helps: Option<bool>,
    predicts_temperature_helps: Option<bool>,
}

#[derive(Serialize)]
struct SummaryFile<'a> {
    study: &'a str,
    runs: usize,
    failed: usize,
    /// Every comparison made (read the p-values with this many in mind).
    comparisons_made: usize,
    cells: Vec<CellSummary>,
    comparisons: Vec<Comparison>,
    theory: Vec<TheoryVerdict>,
}

fn describe_opt(xs: impl Iterator<Item = Option<f64>>) -> Option<Describe> {
    let v: Vec<f64> = xs.flatten().filter(|x| x.is_finite()).collect();
    stats::describe(&v)
}

/// The runs of each (place, method); a clean run (trained at ω = 0) is filed under ω = 0.
fn group(rows: &[Row]) -> BTreeMap<(Place, String), Vec<&Row>> {
    let mut g: BTreeMap<(Place, String), Vec<&Row>> = BTreeMap::new();
    for r in rows {
        g.entry((place(r, r.omega), r.method.clone())).or_default().push(r);
    }
    g
}

/// Verdict of an interval: "helps" when it lies above 0, "hurts" below, else "no effect detected".
pub fn verdict(p: &Paired) -> &'static str {
    if p.ci95[0] > 0.0 {
        "helps"
    } else if p.ci95[1] < 0.0 {
        "hurts"
    } else {
        "no effect detected"
    }
}

fn summarise<'a>(study: &'a Study, rows: &[Row]) -> SummaryFile<'a> {
    let groups = group(rows);
    let ok = |v: &Vec<&Row>| -> Vec<Row> { v.iter().filter(|r| r.error.is_none()).map(|r| (*r).clone()).collect() };
    let mut cells = Vec::new();
    for ((place, method), v) in &groups {
        let good = ok(v);
        let acc = |i: usize| stats::describe(&good.iter().map(|r| r.accuracy[i]).collect::<Vec<_>>());
        cells.push(CellSummary {
            place: place.clone(),
            method: method.clone(),
            n: good.len(),
            failed: v.len() - good.len(),
            probe_accuracy: acc(0),
            knn_accuracy: acc(1),
            probe_accuracy_z: acc(2),
            knn_accuracy_z: acc(3),
            alpha_hat: describe_opt(good.iter().map(|r| r.alpha_hat)),
            beta_hat: describe_opt(good.iter().map(|r| r.beta_hat)),
            gamma_hat: describe_opt(good.iter().map(|r| r.gamma_hat)),
            pruned_precision: describe_opt(good.iter().map(|r| r.pruned_precision)),
        });
    }
    let mut comparisons = Vec::new();
    let mut theory_rows = Vec::new();
    for ((place, method), base) in groups.iter().filter(|((_, m), _)| m == "baseline") {
        let base = ok(base);
        let by_seed: BTreeMap<u64, &Row> = base.iter().map(|r| (r.seed, r)).collect();
        // At ω = 0 the clean run is the baseline itself: nothing to compare.
        let compared = |m: &&Method| **m != Method::Baseline && !(**m == Method::Clean && place.omega_milli == 0);
        for m in study.methods.iter().filter(compared) {
            let name = m.name();
            let key_place = if *m == Method::Clean {
                Place { omega_milli: 0, omega: "0".into(), ..place.clone() }
            } else {
                place.clone()
            };
            let Some(theirs) = groups.get(&(key_place, name.clone())) else { continue };
            let theirs = ok(theirs);
            let pairs: Vec<(&Row, &Row)> =
                theirs.iter().filter_map(|r| by_seed.get(&r.seed).map(|b| (r, *b))).collect();
            if pairs.is_empty() {
                continue;
            }
            let paired = |i: usize| {
                let (a, b): (Vec<f64>, Vec<f64>) = pairs.iter().map(|(r, b)| (r.accuracy[i], b.accuracy[i])).unzip();
                stats::paired(&a, &b)
            };
            comparisons.push(Comparison {
                place: place.clone(),
                method: name,
                baseline: "baseline",
                test: PAIRED_TEST,
                seeds: pairs.iter().map(|(r, _)| r.seed).collect(),
                probe_accuracy: paired(0),
                knn_accuracy: paired(1),
                probe_accuracy_z: paired(2),
                knn_accuracy_z: paired(3),
            });
        }
        let _ = method;
        if place.omega_milli > 0 && !base.is_empty() {
            theory_rows.push(theory_verdict(place, &base));
        }
    }
    SummaryFile {
        study: &study.name,
        runs: rows.len(),
        failed: rows.iter().filter(|r| r.error.is_some()).count(),
        comparisons_made: comparisons.len() * METRICS.len(),
        cells,
        comparisons,
        theory: theory_rows,
    }
}

/// The theory of docs/math.md §5 fed with the baseline's measured α̂ β̂ γ̂ and the data's n, r, n_d.
fn theory_verdict(place: &Place, base: &[Row]) -> TheoryVerdict {
    let mean = |f: &dyn Fn(&Row) -> Option<f64>| -> Option<f64> {
        let v: Vec<f64> = base.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let r0 = &base[0];
    let classes = r0.classes.max(1);
    let input = match (mean(&|r| r.alpha_hat), mean(&|r| r.beta_hat), mean(&|r| r.gamma_hat)) {
        (Some(alpha), Some(beta), Some(gamma)) => Some(TheoryInput {
            n: (r0.train as f64 / classes as f64).round() as usize,
            r: (classes as usize).saturating_sub(1),
            n_d: (r0.train_difficult as f64 / classes as f64).round() as usize,
            alpha,
            beta,
            gamma,
            ..TheoryInput::default()
        }),
        _ => None,
    };
    let none = TheoryVerdict {
        place: place.clone(),
        input,
        not_applicable: None,
        predicts_removal_helps: None,
        predicts_margin_helps: None,
        predicts_temperature_helps: None,
    };
    match input.map(|i| theory::try_evaluate(&i)) {
        None => TheoryVerdict { not_applicable: Some("α̂, β̂ or γ̂ was not measured".into()), ..none },
        Some(Err(e)) => TheoryVerdict { not_applicable: Some(e.to_string()), ..none },
        Some(Ok(rep)) => TheoryVerdict {
            predicts_removal_helps: Some(rep.removal_helps),
            predicts_margin_helps: Some(rep.margin_helps),
            predicts_temperature_helps: Some(rep.temperature_helps),
            ..none
        },
    }
}

fn summary_csv(s: &SummaryFile) -> String {
    let mut out = String::from("kind,dataset,omega,axes,method,metric,n,mean,sd,ci95_lo,ci95_hi,p_value,test\n");
    let axes = |p: &Place| csv_field(&p.axes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(";"));
    for c in &s.cells {
        for (m, d) in METRICS.iter().zip([&c.probe_accuracy, &c.knn_accuracy, &c.probe_accuracy_z, &c.knn_accuracy_z]) {
            if let Some(d) = d {
                let _ = writeln!(
                    out,
                    "cell,{},{},{},{},{m},{},{},{},{},{},,",
                    c.place.dataset,
                    c.place.omega,
                    axes(&c.place),
                    csv_field(&c.method),
                    d.n,
                    d.mean,
                    d.sd,
                    d.ci95[0],
                    d.ci95[1]
                );
            }
        }
    }
    for c in &s.comparisons {
        for (m, d) in METRICS.iter().zip([&c.probe_accuracy, &c.knn_accuracy, &c.probe_accuracy_z, &c.knn_accuracy_z]) {
            if let Some(d) = d {
                let _ = writeln!(
                    out,
                    "difference,{},{},{},{},{m},{},{},{},{},{},{},{}",
                    c.place.dataset,
                    c.place.omega,
                    axes(&c.place),
                    csv_field(&c.method),
                    d.n,
                    d.mean_diff,
                    d.sd_diff,
                    d.ci95[0],
                    d.ci95[1],
                    d.p_value,
                    c.test
                );
            }
        }
    }
    out
}

fn pct(d: &Option<Describe>) -> String {
    d.map_or("–".into(), |d| format!("{:.1} [{:.1}, {:.1}]", 100.0 * d.mean, 100.0 * d.ci95[0], 100.0 * d.ci95[1]))
}

fn pct_diff(p: &Option<Paired>) -> String {
    p.map_or("–".into(), |p| {
        format!(
            "{:+.1} [{:+.1}, {:+.1}], p = {:.3} ({})",
            100.0 * p.mean_diff,
            100.0 * p.ci95[0],
            100.0 * p.ci95[1],
            p.p_value,
            verdict(&p)
        )
    })
}

fn place_title(p: &Place) -> String {
    let mut t = p.dataset.clone();
    for (k, v) in &p.axes {
        t += &format!(", {k} = {v}");
    }
    t
}

fn report_md(study: &Study, s: &SummaryFile, figures: &[(String, String)]) -> String {
    let mut md = format!("# Study: {}\n\n", study.name);
    let _ = writeln!(
        md,
        "{} runs ({} failed): datasets {}, ω {}, methods {}, seeds {:?}. Made by `spherelab study`; every number \
         below is computed from runs.csv (docs/study.md says how to rerun it).\n",
        s.runs,
        s.failed,
        study.datasets.iter().map(|d| d.name()).collect::<Vec<_>>().join(", "),
        study.omega.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", "),
        study.methods.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
        study.seeds
    );
    md += "Protocol (docs/math.md §3): ω mixes training samples only, the test split is clean; accuracy is the \
           linear probe (and kNN, k = 5) on the encoder's output h, fitted on the clean training rows and scored \
           on the clean test split; `_z` is the same on the embedding z. Intervals are Student-t 95 % over seeds; \
           differences are paired by seed against `baseline` of the same cell (paired t-test, two-sided). ";
    let _ = writeln!(
        md,
        "{} comparisons were made in all: at that many, a few p-values below 0.05 are expected by chance alone.\n",
        s.comparisons_made
    );
    for (title, file) in figures {
        let _ = writeln!(md, "![{title}]({file})\n");
    }
    md += "## Accuracy per cell (%, mean [95 % interval])\n\n| data, axes | ω | method | n | probe (h) | kNN (h) | probe (z) | kNN (z) |\n|---|---|---|---|---|---|---|---|\n";
    for c in &s.cells {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            place_title(&c.place),
            c.place.omega,
            c.method,
            c.n,
            pct(&c.probe_accuracy),
            pct(&c.knn_accuracy),
            pct(&c.probe_accuracy_z),
            pct(&c.knn_accuracy_z)
        );
    }
    md += "\n## Differences to the baseline, paired by seed (points of accuracy)\n\n| data, axes | ω | method | n | probe (h) | kNN (h) | probe (z) |\n|---|---|---|---|---|---|---|\n";
    for c in &s.comparisons {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            place_title(&c.place),
            c.place.omega,
            c.method,
            c.seeds.len(),
            pct_diff(&c.probe_accuracy),
            pct_diff(&c.knn_accuracy),
            pct_diff(&c.probe_accuracy_z)
        );
    }
    md += "\n## α̂, β̂, γ̂ (mean cosine on the training split's h; docs/math.md §4)\n\n| data, axes | ω | method | α̂ | β̂ | γ̂ |\n|---|---|---|---|---|---|\n";
    for c in s.cells.iter().filter(|c| c.method == "baseline" || c.method == "clean") {
        let f = |d: &Option<Describe>| d.map_or("–".into(), |d| format!("{:.3} ± {:.3}", d.mean, d.sd));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            place_title(&c.place),
            c.place.omega,
            c.method,
            f(&c.alpha_hat),
            f(&c.beta_hat),
            f(&c.gamma_hat)
        );
    }
    md += "\n## The theory's verdict beside the measurement (docs/math.md §5)\n\nThe similarity-graph model fed with \
           the baseline's measured α̂, β̂, γ̂ and the data's n, n_d per class and r = classes − 1 predicts whether \
           removing the difficult samples, a margin, or a smaller temperature on their pairs helps; the last \
           columns say what the runs measured (probe accuracy on h, 95 % interval of the paired difference).\n\n\
           | data, axes | ω | theory | removal predicted | margin predicted | temperature predicted | measured |\n|---|---|---|---|---|---|---|\n";
    for t in &s.theory {
        let yes = |b: Option<bool>| b.map_or("–", |b| if b { "helps" } else { "does not help" });
        let measured: Vec<String> = s
            .comparisons
            .iter()
            .filter(|c| c.place == t.place && c.method != "clean")
            .filter_map(|c| c.probe_accuracy.map(|p| format!("{}: {}", c.method, verdict(&p))))
            .collect();
        let status = match (&t.not_applicable, &t.input) {
            (Some(why), _) => format!("does not apply: {why}"),
            (None, Some(i)) => {
                format!("α̂ {:.3}, β̂ {:.3}, γ̂ {:.3}, n {}, n_d {}, r {}", i.alpha, i.beta, i.gamma, i.n, i.n_d, i.r)
            }
            (None, None) => "–".into(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {status} | {} | {} | {} | {} |",
            place_title(&t.place),
            t.place.omega,
            yes(t.predicts_removal_helps),
            yes(t.predicts_margin_helps),
            yes(t.predicts_temperature_helps),
            measured.join("; ")
        );
    }
    md
}

fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("{}: cannot write", path.display()))
}

/// Writes runs.csv, summary.json, summary.csv, figures/*.png and report.md into `dir`.
pub fn write_all(dir: &Path, study: &Study, rows: &[Row]) -> Result<()> {
    write(dir, "runs.csv", &runs_csv(study, rows))?;
    let summary = summarise(study, rows);
    write(dir, "summary.json", &(serde_json::to_string_pretty(&summary)? + "\n"))?;
    write(dir, "summary.csv", &summary_csv(&summary))?;
    let figures = crate::study_plots::write_all(&dir.join("figures"), rows, &summary.comparisons_by_place())?;
    write(dir, "report.md", &report_md(study, &summary, &figures))
}

impl SummaryFile<'_> {
    /// For the figures: per place, each method's paired probe-accuracy difference.
    fn comparisons_by_place(&self) -> Vec<(Place, String, Paired)> {
        self.comparisons
            .iter()
            .filter_map(|c| c.probe_accuracy.map(|p| (c.place.clone(), c.method.clone(), p)))
            .collect()
    }
}
