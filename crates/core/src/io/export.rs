//! The files a run is exported as, shared by the CLI (`spherelab train --out`) and the app's Export tab:
//! metrics and losses as CSV, embeddings and their metadata as TSV in the Embedding Projector's format
//! (https://projector.tensorflow.org: vectors without a header, metadata with one).

use std::fmt::Write as _;

use crate::data::{Dataset, Split};
use crate::matrix::Matrix;
use crate::trainer::History;

/// Header of `metrics_csv`, the fields of `MetricRecord` in order.
pub const METRICS_HEADER: &str = "step,loss,alignment,uniformity,tolerance,knn_accuracy,probe_accuracy,\
                                  effective_rank,selection_precision,flagged_fraction";

/// Every evaluation of a run, one row each; selection's two columns are empty when selection is off.
pub fn metrics_csv(history: &History) -> String {
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut s = format!("{METRICS_HEADER}\n");
    for m in &history.metrics {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{}",
            m.step,
            m.loss,
            m.alignment,
            m.uniformity,
            m.tolerance,
            m.knn_accuracy,
            m.probe_accuracy,
            m.effective_rank,
            opt(m.selection_precision),
            opt(m.flagged_fraction)
        );
    }
    s
}

/// Every training step's loss and learning rate.
pub fn losses_csv(history: &History) -> String {
    let mut s = String::from("step,loss,lr\n");
    for st in &history.steps {
        let _ = writeln!(s, "{},{},{}", st.step, st.loss, st.lr);
    }
    s
}

/// One row per sample, one tab-separated column per coordinate, no header.
pub fn embeddings_tsv(z: &Matrix<f32>) -> String {
    let mut s = String::with_capacity(z.rows * z.cols * 12);
    for r in 0..z.rows {
        for (c, v) in z.row(r).iter().enumerate() {
            let _ = write!(s, "{}{v}", if c == 0 { "" } else { "\t" });
        }
        s.push('\n');
    }
    s
}

/// The metadata that goes with `embeddings_tsv`: a header, then per sample its label, whether it is
/// difficult (mixed or near the boundary, docs/math.md §3) and why, its split, and whether it was pruned (a
/// training sample not among `active_train`, the samples the run trained on).
pub fn metadata_tsv(data: &Dataset, split: &Split, active_train: &[usize]) -> String {
    let mut part = vec!["train"; data.len()];
    for &i in &split.test {
        part[i] = "test";
    }
    let mut pruned = vec![false; data.len()];
    for &i in &split.train {
        pruned[i] = true;
    }
    for &i in active_train {
        if i < pruned.len() {
            pruned[i] = false;
        }
    }
    let mut s = String::from("label\tdifficult\tmixed\tboundary\tsplit\tpruned\n");
    for (i, part) in part.iter().enumerate() {
        let flag = |b: bool| if b { 1 } else { 0 };
        let _ = writeln!(
            s,
            "{}\t{}\t{}\t{}\t{part}\t{}",
            data.labels[i],
            flag(data.difficult(i)),
            flag(data.mixed[i]),
            flag(data.boundary[i]),
            flag(pruned[i])
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DataConfig;

    #[test]
    fn metadata_has_a_row_per_sample_and_marks_the_test_split() {
        let cfg = DataConfig { n: 40, ..DataConfig::default() };
        let data = crate::data::build(&cfg, 3).unwrap();
        let split = crate::data::split(&data, 0.25, 3);
        let active: Vec<usize> = split.train[2..].to_vec();
        let tsv = metadata_tsv(&data, &split, &active);
        let rows: Vec<&str> = tsv.lines().collect();
        assert_eq!(rows[0], "label\tdifficult\tmixed\tboundary\tsplit\tpruned");
        assert_eq!(rows.len(), 41);
        let tests = rows[1..].iter().filter(|r| r.ends_with("\ttest\t0")).count();
        assert_eq!(tests, split.test.len());
        let pruned: Vec<usize> = (0..40).filter(|&i| rows[i + 1].ends_with("\t1")).collect();
        assert_eq!(pruned, split.train[..2].to_vec());
    }

    #[test]
    fn embeddings_are_tab_separated_rows() {
        let z = Matrix::from_vec(2, 3, vec![1.0f32, 0.5, -2.0, 0.0, 0.25, 3.0]);
        assert_eq!(embeddings_tsv(&z), "1\t0.5\t-2\n0\t0.25\t3\n");
    }
}
