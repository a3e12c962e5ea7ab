//! The lessons, driven as a student and a teacher would: every step of every lesson (its settings apply,
//! its panels show and no others, back and next work, each condition is reached on a short run where the
//! lesson says it will be), the links (`--lesson`, `--step`, `hide=`, presenter, embed) and what they do
//! with a name they do not know, the welcome card, and the phone layout.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use spherelab_app::backend_choice::BackendPreference;
use spherelab_app::guide::metric_value;
use spherelab_app::lab::{Command, Lab, Level};
use spherelab_app::{SpherelabApp, view_part_name};
use spherelab_core::lesson::{Condition, LESSON_IDS, Metric, Panel};
use spherelab_core::url_state::{ViewLink, split_view_keys};
use web_time::Instant;

fn harness_sized(size: egui::Vec2) -> Harness<'static, SpherelabApp> {
    let mut app = SpherelabApp::new(Lab::default_config(), BackendPreference::Cpu);
    app.lab.schedule.frame_budget_ms = f64::INFINITY;
    app.lab.schedule.steps_per_frame = 2;
    Harness::builder().with_size(size).build_ui_state(|ui, app: &mut SpherelabApp| app.show(ui), app)
}

fn harness() -> Harness<'static, SpherelabApp> {
    harness_sized(egui::vec2(1600.0, 1000.0))
}

/// The views the last frame drew (their names in the frame's timing record), and whether it drew controls.
fn drawn(app: &SpherelabApp) -> (Vec<&'static str>, bool) {
    let views: Vec<&'static str> = app
        .frame_parts
        .iter()
        .map(|p| p.0)
        .filter(|n| Panel::ALL.iter().any(|p| view_part_name(*p) == Some(*n)))
        .collect();
    (views, app.frame_parts.iter().any(|p| p.0 == "controls"))
}

#[test]
fn the_lessons_are_the_seven_of_the_course_in_order() {
    let lab = Lab::new(Lab::default_config(), BackendPreference::Cpu);
    let ids: Vec<&str> = lab.guide.lessons.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, LESSON_IDS);
    for l in &lab.guide.lessons {
        assert!((4..=8).contains(&l.steps.len()), "{}: {} steps", l.id, l.steps.len());
    }
}

#[test]
fn every_step_of_every_lesson_applies_its_settings_and_shows_its_panels() {
    let mut h = harness();
    h.run_steps(1);
    let lessons = h.state().lab.guide.lessons.clone();
    for lesson in &lessons {
        h.state_mut().lab.apply(Command::OpenLesson { id: lesson.id.clone(), step: 0 });
        h.run_steps(2);
        for (k, step) in lesson.steps.iter().enumerate() {
            let app = h.state();
            let p = app.lab.guide.active.as_ref().expect("the lesson is open");
            assert_eq!(p.step, k, "{}: on step {}", lesson.id, k + 1);
            assert_eq!(
                app.lab.config(),
                Some(lesson.step_config(k)),
                "{} step {}: its settings apply",
                lesson.id,
                k + 1
            );
            let (views, controls) = drawn(app);
            let mut want: Vec<&str> = step.show.iter().filter_map(|p| view_part_name(*p)).collect();
            want.sort_unstable();
            let mut got = views.clone();
            got.sort_unstable();
            assert_eq!(got, want, "{} step {}: the views shown", lesson.id, k + 1);
            assert_eq!(controls, step.show.iter().any(|p| p.is_control()), "{} step {}: controls", lesson.id, k + 1);
            assert!(h.query_all_by_label(&step.title).count() >= 1, "{} step {}: its title shows", lesson.id, k + 1);
            h.get_by_label(&format!("Step {} of {}", k + 1, lesson.steps.len()));
            if let Some(q) = &step.question {
                // Answering shows whether it was right and the explanation.
                h.get_by_label(&format!("{}. {}", q.answer + 1, q.choices[q.answer])).click();
                h.run_steps(2);
                h.get_by_label("✅ Right.");
            }
            if k + 1 < lesson.steps.len() {
                h.get_by_label("Next ▶").click();
                h.run_steps(2);
            }
        }
        // Back goes to the step before, with its settings.
        h.get_by_label("◀ Back").click();
        h.run_steps(2);
        let n = lesson.steps.len();
        assert_eq!(h.state().lab.guide.active.as_ref().unwrap().step, n - 2, "{}: back", lesson.id);
        assert_eq!(
            h.state().lab.config(),
            Some(lesson.step_config(n - 2)),
            "{}: back restores the step's settings",
            lesson.id
        );
        h.get_by_label("Open the full lab").click();
        h.run_steps(2);
        assert!(h.state().lab.guide.active.is_none(), "the full lab");
        let (views, controls) = drawn(h.state());
        assert!(controls && views.contains(&"embedding") && views.contains(&"input plane"), "{views:?}");
        // The next lesson starts from the app's own run, as a student opening it would.
        h.state_mut().lab.apply(Command::SetConfig(Box::new(Lab::default_config())));
    }
}

