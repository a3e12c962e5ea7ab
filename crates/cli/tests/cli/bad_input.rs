//! Bad input: one line on stderr naming the problem, exit code 2, never a panic.

use crate::common::{assert_bad_input, scratch, spherelab, write};

/// Writes A.csv and B.csv with the given contents and runs `loss <kind>` on them with extra flags.
fn loss_with(a: &str, b: &str, kind: &str, extra: &[&str]) -> std::process::Output {
    let dir = scratch("bad");
    let pa = write(&dir, "A.csv", a);
    let pb = write(&dir, "B.csv", b);
    let mut args = vec!["loss", kind, "--a", &pa, "--b", &pb];
    args.extend_from_slice(extra);
    spherelab(&args)
}

const GOOD: &str = "1,0\n0,1\n1,1\n";

#[test]
fn a_malformed_csv_names_the_file_the_line_and_the_value() {
    let o = loss_with("1,0\n0,abc\n1,1\n", GOOD, "infonce", &[]);
    assert_bad_input(&o, &["A.csv:2", "'abc'", "not a number"]);
}

#[test]
fn rows_of_different_lengths_name_the_line() {
    let o = loss_with(GOOD, "1,0\n0,1\n1,1,1\n", "infonce", &[]);
    assert_bad_input(&o, &["B.csv:3", "3 values", "line 1 has 2"]);
}

#[test]
fn views_of_different_shapes_are_refused() {
    let o = loss_with(GOOD, "1,0\n0,1\n", "infonce", &[]);
    assert_bad_input(&o, &["3×2", "2×2", "same shape"]);
}

#[test]
fn a_non_positive_temperature_is_refused() {
    assert_bad_input(&loss_with(GOOD, GOOD, "infonce", &["--tau", "0"]), &["--tau", "> 0"]);
    assert_bad_input(&loss_with(GOOD, GOOD, "infonce", &["--tau", "-1"]), &["--tau", "> 0"]);
    let o = spherelab(&["train", "--tau=-0.5", "--steps", "1", "--out", "/nonexistent/never-written"]);
    assert_bad_input(&o, &["tau", "> 0"]);
}

#[test]
fn a_non_finite_flag_is_named() {
    let o = spherelab(&["train", "--sigma", "nan", "--out", "/nonexistent/never-written"]);
    assert_bad_input(&o, &["--sigma", "finite"]);
    assert_bad_input(&loss_with(GOOD, GOOD, "infonce", &["--sigma", "inf"]), &["--sigma", "finite"]);
}

#[test]
fn an_unknown_loss_or_dataset_or_mode_lists_the_choices() {
    assert_bad_input(&loss_with(GOOD, GOOD, "triplet", &[]), &["unknown loss 'triplet'", "infonce"]);
    let o = spherelab(&["train", "--dataset", "mnist", "--out", "/nonexistent/never-written"]);
    assert_bad_input(&o, &["unknown dataset 'mnist'", "moons"]);
    let o = spherelab(&["train", "--loss", "triplet", "--out", "/nonexistent/never-written"]);
    assert_bad_input(&o, &["unknown loss 'triplet'"]);
    assert_bad_input(&loss_with(GOOD, GOOD, "infonce", &["--mode", "harder"]), &["unknown mode 'harder'"]);
}

#[test]
fn a_missing_file_is_named() {
    let o = spherelab(&["loss", "infonce", "--a", "/nonexistent/A.csv", "--b", "/nonexistent/B.csv"]);
    assert_bad_input(&o, &["/nonexistent/A.csv", "cannot read"]);
    let o = spherelab(&["train", "--config", "/nonexistent/run.toml"]);
    assert_bad_input(&o, &["/nonexistent/run.toml"]);
    let o = spherelab(&["train", "--dataset", "csv:/nonexistent/points.csv"]);
    assert_bad_input(&o, &["/nonexistent/points.csv"]);
}

#[test]
fn a_mode_without_pairs_says_pairs_are_needed() {
    assert_bad_input(&loss_with(GOOD, GOOD, "infonce", &["--mode", "removal"]), &["--pairs"]);
}

