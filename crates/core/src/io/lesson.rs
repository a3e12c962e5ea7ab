//! Lessons: short guided paths through the lab, each making one point on a model that really trains.
//!
//! A lesson is a TOML file a teacher can read and edit (lessons/*.toml, compiled in): a title, a goal, its
//! sources, optional `[start]` settings, and 4–8 steps. A step has a text, the settings it makes (the URL
//! fragment's keys), the panels it shows and the one to watch, and optionally a question and a condition
//! on the live run (`until = "knn > 0.9"`) that marks it observed. The format is documented in
//! docs/teaching.md; `Lesson::parse` checks every part and names the step and field of anything wrong.
//!
//! Settings are cumulative: step k runs the app's default run + `[start]` + the settings of steps 1..k.
//! Moving to a step changes only the keys the lesson touches (`Lesson::config_at`), so a student's own
//! changes to anything else survive, and the run restarts only when the data or the model's shape change.

use serde::Deserialize;

use crate::config::RunConfig;
use crate::error::{Error, Result, shown};
use crate::url_state::{apply_settings, setting_text};

/// The lessons shipped with spherelab, in order: (file name, text).
pub const BUILTIN: [(&str, &str); 7] = [
    ("1-positive-pairs.toml", include_str!("../../../../lessons/1-positive-pairs.toml")),
    ("2-uniformity.toml", include_str!("../../../../lessons/2-uniformity.toml")),
    ("3-temperature.toml", include_str!("../../../../lessons/3-temperature.toml")),
    ("4-losses.toml", include_str!("../../../../lessons/4-losses.toml")),
    ("5-difficult-examples.toml", include_str!("../../../../lessons/5-difficult-examples.toml")),
    ("6-remedies.toml", include_str!("../../../../lessons/6-remedies.toml")),
    ("7-theory.toml", include_str!("../../../../lessons/7-theory.toml")),
];

/// The lesson ids, in the order they are taught.
pub const LESSON_IDS: [&str; 7] =
    ["positive-pairs", "uniformity", "temperature", "losses", "difficult-examples", "remedies", "theory"];

/// The built-in lessons, parsed against `base` (the app's default run). They are checked by the tests, so
/// an error here is a bug in a shipped file.
pub fn builtin(base: &RunConfig) -> Result<Vec<Lesson>> {
    BUILTIN.iter().map(|(name, text)| Lesson::parse(name, text, base)).collect()
}

/// A part of the lab a step can show: a section of the controls or a view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Panel {
    Data,
    Model,
    Loss,
    Selection,
    Optimiser,
    Input,
    Embedding,
    Curves,
    Similarity,
    Hardness,
    Theory,
    Pruning,
    Export,
}

impl Panel {
    pub const ALL: [Panel; 13] = [
        Panel::Data,
        Panel::Model,
        Panel::Loss,
        Panel::Selection,
        Panel::Optimiser,
        Panel::Input,
        Panel::Embedding,
        Panel::Curves,
        Panel::Similarity,
        Panel::Hardness,
        Panel::Theory,
        Panel::Pruning,
        Panel::Export,
    ];

    /// The name a lesson file or a `hide=` link uses.
    pub fn name(self) -> &'static str {
        match self {
            Panel::Data => "data",
            Panel::Model => "model",
            Panel::Loss => "loss",
            Panel::Selection => "selection",
            Panel::Optimiser => "optimiser",
            Panel::Input => "input",
            Panel::Embedding => "embedding",
            Panel::Curves => "curves",
            Panel::Similarity => "similarity",
            Panel::Hardness => "hardness",
            Panel::Theory => "theory",
            Panel::Pruning => "pruning",
            Panel::Export => "export",
        }
    }

    /// The title a user sees on it.
    pub fn title(self) -> &'static str {
        match self {
            Panel::Data => "Data",
            Panel::Model => "Model",
            Panel::Loss => "Loss",
            Panel::Selection => "Difficult pairs (selection)",
            Panel::Optimiser => "Optimiser",
            Panel::Input => "Input plane",
            Panel::Embedding => "Embedding",
            Panel::Curves => "Curves",
            Panel::Similarity => "Similarity matrix",
            Panel::Hardness => "Hardness of negatives",
            Panel::Theory => "Theory",
            Panel::Pruning => "Pruning",
            Panel::Export => "Export",
        }
    }

    /// A section of the controls (drawn in the left column), rather than a view.
    pub fn is_control(self) -> bool {
        matches!(self, Panel::Data | Panel::Model | Panel::Loss | Panel::Selection | Panel::Optimiser)
    }

    /// Reads a name; "optimizer" is accepted too. The error lists the names.
    pub fn parse(name: &str) -> Result<Panel> {
        let n = name.trim().to_ascii_lowercase();
        if n == "optimizer" {
            return Ok(Panel::Optimiser);
        }
        Panel::ALL.into_iter().find(|p| p.name() == n).ok_or_else(|| {
            Error::invalid(format!("unknown panel {}: the panels are {}", shown(name), Panel::names().join(", ")))
        })
    }

    pub fn names() -> Vec<&'static str> {
        Panel::ALL.iter().map(|p| p.name()).collect()
    }
}

