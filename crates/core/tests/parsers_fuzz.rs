//! Every parser of user input under random input (issue 16): the CSV reader, run configs in TOML and JSON, the
//! URL fragment, `--prune` specs, study files and lesson files never panic, and say what is wrong in one line; every config
//! they accept round-trips (to a link and back, to TOML and back, to JSON and back) unchanged. proptest runs a
//! bounded number of cases per property (PROPTEST_CASES overrides), with failures persisted under
//! proptest-regressions/ as the corpus.

use proptest::prelude::*;
use spherelab_core::RunConfig;
use spherelab_core::config::{Activation, DatasetKind, LossKind, PairMode};
use spherelab_core::difficulty::PruneSpec;
use spherelab_core::lesson::{self, Lesson};
use spherelab_core::study::Study;
use spherelab_core::url_state::{from_fragment, to_fragment};

fn one_line(e: &str) {
    assert!(!e.trim().is_empty(), "an empty message");
    assert!(!e.contains('\n'), "a message of more than one line: {e}");
}

/// Text that looks like the inputs: mostly the characters these formats use, sometimes anything.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::string::string_regex("[-a-z0-9_.,:=\\[\\]\"# \n\t%&+eE]{0,200}").unwrap(),
        1 => any::<String>(),
    ]
}

/// A config within every range the validation accepts.
fn valid_config() -> impl Strategy<Value = RunConfig> {
    let data = (0usize..5, 8usize..3000, 2usize..8, 0.0f32..1.0, 0.0f32..1.0, 0.05f32..0.95, 0.0f32..0.5);
    let model = (
        proptest::collection::vec(1usize..200, 1..4),
        proptest::collection::vec(1usize..50, 0..3),
        0usize..4,
        any::<bool>(),
    );
    let loss =
        (0usize..5, 0.01f32..5.0, 0.01f32..5.0, 0usize..5, 0.01f32..1.0, 0.0f32..1.0, -1.0f32..1.0, 0.01f32..2.0);
    let train = (any::<u32>(), 1usize..5000, 2usize..1024, 1usize..500, 2usize..5000, 1e-5f32..1.0);
    (data, model, loss, train).prop_filter_map("a valid config", |(d, m, l, t)| {
        let mut c = RunConfig::default();
        c.data.dataset =
            [DatasetKind::Moons, DatasetKind::Blobs, DatasetKind::Rings, DatasetKind::Spirals, DatasetKind::Xor][d.0];
        c.data.n = d.1;
        c.data.classes = d.2;
        c.data.omega = d.3;
        c.data.noise = d.4;
        c.data.test_fraction = d.5;
        c.augment.jitter = d.6;
        c.model.encoder = m.0;
        c.model.projector = m.1;
        c.model.activation = [Activation::Relu, Activation::Tanh, Activation::Gelu, Activation::Identity][m.2];
        c.model.normalize = m.3;
        c.loss.kind = LossKind::ALL[l.0];
        c.loss.tau = l.1;
        c.loss.mu = l.2;
        c.selection.mode = PairMode::ALL[l.3];
        c.selection.pos_high = l.4.min(l.5.max(l.4));
        c.selection.pos_low = l.5.max(l.4);
        c.selection.sigma = l.6;
        c.selection.rho = l.7;
        c.seed = t.0 as u64;
        c.train.steps = t.1;
        c.train.batch_size = t.2;
        c.train.eval_every = t.3;
        c.train.eval_max_points = t.4;
        c.optimizer.lr = t.5;
        c.validate().ok().map(|()| c)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_csv_reader_never_panics(text in texty()) {
        if let Err(e) = spherelab_core::data::parse_csv(&text, "fuzz.csv") {
            one_line(&e.to_string());
        }
    }

    #[test]
    fn run_configs_never_panic(text in texty()) {
        for r in [RunConfig::from_toml(&text), RunConfig::from_json(&text)] {
            match r {
                Err(e) => one_line(&e.to_string()),
                Ok(c) => {
                    prop_assert_eq!(RunConfig::from_toml(&c.to_toml()).unwrap(), c.clone());
                    prop_assert_eq!(RunConfig::from_json(&c.to_json()).unwrap(), c);
                }
            }
        }
    }

    #[test]
    fn url_fragments_never_panic(text in texty()) {
        match from_fragment(&text) {
            Err(e) => one_line(&e.to_string()),
            Ok(c) => prop_assert_eq!(from_fragment(&to_fragment(&c)).unwrap(), c),
        }
    }

    #[test]
    fn fragments_of_numbers_name_the_key(key in prop::sample::select(vec!["data.n", "model.encoder", "train.batch_size", "loss.tau", "data.omega", "optimizer.lr", "train.steps"]),
                                         value in prop_oneof![Just("NaN".to_string()), Just("inf".to_string()), Just("-1".to_string()), Just("1e300".to_string()), Just("99999999999999999999".to_string()), Just("100000,100000".to_string()), "[0-9]{1,12}"]) {
        if let Err(e) = from_fragment(&format!("{key}={value}")) {
            one_line(&e.to_string());
        }
    }

    #[test]
    fn prune_specs_never_panic(text in texty()) {
        match text.parse::<PruneSpec>() {
            Err(e) => one_line(&e.to_string()),
            Ok(p) => prop_assert_eq!(p.to_string().parse::<PruneSpec>().unwrap(), p),
        }
    }

    #[test]
    fn study_files_never_panic(text in texty()) {
        if let Err(e) = Study::parse(&text) {
            one_line(&e.to_string());
        }
    }

    /// The study example with random bytes changed: near-valid files reach deeper into the checks.
    #[test]
    fn edited_study_files_never_panic(edits in proptest::collection::vec((0usize..400, any::<char>()), 1..6)) {
        let mut text: Vec<char> = EXAMPLE.chars().collect();
        for (at, c) in edits {
            let at = at % text.len();
            text[at] = c;
        }
        let text: String = text.into_iter().collect();
        if let Err(e) = Study::parse(&text) {
            one_line(&e.to_string());
        }
    }

    #[test]
    fn lesson_files_never_panic(text in texty()) {
        if let Err(e) = Lesson::parse("mine.toml", &text, &RunConfig::default()) {
            let e = e.to_string();
            one_line(&e);
            prop_assert!(e.starts_with("mine.toml"), "the message names the file: {e}");
        }
    }

    /// Every shipped lesson with random characters changed (a teacher's slip of the keyboard): near-valid files
    /// reach every check — settings, panels, conditions, questions — and are refused in one line naming the
    /// file, or read.
    #[test]
    fn edited_lesson_files_never_panic(
        which in 0usize..7,
        edits in proptest::collection::vec((0usize..9000, any::<char>()), 1..6),
    ) {
        let (name, original) = lesson::BUILTIN[which];
        let mut text: Vec<char> = original.chars().collect();
        for (at, c) in edits {
            let at = at % text.len();
            text[at] = c;
        }
        let text: String = text.into_iter().collect();
        if let Err(e) = Lesson::parse(name, &text, &RunConfig::default()) {
            let e = e.to_string();
            one_line(&e);
            prop_assert!(e.starts_with(name), "the message names the file: {e}");
        }
    }

    #[test]
    fn every_valid_config_round_trips(c in valid_config()) {
        prop_assert_eq!(from_fragment(&to_fragment(&c)).unwrap(), c.clone());
        prop_assert_eq!(RunConfig::from_toml(&c.to_toml()).unwrap(), c.clone());
        prop_assert_eq!(RunConfig::from_json(&c.to_json()).unwrap(), c);
    }
}

const EXAMPLE: &str = r#"seeds = 2
datasets = ["blobs", "moons"]
omega = [0.0, 0.3]
methods = ["baseline", "removal", "prune-oracle:0.1"]
[base.train]
steps = 40
[base.data]
classes = 4
n = 100
[axes]
"augment.jitter" = [0.05, 0.1]
"#;
