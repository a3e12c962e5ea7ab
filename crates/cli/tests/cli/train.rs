//! `spherelab train`: a short run on moons writes every file in the promised format, and the written
//! config repeats the run exactly.

use std::path::Path;

use serde_json::Value;

use crate::common::{scratch, spherelab, stderr, stdout};

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const N: usize = 256;

fn short_run(out: &Path, extra: &[&str]) -> std::process::Output {
    let n = N.to_string();
    let mut args = vec![
        "train",
        "--dataset",
        "moons",
        "--n",
        &n,
        "--steps",
        "30",
        "--batch-size",
        "64",
        "--eval-every",
        "10",
        "--backend",
        "cpu",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    spherelab(&args)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn a_short_run_on_moons_writes_every_file() {
    let dir = scratch("train");
    let out = dir.join("run");
    let o = short_run(&out, &[]);
    assert!(o.status.success(), "train failed: {}", stderr(&o));
    // One summary line on stdout.
    assert_eq!(stdout(&o).trim().lines().count(), 1, "{}", stdout(&o));

    let metrics = read(&out.join("metrics.csv"));
    let mut lines = metrics.lines();
    assert_eq!(
        lines.next().unwrap(),
        "step,loss,alignment,uniformity,tolerance,knn_accuracy,probe_accuracy,effective_rank,selection_precision,flagged_fraction"
    );
    let steps: Vec<usize> = lines.map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert_eq!(steps, [10, 20, 30]);

    let losses = read(&out.join("losses.csv"));
    assert_eq!(losses.lines().next().unwrap(), "step,loss,lr");
    assert_eq!(losses.lines().count(), 31, "a row per step");

    let emb = read(&out.join("embeddings.tsv"));
    assert_eq!(emb.lines().count(), N, "a row per sample, no header");
    for l in emb.lines() {
        let v: Vec<f64> = l.split('\t').map(|x| x.parse().unwrap()).collect();
        assert_eq!(v.len(), 2, "the default embedding has d = 2");
        let norm = (v[0] * v[0] + v[1] * v[1]).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "normalised embedding, |z| = {norm}");
    }
    let meta = read(&out.join("metadata.tsv"));
    let mut ml = meta.lines();
    assert_eq!(ml.next().unwrap(), "label\tdifficult\tmixed\tboundary\tsplit\tpruned");
    assert_eq!(ml.clone().count(), N);
    for l in ml {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f.len(), 6);
        assert!(
            f[0].parse::<usize>().is_ok()
                && f[1..4].iter().all(|b| ["0", "1"].contains(b))
                && ["train", "test"].contains(&f[4])
                && f[5] == "0",
            "{l}"
        );
    }

    let summary: Value = serde_json::from_str(&read(&out.join("summary.json"))).expect("summary.json parses");
    for k in ["loss", "alignment", "uniformity", "tolerance", "knn_accuracy", "probe_accuracy"] {
        assert!(summary["final"][k].is_number(), "final.{k} in {summary}");
    }
    assert_eq!(summary["steps"], 30);
    assert!(summary["backend"]["kind"].as_str().unwrap().starts_with("cpu"));
    assert!(summary["steps_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(summary["config"]["seed"], 3);

    for png in ["loss.png", "alignment.png", "uniformity.png", "accuracy.png", "embedding.png"] {
        let bytes = std::fs::read(out.join(png)).unwrap_or_else(|e| panic!("{png}: {e}"));
        assert!(bytes.len() > 1000, "{png} is {} bytes", bytes.len());
        assert_eq!(bytes[..8], PNG_SIGNATURE, "{png} is not a PNG");
    }

    // The written config loads back and repeats the run bit for bit.
    let cfg = read(&out.join("config.toml"));
    assert!(cfg.contains("seed = 3"), "{cfg}");
    let again = dir.join("again");
    let o = spherelab(&[
        "train",
        "--config",
        out.join("config.toml").to_str().unwrap(),
        "--backend",
        "cpu",
        "--no-plots",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "re-run from config.toml failed: {}", stderr(&o));
    assert_eq!(read(&again.join("losses.csv")), losses);
    assert_eq!(read(&again.join("embeddings.tsv")), emb);
}

#[test]
fn a_three_dimensional_embedding_is_plotted_by_principal_components() {
    let dir = scratch("train-3d");
    let out = dir.join("run");
    let o = short_run(&out, &["--projector", "16,3"]);
    assert!(o.status.success(), "train failed: {}", stderr(&o));
    let first = read(&out.join("embeddings.tsv")).lines().next().unwrap().to_string();
    assert_eq!(first.split('\t').count(), 3);
    let bytes = std::fs::read(out.join("embedding.png")).unwrap();
    assert_eq!(bytes[..8], PNG_SIGNATURE);
}

/// `--backend auto` (the default) never trains on a software adapter (lavapipe, which CI installs): the CPU
/// engine is far faster, and a note on stderr names the adapter it passed over. `--backend gpu` still uses it.
#[test]
fn auto_passes_over_a_software_adapter_for_the_cpu_engine() {
    let dir = scratch("train-auto");
    let run = |backend: &str| {
        let out = dir.join(backend);
        let args = ["train", "--dataset", "moons", "--steps", "3", "--eval-every", "3", "--no-plots", "--backend"];
        let mut args: Vec<&str> = args.to_vec();
        args.extend([backend, "--out", out.to_str().unwrap()]);
        spherelab(&args)
    };
    let auto = run("auto");
    assert!(auto.status.success(), "{}", stderr(&auto));
    let forced = run("gpu");
    assert!(forced.status.success(), "{}", stderr(&forced));
    if stdout(&forced).contains(", Cpu") || stderr(&auto).contains("software renderer") {
        // The only adapter is a software one.
        assert!(stdout(&auto).contains("on cpu-f32"), "auto trained on: {}", stdout(&auto));
        assert!(stderr(&auto).contains("software renderer"), "no note: {}", stderr(&auto));
        assert!(!stdout(&forced).contains("on cpu-f32"), "--backend gpu did not use the adapter: {}", stdout(&forced));
    } else {
        assert!(!stderr(&auto).contains("software renderer"), "{}", stderr(&auto));
    }
}

/// Mesa prints "error: XDG_RUNTIME_DIR is invalid or not set" when the variable is unset; the CLI sets a
/// private one first, so a user without it sees only spherelab's own lines.
#[test]
fn no_driver_noise_without_xdg_runtime_dir() {
    let dir = scratch("train-xdg");
    let out = dir.join("run");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_spherelab"))
        .args(["train", "--dataset", "moons", "--steps", "2", "--no-plots", "--backend", "gpu"])
        .args(["--out", out.to_str().unwrap()])
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("XDG_RUNTIME_DIR"), "driver noise reached the user: {}", stderr(&o));
}

/// metadata.tsv as rows of (label, mixed, split, pruned).
fn metadata(out: &Path) -> Vec<(usize, bool, String, bool)> {
    read(&out.join("metadata.tsv"))
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].parse().unwrap(), f[2] == "1", f[4].to_string(), f[5] == "1")
        })
        .collect()
}

