//! Reading the small numeric files the `loss` command takes: matrices (one row per line), label lists and
//! 0/1 pair-flag matrices.
//!
//! The rows come from the project's one CSV reader (spherelab_core::data::csv::records: commas, else
//! semicolons, else whitespace; blank and `#` lines skipped; quotes and a byte-order mark removed; the first
//! row a header when one of its fields is not a finite number). What they must hold is checked here:
//! - a header is skipped when *none* of its fields is a number (so a pandas `to_csv` header works); a first
//!   row with some numbers and some words is read as data, so its word is an error naming it;
//! - every value must be a finite number, and every row must have as many values as the first.
//!
//! Every error names the file and the 1-based line, so a user can go straight to the problem.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// A dense row-major matrix read from a file, in f64 (the CLI's default precision for `loss`).
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Table {
    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }
}

/// Reads a whole file, naming it when that fails (missing file, permissions, not UTF-8).
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{}: cannot read the file", path.display()))
}

/// Lines that carry data: (1-based line number, fields), with a header of names skipped.
fn data_lines(text: &str, name: &str) -> Result<Vec<(usize, Vec<String>)>> {
    let recs = spherelab_core::data::csv::records(text);
    let names_only = |r: &spherelab_core::data::csv::Row| !r.fields.iter().any(|f| f.parse::<f64>().is_ok());
    let out: Vec<(usize, Vec<String>)> = recs
        .all()
        .filter(|r| !(recs.header.as_ref() == Some(*r) && names_only(r)))
        .map(|r| (r.line, r.fields.clone()))
        .collect();
    if out.is_empty() {
        bail!("{name}: no data rows (the file is empty or holds only a header)");
    }
    Ok(out)
}

fn parse_number(field: &str, name: &str, line: usize, col: usize) -> Result<f64> {
    if field.is_empty() {
        bail!("{name}:{line}: value {col} is empty");
    }
    let v: f64 = field.parse().map_err(|_| anyhow::anyhow!("{name}:{line}: value {col} '{field}' is not a number"))?;
    if !v.is_finite() {
        bail!("{name}:{line}: value {col} '{field}' is not a finite number");
    }
    Ok(v)
}

/// Parses a numeric matrix; `name` is how errors refer to the source (usually the path).
pub fn parse_table(text: &str, name: &str) -> Result<Table> {
    let lines = data_lines(text, name)?;
    let (first_line, first) = (&lines[0].0, &lines[0].1);
    let cols = first.len();
    let mut data = Vec::with_capacity(lines.len() * cols);
    for (line, fields) in &lines {
        if fields.len() != cols {
            let n = fields.len();
            let values = if n == 1 { "value" } else { "values" };
            bail!(
                "{name}:{line}: {n} {values} in this row, but line {first_line} has {cols}: every row needs the same number"
            );
        }
        for (c, f) in fields.iter().enumerate() {
            data.push(parse_number(f, name, *line, c + 1)?);
        }
    }
    Ok(Table { rows: lines.len(), cols, data })
}

pub fn read_table(path: &Path) -> Result<Table> {
    parse_table(&read_text(path)?, &path.display().to_string())
}

/// Parses class labels: non-negative integers, either one per line or all on one line.
pub fn parse_labels(text: &str, name: &str) -> Result<Vec<usize>> {
    let lines = data_lines(text, name)?;
    let fields: Vec<(usize, usize, &str)> = if lines.len() == 1 {
        lines[0].1.iter().enumerate().map(|(c, f)| (lines[0].0, c + 1, f.as_str())).collect()
    } else {
        let mut v = Vec::with_capacity(lines.len());
        for (line, fs) in &lines {
            if fs.len() != 1 {
                bail!(
                    "{name}:{line}: {} values, but a labels file holds one label per line (or all on one line)",
                    fs.len()
                );
            }
            v.push((*line, 1, fs[0].as_str()));
        }
        v
    };
    fields
        .into_iter()
        .map(|(line, col, f)| {
            let v = parse_number(f, name, line, col)?;
            if v < 0.0 || v.fract() != 0.0 || v > u32::MAX as f64 {
                bail!("{name}:{line}: label '{f}' is not a non-negative integer");
            }
            Ok(v as usize)
        })
        .collect()
}

pub fn read_labels(path: &Path) -> Result<Vec<usize>> {
    parse_labels(&read_text(path)?, &path.display().to_string())
}

/// Parses a 0/1 pair-flag matrix; any other value is an error naming its line.
pub fn parse_flags(text: &str, name: &str) -> Result<Table> {
    let t = parse_table(text, name)?;
    let lines = data_lines(text, name)?;
    for (r, (line, _)) in lines.iter().enumerate() {
        if let Some((c, v)) = t.row(r).iter().enumerate().find(|(_, v)| **v != 0.0 && **v != 1.0) {
            bail!("{name}:{line}: value {} is {v}, but a pair-flag matrix holds only 0 and 1", c + 1);
        }
    }
    Ok(t)
}

pub fn read_flags(path: &Path) -> Result<Table> {
    parse_flags(&read_text(path)?, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commas_whitespace_comments_and_a_header() {
        let t = parse_table("x,y\n# comment\n1, 2\n\n3,4\n", "t").unwrap();
        assert_eq!((t.rows, t.cols, t.data), (2, 2, vec![1.0, 2.0, 3.0, 4.0]));
        let t = parse_table("1 2\t3\n4 5 6\n", "t").unwrap();
        assert_eq!((t.rows, t.cols), (2, 3));
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let e = parse_table("1,2\n3,x\n", "a.csv").unwrap_err().to_string();
        assert_eq!(e, "a.csv:2: value 2 'x' is not a number");
        let e = parse_table("1,2\n3,4,5\n", "a.csv").unwrap_err().to_string();
        assert!(e.starts_with("a.csv:2: 3 values in this row, but line 1 has 2"), "{e}");
        let e = parse_table("1,2\nfoo,bar\n", "a.csv").unwrap_err().to_string();
        assert!(e.starts_with("a.csv:2:"), "{e}");
        let e = parse_table("1,nan\n", "a.csv").unwrap_err().to_string();
        assert!(e.contains("not a finite number"), "{e}");
        let e = parse_table("x,y\n", "a.csv").unwrap_err().to_string();
        assert!(e.contains("no data rows"), "{e}");
    }

    #[test]
    fn labels_one_per_line_or_one_row() {
        assert_eq!(parse_labels("label\n0\n1\n1\n", "l").unwrap(), vec![0, 1, 1]);
        assert_eq!(parse_labels("0,1,2\n", "l").unwrap(), vec![0, 1, 2]);
        assert!(parse_labels("0\n1.5\n", "l").unwrap_err().to_string().contains("l:2: label '1.5'"));
    }

    #[test]
    fn flags_must_be_zero_or_one() {
        assert!(parse_flags("0,1\n1,0\n", "p").is_ok());
        let e = parse_flags("0,1\n2,0\n", "p").unwrap_err().to_string();
        assert_eq!(e, "p:2: value 1 is 2, but a pair-flag matrix holds only 0 and 1");
    }
}