#[test]
fn a_wrong_answer_says_so_and_gives_the_right_one() {
    let mut h = harness();
    let lessons = h.state().lab.guide.lessons.clone();
    let (lesson, k, q) = lessons
        .iter()
        .find_map(|l| l.steps.iter().enumerate().find_map(|(k, s)| s.question.clone().map(|q| (l, k, q))))
        .expect("some step asks a question");
    h.state_mut().lab.apply(Command::OpenLesson { id: lesson.id.clone(), step: k });
    h.run_steps(2);
    let wrong = (q.answer + 1) % q.choices.len();
    h.get_by_label(&format!("{}. {}", wrong + 1, q.choices[wrong])).click();
    h.run_steps(2);
    h.get_by_label(&format!("✗ Not quite: the answer is {}.", q.answer + 1));
}

/// Whether a condition reads something training learns. The selection's precision and flagged fraction follow
/// from the settings at once (flag every pair and precision is the base rate).
fn reads_a_learnt_metric(cond: &Condition) -> bool {
    cond.clauses.iter().any(|c| !matches!(c.metric, Metric::Step | Metric::Precision | Metric::Flagged))
}

/// A lab trained by the test: the CPU engine, 50 steps a tick.
fn test_lab() -> Lab {
    let mut lab = Lab::new(Lab::default_config(), BackendPreference::Cpu);
    lab.schedule.frame_budget_ms = 200.0;
    lab.schedule.steps_per_frame = 50;
    lab
}

/// A step that starts the run again with new settings looks for what those settings do: the lesson's first
/// step, restarted from the same seed and trained as long as the step took to show it, never shows it at any
/// evaluation.
#[test]
fn a_restarted_steps_condition_tells_its_settings_from_the_lessons_first_step() {
    let lessons = Lab::new(Lab::default_config(), BackendPreference::Cpu).guide.lessons;
    let mut checked = 0;
    for lesson in &lessons {
        for (k, step) in lesson.steps.iter().enumerate() {
            let Some(cond) = step.until.as_ref().filter(|c| step.restart && reads_a_learnt_metric(c)) else {
                continue;
            };
            let mut lab = test_lab();
            lab.apply(Command::OpenLesson { id: lesson.id.clone(), step: 0 });
            lab.apply(Command::LessonStep(k));
            while !lab.guide.active.as_ref().unwrap().observed[k] && lab.step_count() <= 2000 {
                lab.schedule.playing = true;
                lab.tick();
            }
            let took = lab.step_count();
            assert!(took <= 2000, "{} step {}: `{cond}` not reached", lesson.id, k + 1);
            let mut first = test_lab();
            first.apply(Command::OpenLesson { id: lesson.id.clone(), step: 0 });
            first.apply(Command::Reset);
            while first.step_count() < took {
                first.schedule.playing = true;
                first.tick();
            }
            let history = first.session().unwrap().history();
            for r in history.metrics.iter().filter(|r| r.step <= took) {
                assert!(
                    !cond.holds(|m| metric_value(m, r.step, Some(r))),
                    "{} step {}: `{cond}` (reached after {took} steps) also holds for the lesson's first step's \
                     settings at step {}",
                    lesson.id,
                    k + 1,
                    r.step
                );
            }
            println!("{} step {}: `{cond}` after {took} steps; the first step's run never met it", lesson.id, k + 1);
            checked += 1;
        }
    }
    assert!(checked >= 3, "the restarted steps with learnt conditions ({checked})");
}

