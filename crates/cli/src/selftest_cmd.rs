//! `spherelab selftest`: the GPU self-test (spherelab_gpu::selftest) on this machine's adapter.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use spherelab_gpu::selftest::{LARGE_DIM, LARGE_VIEWS, SelfTest};

#[derive(Args, Debug)]
pub struct SelftestArgs {
    /// Views (2N) of the large InfoNCE check.
    #[arg(long, default_value_t = LARGE_VIEWS)]
    pub views: usize,
    /// Embedding dimension of the large InfoNCE check.
    #[arg(long, default_value_t = LARGE_DIM)]
    pub dim: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs the checks; exit 0 when all pass, 1 when one fails (a wrong GPU result), 2 for no usable GPU or bad
/// flags.
pub fn run(args: SelftestArgs) -> Result<ExitCode> {
    if args.views < 4 || !args.views.is_multiple_of(2) || args.dim == 0 {
        bail!("--views must be an even number ≥ 4 and --dim ≥ 1 (got {} and {})", args.views, args.dim);
    }
    let gpu = spherelab_gpu::Gpu::new().map_err(|e| {
        anyhow::anyhow!("no usable GPU adapter ({e}): the self-test checks the GPU against the CPU engine")
    })?;
    eprintln!(
        "running the GPU self-test on {} (the large InfoNCE: {} views × {})…",
        gpu.context().adapter,
        args.views,
        args.dim
    );
    let report = SelfTest::run_blocking(&gpu, args.views, args.dim, true).map_err(anyhow::Error::msg)?;
    if args.json {
        let checks: Vec<serde_json::Value> = report
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "passed": c.comparison.passed(),
                    "worst_ratio": c.comparison.worst_ratio(),
                    "bad": c.comparison.bad,
                    "len": c.comparison.len,
                    "detail": c.comparison.describe(),
                })
            })
            .collect();
        let v = serde_json::json!({ "adapter": report.adapter, "passed": report.passed(), "checks": checks });
        crate::emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    } else {
        crate::emit(&report.render());
    }
    Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
