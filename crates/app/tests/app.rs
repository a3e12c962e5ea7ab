//! The app driven through its widgets, as a user would (egui_kittest finds widgets by their labels).
//! Training speed must not change what a test sees, so every harness trains exactly `steps_per_frame`
//! steps per frame (no time budget).

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use spherelab_app::SpherelabApp;
use spherelab_app::backend_choice::BackendPreference;
use spherelab_core::config::{LossKind, PairMode};

mod common;
use common::small_config;

fn harness(cfg: spherelab_core::RunConfig) -> Harness<'static, SpherelabApp> {
    let mut app = SpherelabApp::new(cfg, BackendPreference::Cpu);
    app.lab.schedule.frame_budget_ms = f64::INFINITY;
    app.lab.schedule.steps_per_frame = 2;
    Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut SpherelabApp| app.show(ui), app)
}

#[test]
fn the_app_starts_paused_with_its_panels() {
    let mut h = harness(small_config());
    h.run_steps(2);
    assert!(h.state().lab.session.is_some(), "the run opened");
    assert_eq!(h.state().lab.step_count(), 0);
    h.get_by_label("▶ Play");
    h.get_by_label("Input space");
    h.get_by_label("Embedding space");
    h.get_by_label_contains("backend: cpu");
}

#[test]
fn clicking_play_advances_the_step_counter() {
    let mut h = harness(small_config());
    h.run_steps(1);
    h.get_by_label("▶ Play").click();
    h.run_steps(6);
    let steps = h.state().lab.step_count();
    assert!(steps >= 8, "trained {steps} steps");
    h.get_by_label(&format!("step {steps}"));
    h.get_by_label("⏸ Pause").click();
    h.run_steps(2);
    let paused = h.state().lab.step_count();
    h.run_steps(3);
    assert_eq!(h.state().lab.step_count(), paused, "pause stops training");
}

#[test]
fn the_space_bar_plays_and_pauses_but_types_into_a_text_field() {
    let mut h = harness(small_config());
    h.run_steps(1);
    h.key_press(egui::Key::Space);
    h.run_steps(3);
    assert!(h.state().lab.schedule.playing, "Space plays");
    assert!(h.state().lab.step_count() > 0);
    h.key_press(egui::Key::Space);
    h.run_steps(2);
    assert!(!h.state().lab.schedule.playing, "Space pauses");
    // With the encoder-widths field focused, a space is text, not a command.
    h.get_by_role_and_label(Role::TextInput, "encoder widths").click();
    h.run_steps(1);
    h.key_press(egui::Key::Space);
    h.run_steps(2);
    assert!(!h.state().lab.schedule.playing, "a space typed into a text field does not play");
}

#[test]
fn changing_the_loss_changes_what_is_trained_and_the_curve_goes_on() {
    let mut h = harness(small_config());
    h.get_by_label("▶ Play").click();
    h.run_steps(6);
    let before = h.state().lab.step_count();
    assert_eq!(h.state().lab.config().unwrap().loss.kind, LossKind::Infonce);
    h.get_by_role_and_label(Role::ComboBox, "loss").click();
    h.run_steps(3);
    h.get_by_role(Role::ListBox).get_by_label("dcl").click();
    h.run_steps(6);
    let lab = &h.state().lab;
    assert_eq!(lab.config().unwrap().loss.kind, LossKind::Dcl, "the run trains the new loss");
    assert!(lab.step_count() > before, "the run went on from step {before} (no restart)");
    let losses = &lab.session().unwrap().history().steps;
    assert!(losses.iter().any(|s| s.step > before), "the loss curve continues after the change");
}

#[test]
fn turning_selection_on_marks_points_and_flags_pairs() {
    let mut h = harness(small_config());
    h.run_steps(1);
    h.get_by_role_and_label(Role::ComboBox, "mode").click();
    h.run_steps(3);
    h.get_by_role(Role::ListBox).get_by_label("removal").click();
    h.run_steps(1);
    assert_eq!(h.state().lab.config().unwrap().selection.mode, PairMode::Removal);
    h.get_by_label("▶ Play").click();
    h.run_steps(8);
    let lab = &h.state().lab;
    let batch = lab.views.batch.as_ref().expect("a batch was inspected");
    let flags = batch.flags.as_ref().expect("the batch has flags");
    assert!(flags.flags.iter().any(|&f| f), "some pairs are flagged");
    assert!(!lab.views.selection_marked.is_empty(), "the selection marks points in the input plane");
}