/// Every condition is reached on a short run where the lesson says it will be, taken as a student takes
/// the lesson: from its first step, each step continuing the run the previous one left (the CPU engine, the
/// app's own default run), training until the condition holds. None holds the moment its step opens: it
/// reads only what happens after.
#[test]
fn every_condition_is_reached_where_the_lesson_says() {
    const MAX_STEPS: usize = 2000;
    let lessons = Lab::new(Lab::default_config(), BackendPreference::Cpu).guide.lessons;
    let mut checked = 0;
    for lesson in &lessons {
        let mut lab = test_lab();
        lab.apply(Command::OpenLesson { id: lesson.id.clone(), step: 0 });
        for (k, step) in lesson.steps.iter().enumerate() {
            lab.apply(Command::LessonStep(k));
            let Some(cond) = &step.until else { continue };
            lab.schedule.playing = true;
            let entered = lab.step_count();
            let observed = |lab: &Lab| lab.guide.active.as_ref().unwrap().observed[k];
            assert!(!observed(&lab), "{} step {}: observed before training", lesson.id, k + 1);
            if step.restart && reads_a_learnt_metric(cond) {
                // A step that starts the run again reads what training does from there: a fresh run's first
                // evaluation (accuracy still low, pairs still loose) must not already show what it looks for.
                while lab.session().unwrap().history().metrics.is_empty() {
                    lab.tick();
                }
                let first = lab.session().unwrap().history().metrics[0].clone();
                assert!(
                    !cond.holds(|m| metric_value(m, first.step, Some(&first))),
                    "{} step {}: `{cond}` holds at the restarted run's first evaluation (step {})",
                    lesson.id,
                    k + 1,
                    first.step
                );
            }
            let start = Instant::now();
            while !observed(&lab) && lab.step_count() <= entered + MAX_STEPS {
                lab.tick();
                assert!(lab.diverged.is_none(), "{} step {}: diverged", lesson.id, k + 1);
                // The run may stop at the schedule's end; a student presses Play again.
                lab.schedule.playing = true;
            }
            println!(
                "{} step {}: {cond} observed after {} steps ({:.1} s)",
                lesson.id,
                k + 1,
                lab.step_count() - entered,
                start.elapsed().as_secs_f64()
            );
            assert!(observed(&lab), "{} step {}: `{cond}` not reached in {MAX_STEPS} steps", lesson.id, k + 1);
            assert!(lab.notices.iter().any(|n| n.text.starts_with("Observed:")), "the student is told");
            checked += 1;
        }
    }
    assert!(checked >= 7, "the lessons watch for things: {checked} conditions");
}

#[test]
fn a_link_opens_a_lesson_at_a_step_counting_from_one() {
    let mut lab = Lab::new(Lab::default_config(), BackendPreference::Cpu);
    let (link, rest) = split_view_keys("#lesson=temperature&step=3&presenter=1");
    assert!(rest.is_empty());
    lab.open_link(&link);
    let l = lab.guide.lesson().expect("open");
    assert_eq!(l.id, "temperature");
    assert_eq!(lab.guide.active.as_ref().unwrap().step, 2);
    assert_eq!(lab.config(), Some(l.step_config(2)));
    assert!(lab.guide.presenter);
    assert!(!lab.guide.welcome, "a lesson link skips the welcome card");
}

#[test]
fn an_unknown_lesson_or_step_opens_the_lab_with_a_notice_naming_it() {
    for (hash, names) in [
        ("lesson=entropy", vec!["'entropy'", "positive-pairs", "theory"]),
        ("lesson=temperature&step=9", vec!["'9'", "steps 1 to"]),
        ("lesson=temperature&step=0", vec!["'0'", "steps 1 to"]),
        ("lesson=temperature&step=two", vec!["'two'"]),
        ("step=2", vec!["without a lesson"]),
        ("hide=loss,nonsense", vec!["'nonsense'", "embedding"]),
    ] {
        let mut lab = Lab::new(Lab::default_config(), BackendPreference::Cpu);
        let before = lab.config().cloned();
        lab.open_link(&split_view_keys(hash).0);
        let n = lab.notices.last().unwrap_or_else(|| panic!("{hash}: a notice"));
        assert_eq!(n.level, Level::Warning, "{hash}");
        for name in names {
            assert!(n.text.contains(name), "{hash}: {}", n.text);
        }
        assert!(lab.guide.active.is_none(), "{hash}: the lab, not a lesson");
        assert_eq!(lab.config().cloned(), before, "{hash}: the run is untouched");
    }
}

