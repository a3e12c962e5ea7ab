//! `spherelab bench`: steps per second per backend on the cases of the WGSL-engine issue, next to the same
//! steps in PyTorch on the same machine (bench/torch_peer.py, run only when `import torch` works): on the CPU,
//! held to the SIMD path ours runs on, and on CUDA too when a GPU was timed, so both GPUs share one run.
//!
//! The cases are spherelab_core::bench_cases (one definition).
//!
//! Timing: a few warm-up steps (on the CPU, more until `--warm-up` seconds have passed), then wall-clock over
//! `--steps` steps; a GPU run ends with a blocking read of the last loss so that queued work is counted.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;
use spherelab_core::backend::{Backend, LossParams, Pairs};
use spherelab_core::bench_cases::{case_config, loss_case_views, steps_for};
use spherelab_core::simd::SimdPath;
use spherelab_core::{Cpu, Trainer};
use spherelab_gpu::choice::BackendPreference;
use spherelab_gpu::ops::linear::MatmulVersion;

/// Arguments of `spherelab bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Backends to time, comma-separated: cpu; auto (a hardware GPU when one opens — a software renderer such as
    /// lavapipe is passed over, saying so, as every command's `auto` does); gpu (any adapter, software included).
    #[arg(long, default_value = "cpu,auto", value_delimiter = ',')]
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
    /// Seconds of untimed steps before each CPU training case's clock starts (3 steps at the least). The
    /// browser's `?bench` warms up for 1 s, for its JIT; `./web/test.sh` gives the native figure beside it the
    /// same 1 s, so that neither side's first steps (page faults, the clock ramping up) are timed and not the
    /// other's.
    #[arg(long, default_value_t = 0.0, value_parser = warm_up_seconds)]
    pub warm_up: f64,
    /// Skip the PyTorch peer.
    #[arg(long)]
    pub no_peer: bool,
    /// The SIMD path the PyTorch peer may use. `same`: when SPHERELAB_SIMD=avx2 holds our products to AVX2 on an
    /// AVX-512 machine, the peer is held there too (ATen, MKL and oneDNN each by its own environment variable),
    /// so the forced run stands in for an AVX2 machine on both sides. `native`: the peer uses the machine's
    /// widest whatever ours runs on.
    #[arg(long, default_value = "same", value_parser = ["same", "native"])]
    pub peer_simd: String,
    /// The PyTorch peer's script (default: bench/torch_peer.py of the checkout this binary was built from, else
    /// of the current folder; give it when the binary runs elsewhere with the script somewhere else).
    #[arg(long)]
    pub peer_script: Option<PathBuf>,
    /// Which versions of the GPU's numbered kernels to time: `fastest` (what a run uses) or `all` (each
    /// version of the matrix-product kernel, naive to tiled, in its own column).
    #[arg(long, default_value = "fastest", value_parser = ["fastest", "all"])]
    pub gpu_kernels: String,
    /// Also write the table as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `--warm-up`: a finite number of seconds, 0 to 600.
fn warm_up_seconds(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=600.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a number of seconds from 0 to 600")),
    }
}

/// One measured cell of the table.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    pub case: String,
    pub backend: String,
    pub steps_per_second: f64,
}