#[test]
fn a_bad_csv_shows_its_error() {
    let mut h = harness(small_config());
    h.run_steps(1);
    h.get_by_label("Your own data (CSV)").click();
    h.run_steps(1);
    h.state_mut().panels.controls.csv_text = "x,y,class\n1,2,a\n3,oops,b\n".into();
    h.run_steps(1);
    h.get_by_label("Load CSV").click();
    h.run_steps(2);
    let err = h.state().lab.csv_error.clone().expect("an error is recorded");
    assert!(err.contains("oops"), "{err}");
    // Shown beside the CSV box and in the status line.
    assert!(h.get_all_by_label_contains("'oops' is not a finite number").count() >= 1);
    // The run is still the one it was.
    assert_eq!(h.state().lab.data().unwrap().name, "moons");
}

#[test]
fn a_good_csv_replaces_the_data() {
    let mut h = harness(small_config());
    h.run_steps(1);
    let mut text = String::from("x,y,class\n");
    for i in 0..40 {
        let t = i as f32 * 0.3;
        text.push_str(&format!("{},{},{}\n", t.cos() + (i % 2) as f32 * 3.0, t.sin(), i % 2));
    }
    h.state_mut().lab.apply(spherelab_app::lab::Command::LoadCsv { name: "mine.csv".into(), text });
    h.run_steps(1);
    let lab = &h.state().lab;
    assert!(lab.csv_error.is_none());
    assert_eq!(lab.data().unwrap().len(), 40);
    assert_eq!(lab.data().unwrap().classes, 2);
}

#[test]
fn divergence_pauses_and_says_why() {
    // Our losses are bounded (normalised embeddings, log-sum-exp), so even absurd learning rates rarely give
    // non-finite values in a few steps; a non-finite input does, in every batch that contains it.
    let mut cfg = small_config();
    cfg.train.batch_size = 256;
    let mut h = harness(cfg);
    h.run_steps(1);
    {
        let session = h.state_mut().lab.session.as_mut().expect("a run");
        let mut data = session.data().clone();
        data.x.iter_mut().for_each(|v| *v = f32::NAN);
        session.replace_data(data);
    }
    h.get_by_label("▶ Play").click();
    h.run_steps(20);
    let lab = &h.state().lab;
    assert!(!lab.schedule.playing, "training paused");
    let msg = lab.diverged.clone().expect("divergence is reported");
    assert!(msg.contains("learning rate"), "{msg}");
    h.get_by_label("⚠ Training diverged");
}

/// The control labelled `label` (a slider or a button, not the text a slider draws beside it).
fn widget<'h>(h: &'h Harness<'static, SpherelabApp>, label: &'h str) -> egui_kittest::Node<'h> {
    h.get_all_by_label(label)
        .find(|n| matches!(n.accesskit_node().role(), Role::Slider | Role::Button))
        .unwrap_or_else(|| panic!("no widget labelled {label}"))
}

#[test]
fn hovering_a_control_explains_it() {
    let mut h = harness(small_config());
    h.run_steps(1);
    h.run_steps(1);
    for (label, words) in
        [("temperature τ", "hardness knob"), ("learning rate", "Step size"), ("▶ Play", "Train continuously")]
    {
        // The widget itself, not the text label a slider draws beside it; scrolled into view first.
        widget(&h, label).scroll_to_me();
        h.run_steps(2);
        widget(&h, label).hover();
        h.run_steps(40);
        assert!(h.get_all_by_label_contains(words).count() >= 1, "hovering {label} shows '{words}'");
    }
}

/// Image snapshots need a renderer: egui_kittest renders with wgpu, here on Mesa's lavapipe. The threshold
/// absorbs small rasterisation differences between drivers.
#[test]
fn snapshot_of_the_window_after_training() {
    let mut h = harness(small_config());
    h.get_by_label("▶ Play").click();
    h.run_steps(10);
    h.get_by_label("⏸ Pause").click();
    h.run_steps(2);
    h.snapshot_options(
        "window_after_training",
        &egui_kittest::SnapshotOptions::new().threshold(2.0).max_failed_pixels(2000),
    );
}