/// What a condition reads from the live run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Step,
    Loss,
    Alignment,
    Uniformity,
    Tolerance,
    Knn,
    Probe,
    Rank,
    Precision,
    Flagged,
}

impl Metric {
    pub const ALL: [(Metric, &'static str); 10] = [
        (Metric::Step, "step"),
        (Metric::Loss, "loss"),
        (Metric::Alignment, "alignment"),
        (Metric::Uniformity, "uniformity"),
        (Metric::Tolerance, "tolerance"),
        (Metric::Knn, "knn"),
        (Metric::Probe, "probe"),
        (Metric::Rank, "rank"),
        (Metric::Precision, "precision"),
        (Metric::Flagged, "flagged"),
    ];

    pub fn name(self) -> &'static str {
        Metric::ALL.iter().find(|(m, _)| *m == self).map(|(_, n)| *n).unwrap_or("?")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// "uniformity < -1.2": a metric of the live run against a number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clause {
    pub metric: Metric,
    pub comparison: Comparison,
    pub value: f64,
}

/// A step's condition: one clause, or several joined by "and" that must all hold at once. "step >= 500 and
/// knn < 0.95" reads what the run does after 500 steps, where a fresh run's first evaluations (low accuracy,
/// loose pairs) would satisfy "knn < 0.95" alone before anything is learnt.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub clauses: Vec<Clause>,
}

impl Clause {
    fn parse(text: &str, whole: &str) -> Result<Clause> {
        let bad = |why: &str| Error::invalid(format!("condition {}: {why}", shown(whole)));
        let t = text.trim();
        let ops = [
            ("<=", Comparison::LessOrEqual),
            (">=", Comparison::GreaterOrEqual),
            ("<", Comparison::Less),
            (">", Comparison::Greater),
        ];
        let (at, op, comparison) = ops
            .iter()
            .filter_map(|(op, c)| t.find(op).map(|at| (at, *op, *c)))
            .min_by_key(|(at, op, _)| (*at, usize::MAX - op.len()))
            .ok_or_else(|| bad("expected `metric < number` (or <=, >, >=), clauses joined by `and`"))?;
        let name = t[..at].trim().to_ascii_lowercase();
        let metric = Metric::ALL.iter().find(|(_, n)| *n == name).map(|(m, _)| *m).ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|(_, n)| *n).collect();
            bad(&format!("unknown metric; the metrics are {}", names.join(", ")))
        })?;
        let value: f64 =
            t[at + op.len()..].trim().parse().map_err(|_| bad("expected a number after the comparison"))?;
        if !value.is_finite() {
            return Err(bad("expected a finite number"));
        }
        Ok(Clause { metric, comparison, value })
    }

    /// Whether it holds for the metric's value (false while there is none).
    pub fn holds(&self, value: Option<f64>) -> bool {
        let Some(v) = value else { return false };
        match self.comparison {
            Comparison::Less => v < self.value,
            Comparison::LessOrEqual => v <= self.value,
            Comparison::Greater => v > self.value,
            Comparison::GreaterOrEqual => v >= self.value,
        }
    }
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition> {
        let clauses = text.split(" and ").map(|c| Clause::parse(c, text)).collect::<Result<Vec<_>>>()?;
        Ok(Condition { clauses })
    }

    /// Whether every clause holds on the run now, `value` giving each metric's value (None while it has none:
    /// before the first evaluation, or precision and flagged with the selection off). The app reads the values
    /// from the run's latest evaluation (io does not depend on training).
    pub fn holds(&self, value: impl Fn(Metric) -> Option<f64>) -> bool {
        self.clauses.iter().all(|c| c.holds(value(c.metric)))
    }
}

impl std::fmt::Display for Clause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.comparison {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "≤",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => "≥",
        };
        write!(f, "{} {op} {}", self.metric.name(), self.value)
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let clauses: Vec<String> = self.clauses.iter().map(|c| c.to_string()).collect();
        write!(f, "{}", clauses.join(" and "))
    }
}

