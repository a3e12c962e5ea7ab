//! `spherelab theory` on the worked example of docs/math.md §5.

use serde_json::Value;

use crate::common::{spherelab, stderr, stdout};

const WORKED: [&str; 15] = [
    "theory", "--n", "8", "--r", "2", "--nd", "2", "--alpha", "0.387", "--beta", "0.208", "--gamma", "0.241",
    "--delta", "0.01",
];

#[test]
fn json_on_the_worked_example_gives_the_published_numbers() {
    let mut args = WORKED.to_vec();
    args.push("--json");
    let o = spherelab(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let num = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} missing in {v}"));
    for (k, want, tol) in [
        ("c0", 6.205, 5e-4),
        ("c1", 7.169, 5e-4),
        ("c2", 7.037, 5e-4),
        ("bound_wo", 0.123817, 5e-6),
        ("bound_wd", 0.124185, 5e-6),
        ("bound_removed", 0.125089, 5e-6),
        ("margin", 5.66e-4, 5e-6),
        ("tau_difficult", 0.879, 5e-4),
    ] {
        assert!((num(k) - want).abs() < tol, "{k} = {} but docs/math.md §5 says {want}", num(k));
    }
    assert_eq!(v["removal_helps"], Value::Bool(false), "removal does not help in the worked example");
    for k in [
        "lambda_wo",
        "lambda_wd",
        "lambda_removed",
        "bound_temperature",
        "temperature_helps",
        "explicit_lambda_clean",
        "explicit_lambda_index_matched",
        "explicit_lambda_block",
    ] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
    // The explicit spectrum matches the closed form exactly without difficult examples.
    assert!((num("explicit_lambda_clean") - num("lambda_wo")).abs() < 1e-9);
}

#[test]
fn human_output_has_a_verdict_per_intervention() {
    let o = spherelab(&WORKED);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for k in ["removal:", "margin:", "temperature:", "c0", "E_wd"] {
        assert!(out.contains(k), "'{k}' missing in:\n{out}");
    }
    assert!(out.lines().any(|l| l.contains("removal:") && l.contains("does not help")), "{out}");
}

/// No difficult samples: nothing to remedy, said in one line instead of three verdicts about a bound that the
/// closed form got wrong (it used the difficult samples' eigenvalue when there were none).
#[test]
fn no_difficult_samples_has_nothing_to_remedy() {
    let mut args = WORKED.to_vec();
    args[6] = "0";
    let o = spherelab(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("no difficult samples (n_d = 0): E_wd = E_wo, nothing to remedy"), "{text}");
    assert!(!text.contains("helps:"), "{text}");
}