#[test]
fn snapshot_of_the_theory_tab() {
    let mut h = harness(small_config());
    h.run_steps(1);
    h.get_by_label("Theory").click();
    h.run_steps(2);
    h.snapshot_options("theory_tab", &egui_kittest::SnapshotOptions::new().threshold(2.0).max_failed_pixels(2000));
}

/// Issue 4: every control has a tooltip. egui hands a widget's hover text to accesskit as its description, so
/// every button, slider, combo box, checkbox and text field of every tab must carry one; a slider's number
/// box (a SpinButton) shares its slider's.
/// Series names in plot legends (the theory tab's spectrum plot).
const PLOT_SERIES: [&str; 4] = ["eigenvalues", "λ_R", "λ_wd", "λ_wo"];

#[test]
fn every_control_has_a_tooltip() {
    use egui_kittest::kittest::By;
    let mut h = harness(small_config());
    h.run_steps(2);
    for tab in ["Batch", "Theory", "Pruning", "Export"] {
        h.get_by_role_and_label(Role::Button, tab).click();
        h.run_steps(3);
        let controls = By::new().predicate(|n| {
            matches!(
                n.role(),
                Role::Button
                    | Role::Slider
                    | Role::ComboBox
                    | Role::CheckBox
                    | Role::TextInput
                    | Role::MultilineTextInput
            )
        });
        let mut missing = Vec::new();
        let mut checked = 0;
        for n in h.get_all(controls) {
            let a = n.accesskit_node();
            // egui_plot's legend entries are checkboxes too (click to hide a series); they name a series
            // and take no tooltip.
            if a.role() == Role::CheckBox && a.label().is_some_and(|l| PLOT_SERIES.contains(&l.as_str())) {
                continue;
            }
            checked += 1;
            if a.description().is_none_or(|d| d.trim().is_empty()) {
                missing.push(format!("{:?} {:?}", a.role(), a.label()));
            }
        }
        let sliders: Vec<String> = h.get_all_by_role(Role::Slider).filter_map(|n| n.accesskit_node().label()).collect();
        for n in h.get_all_by_role(Role::SpinButton) {
            let label = n.accesskit_node().label().unwrap_or_default();
            if !sliders.contains(&label) && n.accesskit_node().description().is_none() {
                missing.push(format!("SpinButton {label:?}"));
            }
        }
        assert!(checked > 10, "the {tab} tab shows its controls ({checked})");
        assert!(missing.is_empty(), "controls without a tooltip on the {tab} tab: {missing:#?}");
    }
}

/// Pruning: preview crosses samples out, "Retrain without them" runs a second run from the same seed beside
/// the first, and both advance together.
#[test]
fn pruning_retrains_without_the_previewed_samples_alongside() {
    let mut h = harness(small_config());
    h.get_by_label("▶ Play").click();
    h.run_steps(6);
    h.get_by_label("⏸ Pause").click();
    h.get_by_role_and_label(Role::Button, "Pruning").click();
    h.run_steps(3);
    h.get_by_role_and_label(Role::Button, "Preview").click();
    h.run_steps(2);
    let pruned = h.state().lab.pruned.clone();
    assert!(!pruned.is_empty(), "the preview marks samples to remove");
    h.get_by_role_and_label(Role::Button, "Retrain without them").click();
    h.run_steps(6);
    let lab = &h.state().lab;
    let c = lab.comparison.as_ref().expect("a comparison run");
    assert_eq!(c.excluded, pruned);
    assert_eq!(c.session.active_train().len() + pruned.len(), lab.session().unwrap().active_train().len());
    assert_eq!(c.session.step_count(), lab.step_count(), "both runs restarted at 0 and step together");
    assert!(lab.step_count() > 0);
}