/// A question about what the step showed, answered by picking a choice.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub ask: String,
    pub choices: Vec<String>,
    /// Index of the right choice (0-based here; files count from 1).
    pub answer: usize,
    pub explain: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub title: String,
    pub text: String,
    /// The settings this step makes (fragment keys and value text), on top of the earlier steps'.
    pub set: Vec<(String, String)>,
    pub show: Vec<Panel>,
    pub watch: Panel,
    pub watch_text: String,
    pub until: Option<Condition>,
    pub question: Option<Question>,
    /// The run starts again from step 0 (same seed and initialisation) when the step opens, so what its
    /// settings do is seen from the beginning rather than from where the previous step left the model.
    pub restart: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    pub id: String,
    pub title: String,
    pub goal: String,
    pub sources: Vec<String>,
    /// The run the lesson starts from: the app's default run with `[start]` applied.
    pub start: RunConfig,
    pub steps: Vec<Step>,
    /// The run of each step (start + the settings of steps 1..=k).
    configs: Vec<RunConfig>,
    /// Every key the lesson sets, in `[start]` or in a step.
    touched: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFile {
    id: String,
    title: String,
    goal: String,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    start: toml::Table,
    steps: Vec<StepFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    title: String,
    text: String,
    #[serde(default)]
    set: toml::Table,
    show: Vec<String>,
    watch: String,
    #[serde(default)]
    watch_text: String,
    until: Option<String>,
    question: Option<QuestionFile>,
    #[serde(default)]
    restart: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFile {
    ask: String,
    choices: Vec<String>,
    answer: usize,
    #[serde(default)]
    explain: String,
}

/// A TOML value as a setting's text: numbers and words as written, a list of numbers as "32,32,16".
fn setting_value(key: &str, v: &toml::Value) -> Result<String> {
    Ok(match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(x) => x.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => {
            let parts: Result<Vec<String>> = items
                .iter()
                .map(|i| match i {
                    toml::Value::Integer(n) => Ok(n.to_string()),
                    _ => Err(Error::invalid(format!("setting {}: a list holds whole numbers only", shown(key)))),
                })
                .collect();
            parts?.join(",")
        }
        _ => return Err(Error::invalid(format!("setting {}: expected a number, a word or a list", shown(key)))),
    })
}

fn settings(table: &toml::Table) -> Result<Vec<(String, String)>> {
    table.iter().map(|(k, v)| Ok((k.clone(), setting_value(k, v)?))).collect()
}

impl Lesson {
    /// Reads a lesson file. `name` (the file's name) prefixes every error, which names the step (from 1)
    /// and the field: "3-temperature.toml, step 2, watch: …".
    pub fn parse(name: &str, text: &str, base: &RunConfig) -> Result<Lesson> {
        let at = |what: &str, e: &dyn std::fmt::Display| Error::invalid(format!("{name}, {what}: {e}"));
        let file: LessonFile = toml::from_str(text).map_err(|e| {
            Error::invalid(format!("{name}: {}", e.to_string().lines().collect::<Vec<_>>().join(" ").trim()))
        })?;
        if !(4..=8).contains(&file.steps.len()) {
            return Err(Error::invalid(format!(
                "{name}: a lesson has 4 to 8 steps, this one has {}",
                file.steps.len()
            )));
        }
        for (field, v) in [("id", &file.id), ("title", &file.title), ("goal", &file.goal)] {
            if v.trim().is_empty() {
                return Err(at(field, &"must not be empty"));
            }
        }
        let start_settings = settings(&file.start).map_err(|e| at("start", &e))?;
        let start = apply_settings(base, &start_settings).map_err(|e| at("start", &e))?;
        let mut touched: Vec<String> = start_settings.iter().map(|(k, _)| k.clone()).collect();
        let mut steps = Vec::with_capacity(file.steps.len());
        let mut configs = Vec::with_capacity(file.steps.len());
        let mut cfg = start.clone();
        for (i, s) in file.steps.into_iter().enumerate() {
            let here = |field: &str| format!("step {}, {field}", i + 1);
            if s.title.trim().is_empty() || s.text.trim().is_empty() {
                return Err(at(&here("title/text"), &"a step needs a title and a text"));
            }
            let set = settings(&s.set).map_err(|e| at(&here("set"), &e))?;
            cfg = apply_settings(&cfg, &set).map_err(|e| at(&here("set"), &e))?;
            for (k, _) in &set {
                if !touched.contains(k) {
                    touched.push(k.clone());
                }
            }
            let show: Vec<Panel> =
                s.show.iter().map(|p| Panel::parse(p)).collect::<Result<_>>().map_err(|e| at(&here("show"), &e))?;
            if show.is_empty() {
                return Err(at(&here("show"), &"name at least one panel"));
            }
            let watch = Panel::parse(&s.watch).map_err(|e| at(&here("watch"), &e))?;
            if !show.contains(&watch) {
                return Err(at(&here("watch"), &format!("'{}' is not among the panels shown", watch.name())));
            }
            let until = s.until.as_deref().map(Condition::parse).transpose().map_err(|e| at(&here("until"), &e))?;
            let question = match s.question {
                None => None,
                Some(q) => {
                    if !(2..=5).contains(&q.choices.len()) {
                        return Err(at(&here("question"), &"a question has 2 to 5 choices"));
                    }
                    if q.answer == 0 || q.answer > q.choices.len() {
                        return Err(at(
                            &here("question.answer"),
                            &format!("must be between 1 and {} (choices count from 1)", q.choices.len()),
                        ));
                    }
                    Some(Question { ask: q.ask, choices: q.choices, answer: q.answer - 1, explain: q.explain })
                }
            };
            steps.push(Step {
                title: s.title,
                text: s.text.trim().to_string(),
                set,
                show,
                watch,
                watch_text: s.watch_text,
                until,
                question,
                restart: s.restart,
            });
            configs.push(cfg.clone());
        }
        Ok(Lesson {
            id: file.id,
            title: file.title,
            goal: file.goal,
            sources: file.sources,
            start,
            steps,
            configs,
            touched,
        })
    }

