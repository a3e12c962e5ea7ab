//! Study files (docs/study.md): a base run config and its axes — datasets, ω values, methods, seeds, and any
//! other config key — expanded into one planned run per combination. Parsing checks everything before a run
//! starts: every error is one line naming the key and what is wrong.
//!
//! ```toml
//! seeds = 5                          # a count (seeds 1..=5) or a list [3, 7, 11]
//! datasets = ["blobs", "moons"]
//! omega = [0.0, 0.2, 0.3]
//! methods = ["baseline", "removal", "combined", "prune-oracle:0.1", "prune-random:0.1"]
//! [base.train]                       # [base] holds run-config sections, as in `spherelab train --config`
//! steps = 400
//! [axes]                             # optional: any other config key, one list of values each
//! "augment.jitter" = [0.05, 0.1]
//! ```

use std::collections::BTreeSet;

use crate::config::{DatasetKind, PairMode, RunConfig};
use crate::difficulty::PruneSpec;
use crate::error::{Error, Result, shown};

/// Studies shipped with spherelab (studies/*.toml in the repository): the `paper` preset is the regime
/// docs/study.md reports; `smoke` checks that a study runs end to end.
pub const PRESETS: [(&str, &str); 2] = [
    ("paper", include_str!("../../../../studies/paper.toml")),
    ("smoke", include_str!("../../../../studies/smoke.toml")),
];

/// The text of a preset study, by name.
pub fn preset(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

/// The top-level keys a study file may have.
const KEYS: [&str; 7] = ["name", "description", "seeds", "datasets", "omega", "methods", "base"];

/// How a run treats difficult examples: the study's method axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// The same run at ω = 0: the reference the paper compares with.
    Clean,
    /// ω as given, no selection.
    Baseline,
    /// A selection mode on the flagged pairs.
    Pairs(PairMode),
    /// The paper's ablation: the margin or temperature on every pair but self and positive.
    AllPairs(PairMode),
    /// Leave out the most difficult training samples by a score, and retrain.
    Prune(PruneSpec),
}

impl Method {
    /// The method names a study file accepts, for messages.
    pub const NAMES: &'static str = "clean, baseline, removal, margin, temperature, combined, all-pairs-margin, \
                                     all-pairs-temperature, prune-SCORE:FRACTION";

    pub fn parse(s: &str) -> Result<Method> {
        let s = s.trim();
        Ok(match s {
            "clean" => Method::Clean,
            "baseline" => Method::Baseline,
            "removal" => Method::Pairs(PairMode::Removal),
            "margin" => Method::Pairs(PairMode::Margin),
            "temperature" => Method::Pairs(PairMode::Temperature),
            "combined" => Method::Pairs(PairMode::Combined),
            "all-pairs-margin" => Method::AllPairs(PairMode::Margin),
            "all-pairs-temperature" => Method::AllPairs(PairMode::Temperature),
            _ => match s.strip_prefix("prune-") {
                Some(spec) => Method::Prune(spec.parse()?),
                None => {
                    return Err(Error::invalid(format!("unknown method {}: use one of {}", shown(s), Method::NAMES)));
                }
            },
        })
    }

    /// The name as written in a study file.
    pub fn name(&self) -> String {
        match self {
            Method::Clean => "clean".into(),
            Method::Baseline => "baseline".into(),
            Method::Pairs(m) => m.name().into(),
            Method::AllPairs(m) => format!("all-pairs-{}", m.name()),
            Method::Prune(p) => format!("prune-{p}"),
        }
    }

    /// Sets what the method decides in a run config (applied after every other axis); a pruning method's
    /// spec is returned by `prune`.
    pub fn apply(&self, c: &mut RunConfig) {
        c.selection.all_pairs = matches!(self, Method::AllPairs(_));
        c.selection.mode = match self {
            Method::Pairs(m) | Method::AllPairs(m) => *m,
            Method::Clean | Method::Baseline | Method::Prune(_) => PairMode::None,
        };
        if *self == Method::Clean {
            c.data.omega = 0.0;
        }
    }
}

impl Method {
    /// The pruning a method asks for.
    pub fn prune(&self) -> Option<PruneSpec> {
        match self {
            Method::Prune(p) => Some(*p),
            _ => None,
        }
    }
}

/// A config key varied over a list of values.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// A dotted path into the run config, e.g. "augment.jitter".
    pub key: String,
    pub values: Vec<toml::Value>,
}

/// A parsed, checked study.
#[derive(Clone, Debug, PartialEq)]
pub struct Study {
    pub name: String,
    pub seeds: Vec<u64>,
    pub datasets: Vec<DatasetKind>,
    pub omega: Vec<f32>,
    pub methods: Vec<Method>,
    pub base: RunConfig,
    pub axes: Vec<Axis>,
}

