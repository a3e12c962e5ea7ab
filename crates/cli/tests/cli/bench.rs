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
    assert!(out.contains("cpu peak estimate: ") && out.contains("FMA units"), "{out}");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    let gflop_per_step: f64 = cells[7].parse().expect("GFLOP/step is a number");
    let gflops: f64 = cells[8].parse().expect("GFLOP/s is a number");
    assert!((gflops - sps * gflop_per_step).abs() <= 0.05 + 0.01 * gflops, "{row}");
}

#[test]
fn an_unknown_bench_case_is_named() {
    let o = spherelab(&["bench", "--backend", "cpu", "--cases", "T9", "--steps", "5", "--no-peer"]);
    assert_bad_input(&o, &["T9"]);
}