/// The Pruning tab's experiment: k seeds of baseline against a remedy, trained by the frame scheduler while
/// the main run stays paused, then drawn with the paired difference.
#[test]
fn the_experiment_trains_seeds_in_the_background_and_reports_the_difference() {
    let mut cfg = small_config();
    cfg.data.omega = 0.3;
    cfg.train.steps = 10;
    let mut h = harness(cfg);
    h.run_steps(1);
    h.get_by_role_and_label(Role::Button, "Pruning").click();
    h.run_steps(2);
    h.state_mut().panels.pruning.seeds = 3;
    h.get_by_role_and_label(Role::Button, "Run on these settings").click();
    h.run_steps(4);
    let lab = &h.state().lab;
    let e = lab.experiment.as_ref().expect("an experiment");
    assert!(e.is_done() && e.error.is_none(), "{:?}", e.error);
    assert_eq!(e.results().len(), 3);
    assert_eq!(lab.step_count(), 0, "the main run stayed paused");
    h.get_by_label_contains("remedy − baseline");
    h.snapshot_options(
        "pruning_experiment",
        &egui_kittest::SnapshotOptions::new().threshold(2.0).max_failed_pixels(2000),
    );
    h.get_by_role_and_label(Role::Button, "Clear").click();
    h.run_steps(1);
    assert!(h.state().lab.experiment.is_none());
}

/// A config pasted in the Export tab replaces the run's; a broken one says what is wrong and changes nothing.
#[test]
fn loading_a_config_applies_it_and_a_bad_one_is_reported() {
    let mut h = harness(small_config());
    h.run_steps(1);
    h.get_by_role_and_label(Role::Button, "Export").click();
    h.run_steps(2);
    h.state_mut().panels.export.config_text = r#"{"seed": 11, "loss": {"tau": 0.5}}"#.into();
    h.get_by_role_and_label(Role::Button, "Load config").click();
    h.run_steps(2);
    let cfg = h.state().lab.config().unwrap().clone();
    assert_eq!((cfg.seed, cfg.loss.tau), (11, 0.5));
    h.state_mut().panels.export.config_text = r#"{"loss": {"tau": -3}}"#.into();
    h.get_by_role_and_label(Role::Button, "Load config").click();
    h.run_steps(2);
    let lab = &h.state().lab;
    assert_eq!(lab.config().unwrap().loss.tau, 0.5, "a bad config changes nothing");
    let last = lab.notices.last().expect("a notice");
    assert!(last.text.contains("tau"), "{}", last.text);
}