/// One run of a study: its place in the grid, and what `spherelab train` is given.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    /// A file-name-safe id, unique within the study, from the run's axis values and seed.
    pub id: String,
    pub dataset: DatasetKind,
    /// The ω of the cell (a clean run trains at ω = 0 but belongs to the cells of every ω).
    pub omega: f32,
    pub method: Method,
    pub seed: u64,
    /// (key, value as written) of each extra axis, in the study's order.
    pub axes: Vec<(String, String)>,
    pub config: RunConfig,
    pub prune: Option<PruneSpec>,
}

/// An error about `key` (a key of the study file, or a run's id): one line, whatever the key holds.
fn invalid(key: &str, why: impl std::fmt::Display) -> Error {
    let key: String = key.chars().take(80).collect::<String>().escape_debug().to_string();
    Error::invalid(format!("{key}: {why}"))
}

/// A value as a study file writes it (strings without quotes, so "blobs" not "\"blobs\"").
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Characters of a run id: letters, digits, '.', '=', '-'; anything else becomes '-'.
fn id_part(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || ".=-".contains(c) { c } else { '-' }).collect()
}

/// Sets the dotted `key` of a run config to `value`, checked by the config's own deserialiser and validation.
pub fn set_key(config: &RunConfig, key: &str, value: &toml::Value) -> Result<RunConfig> {
    let mut table = toml::Table::try_from(config).map_err(|e| invalid(key, e))?;
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(invalid(key, "name a config key as section.key, e.g. \"augment.jitter\" or \"train.steps\""));
    }
    let mut node = &mut table;
    for p in &parts[..parts.len() - 1] {
        node = match node.get_mut(*p) {
            Some(toml::Value::Table(t)) => t,
            _ => return Err(invalid(key, format!("the run config has no section {}", shown(p)))),
        };
    }
    let last = parts[parts.len() - 1];
    if !node.contains_key(last) && key != "data.csv_path" {
        return Err(invalid(key, "the run config has no such key (see `spherelab train --help` or docs/cli.md)"));
    }
    node.insert(last.to_string(), value.clone());
    let c: RunConfig = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| {
        invalid(key, format!("{} is not a valid value: {}", value_text(value), e.message().trim()))
    })?;
    c.validate().map_err(|e| invalid(key, format!("{} → {e}", value_text(value))))?;
    Ok(c)
}

fn list<'a>(table: &'a toml::Table, key: &str) -> Result<Option<&'a Vec<toml::Value>>> {
    match table.get(key) {
        None => Ok(None),
        Some(toml::Value::Array(a)) if a.is_empty() => Err(invalid(key, "the list is empty")),
        Some(toml::Value::Array(a)) => Ok(Some(a)),
        Some(v) => Err(invalid(key, format!("expected a list, e.g. {key} = [..], got {v}"))),
    }
}