/// docs/math.md §3: at ω > 0 only training rows are mixed; `--prune` removes round(f·n_c) of each class's
/// training rows (never a test row), says so in metadata.tsv and summary.json, and the oracle's pruned set is
/// all difficult when there are more difficult samples than it removes.
#[test]
fn prune_removes_the_fraction_of_training_samples_and_reports_it() {
    let dir = scratch("train-prune");
    let out = dir.join("oracle");
    let o = short_run(&out, &["--omega", "0.3", "--prune", "oracle:0.1", "--no-plots"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = metadata(&out);
    assert!(rows.iter().all(|(_, mixed, split, _)| !(*mixed && split == "test")), "a test row is mixed");
    assert!(rows.iter().any(|(_, mixed, _, _)| *mixed));
    assert!(rows.iter().all(|(_, _, split, pruned)| !(*pruned && split == "test")), "a test row was pruned");
    let mut expect = 0;
    for c in 0..2 {
        let train = rows.iter().filter(|(l, _, s, _)| *l == c && s == "train").count();
        let pruned = rows.iter().filter(|(l, _, _, p)| *l == c && *p).count();
        assert_eq!(pruned, (0.1 * train as f64).round() as usize, "class {c}");
        expect += pruned;
    }
    let summary: Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let p = &summary["pruning"];
    assert_eq!((p["score"].as_str(), p["fraction"].as_f64()), (Some("oracle"), Some(0.1)), "{summary}");
    assert_eq!(p["pruned"].as_u64(), Some(expect as u64));
    assert_eq!(p["precision"].as_f64(), Some(1.0));

    // A margin score trains a first run, then the pruned one; random is the control.
    for spec in ["supervised-margin:0.1", "random:0.1"] {
        let out = dir.join(spec.replace(':', "-"));
        let o = short_run(&out, &["--omega", "0.3", "--prune", spec, "--no-plots"]);
        assert!(o.status.success(), "{spec}: {}", stderr(&o));
        let summary: Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
        assert_eq!(summary["pruning"]["pruned"].as_u64(), Some(expect as u64), "{spec}");
        let precision = summary["pruning"]["precision"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&precision), "{spec}: {precision}");
    }
    let o = short_run(&dir.join("bad"), &["--prune", "margin:0.1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("SCORE:FRACTION"), "{}", stderr(&o));
}
