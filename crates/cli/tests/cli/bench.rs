//! `spherelab bench`: a tiny CPU run prints the table; an unknown case is bad input.

use crate::common::{assert_bad_input, spherelab, stderr, stdout};

#[test]
fn a_tiny_cpu_bench_prints_a_row_per_case() {
    let o = spherelab(&["bench", "--backend", "cpu", "--cases", "T1-plain", "--steps", "5", "--no-peer"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let row = out.lines().find(|l| l.starts_with("| T1-plain |")).unwrap_or_else(|| panic!("no T1-plain row:\n{out}"));
    let sps: f64 = row.split('|').nth(2).unwrap().trim().parse().expect("steps/s is a number");
    assert!(sps > 0.0, "{row}");
    // Beside steps/s: the case's FLOP count, the GFLOP/s it achieved and the share of the machine's peak.
    // The peak line names its factors and whether the FMA rate was timed or assumed.
    let peak = out.lines().find(|l| l.starts_with("cpu peak estimate: ")).unwrap_or_else(|| panic!("no peak:\n{out}"));
    assert!(peak.contains("f32 lanes") && peak.contains("FMA"), "{peak}");
    assert!(peak.contains("timed") || peak.contains("assumed"), "{peak}");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    let gflop_per_step: f64 = cells[7].parse().expect("GFLOP/step is a number");
    let gflops: f64 = cells[8].parse().expect("GFLOP/s is a number");
    // Each printed figure is rounded: GFLOP/step to 3 decimals (0.027 may stand for 0.0275, 2 % off at
    // T1's size), steps/s and GFLOP/s to 1. The bound is what those roundings allow, plus 1 %.
    let rounding = sps * 0.0005 + gflop_per_step * 0.05 + 0.05;
    assert!((gflops - sps * gflop_per_step).abs() <= rounding + 0.01 * gflops, "{row}");
}

/// `--warm-up` runs untimed steps for that long before a CPU case's clock starts (the browser's `?bench` does
/// for its JIT; ./web/test.sh gives the native figure the same): the run takes at least that long per case.
#[test]
fn a_warm_up_runs_its_seconds_before_the_clock_starts() {
    let run = |warm: &str| {
        let warm = format!("--warm-up={warm}");
        spherelab(&["bench", "--backend", "cpu", "--cases", "T1-plain,T1-selected", "--steps", "3", "--no-peer", &warm])
    };
    let started = std::time::Instant::now();
    let o = run("0.6");
    let took = started.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(took >= 1.2, "two cases warmed up 0.6 s each in {took:.2} s");
    for case in ["T1-plain", "T1-selected"] {
        assert!(stdout(&o).lines().any(|l| l.starts_with(&format!("| {case} |"))), "{}", stdout(&o));
    }
    for bad in ["-1", "601", "NaN", "soon"] {
        let o = run(bad);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains(&format!("'{bad}' is not a number of seconds from 0 to 600")), "{bad}: {err}");
    }
}

#[test]
fn an_unknown_bench_case_is_named() {
    let o = spherelab(&["bench", "--backend", "cpu", "--cases", "T9", "--steps", "5", "--no-peer"]);
    assert_bad_input(&o, &["T9"]);
}

#[test]
fn an_unknown_backend_is_named_before_anything_is_timed() {
    let o = spherelab(&["bench", "--backend", "cpu,tpu", "--cases", "T1-plain", "--steps", "5", "--no-peer"]);
    assert_bad_input(&o, &["tpu", "cpu, auto or gpu"]);
}

/// The default GPU column follows every command's `auto`: a software renderer (lavapipe in CI) is passed over,
/// with the chooser's line saying which adapter it saw; `--backend gpu` times it anyway (the test below).
#[test]
fn the_default_bench_passes_over_a_software_adapter() {
    let o = spherelab(&["bench", "--cases", "T1-plain", "--steps", "3", "--no-peer"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (out, err) = (stdout(&o), stderr(&o));
    let row = out.lines().find(|l| l.starts_with("| T1-plain |")).unwrap_or_else(|| panic!("no row:\n{out}"));
    let gpu_cell = row.split('|').nth(3).unwrap().trim();
    if out.contains("gpu: not used") {
        assert_eq!(gpu_cell, "—", "{row}");
        assert!(err.contains("software renderer") || err.contains("no usable GPU"), "{err}");
    } else {
        // A hardware GPU opened (never in CI): then it is timed.
        assert!(gpu_cell.parse::<f64>().is_ok(), "{row}");
        assert!(!out.contains(", Cpu"), "a software adapter was timed by default:\n{out}");
    }
}

/// `--gpu-kernels all` times every version of the GPU's matrix-product kernel (lavapipe in CI), each in a
/// column of its own, the tiled one also in the main table's gpu column.
#[test]
fn the_gpu_bench_loops_over_the_kernel_versions() {
    let o = spherelab(&[
        "bench",
        "--backend",
        "gpu",
        "--gpu-kernels",
        "all",
        "--cases",
        "T1-plain",
        "--steps",
        "3",
        "--no-peer",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("| case | matmul 1 naive steps/s | matmul 2 tiled steps/s |"), "{out}");
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("| T1-plain |")).collect();
    assert_eq!(rows.len(), 2, "{out}");
    let versions: Vec<f64> = rows[1].split('|').skip(2).take(2).map(|c| c.trim().parse().expect("a number")).collect();
    assert!(versions.iter().all(|&v| v > 0.0), "{}", rows[1]);
    let gpu_column: f64 = rows[0].split('|').nth(3).unwrap().trim().parse().expect("gpu steps/s");
    assert_eq!(gpu_column, versions[1], "{out}");
}
