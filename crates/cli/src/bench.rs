//! `spherelab bench`: steps per second per backend on the cases of the WGSL-engine issue, next to the same
//! steps in PyTorch on the same machine (bench/torch_peer.py, run only when `import torch` works).
//!
//! The cases are spherelab_core::bench_cases (one definition).
//!
//! Timing: a few warm-up steps, then wall-clock over `--steps` steps; a GPU run ends with a blocking read of
//! the last loss so that queued work is counted.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;
use spherelab_core::backend::{Backend, LossParams, Pairs};
use spherelab_core::bench_cases::{case_config, loss_case_views, steps_for};
use spherelab_core::simd::SimdPath;
use spherelab_core::{Cpu, Trainer};
use spherelab_gpu::ops::linear::MatmulVersion;

/// Arguments of `spherelab bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Backends to time, comma-separated: cpu, gpu.
    #[arg(long, default_value = "cpu,gpu", value_delimiter = ',')]
    pub backend: Vec<String>,
    /// Cases to run, comma-separated (T1-plain, T1-selected, T2-plain, T2-selected, loss-4096, loss-16384).
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = spherelab_core::bench_cases::CASES.map(String::from)
    )]
    pub cases: Vec<String>,
    /// Timed training steps per T1 case (T2 and the loss cases scale this down).
    #[arg(long, default_value_t = 100)]
    pub steps: usize,
    /// Skip the PyTorch peer.
    #[arg(long)]
    pub no_peer: bool,
    /// The SIMD path the PyTorch peer may use. `same`: when SPHERELAB_SIMD=avx2 holds our products to AVX2 on an
    /// AVX-512 machine, the peer is held there too (ATen, MKL and oneDNN each by its own environment variable),
    /// so the forced run stands in for an AVX2 machine on both sides. `native`: the peer uses the machine's
    /// widest whatever ours runs on.
    #[arg(long, default_value = "same", value_parser = ["same", "native"])]
    pub peer_simd: String,
    /// Which versions of the GPU's numbered kernels to time: `fastest` (what a run uses) or `all` (each
    /// version of the matrix-product kernel, naive to tiled, in its own column).
    #[arg(long, default_value = "fastest", value_parser = ["fastest", "all"])]
    pub gpu_kernels: String,
    /// Also write the table as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// One measured cell of the table.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    pub case: String,
    pub backend: String,
    pub steps_per_second: f64,
}

/// Times one case on backend `b`.
pub fn time_case<B: Backend>(backend: B, case: &str, base_steps: usize) -> Result<f64> {
    let steps = steps_for(case, base_steps);
    if let Some(views) = loss_case_views(case) {
        return Ok(time_loss(&backend, views, 128, steps));
    }
    let cfg = case_config(case).with_context(|| format!("unknown bench case '{case}'"))?;
    let mut t = Trainer::new(backend, cfg)?;
    for _ in 0..3 {
        t.step()?;
    }
    t.collect_losses(true)?;
    let start = Instant::now();
    for _ in 0..steps {
        t.step()?;
    }
    t.collect_losses(true)?;
    Ok(steps as f64 / start.elapsed().as_secs_f64())
}

/// InfoNCE forward + backward alone on `views` × `d` random embeddings.
fn time_loss<B: Backend>(b: &B, views: usize, d: usize, steps: usize) -> f64 {
    let mut r = spherelab_core::rng::rng(0, spherelab_core::rng::stream::TEST);
    let data: Vec<f32> = (0..views * d).map(|_| spherelab_core::rng::normal(&mut r) as f32).collect();
    let z = b.upload(views, d, &data);
    let params = LossParams::infonce(0.2);
    let run = || {
        let out = b.loss(&params, &z, &Pairs::None, None);
        b.end_step();
        out
    };
    let warm = run();
    b.download(&warm.value);
    let start = Instant::now();
    let mut last = None;
    for _ in 0..steps {
        last = Some(run());
    }
    if let Some(out) = last {
        b.download(&out.value);
    }
    steps as f64 / start.elapsed().as_secs_f64()
}

