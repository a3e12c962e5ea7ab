//! `spherelab selftest`: the GPU self-test passes on the test machine's adapter (lavapipe in CI), names the
//! adapter and the worst error, and refuses bad flags with exit 2.

use crate::common::{spherelab, stderr, stdout};

#[test]
fn selftest_passes_and_names_the_adapter_and_the_worst_error() {
    // A smaller large case than the default 4,096 × 128 (which `spherelab selftest` runs) keeps this quick;
    // the default shape's parity is held by gpu/tests/large_batch.rs.
    let o = spherelab(&["selftest", "--views", "1040", "--dim", "32", "--json"]);
    assert!(o.status.success(), "selftest failed: {}\n{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON report");
    assert_eq!(v["passed"], true);
    assert!(!v["adapter"].as_str().unwrap_or_default().is_empty(), "the adapter is named");
    let checks = v["checks"].as_array().expect("checks");
    assert!(checks.len() >= 20, "every op of a step is checked: {}", checks.len());
    assert!(checks.iter().any(|c| c["name"].as_str().unwrap().contains("infonce none 1040×32 gradient")));
    let text = spherelab(&["selftest", "--views", "256", "--dim", "8"]);
    assert!(stdout(&text).starts_with("GPU self-test PASS on "), "{}", stdout(&text));
    assert!(stdout(&text).contains("worst: "), "{}", stdout(&text));
}

#[test]
fn selftest_refuses_bad_flags_with_one_line() {
    let o = spherelab(&["selftest", "--views", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--views must be an even number"), "{}", stderr(&o));
}