/// Times one case on backend `b`.
/// `warm_up`: steps past the first three until it has passed (give the GPU zero: its steps are queued, not
/// finished, when `step` returns).
pub fn time_case<B: Backend>(backend: B, case: &str, base_steps: usize, warm_up: Duration) -> Result<f64> {
    let steps = steps_for(case, base_steps);
    if let Some(views) = loss_case_views(case) {
        return Ok(time_loss(&backend, views, 128, steps));
    }
    let cfg = case_config(case).with_context(|| format!("unknown bench case '{case}'"))?;
    let mut t = Trainer::new(backend, cfg)?;
    let warming = Instant::now();
    spherelab_core::bench_cases::warm_up(&mut t, || warming.elapsed() < warm_up)?;
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

/// What the peer ran: (case, steps/s) pairs, its version, and the device or SIMD path it reported.
#[derive(Debug, PartialEq)]
struct PeerRun {
    rows: Vec<(String, f64)>,
    version: String,
    capability: String,
}

impl PeerRun {
    /// The peer's stdout: one JSON object per case (bench/torch_peer.py); other lines are skipped.
    fn parse(stdout: &str) -> PeerRun {
        let (mut version, mut capability) = (String::new(), String::new());
        let rows = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| {
                let row = (v["case"].as_str()?.to_string(), v["steps_per_second"].as_f64()?);
                // From a whole row only: a malformed line leaves what the others said.
                version = v["torch"].as_str().unwrap_or("").to_string();
                capability = v["capability"].as_str().unwrap_or("").to_string();
                Some(row)
            })
            .collect();
        PeerRun { rows, version, capability }
    }

    /// "2.15.0 (ATen AVX2, …)": the table's `pytorch:` line.
    fn describe(&self) -> String {
        if self.capability.is_empty() {
            self.version.clone()
        } else {
            format!("{} ({})", self.version, self.capability)
        }
    }
}

/// The peer found on this machine: the Python (with torch) to run it with, and its script.
struct Peer {
    python: String,
    script: PathBuf,
}

impl Peer {
    /// The peer, when this machine's Python has torch and the script is where it should be; else a note says
    /// why there is no peer column.
    fn find(script: Option<&PathBuf>) -> Option<Peer> {
        let python = std::env::var("SPHERELAB_PYTHON").unwrap_or_else(|_| "python3".into());
        // Given, else the checkout this binary was built from, else bench/ of the folder it runs in (a copy of
        // the project on another machine, as ../shared/gpu-check runs it).
        let built_at = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/torch_peer.py"));
        let script = match script {
            Some(given) => given.clone(),
            None if built_at.is_file() => built_at,
            None => PathBuf::from("bench/torch_peer.py"),
        };
        if !script.is_file() {
            eprintln!(
                "note: the PyTorch peer's script is not at {} (give its path with --peer-script): no peer column",
                script.display()
            );
            return None;
        }
        let ok =
            Command::new(&python).args(["-c", "import torch"]).output().map(|o| o.status.success()).unwrap_or(false);
        if !ok {
            eprintln!(
                "note: PyTorch not found for '{python}' (set SPHERELAB_PYTHON to a Python with torch): no peer column"
            );
            return None;
        }
        Some(Peer { python, script })
    }

    /// Runs the peer's cases on `device` (cpu, cuda) with `caps` in its environment.
    fn run(&self, cases: &[String], steps: usize, device: &str, caps: &[(&str, &str)]) -> Option<PeerRun> {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let out = Command::new(&self.python)
            .arg(&self.script)
            .args(["--steps", &steps.to_string(), "--threads", &threads.to_string(), "--cases", &cases.join(",")])
            .args(["--device", device])
            .envs(caps.iter().copied())
            .output()
            .ok()?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("").to_string();
            // Status 3: this PyTorch sees no CUDA device (a CPU-only build, or no GPU): no column, no failure.
            eprintln!("note: the PyTorch peer on {device} did not run: {why}");
            return None;
        }
        Some(PeerRun::parse(&String::from_utf8_lossy(&out.stdout)))
    }
}

/// The names `--backend` takes; anything else is refused before anything is timed.
pub fn check_backends(backends: &[String]) -> Result<()> {
    match backends.iter().find(|b| !["cpu", "auto", "gpu"].contains(&b.as_str())) {
        Some(other) => anyhow::bail!("unknown backend '{other}' in --backend: choose cpu, auto or gpu"),
        None => Ok(()),
    }
}

