//! `spherelab study`: many runs of one question, one per core, with statistics (docs/study.md).
//!
//! - `--config STUDY.toml --out DIR` (or `--preset NAME`) runs every unfinished run of the study into
//!   DIR/runs/<id>/ (the files of `spherelab train`), then writes the outputs: runs.csv, summary.json,
//!   summary.csv, report.md and figures/. A re-run on the same DIR skips the runs whose summary.json exists.
//! - `--plan` prints one `spherelab train` command line per unfinished run instead, for GNU parallel or a
//!   Slurm array job; `--collect DIR` then builds the same outputs from the finished runs.
//!
//! Every path goes through the runs' summary.json files, so a direct, a resumed and a plan+collect study give
//! the same outputs (all but the `seconds` column).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use spherelab_core::Cpu;
use spherelab_core::study::{PRESETS, PlannedRun, Study, preset};

use crate::backend::BackendTask;
use crate::study_report::{self, Row};
use crate::train::TrainTask;

#[derive(Args, Debug)]
pub struct StudyArgs {
    /// A study file (TOML): seeds, datasets, omega, methods, [base] and [axes] (docs/study.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A study shipped with spherelab: paper (the regime docs/study.md reports) or smoke (a quick check).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// The study's directory: its runs, and the outputs.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Runs at once [default: the number of cores].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print one `spherelab train` command line per unfinished run instead of running them.
    #[arg(long)]
    pub plan: bool,
    /// Build the outputs from the finished runs in DIR (after the --plan commands ran).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "preset", "out", "plan"])]
    pub collect: Option<PathBuf>,
}

/// The study's text and where it came from (for messages).
fn study_text(a: &StudyArgs) -> Result<(String, String)> {
    match (&a.config, &a.preset) {
        (Some(_), Some(_)) => bail!("--config and --preset: give one of them"),
        (Some(p), None) => Ok((crate::csvio::read_text(p)?, p.display().to_string())),
        (None, Some(name)) => match preset(name) {
            Some(text) => Ok((text.to_string(), format!("preset {name}"))),
            None => bail!("--preset {name}: no such study; the presets are {}", PRESETS.map(|(n, _)| n).join(", ")),
        },
        (None, None) => bail!("give a study: --config STUDY.toml or --preset NAME (or --collect DIR)"),
    }
}

fn run_dir(dir: &Path, run: &PlannedRun) -> PathBuf {
    dir.join("runs").join(&run.id)
}

fn finished(dir: &Path, run: &PlannedRun) -> bool {
    run_dir(dir, run).join("summary.json").is_file()
}

/// Writes DIR/study.toml, or checks that the one there is this study (a resumed study must not mix two).
fn claim_dir(dir: &Path, text: &str) -> Result<()> {
    std::fs::create_dir_all(dir.join("runs"))
        .with_context(|| format!("{}: cannot create the study directory", dir.display()))?;
    let path = dir.join("study.toml");
    match std::fs::read_to_string(&path) {
        Ok(old) if old == text => Ok(()),
        Ok(_) => bail!(
            "{}: this directory holds another study (its study.toml differs): choose a new --out, or delete it",
            dir.display()
        ),
        Err(_) => std::fs::write(&path, text).with_context(|| format!("{}: cannot write", path.display())),
    }
}

/// The `spherelab train` command line of one run.
fn command_line(dir: &Path, run: &PlannedRun) -> String {
    let d = run_dir(dir, run);
    let prune = run.prune.map(|p| format!(" --prune {p}")).unwrap_or_default();
    format!(
        "spherelab train --config {} --backend cpu --no-plots{prune} --out {}",
        d.join("config.toml").display(),
        d.display()
    )
}

fn progress(len: usize) -> Option<ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("study [{bar:24}] {pos}/{len} runs, eta {eta} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(250));
    Some(bar)
}

/// Trains one run into its directory (the CPU engine: bit-for-bit reproducible, so a resumed study equals a
/// direct one). A run that fails (it diverged, say) leaves error.txt instead of summary.json.
fn train_one(dir: &Path, run: &PlannedRun) -> Result<()> {
    let out = run_dir(dir, run);
    std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
    let task = TrainTask { config: run.config.clone(), prune: run.prune, progress: false };
    match task.run(Cpu::<f32>::new()) {
        Ok(result) => {
            let _ = std::fs::remove_file(out.join("error.txt"));
            crate::outputs::write_all(&out, &result)
        }
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            std::fs::write(out.join("error.txt"), &msg).with_context(|| format!("{}: cannot write", out.display()))
        }
    }
}