/// Export writes the run's files (the CLI's formats) into the chosen folder, and the config loads back.
#[test]
fn export_writes_the_files_and_the_config_reloads() {
    let dir = std::env::temp_dir().join(format!("spherelab-export-test-{}", std::process::id()));
    let mut h = harness(small_config());
    h.get_by_label("▶ Play").click();
    h.run_steps(6);
    h.get_by_label("⏸ Pause").click();
    h.get_by_role_and_label(Role::Button, "Export").click();
    h.run_steps(2);
    h.state_mut().panels.export.folder = dir.display().to_string();
    for button in ["Embeddings TSV", "Metrics CSV", "Config JSON"] {
        h.get_by_role_and_label(Role::Button, button).click();
        h.run_steps(2);
    }
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let n = h.state().lab.data().unwrap().len();
    assert_eq!(read("embeddings.tsv").lines().count(), n);
    assert_eq!(read("metadata.tsv").lines().count(), n + 1);
    assert!(read("metrics.csv").starts_with(spherelab_core::export::METRICS_HEADER));
    let cfg = spherelab_core::RunConfig::from_json(&read("config.json")).expect("config.json loads");
    assert_eq!(&cfg, h.state().lab.config().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12: the theory tab's verdict is computed from all three remedies' bounds against keeping the difficult
/// examples, and says plainly when none of them lowers the bound.
#[test]
fn the_theory_verdict_reads_all_three_remedies() {
    let mut h = harness(small_config());
    h.run_steps(1);
    h.get_by_role_and_label(Role::Button, "Theory").click();
    h.run_steps(2);
    // The worked example: the margin helps, removal and the temperature do not.
    h.get_by_label_contains("Lowest bound: the margin. Not helping: removal and the temperature.");
    {
        let t = &mut h.state_mut().panels.theory;
        (t.n, t.r, t.n_d, t.alpha, t.beta, t.gamma) = (20, 2, 18, 0.3, 0.05, 0.1);
    }
    h.run_steps(2);
    h.get_by_label_contains("No remedy helps here");
    h.get_by_label_contains("Here difficult examples lower λ");
}

/// The characters above ASCII in Rust source outside comments: those of string and char literals (identifiers
/// are ASCII here). A small lexer: line and block comments, strings with escapes, raw strings, char literals
/// told from lifetimes.
fn literal_symbols(src: &str, out: &mut std::collections::BTreeSet<char>) {
    let c: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 1;
                    } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            'r' if matches!(c.get(i + 1), Some('"' | '#')) && (i == 0 || !c[i - 1].is_alphanumeric()) => {
                let hashes = c[i + 1..].iter().take_while(|&&x| x == '#').count();
                i += 1 + hashes + 1;
                while i < c.len()
                    && !(c[i] == '"' && c[i + 1..].iter().take(hashes).filter(|&&x| x == '#').count() == hashes)
                {
                    out.extend(Some(c[i]).filter(|x| !x.is_ascii()));
                    i += 1;
                }
                i += hashes;
            }
            '"' => {
                i += 1;
                while i < c.len() && c[i] != '"' {
                    i += if c[i] == '\\' { 2 } else { 1 };
                    out.extend(Some(c[i - 1]).filter(|x| !x.is_ascii()));
                }
            }
            '\'' if c.get(i + 2) == Some(&'\'') => {
                out.extend(Some(c[i + 1]).filter(|x| !x.is_ascii()));
                i += 2;
            }
            '\'' if c.get(i + 1) == Some(&'\\') => {
                while i + 1 < c.len() && c[i + 1] != '\'' {
                    i += 1;
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
}

#[test]
fn literal_symbols_reads_strings_and_chars_but_not_comments() {
    let mut got = std::collections::BTreeSet::new();
    let src = "// ∀ comment\n/* ∃ /* ∄ */ ∅ */ let s = \"▶ \\\" ✅ // ⚠\"; let r = r#\"⏸ \"# ; let c = '⟲'; \
               fn f<'a>(x: &'a str) {} let e = '\\u{2713}'; let q = '\"'; let t = \"🎓\";";
    literal_symbols(src, &mut got);
    assert_eq!(got.into_iter().collect::<String>(), "⏸▶⚠✅⟲🎓");
}

/// Every symbol the app's strings, the engine's messages, the lessons and the studies hold is in one of the
/// fonts the app installs (egui's text fonts and the subsets in crates/app/assets): a new one fails here, not
/// as a box on screen. The cure: `python3 scripts/subset-fonts.py`, which cuts the emoji subsets anew.
#[test]
fn every_character_the_app_writes_has_a_glyph() {
    fn files(dir: &std::path::Path, ext: &str, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, ext, out);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut symbols = std::collections::BTreeSet::new();
    let (mut rust, mut toml) = (Vec::new(), Vec::new());
    files(&root.join("crates/app/src"), "rs", &mut rust);
    files(&root.join("crates/core/src"), "rs", &mut rust);
    files(&root.join("lessons"), "toml", &mut toml);
    files(&root.join("studies"), "toml", &mut toml);
    assert!(rust.len() > 20 && toml.len() >= 7, "found {} sources and {} TOML files", rust.len(), toml.len());
    for p in &rust {
        literal_symbols(&std::fs::read_to_string(p).unwrap(), &mut symbols);
    }
    for p in &toml {
        let text = std::fs::read_to_string(p).unwrap();
        let shown = text.lines().filter(|l| !l.trim_start().starts_with('#'));
        symbols.extend(shown.flat_map(str::chars).filter(|c| !c.is_ascii()));
    }
    assert!(symbols.contains(&'▶') && symbols.contains(&'ẑ'), "the scan finds the toolbar's and the lessons' symbols");
    let mut h = harness(small_config());
    h.run_steps(1);
    let families = [(egui::FontFamily::Proportional, "proportional"), (egui::FontFamily::Monospace, "monospace")];
    let missing: Vec<(char, &str)> = h.ctx.fonts_mut(|f| {
        let mut missing = Vec::new();
        for (family, name) in families {
            let font = egui::FontId::new(14.0, family);
            missing.extend(symbols.iter().filter(|&&c| !f.has_glyph(&font, c)).map(|&c| (c, name)));
        }
        missing
    });
    assert!(missing.is_empty(), "no installed font has {missing:?}: run scripts/subset-fonts.py");
}
