//! CSV text: the one reader of the project (the lab's and `spherelab train`'s data sets, and the matrices,
//! labels and pair flags `spherelab loss` takes, which read their rows through `records`). Parsing works on
//! text, not paths, so the web app can hand in the bytes of a file the browser gave it.
//!
//! The rules, kept simple so a user can predict them:
//! - Fields are separated by commas; a file whose first row has no comma uses semicolons if it has them, else
//!   runs of tabs or spaces. Fields are trimmed and may be wrapped in double quotes (no separators inside
//!   quotes). Blank lines and lines starting with `#` are skipped; a UTF-8 byte-order mark is ignored.
//! - The first row is a header when any of its fields is not a finite number.
//! - Data sets (`parse_csv`): in a header, the column named `label`, `class` or `target` (any case) holds the
//!   labels; every other column is a feature. `y` is not a label name, because `x,y` are the coordinates of a
//!   points file. Without a header every column is a feature and the data set has no labels.
//! - Labels are text (integers or names): they become 0..C in order of first appearance.
//! - Features must be finite numbers. Each is standardised (z-score: (v − mean)/std, population std; a
//!   constant column is divided by 1 instead), so every column has the unit scale the model expects.
//! - At least 4 data rows. Errors name the line (1-based, as an editor shows it) and what is wrong.

use super::{Dataset, InputKind};
use crate::error::{Error, Result, shown};

/// Header names (compared in lower case) of the label column.
const LABEL_NAMES: [&str; 3] = ["label", "class", "target"];
const MIN_ROWS: usize = 4;

/// One row of a CSV file: its 1-based line number and its fields (trimmed, quotes removed).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub line: usize,
    pub fields: Vec<String>,
}

/// A CSV file's rows by the rules above: the header (the first row, when one of its fields is not a finite
/// number) and the rows after it. No row at all: an empty file.
#[derive(Clone, Debug, PartialEq)]
pub struct Records {
    pub header: Option<Row>,
    pub rows: Vec<Row>,
}

impl Records {
    /// The header and the rows, in file order.
    pub fn all(&self) -> impl Iterator<Item = &Row> {
        self.header.iter().chain(&self.rows)
    }
}

/// Splits CSV text into rows (never fails: what the fields mean is the caller's to check).
pub fn records(text: &str) -> Records {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let sep = match lines.first() {
        Some((_, first)) if first.contains(',') => Some(','),
        Some((_, first)) if first.contains(';') => Some(';'),
        _ => None,
    };
    let mut rows: Vec<Row> = lines.into_iter().map(|(line, l)| Row { line, fields: split(l, sep) }).collect();
    let header = match rows.first() {
        Some(first) if first.fields.iter().any(|f| parse_number(f).is_none()) => Some(rows.remove(0)),
        _ => None,
    };
    Records { header, rows }
}

/// Parses CSV text into a data set called `name` (also used in error messages, e.g. the file's path).
pub fn parse_csv(text: &str, name: &str) -> Result<Dataset> {
    let bad = |msg: String| Err(Error::invalid(format!("{name}: {msg}")));
    let recs = records(text);
    let Some(first) = recs.all().next() else {
        return bad("the file is empty: expected rows of numbers, optionally with a header row".into());
    };
    let (first_no, width) = (first.line, first.fields.len());
    let first_text = first.fields.join(",");

    let mut label_col = None;
    let mut names: Vec<String> = (1..=width).map(|j| format!("column {j}")).collect();
    if let Some(header) = &recs.header {
        let header = &header.fields;
        for (j, field) in header.iter().enumerate() {
            if LABEL_NAMES.contains(&field.to_lowercase().as_str()) {
                if let Some(k) = label_col {
                    return bad(format!(
                        "line {first_no}: two label columns, '{}' (column {}) and '{field}' (column {}): keep one",
                        header[k],
                        k + 1,
                        j + 1
                    ));
                }
                label_col = Some(j);
            }
            names[j] = format!("column {} ({})", j + 1, shown(field));
        }
    }
    let dim = width - label_col.is_some() as usize;
    if dim == 0 {
        return bad(format!(
            "line {first_no}: no feature columns, the file has only the label column {}",
            shown(&first_text)
        ));
    }

    let mut features: Vec<f64> = Vec::new();
    let mut label_text: Vec<String> = Vec::new();
    // First and last line of the data rows, for the "too few rows" message.
    let mut data_lines = None;
    for Row { line: line_no, fields } in &recs.rows {
        let line_no = *line_no;
        data_lines = Some((data_lines.map_or(line_no, |(a, _)| a), line_no));
        if fields.len() != width {
            return bad(format!("line {line_no} has {} fields, expected {width}", fields.len()));
        }
        for (j, field) in fields.iter().enumerate() {
            if Some(j) == label_col {
                if field.is_empty() {
                    return bad(format!("line {line_no}, {}: the label is empty", names[j]));
                }
                label_text.push(field.to_string());
            } else {
                match parse_number(field) {
                    Some(v) => features.push(v),
                    None if field.is_empty() => {
                        return bad(format!("line {line_no}, {}: the value is empty", names[j]));
                    }
                    None => {
                        let hint = if label_col.is_some() {
                            ""
                        } else {
                            " (to use a column as labels, name it label, class or target in a header row)"
                        };
                        return bad(format!(
                            "line {line_no}, {}: {} is not a finite number{hint}",
                            names[j],
                            shown(field)
                        ));
                    }
                }
            }
        }
    }
    let n = features.len() / dim;
    match data_lines {
        None => return bad(format!("line {first_no} is a header and no data rows follow: need at least {MIN_ROWS}")),
        Some((a, b)) if n < MIN_ROWS => {
            return bad(format!("only {n} data rows (lines {a}–{b}): need at least {MIN_ROWS}"));
        }
        _ => {}
    }

    standardise(&mut features, dim);
    let (labels, classes) = if label_col.is_some() { index_labels(&label_text) } else { (vec![0; n], 1) };
    Ok(Dataset {
        name: name.to_string(),
        kind: if dim == 2 { InputKind::Points } else { InputKind::Table },
        dim,
        x: features.into_iter().map(|v| v as f32).collect(),
        labels,
        classes,
        has_labels: label_col.is_some(),
        mixed: vec![false; n],
        boundary: vec![false; n],
    })
}

