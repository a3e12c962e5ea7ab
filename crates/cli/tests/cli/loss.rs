//! `spherelab loss`: golden values, and agreement with direct computations of docs/math.md §1 written here
//! independently (plain f64 loops), values and gradients (by central differences).

// The direct computations index like the formulas (i, j over samples) on purpose.
#![allow(clippy::needless_range_loop)]

use serde_json::Value;

use crate::common::{scratch, spherelab, stderr, stdout, write};

type Rows = Vec<Vec<f64>>;

fn csv(rows: &Rows) -> String {
    rows.iter().map(|r| r.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(",") + "\n").collect()
}

/// Runs `spherelab loss <kind> --json` on views a, b plus extra flags; returns (loss, grad_a, grad_b).
fn cli_loss(kind: &str, a: &Rows, b: &Rows, extra: &[&str]) -> (f64, Rows, Rows) {
    let dir = scratch(&format!("loss-{kind}"));
    let pa = write(&dir, "a.csv", &csv(a));
    let pb = write(&dir, "b.csv", &csv(b));
    let mut args = vec!["loss", kind, "--a", &pa, "--b", &pb, "--json"];
    args.extend_from_slice(extra);
    let o = spherelab(&args);
    assert!(o.status.success(), "spherelab {args:?} failed: {}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("--json prints JSON");
    let obj = v.as_object().expect("an object");
    let mut keys: Vec<&String> = obj.keys().collect();
    keys.sort();
    assert_eq!(keys, ["grad_a", "grad_b", "loss"], "exactly these keys");
    let rows = |k: &str| -> Rows {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect())
            .collect()
    };
    (v["loss"].as_f64().unwrap(), rows("grad_a"), rows("grad_b"))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn unit(a: &[f64]) -> Vec<f64> {
    let n = dot(a, a).sqrt();
    a.iter().map(|x| x / n).collect()
}

fn stack(a: &Rows, b: &Rows) -> Rows {
    a.iter().chain(b).cloned().collect()
}

/// InfoNCE (docs/math.md §1.1) with optional removal flags p (2N × 2N).
fn infonce(a: &Rows, b: &Rows, tau: f64, removed: Option<&Rows>) -> f64 {
    let z: Rows = stack(a, b).iter().map(|r| unit(r)).collect();
    let m = z.len();
    let n = m / 2;
    let mut total = 0.0;
    for i in 0..m {
        let j = (i + n) % m;
        let logit = |k: usize| {
            let p = removed.map_or(0.0, |p| if k == j { 0.0 } else { p[i][k] });
            dot(&z[i], &z[k]) * (1.0 - p) / tau
        };
        let lse = (0..m).filter(|&k| k != i).map(|k| logit(k).exp()).sum::<f64>().ln();
        total += -logit(j) + lse;
    }
    total / m as f64
}

fn spectral(a: &Rows, b: &Rows, mu: f64) -> f64 {
    let clip = |r: &Vec<f64>| {
        let norm = dot(r, r).sqrt();
        if norm > mu.sqrt() { r.iter().map(|x| x * mu.sqrt() / norm).collect() } else { r.clone() }
    };
    let (a, b): (Rows, Rows) = (a.iter().map(clip).collect(), b.iter().map(clip).collect());
    let n = a.len() as f64;
    let part1 = -2.0 / n * (0..a.len()).map(|i| dot(&a[i], &b[i])).sum::<f64>();
    let mut part2 = 0.0;
    for i in 0..a.len() {
        for j in 0..b.len() {
            if i != j {
                part2 += dot(&a[i], &b[j]).powi(2);
            }
        }
    }
    (part1 + part2 / (n * (n - 1.0))) / mu
}

fn align_uniform(a: &Rows, b: &Rows) -> f64 {
    let (a, b): (Rows, Rows) = (a.iter().map(|r| unit(r)).collect(), b.iter().map(|r| unit(r)).collect());
    let sq = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| (p - q).powi(2)).sum::<f64>();
    let n = a.len();
    let align = (0..n).map(|i| sq(&a[i], &b[i])).sum::<f64>() / n as f64;
    let unif = |x: &Rows| {
        let mut s = 0.0;
        let mut c = 0.0;
        for i in 0..n {
            for j in i + 1..n {
                s += (-2.0 * sq(&x[i], &x[j])).exp();
                c += 1.0;
            }
        }
        (s / c).ln()
    };
    align + (unif(&a) + unif(&b)) / 2.0
}