#[test]
fn hide_folds_named_controls_and_panels_away_everywhere() {
    let mut h = harness();
    h.state_mut().lab.open_link(&split_view_keys("hide=loss,theory,input").0);
    h.run_steps(2);
    let (views, controls) = drawn(h.state());
    assert!(controls && !views.contains(&"input plane") && views.contains(&"embedding"), "{views:?}");
    assert!(h.query_by_label("Theory").is_none(), "no Theory tab");
    assert!(h.query_by_role_and_label(Role::ComboBox, "loss").is_none(), "no Loss section");
    h.get_by_label("Data");
    // In a lesson too, whatever the step shows.
    let id = h
        .state()
        .lab
        .guide
        .lessons
        .iter()
        .find(|l| l.steps[0].show.contains(&Panel::Embedding))
        .map(|l| l.id.clone())
        .unwrap();
    h.state_mut().lab.apply(Command::OpenLesson { id, step: 0 });
    h.run_steps(2);
    let (views, _) = drawn(h.state());
    assert!(!views.contains(&"input plane") && !views.contains(&"theory"), "{views:?}");
}

#[test]
fn presenter_mode_enlarges_everything_and_shows_only_the_lesson() {
    let mut h = harness_sized(egui::vec2(1280.0, 720.0));
    h.state_mut().lab.open_link(&split_view_keys("lesson=uniformity&step=2&presenter=1").0);
    h.run_steps(3);
    assert!(h.ctx.zoom_factor() > 1.2, "zoom {}", h.ctx.zoom_factor());
    assert!(!h.state().narrow, "a projector's 1280×720 is not a phone");
    let step = h.state().lab.guide.step().unwrap().clone();
    let (views, _) = drawn(h.state());
    let want: Vec<&str> = step.show.iter().filter_map(|p| view_part_name(*p)).collect();
    assert_eq!(views.len(), want.len(), "{views:?} vs {want:?}");
    h.get_by_label(&step.title);
    h.get_by_label("🎓 Presenter").click();
    h.run_steps(3);
    assert!(!h.state().lab.guide.presenter, "the toolbar turns it off");
    assert!((h.ctx.zoom_factor() - 1.0).abs() < 1e-6, "off again: zoom {}", h.ctx.zoom_factor());
}

#[test]
fn embed_mode_has_no_chrome_and_the_lessons_panels() {
    let mut h = harness_sized(egui::vec2(900.0, 560.0));
    h.state_mut().lab.open_link(&split_view_keys("lesson=temperature&embed=1").0);
    h.run_steps(3);
    assert!(h.query_by_label("spherelab").is_none(), "no title bar");
    assert!(h.query_by_label("🎓 Presenter").is_none());
    h.get_by_label(&h.state().lab.guide.step().unwrap().title.clone());
    h.get_by_label("▶");
}

#[test]
fn the_welcome_card_greets_a_first_start_over_a_training_lab_and_is_remembered() {
    let mut h = harness();
    h.state_mut().greet(false, &ViewLink::default());
    h.state_mut().lab.schedule.playing = true;
    h.run_steps(3);
    assert!(h.state().lab.guide.welcome);
    let before = h.state().lab.step_count();
    h.run_steps(3);
    assert!(h.state().lab.step_count() > before, "the lab trains behind the card");
    h.get_by_label("🔬 Explore the lab").click();
    h.run_steps(2);
    assert!(!h.state().lab.guide.welcome && h.state().lab.guide.welcome_answered);
    // "Start a lesson" lists them; picking one opens it and answers the card.
    let mut h = harness();
    h.state_mut().greet(false, &ViewLink::default());
    h.run_steps(3);
    h.get_by_label("📚 Start a lesson").click();
    // The card grows with the list and centres itself again over a few frames.
    h.run_steps(6);
    let title = h.state().lab.guide.lessons[1].title.clone();
    h.get_by_label(&format!("2. {title}")).click();
    h.run_steps(2);
    assert_eq!(h.state().lab.guide.lesson().map(|l| l.id.as_str()), Some("uniformity"));
    assert!(!h.state().lab.guide.welcome && h.state().lab.guide.welcome_answered);
    // A lesson link skips it.
    let mut h = harness();
    h.state_mut().greet(false, &split_view_keys("lesson=losses").0);
    assert!(!h.state().lab.guide.welcome);
}