/// The environment that holds PyTorch to the SIMD path `ours` on a machine whose widest is `widest`: empty when
/// they are the same path, or when PyTorch has no such cap (it has no scalar build; its narrowest is SSE4.2).
/// Each library reads its own: ATen's kernels ATEN_CPU_CAPABILITY, MKL's products MKL_ENABLE_INSTRUCTIONS,
/// oneDNN's ONEDNN_MAX_CPU_ISA.
pub fn peer_simd_caps(ours: SimdPath, widest: SimdPath) -> &'static [(&'static str, &'static str)] {
    match (ours, widest) {
        (SimdPath::Avx2Fma, SimdPath::Avx512) => {
            &[("ATEN_CPU_CAPABILITY", "avx2"), ("MKL_ENABLE_INSTRUCTIONS", "AVX2"), ("ONEDNN_MAX_CPU_ISA", "AVX2")]
        }
        _ => &[],
    }
}

/// What the peer ran: (case, steps/s) pairs, its version, and the SIMD path it reported.
struct PeerRun {
    rows: Vec<(String, f64)>,
    version: String,
    capability: String,
}

/// Runs the PyTorch peer if this machine's Python has torch, with `caps` in its environment.
fn run_peer(cases: &[String], steps: usize, caps: &[(&str, &str)]) -> Option<PeerRun> {
    let python = std::env::var("SPHERELAB_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/torch_peer.py");
    let ok = Command::new(&python).args(["-c", "import torch"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        eprintln!(
            "note: PyTorch not found for '{python}' (set SPHERELAB_PYTHON to a Python with torch): no peer column"
        );
        return None;
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let out = Command::new(&python)
        .arg(script)
        .args(["--steps", &steps.to_string(), "--threads", &threads.to_string(), "--cases", &cases.join(",")])
        .envs(caps.iter().copied())
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "note: the PyTorch peer failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        );
        return None;
    }
    let (mut version, mut capability) = (String::new(), String::new());
    let rows = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            version = v["torch"].as_str().unwrap_or("").to_string();
            capability = v["capability"].as_str().unwrap_or("").to_string();
            Some((v["case"].as_str()?.to_string(), v["steps_per_second"].as_f64()?))
        })
        .collect();
    Some(PeerRun { rows, version, capability })
}

/// Times one case on the GPU: (case, base steps, kernel version) → steps per second.
pub type GpuRunner<'a> = &'a mut dyn FnMut(&str, usize, MatmulVersion) -> Result<f64>;

/// The backend name a GPU measurement is filed under: "gpu" for the version a run uses, "gpu matmul 1 naive"
/// for another.
fn gpu_label(version: MatmulVersion) -> String {
    if version == MatmulVersion::FASTEST { "gpu".into() } else { format!("gpu {}", version.name()) }
}

/// Entry point of `spherelab bench`. `open_gpu` runs a case on the GPU backend if one is usable
/// (the CLI passes its own GPU opener so this module stays free of device set-up).
pub fn run(args: &BenchArgs, mut gpu: Option<GpuRunner<'_>>, gpu_adapter: Option<String>) -> Result<()> {
    let mut rows: Vec<Measurement> = Vec::new();
    let cpu_info = Cpu::<f32>::new().info();
    let versions: &[MatmulVersion] =
        if args.gpu_kernels == "all" { &MatmulVersion::ALL } else { &[MatmulVersion::FASTEST] };
    for case in &args.cases {
        for be in &args.backend {
            let timed: Vec<(String, f64)> = match be.as_str() {
                "cpu" => vec![(be.clone(), time_case(Cpu::<f32>::new(), case, args.steps)?)],
                "gpu" => match gpu.as_mut() {
                    Some(f) => {
                        versions.iter().map(|&v| Ok((gpu_label(v), f(case, args.steps, v)?))).collect::<Result<_>>()?
                    }
                    None => Vec::new(),
                },
                other => anyhow::bail!("unknown backend '{other}': choose cpu or gpu"),
            };
            for (label, sps) in timed {
                // Progress on stderr, so a long run (the GPU at 16,384 views on a software adapter) shows life.
                eprintln!("  {case:<12} {label:<4} {sps:>10.1} steps/s");
                rows.push(Measurement { case: case.clone(), backend: label, steps_per_second: sps });
            }
        }
    }
    let ours = spherelab_core::simd::chosen().0;
    let caps = if args.peer_simd == "same" { peer_simd_caps(ours, spherelab_core::simd::widest()) } else { &[] };
    if !args.no_peer && args.peer_simd == "same" && caps.is_empty() && ours != spherelab_core::simd::widest() {
        eprintln!("note: PyTorch cannot be held to {}: the peer runs on its widest path", ours.name());
    }
    let peer = if args.no_peer { None } else { run_peer(&args.cases, args.steps, caps) };
    let mut torch_version = String::new();
    if let Some(run) = &peer {
        torch_version = if run.capability.is_empty() {
            run.version.clone()
        } else {
            format!("{} ({})", run.version, run.capability)
        };
        for (case, sps) in &run.rows {
            rows.push(Measurement { case: case.clone(), backend: "pytorch".into(), steps_per_second: *sps });
        }
    }
    print_table(&rows, &args.cases, &cpu_info.adapter, gpu_adapter.as_deref(), &torch_version);
    if versions.len() > 1 && gpu_adapter.is_some() {
        print_versions(&rows, &args.cases, versions);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&rows)?).with_context(|| format!("{}", path.display()))?;
    }
    Ok(())
}