fn supcon(a: &Rows, b: &Rows, labels: &[usize], tau: f64) -> f64 {
    let z: Rows = stack(a, b).iter().map(|r| unit(r)).collect();
    let y: Vec<usize> = labels.iter().chain(labels).copied().collect();
    let m = z.len();
    let (mut total, mut anchors) = (0.0, 0.0);
    for i in 0..m {
        let pos: Vec<usize> = (0..m).filter(|&p| p != i && y[p] == y[i]).collect();
        if pos.is_empty() {
            continue;
        }
        let lse = (0..m).filter(|&k| k != i).map(|k| (dot(&z[i], &z[k]) / tau).exp()).sum::<f64>().ln();
        total += -pos.iter().map(|&p| dot(&z[i], &z[p]) / tau - lse).sum::<f64>() / pos.len() as f64;
        anchors += 1.0;
    }
    total / anchors
}

fn dcl(a: &Rows, b: &Rows, tau: f64) -> f64 {
    let z: Rows = stack(a, b).iter().map(|r| unit(r)).collect();
    let m = z.len();
    let n = m / 2;
    let mut total = 0.0;
    for i in 0..m {
        let j = (i + n) % m;
        let lse = (0..m).filter(|&k| k != i && k != j).map(|k| (dot(&z[i], &z[k]) / tau).exp()).sum::<f64>().ln();
        total += -dot(&z[i], &z[j]) / tau + lse;
    }
    total / m as f64
}

/// A small fixed input: N = 4 samples, d = 3, not normalised.
fn sample() -> (Rows, Rows) {
    let a = vec![vec![0.9, 0.2, -0.4], vec![-0.3, 1.1, 0.5], vec![0.1, -0.7, 0.8], vec![1.3, 0.4, 0.2]];
    let b = vec![vec![0.8, 0.35, -0.2], vec![-0.5, 0.9, 0.6], vec![0.3, -0.6, 1.0], vec![0.2, 0.5, -0.9]];
    (a, b)
}

fn close(x: f64, y: f64, tol: f64) -> bool {
    (x - y).abs() <= tol * (1.0 + y.abs())
}

/// Checks the CLI's gradient against central differences of `f` at every entry.
fn check_gradient(f: impl Fn(&Rows, &Rows) -> f64, a: &Rows, b: &Rows, ga: &Rows, gb: &Rows) {
    let h = 1e-6;
    for (which, g) in [(0, ga), (1, gb)] {
        for i in 0..a.len() {
            for c in 0..a[0].len() {
                let (mut ap, mut bp, mut am, mut bm) = (a.clone(), b.clone(), a.clone(), b.clone());
                if which == 0 {
                    ap[i][c] += h;
                    am[i][c] -= h;
                } else {
                    bp[i][c] += h;
                    bm[i][c] -= h;
                }
                let numeric = (f(&ap, &bp) - f(&am, &bm)) / (2.0 * h);
                assert!(
                    (numeric - g[i][c]).abs() < 1e-6,
                    "d/d{}[{i}][{c}]: cli {} vs numeric {numeric}",
                    ["a", "b"][which],
                    g[i][c]
                );
            }
        }
    }
}

#[test]
fn infonce_of_identical_rows_is_log_2n_minus_1_with_zero_gradient() {
    let n = 5;
    let rows: Rows = vec![vec![0.3, -1.2, 2.0]; n];
    for tau in ["0.1", "0.5", "2"] {
        let (loss, ga, gb) = cli_loss("infonce", &rows, &rows, &["--tau", tau]);
        let want = ((2 * n - 1) as f64).ln();
        assert!((loss - want).abs() < 1e-12, "τ = {tau}: {loss} vs log(2N−1) = {want}");
        let max = ga.iter().chain(&gb).flatten().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(max < 1e-12, "gradient should vanish, max |g| = {max}");
        assert_eq!((ga.len(), gb.len(), ga[0].len()), (n, n, 3));
    }
}