#[test]
fn a_phone_shows_the_lesson_and_one_view_with_the_controls_in_a_drawer() {
    let mut h = harness_sized(egui::vec2(390.0, 844.0));
    h.run_steps(2);
    assert!(h.state().narrow);
    let (views, controls) = drawn(h.state());
    assert_eq!(views, vec!["embedding"], "one view: the embedding first");
    assert!(!controls, "controls wait in the drawer");
    h.get_by_label("☰ Controls").click();
    h.run_steps(2);
    assert!(drawn(h.state()).1, "the drawer shows the controls");
    h.get_by_label("✕ Close the controls").click();
    h.run_steps(2);
    h.get_by_label("Input").click();
    h.run_steps(2);
    assert_eq!(drawn(h.state()).0, vec!["input plane"]);
    h.state_mut().lab.open_link(&split_view_keys("lesson=temperature&step=1").0);
    h.run_steps(3);
    let step = h.state().lab.guide.step().unwrap().clone();
    h.get_by_label(&step.title);
    let (views, _) = drawn(h.state());
    assert_eq!(views, vec![view_part_name(step.watch).unwrap_or("embedding")], "the watched view first");
}

#[test]
fn the_share_links_open_this_step_in_a_browser_an_iframe_and_the_desktop() {
    let mut h = harness();
    h.state_mut().lab.open_link(&split_view_keys("lesson=temperature&step=3").0);
    h.run_steps(2);
    h.get_by_label("🔗 Share this step: link, presenter, iframe").click();
    h.run_steps(2);
    // The links carry the run's settings and the lesson's step; the iframe the embed mode.
    assert!(h.query_all_by_label_contains("data.dataset=blobs").count() >= 3);
    h.get_by_label_contains("lesson=temperature&step=3&presenter=1");
    h.get_by_label_contains("embed=1\" width=");
    h.get_by_label("cargo run --release -- --lesson temperature --step 3");
}

/// On a phone, or a page embedding the lab in a narrow frame, every view fits the width: nothing a reader needs
/// (a slider's name, a lesson's "Next") runs past the right edge, where it would be cut off with no way to
/// scroll to it. 390 points is a phone; 195 is the narrowest we hold, what headless Chromium lays a 390-pixel
/// phone out at when it emulates a device pixel ratio of 2 (its ResizeObserver then reports CSS pixels as
/// device pixels, so eframe divides by 2 twice), which the README's phone screenshot once showed cut off.
#[test]
fn on_a_phone_or_a_narrow_frame_every_view_fits_the_width() {
    for width in [390.0, 240.0, 195.0] {
        let mut h = harness_sized(egui::vec2(width as f32, 844.0));
        h.state_mut().lab.open_link(&split_view_keys("lesson=temperature&step=1").0); // the lesson card on top
        h.state_mut().lab.schedule.playing = true;
        h.run_steps(6);
        assert!(h.state().lab.views.batch.is_some(), "the views have a batch to draw");
        let mut seen = 0;
        for view in ["Embedding", "Input", "Curves", "Similarity", "Hardness", "Theory", "Pruning", "Export"] {
            let Some(button) = h.query_by_label(view) else { continue }; // a lesson step shows only some views
            button.click();
            h.run_steps(3);
            seen += 1;
            // Bounds in the harness's points (its scale is 1); the window's root has none.
            let over: Vec<String> = h
                .query_all(egui_kittest::kittest::By::new().predicate(|n| n.bounding_box().is_some()))
                .map(|n| n.accesskit_node())
                .filter_map(|a| a.bounding_box().filter(|b| b.x1 > width + 0.5).map(|b| (a, b)))
                .map(|(a, b)| {
                    format!("{:?} {:?} ends at x = {:.0}", a.role(), a.label().or(a.value()).unwrap_or_default(), b.x1)
                })
                .collect();
            assert!(over.is_empty(), "{view} on a {width}-point screen: {over:#?}");
        }
        assert!(seen >= 3, "the lesson step shows its views ({seen} seen)");
    }
}