/// Fields of a line: split on `sep`, or on runs of whitespace when there is none.
fn split(line: &str, sep: Option<char>) -> Vec<String> {
    let unquote = |f: &str| {
        let f = f.trim();
        f.strip_prefix('"').and_then(|g| g.strip_suffix('"')).unwrap_or(f).trim().to_string()
    };
    match sep {
        Some(sep) => line.split(sep).map(unquote).collect(),
        None => line.split_whitespace().map(unquote).collect(),
    }
}

/// A finite number, or None ("nan" and "inf" parse as f64 but are no use as features).
fn parse_number(field: &str) -> Option<f64> {
    field.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Z-scores each column of the n × dim row-major table in place: (v − mean)/std, std = 1 for a constant column.
fn standardise(x: &mut [f64], dim: usize) {
    let n = (x.len() / dim) as f64;
    for j in 0..dim {
        let mean = x.iter().skip(j).step_by(dim).sum::<f64>() / n;
        let var = x.iter().skip(j).step_by(dim).map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let std = if var > 0.0 { var.sqrt() } else { 1.0 };
        for v in x.iter_mut().skip(j).step_by(dim) {
            *v = (*v - mean) / std;
        }
    }
}

/// Maps label texts to 0..C in order of first appearance; returns the ids and C.
fn index_labels(texts: &[String]) -> (Vec<usize>, usize) {
    let mut seen: Vec<&str> = Vec::new();
    let ids = texts
        .iter()
        .map(|t| match seen.iter().position(|s| s == t) {
            Some(k) => k,
            None => {
                seen.push(t);
                seen.len() - 1
            }
        })
        .collect();
    (ids, seen.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_csv(text, "my.csv").unwrap_err().to_string()
    }

    #[test]
    fn records_split_on_commas_else_semicolons_else_whitespace_and_find_the_header() {
        let r = records("\u{feff}# note\nx, \"y\"\n\n1,2\n3,4\n");
        assert_eq!(r.header, Some(Row { line: 2, fields: vec!["x".into(), "y".into()] }));
        assert_eq!(r.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(records("1;2\n3;4").rows[1].fields, vec!["3", "4"]);
        assert_eq!(records("1 2\t3\n4 5 6\n").rows[0].fields, vec!["1", "2", "3"]);
        // A row with one field that is not a finite number is a header, whatever the others hold.
        assert!(records("1,nan\n2,3\n").header.is_some());
        assert!(records("1,2\n3,x\n").header.is_none());
        assert_eq!(records("\n# only a comment\n"), Records { header: None, rows: vec![] });
    }

    #[test]
    fn headerless_numeric_file_has_all_columns_as_features_and_no_labels() {
        let ds = parse_csv("1,2,3\n2,4,3\n3,6,3\n4,8,3\n", "t").unwrap();
        assert_eq!((ds.len(), ds.dim, ds.kind, ds.has_labels, ds.classes), (4, 3, InputKind::Table, false, 1));
        assert_eq!(ds.labels, vec![0; 4]);
        // Standardised: column 0 is 1..4 → mean 2.5, std √1.25; the constant column becomes 0.
        let s = 1.25f64.sqrt();
        assert!((ds.sample(0)[0] as f64 - (-1.5 / s)).abs() < 1e-6);
        assert_eq!(ds.sample(0)[0], ds.sample(0)[1]);
        assert!((0..4).all(|i| ds.sample(i)[2] == 0.0));
    }

    #[test]
    fn header_with_a_label_column_gives_labelled_points() {
        let text = "x, y, Label\n0,0,a\n1,0,b\n0,1,a\n1,1,c\n\n# a comment\n2,2,b\n";
        let ds = parse_csv(text, "t").unwrap();
        assert_eq!((ds.len(), ds.dim, ds.kind, ds.has_labels), (5, 2, InputKind::Points, true));
        assert_eq!(ds.labels, vec![0, 1, 0, 2, 1]);
        assert_eq!(ds.classes, 3);
        let mean0: f32 = (0..5).map(|i| ds.sample(i)[0]).sum::<f32>() / 5.0;
        assert!(mean0.abs() < 1e-6);
    }

    #[test]
    fn integer_labels_in_any_column_map_in_order_of_first_appearance() {
        let ds = parse_csv("class;f1;f2\n7;1;2\n3;2;1\n7;0;0\n9;1;1\n", "t").unwrap();
        assert_eq!(ds.labels, vec![0, 1, 0, 2]);
        assert_eq!((ds.dim, ds.classes), (2, 3));
        let ds = parse_csv("a\tb\ttarget\n1\t2\t0\n2\t1\t1\n0\t0\t0\n1\t1\t1\n", "t").unwrap();
        assert_eq!(ds.labels, vec![0, 1, 0, 1]);
    }

    #[test]
    fn header_without_label_column_and_quoted_fields_are_fine() {
        let ds = parse_csv("\u{feff}\"a\",\"b\",\"c\"\r\n\"1\",2,3\r\n4,5,6\r\n7,8,9\r\n1,1,1\r\n", "t").unwrap();
        assert_eq!((ds.dim, ds.has_labels, ds.len()), (3, false, 4));
    }

    #[test]
    fn a_non_numeric_value_is_named_with_its_line_and_column() {
        let e = err("a,b,label\n1,2,x\n3,oops,y\n1,1,x\n2,2,y\n");
        assert!(e.contains("my.csv") && e.contains("line 3") && e.contains("column 2") && e.contains("oops"), "{e}");
        let e = err("1,2\n3,4\nnan,1\n1,1\n");
        assert!(e.contains("line 3") && e.contains("column 1") && e.contains("nan"), "{e}");
        // A headerless file with text labels: the first row is taken as a header, the labels are not numbers.
        let e = err("1,2,cat\n3,4,dog\n5,6,cat\n7,8,dog\n9,9,dog\n");
        assert!(e.contains("line 2") && e.contains("dog") && e.contains("header"), "{e}");
        let e = err("a,b\n1,\n2,3\n4,5\n6,7\n");
        assert!(e.contains("line 2") && e.contains("empty"), "{e}");
    }

    #[test]
    fn rows_of_different_lengths_are_named() {
        let e = err("1,2,3\n4,5,6\n7,8\n1,1,1\n");
        assert!(e.contains("line 3 has 2 fields, expected 3"), "{e}");
        let e = err("a,label\n1,x\n\n2,y,3\n3,x\n4,y\n");
        assert!(e.contains("line 4 has 3 fields, expected 2"), "{e}");
    }

    #[test]
    fn empty_short_and_label_only_files_are_errors() {
        assert!(err("").contains("empty"));
        assert!(err("\n  \n# just a comment\n").contains("empty"));
        let e = err("a,b\n1,2\n3,4\n\n5,6\n");
        assert!(e.contains("only 3 data rows (lines 2–5)") && e.contains("at least 4"), "{e}");
        let e = err("a,b\n");
        assert!(e.contains("line 1 is a header and no data rows follow"), "{e}");
        let e = err("label\n1\n2\n1\n2\n");
        assert!(e.contains("line 1") && e.contains("only the label column"), "{e}");
        let e = err("label,x,class\n1,2,3\n");
        assert!(e.contains("line 1") && e.contains("two label columns"), "{e}");
        let e = err("a,label\n1,x\n2,\n3,x\n4,y\n");
        assert!(e.contains("line 3") && e.contains("label is empty"), "{e}");
    }
}