/// Which GPU the backends list asks the chooser for: `gpu` (any adapter) wins over `auto` (hardware only);
/// neither: none.
pub fn gpu_preference(backends: &[String]) -> Option<BackendPreference> {
    if backends.iter().any(|b| b == "gpu") {
        Some(BackendPreference::Gpu)
    } else if backends.iter().any(|b| b == "auto") {
        Some(BackendPreference::Auto)
    } else {
        None
    }
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
                "cpu" => {
                    let warm_up = Duration::from_secs_f64(args.warm_up);
                    vec![(be.clone(), time_case(Cpu::<f32>::new(), case, args.steps, warm_up)?)]
                }
                "gpu" | "auto" => match gpu.as_mut() {
                    Some(f) => {
                        versions.iter().map(|&v| Ok((gpu_label(v), f(case, args.steps, v)?))).collect::<Result<_>>()?
                    }
                    None => Vec::new(),
                },
                other => anyhow::bail!("unknown backend '{other}': choose cpu, auto or gpu"),
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
    let peer = if args.no_peer { None } else { Peer::find(args.peer_script.as_ref()) };
    let mut torch_lines = Vec::new();
    if let Some(peer) = &peer {
        // The CPU peer always; the CUDA peer beside a GPU that was timed, so both GPUs' figures share one run.
        let gpu_timed = gpu_adapter.is_some() && args.backend.iter().any(|b| b == "gpu" || b == "auto");
        let devices: &[&str] = if gpu_timed { &["cpu", "cuda"] } else { &["cpu"] };
        for &device in devices {
            let caps = if device == "cpu" { caps } else { &[] };
            let Some(run) = peer.run(&args.cases, args.steps, device, caps) else { continue };
            let label = peer_label(device);
            torch_lines.push(format!("{label}: {}", run.describe()));
            for (case, sps) in &run.rows {
                rows.push(Measurement { case: case.clone(), backend: label.clone(), steps_per_second: *sps });
            }
        }
    }
    print_table(&rows, &args.cases, &cpu_info.adapter, gpu_adapter.as_deref(), &torch_lines);
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

/// The table's name for the peer on `device`: "pytorch" on the CPU, "pytorch cuda" on a GPU.
fn peer_label(device: &str) -> String {
    if device == "cpu" { "pytorch".into() } else { format!("pytorch {device}") }
}

fn print_table(rows: &[Measurement], cases: &[String], cpu: &str, gpu: Option<&str>, torch: &[String]) {
    println!("cpu: {cpu}");
    println!("gpu: {}", gpu.unwrap_or("not used"));
    if torch.is_empty() {
        println!("pytorch: not run");
    }
    for line in torch {
        println!("{line}");
    }
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
    for line in table_lines(rows, cases, peak.gflops) {
        println!("{line}");
    }
}

/// The table in Markdown: a row per case; the PyTorch-on-CUDA columns only when that peer ran.
fn table_lines(rows: &[Measurement], cases: &[String], peak_gflops: Option<f64>) -> Vec<String> {
    let get =
        |case: &str, be: &str| rows.iter().find(|m| m.case == case && m.backend == be).map(|m| m.steps_per_second);
    let cell = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into());
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "—".into(),
    };
    let cuda = peer_label("cuda");
    let with_cuda = rows.iter().any(|m| m.backend == cuda);
    let mut lines = vec![
        format!(
            "| case | cpu-f32 steps/s | gpu steps/s | pytorch steps/s | cpu / pytorch | gpu / pytorch |{} GFLOP/step | \
             cpu GFLOP/s | cpu % of peak |",
            if with_cuda { " pytorch cuda steps/s | gpu / pytorch cuda |" } else { "" }
        ),
        format!("|---|{}", "---:|".repeat(if with_cuda { 10 } else { 8 })),
    ];
    for case in cases {
        let (c, g, p) = (get(case, "cpu"), get(case, "gpu"), get(case, "pytorch"));
        let flops = spherelab_core::bench_cases::flops_per_step(case);
        let achieved = c.zip(flops).map(|(sps, f)| sps * f / 1e9);
        let share = achieved.zip(peak_gflops).map(|(a, p)| format!("{:.1} %", 100.0 * a / p));
        let cuda_cells = if with_cuda {
            let pc = get(case, &cuda);
            format!(" {} | {} |", cell(pc), ratio(g, pc))
        } else {
            String::new()
        };
        lines.push(format!(
            "| {case} | {} | {} | {} | {} | {} |{cuda_cells} {} | {} | {} |",
            cell(c),
            cell(g),
            cell(p),
            ratio(c, p),
            ratio(g, p),
            flops.map_or("—".into(), |f| format!("{:.3}", f / 1e9)),
            achieved.map_or("—".into(), |a| format!("{a:.1}")),
            share.unwrap_or_else(|| "—".into())
        ));
    }
    lines
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

    #[test]
    fn the_gpu_column_asks_the_chooser_for_any_adapter_only_when_gpu_is_named() {
        let list = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
        assert_eq!(gpu_preference(&list("cpu,auto")), Some(BackendPreference::Auto));
        assert_eq!(gpu_preference(&list("auto,gpu")), Some(BackendPreference::Gpu));
        assert_eq!(gpu_preference(&list("gpu")), Some(BackendPreference::Gpu));
        assert_eq!(gpu_preference(&list("cpu")), None);
    }

    #[test]
    fn the_peers_output_gives_its_rows_version_and_path() {
        let out = "warming up\n\
            {\"case\": \"T1-plain\", \"steps_per_second\": 312.5, \"device\": \"cuda\", \"torch\": \"2.15.0\", \
             \"capability\": \"CUDA 13.2, NVIDIA H200\"}\n\
            {\"case\": \"T2-plain\", \"steps_per_second\": 80.25, \"torch\": \"2.15.0\", \
             \"capability\": \"CUDA 13.2, NVIDIA H200\"}\n\
            {\"case\": \"broken\"}\n";
        let run = PeerRun::parse(out);
        assert_eq!(run.rows, vec![("T1-plain".to_string(), 312.5), ("T2-plain".to_string(), 80.25)]);
        assert_eq!(run.describe(), "2.15.0 (CUDA 13.2, NVIDIA H200)");
        assert_eq!(PeerRun::parse("").describe(), "");
    }

    #[test]
    fn the_cuda_columns_appear_only_when_the_cuda_peer_ran() {
        let m = |case: &str, backend: &str, sps: f64| Measurement {
            case: case.into(),
            backend: backend.into(),
            steps_per_second: sps,
        };
        let cases = vec!["T1-plain".to_string()];
        let cpu_only = vec![m("T1-plain", "cpu", 1000.0), m("T1-plain", "pytorch", 250.0)];
        let lines = table_lines(&cpu_only, &cases, Some(400.0));
        assert!(!lines[0].contains("cuda"), "{}", lines[0]);
        assert!(lines[2].starts_with("| T1-plain | 1000.0 | — | 250.0 | 4.00× | — |"), "{}", lines[2]);

        let mut with_gpu = cpu_only.clone();
        with_gpu.push(m("T1-plain", "gpu", 600.0));
        with_gpu.push(m("T1-plain", &peer_label("cuda"), 200.0));
        let lines = table_lines(&with_gpu, &cases, Some(400.0));
        assert!(lines[0].contains("| pytorch cuda steps/s | gpu / pytorch cuda |"), "{}", lines[0]);
        // Every row has as many cells as the header.
        let cells = |l: &str| l.matches('|').count();
        assert!(lines.iter().all(|l| cells(l) == cells(&lines[0])), "{lines:#?}");
        assert!(lines[2].contains("| 600.0 | 250.0 | 4.00× | 2.40× | 200.0 | 3.00× |"), "{}", lines[2]);
    }
}