/// The GPU's steps/s with each version of the matrix-product kernel, case by case.
fn print_versions(rows: &[Measurement], cases: &[String], versions: &[MatmulVersion]) {
    println!();
    let names: Vec<&str> = versions.iter().map(|v| v.name()).collect();
    println!("| case | {} steps/s |", names.join(" steps/s | "));
    println!("|---|{}", "---:|".repeat(versions.len()));
    for case in cases {
        let cells: Vec<String> = versions
            .iter()
            .map(|&v| {
                let label = gpu_label(v);
                rows.iter()
                    .find(|m| &m.case == case && m.backend == label)
                    .map_or("—".into(), |m| format!("{:.1}", m.steps_per_second))
            })
            .collect();
        println!("| {case} | {} |", cells.join(" | "));
    }
}

fn print_table(rows: &[Measurement], cases: &[String], cpu: &str, gpu: Option<&str>, torch: &str) {
    let get =
        |case: &str, be: &str| rows.iter().find(|m| m.case == case && m.backend == be).map(|m| m.steps_per_second);
    let cell = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into());
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "—".into(),
    };
    println!("cpu: {cpu}");
    println!("gpu: {}", gpu.unwrap_or("not used"));
    println!("pytorch: {}", if torch.is_empty() { "not run" } else { torch });
    let peak = crate::peak::peak_estimate();
    let peak_text = peak.gflops.map_or("unknown".to_string(), |g| format!("{g:.0} GFLOP/s"));
    println!("cpu peak estimate: {peak_text} = {}", peak.how);
    let (simd, simd_notice) = spherelab_core::simd::chosen();
    let forced =
        std::env::var(spherelab_core::simd::SIMD_ENV).map(|v| format!(" ({}={v})", spherelab_core::simd::SIMD_ENV));
    println!("cpu matrix products: {} kernels{}", simd.name(), forced.unwrap_or_default());
    if let Some(n) = simd_notice {
        crate::backend::notice(n);
    }
    println!();
    println!(
        "| case | cpu-f32 steps/s | gpu steps/s | pytorch steps/s | cpu / pytorch | gpu / pytorch | GFLOP/step | \
         cpu GFLOP/s | cpu % of peak |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for case in cases {
        let (c, g, p) = (get(case, "cpu"), get(case, "gpu"), get(case, "pytorch"));
        let flops = spherelab_core::bench_cases::flops_per_step(case);
        let achieved = c.zip(flops).map(|(sps, f)| sps * f / 1e9);
        let share = achieved.zip(peak.gflops).map(|(a, p)| format!("{:.1} %", 100.0 * a / p));
        println!(
            "| {case} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(c),
            cell(g),
            cell(p),
            ratio(c, p),
            ratio(g, p),
            flops.map_or("—".into(), |f| format!("{:.3}", f / 1e9)),
            achieved.map_or("—".into(), |a| format!("{a:.1}")),
            share.unwrap_or_else(|| "—".into())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_is_held_to_avx2_only_when_ours_is_forced_there_from_avx512() {
        let caps = peer_simd_caps(SimdPath::Avx2Fma, SimdPath::Avx512);
        let names: Vec<&str> = caps.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA"]);
        assert!(caps.iter().all(|(_, v)| v.eq_ignore_ascii_case("avx2")), "{caps:?}");
        // The machine's own widest path, or one PyTorch has no cap for, leaves the peer alone.
        for (ours, widest) in [
            (SimdPath::Avx512, SimdPath::Avx512),
            (SimdPath::Avx2Fma, SimdPath::Avx2Fma),
            (SimdPath::Scalar, SimdPath::Avx512),
            (SimdPath::Neon, SimdPath::Neon),
        ] {
            assert!(peer_simd_caps(ours, widest).is_empty(), "{ours:?} on {widest:?}");
        }
    }
}