fn run_all(dir: &Path, todo: &[PlannedRun], jobs: usize) -> Result<()> {
    let bar = progress(todo.len());
    let next = AtomicUsize::new(0);
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    // One pool: `jobs` runs at once, and each run's own parallel products share the same threads.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().context("cannot start the worker threads")?;
    pool.scope(|s| {
        for _ in 0..jobs {
            s.spawn(|_| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(run) = todo.get(i) else { break };
                    if first_error.lock().map(|e| e.is_some()).unwrap_or(true) {
                        break;
                    }
                    if let Err(e) = train_one(dir, run)
                        && let Ok(mut slot) = first_error.lock()
                    {
                        slot.get_or_insert(e);
                    }
                    if let Some(bar) = &bar {
                        bar.inc(1);
                        bar.set_message(run.id.clone());
                    }
                }
            });
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match first_error.into_inner().ok().flatten() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Reads a finished run's row from its summary.json; None when the run has not finished; an error
/// when the file is there but not a run's summary.
fn read_row(dir: &Path, run: &PlannedRun) -> Result<Option<Row>> {
    let d = run_dir(dir, run);
    let path = d.join("summary.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => {
            return Ok(std::fs::read_to_string(d.join("error.txt")).ok().map(|e| Row::failed(run, e.trim())));
        }
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not a run's summary.json", path.display()))?;
    Row::from_summary(run, &v).map(Some).with_context(|| format!("{}", path.display()))
}

fn collect(dir: &Path) -> Result<()> {
    let path = dir.join("study.toml");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("{}: no study here (study.toml is missing); make one with --plan or run one", dir.display())
    })?;
    let study = Study::parse(&text).with_context(|| format!("{}", path.display()))?;
    let runs = study.runs();
    let mut rows = Vec::new();
    for run in &runs {
        if let Some(row) = read_row(dir, run)? {
            rows.push(row);
        }
    }
    let missing = runs.len() - rows.len();
    if rows.is_empty() {
        bail!("{}: none of the study's {} runs has finished yet", dir.display(), runs.len());
    }
    if missing > 0 {
        crate::backend::notice(&format!(
            "{missing} of {} runs have not finished; the outputs cover the {} that have",
            runs.len(),
            rows.len()
        ));
    }
    study_report::write_all(dir, &study, &rows)?;
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    crate::emit(&format!(
        "study {}: {} runs ({} failed{}) → {}\n",
        study.name,
        rows.len(),
        failed,
        if missing > 0 { format!(", {missing} unfinished") } else { String::new() },
        dir.join("report.md").display()
    ));
    Ok(())
}

pub fn run(a: StudyArgs) -> Result<()> {
    if let Some(dir) = &a.collect {
        return collect(dir);
    }
    let (text, source) = study_text(&a)?;
    let study = Study::parse(&text).with_context(|| source.clone())?;
    let Some(dir) = a.out.clone() else { bail!("--out DIR: where the study's runs and outputs go") };
    if a.jobs == Some(0) {
        bail!("--jobs 0: at least one run at a time");
    }
    claim_dir(&dir, &text)?;
    let runs = study.runs();
    let todo: Vec<PlannedRun> = runs.iter().filter(|r| !finished(&dir, r)).cloned().collect();
    if a.plan {
        let mut out = String::new();
        for run in &todo {
            let d = run_dir(&dir, run);
            std::fs::create_dir_all(&d).with_context(|| format!("{}: cannot create", d.display()))?;
            let cfg = d.join("config.toml");
            std::fs::write(&cfg, run.config.to_toml()).with_context(|| format!("{}: cannot write", cfg.display()))?;
            out += &command_line(&dir, run);
            out.push('\n');
        }
        crate::emit(&out);
        return Ok(());
    }
    let jobs = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if todo.len() < runs.len() {
        crate::backend::notice(&format!(
            "{} of {} runs already finished in {}",
            runs.len() - todo.len(),
            runs.len(),
            dir.display()
        ));
    }
    run_all(&dir, &todo, jobs.min(todo.len().max(1)))?;
    collect(&dir)
}
