//! `spherelab`: the contrastive-learning lab without a window.
//!
//! - `spherelab train`  trains a small encoder on toy data and writes metrics, embeddings, a summary and plots;
//! - `spherelab loss`   evaluates a loss and its gradient on embeddings given in files;
//! - `spherelab study`  runs many seeded runs of one question and reports them with statistics;
//! - `spherelab theory` evaluates the similarity-graph model's closed forms (docs/math.md §5).
//!
//! Every error a user can cause is one line on stderr that names the problem, and exit code 2; a panic is a
//! bug in spherelab and says so (exit 101).

mod backend;
mod bench;
mod csvio;
mod loss_cmd;
mod outputs;
mod peak;
mod plots;
mod selftest_cmd;
mod study_cmd;
mod study_plots;
mod study_report;
mod theory_cmd;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "spherelab", version, about = "A contrastive-learning lab: train, check losses, evaluate the theory")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The memory a run may need, in MiB [default: half of this machine's memory]; a run over it is refused
    /// before it allocates anything (docs/limits.md).
    #[arg(long, global = true, value_name = "MIB")]
    memory_budget: Option<u64>,
}

// Parsed once per process, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Train an encoder; writes metrics.csv, losses.csv, embeddings.tsv, metadata.tsv, summary.json,
    /// config.toml and PNG plots to --out.
    Train(train::TrainArgs),
    /// Evaluate a loss and its gradient on two views given as CSV files.
    Loss(loss_cmd::LossArgs),
    /// The similarity-graph model (docs/math.md §5): spectral gaps, error bounds, and whether removing difficult
    /// examples, a margin or a temperature on their pairs helps.
    Theory(theory_cmd::TheoryArgs),
    /// Steps per second per backend on fixed cases (moons and digits, with and without selection, and
    /// InfoNCE alone on 4,096 and 16,384 views), next to PyTorch when it is installed.
    Bench(bench::BenchArgs),
    /// Many seeded runs of one question — datasets × ω × methods × seeds × any config key — one per core, with
    /// 95 % intervals, paired differences to the baseline and a report (docs/study.md).
    Study(study_cmd::StudyArgs),
    /// Check this machine's GPU against the CPU engine: every op of a training step and one large InfoNCE
    /// (4,096 views × 128), with the worst error and the adapter. Exit 0 pass, 1 fail, 2 no usable GPU.
    Selftest(selftest_cmd::SelftestArgs),
}

/// Writes a command's result to stdout. A closed pipe (`spherelab loss … | head -c 10`) ends the program
/// quietly, as other Unix tools do, instead of panicking inside `println!`.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

/// `bench` times the GPU only when one really opens (never the CPU fallback under the GPU's name), by the
/// chooser's rule: `auto` (the default) a hardware adapter only, `gpu` any.
fn run_bench(args: &bench::BenchArgs) -> anyhow::Result<()> {
    bench::check_backends(&args.backend)?;
    let adapter = bench::gpu_preference(&args.backend).and_then(backend::gpu_adapter);
    // The adapter `gpu_adapter` found (through `with_backend`, as every command opens one), with the kernel
    // version asked for.
    let mut on_gpu = |case: &str, steps: usize, version: spherelab_gpu::ops::linear::MatmulVersion| {
        let gpu = spherelab_gpu::Gpu::new()?;
        gpu.set_matmul_version(version);
        bench::time_case(gpu, case, steps, std::time::Duration::ZERO)
    };
    let gpu: Option<bench::GpuRunner<'_>> = if adapter.is_some() { Some(&mut on_gpu) } else { None };
    bench::run(args, gpu, adapter)
}

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!(
            "internal error: spherelab crashed{place}: {msg}. This is a bug in spherelab, not in your input: \
             please report it with the command you ran."
        );
    }));
}

/// Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid or not set in the environment." when that
/// variable is missing (CI, cron, a bare shell), which reads like one of our own `error:` lines although
/// nothing is wrong and no window is opened. Point it at a private directory of our own when it is unset.
fn quiet_driver_noise() {
    #[cfg(unix)]
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        use std::os::unix::fs::DirBuilderExt;
        let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
        let dir = std::env::temp_dir().join(format!("spherelab-runtime-{user}"));
        if std::fs::DirBuilder::new().mode(0o700).recursive(true).create(&dir).is_ok() {
            // SAFETY: called first thing in main, before any other thread exists.
            unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
        }
    }
}

fn main() -> ExitCode {
    spherelab_core::memory::keep_freed_memory();
    quiet_driver_noise();
    install_panic_hook();
    let cli = Cli::parse();
    if let Some(mib) = cli.memory_budget {
        // SAFETY: still single-threaded: nothing has started a thread before the arguments are parsed.
        unsafe { std::env::set_var("SPHERELAB_MEMORY_MIB", mib.to_string()) };
    }
    // After the environment is set: this starts the worker threads.
    spherelab_core::parallel::start_pool_on_this_thread();
    let result = match cli.command {
        Command::Train(a) => train::run(a).map(|()| None),
        Command::Loss(a) => loss_cmd::run(a).map(|()| None),
        Command::Theory(a) => theory_cmd::run(a).map(|()| None),
        Command::Bench(a) => run_bench(&a).map(|()| None),
        Command::Study(a) => study_cmd::run(a).map(|()| None),
        Command::Selftest(a) => selftest_cmd::run(a).map(Some),
    };
    match result.map(|code: Option<ExitCode>| code.unwrap_or(ExitCode::SUCCESS)) {
        Ok(code) => code,
        Err(e) => {
            // `{:#}` joins the context chain with ": " on one line.
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
