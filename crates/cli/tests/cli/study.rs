//! `spherelab study`: a small study run directly, resumed, and as plan + collect gives the same outputs; the
//! issue's example file runs as written (planned here: 300 runs); bad study files get one line and exit 2.

use std::path::Path;

use crate::common::{assert_bad_input, scratch, spherelab, stderr, stdout, write};

const SMALL: &str = r#"
name = "tiny"
seeds = [3, 7]
datasets = ["blobs"]
omega = [0.3]
methods = ["clean", "baseline", "removal", "prune-oracle:0.1", "prune-supervised-margin:0.1"]
[base.data]
n = 160
classes = 3
[base.train]
steps = 20
batch_size = 32
eval_every = 20
[base.model]
encoder = [16, 8]
projector = [8, 2]
[axes]
"augment.jitter" = [0.05, 0.1]
"#;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// runs.csv without its `seconds` column (the only thing that differs from one execution to the next).
fn runs_without_seconds(dir: &Path) -> String {
    let text = read(&dir.join("runs.csv"));
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "seconds").expect("a seconds column");
    text.lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.remove(col);
            f.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn outputs(dir: &Path) -> (String, String, String) {
    (runs_without_seconds(dir), read(&dir.join("summary.json")), read(&dir.join("summary.csv")))
}

#[test]
fn a_direct_a_resumed_and_a_planned_study_give_the_same_outputs() {
    let tmp = scratch("study");
    let file = write(&tmp, "tiny.toml", SMALL);
    let direct = tmp.join("direct");
    let o = spherelab(&["study", "--config", &file, "--out", direct.to_str().unwrap(), "--jobs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("20 runs (0 failed)"), "{}", stdout(&o));
    let want = outputs(&direct);
    let header = want.0.lines().next().unwrap().to_string();
    for col in [
        "run_id",
        "dataset",
        "omega",
        "method",
        "seed",
        "probe_accuracy",
        "knn_accuracy_z",
        "alpha_hat",
        "augment.jitter",
    ] {
        assert!(header.split(',').any(|h| h == col), "{col} missing from {header}");
    }
    // 2 seeds × 2 jitters × 5 methods.
    assert_eq!(want.0.lines().count(), 1 + 20, "{}", want.0);
    let summary: serde_json::Value = serde_json::from_str(&want.1).unwrap();
    let cmp = summary["comparisons"].as_array().unwrap();
    assert!(cmp.iter().any(|c| c["method"] == "prune-oracle:0.1" && c["probe_accuracy"]["p_value"].is_number()));
    assert!(cmp.iter().all(|c| c["test"] == "paired t-test, two-sided"));
    let cells = summary["cells"].as_array().unwrap();
    assert!(cells.iter().all(|c| c["probe_accuracy"]["ci95"].as_array().map(Vec::len) == Some(2)));
    let report = read(&direct.join("report.md"));
    for png in ["blobs_augment.jitter=0.05_accuracy.png", "blobs_augment.jitter=0.1_differences.png"] {
        assert!(report.contains(png), "report.md does not show {png}");
        let bytes = std::fs::read(direct.join("figures").join(png)).unwrap();
        assert!(bytes.len() > 2000 && bytes.starts_with(b"\x89PNG"), "{png}");
    }

    // Resumed: two runs lost, the rest skipped.
    let runs = direct.join("runs");
    let mut ids: Vec<String> =
        std::fs::read_dir(&runs).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    ids.sort();
    for id in &ids[..2] {
        std::fs::remove_dir_all(runs.join(id)).unwrap();
    }
    let o = spherelab(&["study", "--config", &file, "--out", direct.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("18 of 20 runs already finished"), "{}", stderr(&o));
    assert_eq!(outputs(&direct), want, "resumed study differs");

    // Planned: one `spherelab train` line per run, run here one by one, then collected.
    let planned = tmp.join("planned");
    let o = spherelab(&["study", "--config", &file, "--out", planned.to_str().unwrap(), "--plan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 20);
    for line in &lines {
        let args: Vec<&str> = line.split(' ').collect();
        assert_eq!(args[0], "spherelab", "{line}");
        let o = spherelab(&args[1..]);
        assert!(o.status.success(), "{line}: {}", stderr(&o));
    }
    let o = spherelab(&["study", "--collect", planned.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(outputs(&planned), want, "plan + collect differs from the direct study");

    // Another study into the same directory is refused, not mixed in.
    let other = write(&tmp, "other.toml", &SMALL.replace("seeds = [3, 7]", "seeds = [4]"));
    let o = spherelab(&["study", "--config", &other, "--out", direct.to_str().unwrap()]);
    assert_bad_input(&o, &["holds another study"]);
}

/// The study file of the issue, as written: 2 datasets × 3 ω × 5 methods × 2 jitters × 5 seeds.
#[test]
fn the_issue_example_is_accepted_as_written() {
    let tmp = scratch("study-example");
    let file = write(&tmp, "example.toml", include_str!("../../../../studies/example.toml"));
    let out = tmp.join("out");
    let o = spherelab(&["study", "--config", &file, "--out", out.to_str().unwrap(), "--plan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 300);
    assert!(stdout(&o).contains("--prune oracle:0.1"));
}

#[test]
fn bad_study_files_get_one_line_naming_the_key() {
    let tmp = scratch("study-bad");
    let out = tmp.join("out");
    for (text, needles) in [
        ("seeds = 3\nmethods = [\"dropout\"]", &["methods", "unknown method 'dropout'"][..]),
        ("seeds = 3\n[axes]\n\"augment.jiter\" = [0.1]", &["augment.jiter", "no such key"][..]),
        ("methods = [\"baseline\"]", &["seeds", "missing"][..]),
        ("seeds = [1, 2\n", &["line"][..]),
    ] {
        let file = write(&tmp, "bad.toml", text);
        let o = spherelab(&["study", "--config", &file, "--out", out.to_str().unwrap()]);
        assert_bad_input(&o, needles);
        assert!(stderr(&o).contains("bad.toml"), "names the file: {}", stderr(&o));
    }
    let o = spherelab(&["study", "--preset", "nosuch", "--out", out.to_str().unwrap()]);
    assert_bad_input(&o, &["--preset nosuch", "paper"]);
    let o = spherelab(&["study", "--collect", tmp.join("nothing").to_str().unwrap()]);
    assert_bad_input(&o, &["study.toml is missing"]);
}