#[test]
fn a_pair_matrix_of_the_wrong_size_or_values_is_refused() {
    let dir = scratch("pairs-bad");
    let p = write(&dir, "P.csv", "0,1\n1,0\n");
    assert_bad_input(&loss_with(GOOD, GOOD, "infonce", &["--mode", "removal", "--pairs", &p]), &["6×6"]);
    let p = write(&dir, "P2.csv", "0,1,0\n1,0,2\n0,0,0\n");
    assert_bad_input(
        &loss_with(GOOD, GOOD, "spectral", &["--mode", "margin", "--pairs", &p]),
        &["P2.csv:2", "0 and 1"],
    );
}

#[test]
fn supcon_without_labels_asks_for_them() {
    assert_bad_input(&loss_with(GOOD, GOOD, "supcon", &[]), &["--labels"]);
}

#[test]
fn beta_not_below_gamma_is_refused_by_theory() {
    let o = spherelab(&[
        "theory", "--n", "8", "--r", "2", "--nd", "2", "--alpha", "0.387", "--beta", "0.3", "--gamma", "0.241",
    ]);
    assert_bad_input(&o, &["beta", "smaller than gamma"]);
}

#[test]
fn a_config_with_an_unknown_key_names_the_key_and_the_line() {
    let dir = scratch("config-unknown");
    let p = write(&dir, "run.toml", "seed = 3\n[loss]\ntemperature = 0.5\n");
    let o = spherelab(&["train", "--config", &p, "--out", dir.join("out").to_str().unwrap()]);
    assert_bad_input(&o, &["temperature", "run.toml:3"]);
    let p = write(&dir, "run.json", r#"{"loss": {"temprature": 0.5}}"#);
    let o = spherelab(&["train", "--config", &p, "--out", dir.join("out").to_str().unwrap()]);
    assert_bad_input(&o, &["temprature", "run.json"]);
}

#[test]
fn a_config_with_a_wrong_type_names_the_key() {
    let dir = scratch("config-type");
    let p = write(&dir, "run.toml", "[loss]\ntau = \"hot\"\n");
    let o = spherelab(&["train", "--config", &p, "--out", dir.join("out").to_str().unwrap()]);
    assert_bad_input(&o, &["run.toml:2", "tau"]);
    let p = write(&dir, "run.json", r#"{"train": {"steps": "many"}}"#);
    let o = spherelab(&["train", "--config", &p, "--out", dir.join("out").to_str().unwrap()]);
    assert_bad_input(&o, &["run.json", "invalid type"]);
}

#[test]
fn clap_usage_errors_exit_2() {
    let o = spherelab(&["loss", "infonce"]);
    assert_eq!(o.status.code(), Some(2));
    let o = spherelab(&["train", "--steps", "many"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Input that is well-formed but too big (issue 16): refused before anything is allocated, with the knob, what
/// it would need and the limit named, exit 2 — not "memory allocation failed" and exit 134.
#[test]
fn a_run_too_big_for_the_memory_budget_is_refused_naming_the_knob() {
    // A budget of 1 GiB, so what is refused does not depend on this machine's memory.
    let train = |args: &[&str]| {
        let mut all = vec!["train", "--memory-budget", "1024", "--out", "/nonexistent/never-written"];
        all.extend_from_slice(args);
        spherelab(&all)
    };
    assert_bad_input(&train(&["--encoder", "100000,100000"]), &["width 100000", "at most 16384"]);
    assert_bad_input(
        &train(&["--encoder", "16000,16000"]),
        &[
            "model.encoder = [16000, 16000]",
            "would need about 11.8 GiB",
            "parameters 11.5 GiB",
            "budget of 1.0 GiB",
            "--memory-budget",
        ],
    );
    assert_bad_input(&train(&["--n", "100000000"]), &["data.n = 100000000", "would need about"]);
    assert_bad_input(&train(&["--n", "200000", "--batch-size", "100000"]), &["train.batch_size = 100000"]);
    let layers = vec!["8"; 1000].join(",");
    assert_bad_input(&train(&["--encoder", &layers]), &["1002 layers", "at most 64"]);
    // Without the flag the budget is half of this machine's memory: 10⁸ samples are still too many.
    let o = spherelab(&["train", "--n", "100000000", "--out", "/nonexistent/never-written"]);
    assert_bad_input(&o, &["data.n = 100000000", "half of this machine's memory"]);
    // The defaults fit in 64 MiB, not in 1 MiB.
    let o = spherelab(&["train", "--memory-budget", "1", "--steps", "1", "--out", "/nonexistent/never-written"]);
    assert_bad_input(&o, &["would need about", "budget of 1.0 MiB"]);
}