impl Study {
    /// Parses a study file's text. Errors are one line naming the key.
    pub fn parse(text: &str) -> Result<Study> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let msg = e.message().trim().replace('\n', " ");
            Error::invalid(match line {
                Some(l) => format!("line {l}: {msg}"),
                None => msg,
            })
        })?;
        for key in table.keys() {
            if !KEYS.contains(&key.as_str()) && key != "axes" {
                return Err(invalid(key, format!("unknown key: a study has {}, axes", KEYS.join(", "))));
            }
        }
        let name = match table.get("name") {
            None => "study".to_string(),
            Some(toml::Value::String(s)) => s.clone(),
            Some(v) => return Err(invalid("name", format!("expected a string, got {v}"))),
        };
        let base: RunConfig = match table.get("base") {
            None => RunConfig::default(),
            Some(toml::Value::Table(t)) => toml::Value::Table(t.clone())
                .try_into()
                .map_err(|e: toml::de::Error| invalid("base", e.message().trim().replace('\n', " ")))?,
            Some(v) => return Err(invalid("base", format!("expected a table [base.SECTION], got {v}"))),
        };
        base.validate().map_err(|e| invalid("base", e))?;

        let seeds: Vec<u64> = match table.get("seeds") {
            None => return Err(invalid("seeds", "missing: give a count (seeds = 10) or a list (seeds = [3, 7, 11])")),
            Some(toml::Value::Integer(k)) if (1..=10_000).contains(k) => (1..=*k as u64).collect(),
            Some(toml::Value::Integer(k)) => {
                return Err(invalid("seeds", format!("{k} is not a count from 1 to 10000")));
            }
            Some(toml::Value::Array(a)) if !a.is_empty() => {
                let mut seen = BTreeSet::new();
                a.iter()
                    .map(|v| match v {
                        toml::Value::Integer(s) if *s >= 0 && seen.insert(*s) => Ok(*s as u64),
                        toml::Value::Integer(s) if *s >= 0 => {
                            Err(invalid("seeds", format!("seed {s} is listed twice")))
                        }
                        other => Err(invalid("seeds", format!("{other} is not a seed (a whole number ≥ 0)"))),
                    })
                    .collect::<Result<_>>()?
            }
            Some(v) => return Err(invalid("seeds", format!("expected a count or a non-empty list of seeds, got {v}"))),
        };
        let datasets = match list(&table, "datasets")? {
            None => vec![base.data.dataset],
            Some(a) => a
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => match DatasetKind::parse(s) {
                        Ok(DatasetKind::Csv) => {
                            Err(invalid("datasets", "csv needs a path: set base.data.csv_path and leave datasets out"))
                        }
                        Ok(k) => Ok(k),
                        Err(e) => Err(invalid("datasets", e)),
                    },
                    other => Err(invalid("datasets", format!("{other} is not a data set name"))),
                })
                .collect::<Result<_>>()?,
        };
        let omega = match list(&table, "omega")? {
            None => vec![base.data.omega],
            Some(a) => a
                .iter()
                .map(|v| match v.as_float().or_else(|| v.as_integer().map(|i| i as f64)) {
                    Some(w) if (0.0..=1.0).contains(&w) => Ok(w as f32),
                    _ => Err(invalid("omega", format!("{v} is not a fraction in [0, 1]"))),
                })
                .collect::<Result<_>>()?,
        };
        let methods = match list(&table, "methods")? {
            None => vec![Method::Baseline],
            Some(a) => a
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => Method::parse(s).map_err(|e| invalid("methods", e)),
                    other => Err(invalid("methods", format!("{other} is not a method name: use {}", Method::NAMES))),
                })
                .collect::<Result<_>>()?,
        };
        let mut axes = Vec::new();
        match table.get("axes") {
            None => {}
            Some(toml::Value::Table(t)) => {
                for (key, values) in t {
                    let where_ = format!("axes.{}", shown(key));
                    let values = match values {
                        toml::Value::Array(a) if !a.is_empty() => a.clone(),
                        v => return Err(invalid(&where_, format!("expected a non-empty list of values, got {v}"))),
                    };
                    if ["seed", "data.dataset", "data.omega"].contains(&key.as_str()) {
                        return Err(invalid(&where_, "use the study's own seeds, datasets and omega keys"));
                    }
                    for v in &values {
                        set_key(&base, key, v).map_err(|e| invalid("axes", e))?;
                    }
                    axes.push(Axis { key: key.clone(), values });
                }
            }
            Some(v) => return Err(invalid("axes", format!("expected a table [axes], got {v}"))),
        }
        let study = Study { name, seeds, datasets, omega, methods, base, axes };
        // Every combination must make a valid run config and its data (ω needs two classes, a data set its
        // class count): each distinct data config is built once, with the first seed.
        let mut built = BTreeSet::new();
        for run in study.try_runs()? {
            run.config.validate().map_err(|e| invalid(&run.id, e))?;
            let data = toml::to_string(&run.config.data).unwrap_or_default();
            if built.insert(data) {
                crate::data::build(&run.config.data, run.seed).map_err(|e| invalid(&run.id, e))?;
            }
        }
        Ok(study)
    }

    /// Every run of the study, each exactly once (a clean run is shared by the cells of every ω).
    pub fn runs(&self) -> Vec<PlannedRun> {
        self.try_runs().expect("Study::parse checked every combination")
    }

    fn try_runs(&self) -> Result<Vec<PlannedRun>> {
        // Every combination of the extra axes' values (one empty combination when there are none).
        let mut combos: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
        for (a, axis) in self.axes.iter().enumerate() {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    (0..axis.values.len()).map(move |v| {
                        let mut c = c.clone();
                        c.push((a, v));
                        c
                    })
                })
                .collect();
        }
        let mut seen = BTreeSet::new();
        let mut runs = Vec::new();
        for &dataset in &self.datasets {
            for &omega in &self.omega {
                for combo in &combos {
                    for method in &self.methods {
                        let trained_omega = if *method == Method::Clean { 0.0 } else { omega };
                        for &seed in &self.seeds {
                            let mut c = self.base.clone();
                            c.seed = seed;
                            c.data.dataset = dataset;
                            c.data.omega = omega;
                            let mut axes = Vec::new();
                            for &(a, v) in combo {
                                let (key, value) = (&self.axes[a].key, &self.axes[a].values[v]);
                                c = set_key(&c, key, value)?;
                                axes.push((key.clone(), value_text(value)));
                            }
                            method.apply(&mut c);
                            let mut id = format!("{}_w{trained_omega}_{}", dataset.name(), id_part(&method.name()));
                            for (k, v) in &axes {
                                id += &format!("_{}={}", id_part(k), id_part(v));
                            }
                            id += &format!("_s{seed}");
                            let prune = method.prune();
                            if seen.insert(id.clone()) {
                                runs.push(PlannedRun {
                                    id,
                                    dataset,
                                    omega: trained_omega,
                                    method: *method,
                                    seed,
                                    axes,
                                    config: c,
                                    prune,
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The issue's example, as written.
    const EXAMPLE: &str = include_str!("../../../../studies/example.toml");

    #[test]
    fn the_example_expands_into_every_combination() {
        let s = Study::parse(EXAMPLE).unwrap();
        assert_eq!(s.seeds, vec![1, 2, 3, 4, 5]);
        assert_eq!(s.base.train.steps, 400);
        let runs = s.runs();
        assert_eq!(runs.len(), 2 * 3 * 5 * 2 * 5);
        let ids: BTreeSet<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), runs.len(), "ids are unique");
        let r = runs.iter().find(|r| r.id == "moons_w0.2_prune-oracle-0.1_augment.jitter=0.1_s3").unwrap();
        assert_eq!((r.config.data.omega, r.config.augment.jitter, r.config.seed), (0.2, 0.1, 3));
        assert_eq!(r.config.data.classes, 4);
        assert_eq!(r.prune.unwrap().to_string(), "oracle:0.1");
        let removal = runs.iter().find(|r| r.method == Method::Pairs(PairMode::Removal)).unwrap();
        assert_eq!(removal.config.selection.mode, PairMode::Removal);
    }

    #[test]
    fn the_presets_parse() {
        for (name, text) in PRESETS {
            Study::parse(text).unwrap_or_else(|e| panic!("preset {name}: {e}"));
        }
        assert!(preset("paper").is_some() && preset("nosuch").is_none());
    }

    #[test]
    fn a_clean_run_is_one_run_shared_by_every_omega() {
        let s = Study::parse("seeds = [3, 7]\nomega = [0.1, 0.3]\nmethods = [\"clean\", \"baseline\"]").unwrap();
        let runs = s.runs();
        let clean: Vec<&PlannedRun> = runs.iter().filter(|r| r.method == Method::Clean).collect();
        assert_eq!(clean.len(), 2, "one per seed");
        assert!(clean.iter().all(|r| r.config.data.omega == 0.0 && r.omega == 0.0));
        assert_eq!(runs.len(), 2 + 2 * 2);
    }

    #[test]
    fn bad_study_files_name_the_key() {
        for (text, says) in [
            ("methods = [\"baseline\"]", "seeds: missing"),
            ("seeds = 0", "seeds: 0 is not a count"),
            ("seeds = [1, 1]", "seed 1 is listed twice"),
            ("seeds = \"five\"", "seeds: expected a count"),
            ("seeds = 2\nmethods = [\"dropout\"]", "unknown method 'dropout'"),
            ("seeds = 2\nmethods = [\"prune-oracle:2\"]", "not in [0, 1)"),
            ("seeds = 2\ndatasets = [\"cifar\"]", "datasets:"),
            ("seeds = 2\nomega = [0.5, 1.5]", "omega: 1.5 is not a fraction"),
            ("seeds = 2\nomega = []", "omega: the list is empty"),
            ("seeds = 2\nsteps = 10", "steps: unknown key"),
            ("seeds = 2\n[base.train]\nstepz = 10", "base: unknown field `stepz`"),
            ("seeds = 2\n[base.train]\nsteps = \"many\"", "base:"),
            ("seeds = 2\n[axes]\n\"augment.jiter\" = [0.1]", "augment.jiter: the run config has no such key"),
            ("seeds = 2\n[axes]\n\"train.batch_size\" = [0]", "train.batch_size: 0 →"),
            ("seeds = 2\n[axes]\n\"augment.jitter\" = 0.1", "expected a non-empty list"),
            ("seeds = 2\n[axes]\n\"train.steps\" = [\"x\"]", "train.steps: x is not a valid value"),
            ("seeds = 2\n[axes]\n\"seed\" = [1]", "use the study's own seeds"),
            ("seeds = 2\ndatasets = [\"blobs\"]\nomega = [0.3]\n[base.data]\nclasses = 1", "class"),
            ("seeds = 2\n[base", "line 2"),
        ] {
            let e = Study::parse(text).err().unwrap_or_else(|| panic!("accepted: {text}")).to_string();
            assert!(e.contains(says), "{text:?}: {e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
    }
}
