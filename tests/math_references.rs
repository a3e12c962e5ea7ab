//! Every "docs/math.md §N" or "§N.M" reference in the code and the docs resolves to a section of docs/math.md,
//! the project's math document, and nothing cites the math from outside the repository any more.

use std::path::{Path, PathBuf};

const ROOTS: [&str; 9] = ["crates", "shaders", "docs", "web", "bench", "scripts", "lessons", "studies", "README.md"];
const SKIP_DIRS: [&str; 4] = ["target", "node_modules", "dist", "out"];
const EXTENSIONS: [&str; 8] = ["rs", "wgsl", "md", "py", "sh", "mjs", "toml", "html"];

fn files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if SKIP_DIRS.contains(&name) {
            return;
        }
        for entry in std::fs::read_dir(path).expect("readable directory").flatten() {
            files(&entry.path(), out);
        }
    } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e)) {
        out.push(path.to_path_buf());
    }
}

/// The section numbers docs/math.md defines: "## 1. Losses" → "1", "### 1.1 InfoNCE" → "1.1".
fn sections(math: &str) -> Vec<String> {
    math.lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| l.trim_start_matches('#').split_whitespace().next())
        .map(|n| n.trim_end_matches('.').to_string())
        .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect()
}

/// The section numbers cited after "docs/math.md §" in `text` (trailing punctuation dropped).
fn citations(text: &str) -> Vec<String> {
    text.split("math.md §")
        .skip(1)
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect::<String>())
        .map(|n| n.trim_end_matches('.').to_string())
        .collect()
}

#[test]
fn every_math_reference_resolves_to_a_section_of_docs_math() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let math = std::fs::read_to_string(root.join("docs/math.md")).expect("docs/math.md is in the repository");
    let known = sections(&math);
    assert!(known.contains(&"1.1".to_string()) && known.contains(&"5".to_string()), "sections: {known:?}");
    let mut all = Vec::new();
    for r in ROOTS {
        files(&root.join(r), &mut all);
    }
    let (mut cited, mut problems) = (0, Vec::new());
    for f in &all {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        let shown = f.strip_prefix(root).unwrap_or(f).display().to_string();
        if text.contains("MATH.md") || text.contains("MATH §") {
            problems.push(format!("{shown}: cites MATH.md, which is not in the repository (use docs/math.md)"));
        }
        for n in citations(&text) {
            cited += 1;
            if n.is_empty() || !known.contains(&n) {
                problems.push(format!("{shown}: docs/math.md §{n} does not exist (sections: {})", known.join(", ")));
            }
        }
    }
    assert!(cited > 50, "only {cited} references found: is the scan looking in the right places?");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_section_parser_reads_headings_and_citations() {
    assert_eq!(sections("# Title\n## 2. Selecting\n### 1.4 SupCon\ntext"), ["2", "1.4"]);
    assert_eq!(citations("see docs/math.md §1.1. and math.md §4, and §9"), ["1.1", "4"]);
}