    /// The config step `step` (0-based) runs, given the run now: `current` with every key the lesson sets
    /// put to its value at that step. Keys the lesson never sets keep the student's values.
    pub fn config_at(&self, step: usize, current: &RunConfig) -> Result<RunConfig> {
        let target = &self.configs[step.min(self.configs.len() - 1)];
        let settings: Vec<(String, String)> =
            self.touched.iter().filter_map(|k| setting_text(target, k).map(|v| (k.clone(), v))).collect();
        apply_settings(current, &settings)
    }

    /// The run of step `step` (0-based) from the lesson's start, as a fresh link would open it.
    pub fn step_config(&self, step: usize) -> &RunConfig {
        &self.configs[step.min(self.configs.len() - 1)]
    }
}

/// Reads a step as a link writes it (counting from 1) for a lesson of `steps` steps; the error says the range.
pub fn parse_step(text: &str, steps: usize) -> Result<usize> {
    match text.trim().parse::<usize>() {
        Ok(k) if (1..=steps).contains(&k) => Ok(k - 1),
        _ => Err(Error::invalid(format!("step {} does not exist: this lesson has steps 1 to {steps}", shown(text)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
id = "demo"
title = "A demo"
goal = "Shows the format."
[start]
"loss.tau" = 0.3
[[steps]]
title = "One"
text = "First."
show = ["embedding", "loss"]
watch = "embedding"
until = "step >= 10"
[[steps]]
title = "Two"
text = "Second."
set = { "loss.tau" = 0.1, "model.encoder" = [8, 4] }
show = ["curves"]
watch = "curves"
[steps.question]
ask = "Which?"
choices = ["a", "b"]
answer = 2
explain = "b."
[[steps]]
title = "Three"
text = "Third."
set = { "data.noise" = 0.2 }
show = ["hardness"]
watch = "hardness"
[[steps]]
title = "Four"
text = "Fourth."
show = ["embedding"]
watch = "embedding"
"#;

    fn base() -> RunConfig {
        let mut c = RunConfig::default();
        c.seed = 5;
        c
    }

    #[test]
    fn a_lesson_reads_with_its_settings_cumulative() {
        let l = Lesson::parse("demo.toml", SMALL, &base()).unwrap();
        assert_eq!(l.steps.len(), 4);
        assert_eq!(l.start.loss.tau, 0.3);
        assert_eq!(l.step_config(0).loss.tau, 0.3);
        assert_eq!(l.step_config(1).loss.tau, 0.1);
        assert_eq!(l.step_config(2).model.encoder, vec![8, 4]);
        assert_eq!(l.step_config(2).data.noise, 0.2);
        assert_eq!(l.steps[1].question.as_ref().unwrap().answer, 1);
        assert_eq!(l.steps[0].until.as_ref().unwrap().to_string(), "step ≥ 10");
    }

    #[test]
    fn moving_between_steps_keeps_what_the_lesson_does_not_set() {
        let l = Lesson::parse("demo.toml", SMALL, &base()).unwrap();
        let mut mine = l.step_config(2).clone();
        mine.optimizer.lr = 0.05; // the student's own change
        let back = l.config_at(0, &mine).unwrap();
        assert_eq!(back.optimizer.lr, 0.05);
        assert_eq!(back.loss.tau, 0.3);
        assert_eq!(back.model.encoder, base().model.encoder);
        assert_eq!(back.data.noise, base().data.noise);
    }

    #[test]
    fn errors_name_the_file_step_and_field() {
        let cases = [
            (SMALL.replace("watch = \"curves\"", "watch = \"theory\""), "step 2, watch"),
            (SMALL.replace("\"loss.tau\" = 0.1", "\"loss.tauu\" = 0.1"), "step 2, set"),
            (SMALL.replace("answer = 2", "answer = 3"), "step 2, question.answer"),
            (SMALL.replace("step >= 10", "steps >= 10"), "step 1, until"),
            (SMALL.replace("step >= 10", "step >= ten"), "step 1, until"),
            (SMALL.replace("show = [\"hardness\"]", "show = [\"hardnes\"]"), "step 3, show"),
            (SMALL.replace("title = \"A demo\"", "title = 3"), "demo.toml"),
            (SMALL.replace("[start]", "[start]\n\"loss.tau\" = 0.2"), "demo.toml"),
        ];
        for (text, want) in cases {
            let e = Lesson::parse("demo.toml", &text, &base()).unwrap_err().to_string();
            assert!(e.contains(want) && e.starts_with("demo.toml"), "{want}: {e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
        let three = SMALL.split("[[steps]]").take(4).collect::<Vec<_>>().join("[[steps]]");
        let e = Lesson::parse("demo.toml", &three, &base()).unwrap_err().to_string();
        assert!(e.contains("4 to 8 steps"), "{e}");
    }

    #[test]
    fn conditions_parse_and_hold_on_the_run() {
        let one = |text: &str| Condition::parse(text).unwrap().clauses[0];
        let c = one(" knn >= 0.9 ");
        assert_eq!((c.metric, c.comparison, c.value), (Metric::Knn, Comparison::GreaterOrEqual, 0.9));
        let c = one("uniformity<-1.2");
        assert_eq!((c.metric, c.comparison, c.value), (Metric::Uniformity, Comparison::Less, -1.2));
        assert!(one("step > 500").holds(Some(501.0)));
        assert!(!one("step > 500").holds(Some(500.0)));
        assert!(c.holds(Some(-1.3)) && !c.holds(Some(-1.2)));
        assert!(!c.holds(None), "no value yet: not observed");
        for bad in
            ["", "knn", "knn ~ 3", "knn > nan", "foo > 1", "knn > 0.9 and", "and knn > 0.9", "step > 5 and x < 1"]
        {
            assert!(Condition::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clauses_joined_by_and_must_all_hold() {
        let c = Condition::parse("step >= 500 and knn < 0.95").unwrap();
        assert_eq!(c.clauses.len(), 2);
        assert_eq!(c.to_string(), "step ≥ 500 and knn < 0.95");
        let run = |step: f64, knn: Option<f64>| {
            move |m: Metric| match m {
                Metric::Step => Some(step),
                Metric::Knn => knn,
                _ => None,
            }
        };
        assert!(c.holds(run(500.0, Some(0.9))));
        assert!(!c.holds(run(499.0, Some(0.9))), "too early");
        assert!(!c.holds(run(600.0, Some(0.97))), "accuracy too high");
        assert!(!c.holds(run(600.0, None)), "no evaluation yet");
    }

    #[test]
    fn steps_in_links_count_from_one() {
        assert_eq!(parse_step("3", 5).unwrap(), 2);
        for bad in ["0", "6", "x", "-1", ""] {
            let e = parse_step(bad, 5).unwrap_err().to_string();
            assert!(e.contains("steps 1 to 5"), "{e}");
        }
    }

    /// The shipped files parse against the app's kind of default run (any base works: a lesson's settings are
    /// checked when applied), in the order of `LESSON_IDS`, each file named after its id.
    #[test]
    fn the_shipped_lessons_read() {
        let lessons = builtin(&RunConfig::default()).unwrap();
        let ids: Vec<&str> = lessons.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, LESSON_IDS);
        for ((name, _), l) in BUILTIN.iter().zip(&lessons) {
            assert!(name.ends_with(&format!("-{}.toml", l.id)), "{name} holds {}", l.id);
        }
    }

    #[test]
    fn panels_read_by_name() {
        for p in Panel::ALL {
            assert_eq!(Panel::parse(p.name()).unwrap(), p);
        }
        assert_eq!(Panel::parse("Optimizer").unwrap(), Panel::Optimiser);
        assert!(Panel::parse("curve").unwrap_err().to_string().contains("embedding"));
    }
}