#[test]
fn infonce_agrees_with_a_direct_computation_value_and_gradient() {
    let (a, b) = sample();
    let (loss, ga, gb) = cli_loss("infonce", &a, &b, &["--tau", "0.5"]);
    assert!(close(loss, infonce(&a, &b, 0.5, None), 1e-12), "{loss} vs {}", infonce(&a, &b, 0.5, None));
    check_gradient(|a, b| infonce(a, b, 0.5, None), &a, &b, &ga, &gb);
}

#[test]
fn infonce_removal_with_explicit_pairs_agrees_with_a_direct_computation() {
    let (a, b) = sample();
    let m = 2 * a.len();
    // Flag a few arbitrary off-diagonal, non-positive pairs.
    let mut p = vec![vec![0.0; m]; m];
    for (i, k) in [(0, 2), (1, 6), (3, 0), (5, 7), (7, 1)] {
        p[i][k] = 1.0;
    }
    let dir = scratch("pairs");
    let pp = write(&dir, "p.csv", &csv(&p));
    let (loss, ga, gb) = cli_loss("infonce", &a, &b, &["--tau", "0.3", "--mode", "removal", "--pairs", &pp]);
    // Loss parameters are f32 (as on every backend), so τ = 0.3 is the f32 nearest 0.3.
    let tau = 0.3f32 as f64;
    let direct = infonce(&a, &b, tau, Some(&p));
    assert!(close(loss, direct, 1e-12), "{loss} vs {direct}");
    check_gradient(|a, b| infonce(a, b, tau, Some(&p)), &a, &b, &ga, &gb);
}

#[test]
fn spectral_align_uniform_supcon_and_dcl_agree_with_direct_computations() {
    let (a, b) = sample();
    let (loss, ga, gb) = cli_loss("spectral", &a, &b, &["--mu", "1.5"]);
    assert!(close(loss, spectral(&a, &b, 1.5), 1e-12), "spectral {loss} vs {}", spectral(&a, &b, 1.5));
    check_gradient(|a, b| spectral(a, b, 1.5), &a, &b, &ga, &gb);

    let (loss, ga, gb) = cli_loss("align-uniform", &a, &b, &[]);
    assert!(close(loss, align_uniform(&a, &b), 1e-12), "align-uniform {loss} vs {}", align_uniform(&a, &b));
    check_gradient(align_uniform, &a, &b, &ga, &gb);

    let dir = scratch("labels");
    let labels = [0, 1, 0, 1];
    let pl = write(&dir, "labels.csv", "0\n1\n0\n1\n");
    // Loss parameters are f32 (as on every backend): τ = 0.4 is the f32 nearest 0.4.
    let tau = 0.4f32 as f64;
    let (loss, ga, gb) = cli_loss("supcon", &a, &b, &["--tau", "0.4", "--labels", &pl]);
    assert!(close(loss, supcon(&a, &b, &labels, tau), 1e-12), "supcon {loss} vs {}", supcon(&a, &b, &labels, tau));
    check_gradient(|a, b| supcon(a, b, &labels, tau), &a, &b, &ga, &gb);

    let (loss, ga, gb) = cli_loss("dcl", &a, &b, &["--tau", "0.75"]);
    assert!(close(loss, dcl(&a, &b, 0.75), 1e-12), "dcl {loss} vs {}", dcl(&a, &b, 0.75));
    check_gradient(|a, b| dcl(a, b, 0.75), &a, &b, &ga, &gb);
}

#[test]
fn plain_output_is_the_loss_alone_and_a_header_line_is_skipped() {
    let (a, b) = sample();
    let dir = scratch("plain");
    let pa = write(&dir, "a.csv", &format!("x,y,z\n{}", csv(&a)));
    let pb = write(&dir, "b.csv", &csv(&b));
    let o = spherelab(&["loss", "infonce", "--a", &pa, "--b", &pb, "--tau", "0.5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: f64 = stdout(&o).trim().parse().expect("a number alone");
    assert!(close(v, infonce(&a, &b, 0.5, None), 1e-12));
}
