//! The lesson card (the open lesson's step: its text, what to watch, the condition to look for, the question,
//! back / next / progress, "open the full lab"), the first-start welcome card, and the list of lessons.

use egui::{Color32, RichText};

use crate::lab::{Command, Lab};

/// The colour that marks what to watch (the card's line and the watched panel's frame).
pub const WATCH_COLOR: Color32 = Color32::from_rgb(255, 170, 40);

#[derive(Default)]
pub struct LessonCard;

impl LessonCard {
    /// `compact`: a phone's card, without the lesson's goal (the space goes to the step). `page`: where the web
    /// build is served, for the share links (the Export tab's field).
    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab, compact: bool, page: &mut String) -> Vec<Command> {
        let mut out = Vec::new();
        let guide = &lab.guide;
        let (Some(lesson), Some(p), Some(step)) = (guide.lesson(), guide.active.as_ref(), guide.step()) else {
            return out;
        };
        let n = lesson.steps.len();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("Lesson {} of {}", p.lesson + 1, guide.lessons.len())).weak());
            ui.label(RichText::new(&lesson.title).strong());
        });
        if !compact {
            ui.label(RichText::new(format!("Goal: {}", lesson.goal)).weak().small());
        }
        ui.add_space(4.0);
        // Progress: one dot a step (the current one larger; observed ones ticked), wrapped when the card is narrow.
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("Step {} of {n}", p.step + 1)).strong());
            for k in 0..n {
                let text = if p.observed[k] {
                    "✔"
                } else if k == p.step {
                    "●"
                } else {
                    "○"
                };
                let mut t = RichText::new(text);
                if k == p.step {
                    t = t.strong().color(WATCH_COLOR);
                }
                if ui.add(egui::Button::new(t).frame(false)).on_hover_text(&lesson.steps[k].title).clicked() {
                    out.push(Command::LessonStep(k));
                }
            }
        });
        ui.add(egui::ProgressBar::new((p.step + 1) as f32 / n as f32).desired_height(4.0));
        ui.add_space(6.0);
        ui.heading(&step.title);
        if step.restart {
            ui.label(
                RichText::new(
                    "⟲ This step starts the run again from step 0 (same seed, same starting weights), so you see \
                     what its settings do from the beginning.",
                )
                .small()
                .weak(),
            );
        }
        for para in step.text.split("\n\n") {
            let joined = para.lines().map(str::trim).collect::<Vec<_>>().join(" ");
            ui.label(joined);
            ui.add_space(2.0);
        }
        ui.add_space(4.0);
        egui::Frame::new().stroke(egui::Stroke::new(1.5, WATCH_COLOR)).inner_margin(6.0).corner_radius(4.0).show(
            ui,
            |ui| {
                ui.label(RichText::new(format!("👀 Watch: {}", step.watch.title())).strong().color(WATCH_COLOR));
                if !step.watch_text.is_empty() {
                    ui.label(&step.watch_text);
                }
                if let Some(c) = &step.until {
                    let (mark, note) = if p.observed[p.step] {
                        ("✅", "observed")
                    } else {
                        ("⏳", "not yet — keep it training (▶ Play)")
                    };
                    ui.label(format!("{mark} Look for: {c} ({note})")).on_hover_text(
                        "The step is marked observed when this holds on the live run. Metrics are measured on \
                         held-out samples every few steps.",
                    );
                }
            },
        );
        if let Some(q) = &step.question {
            ui.add_space(6.0);
            ui.label(RichText::new(format!("❓ {}", q.ask)).strong());
            let answered = p.answers[p.step];
            for (i, choice) in q.choices.iter().enumerate() {
                let picked = answered == Some(i);
                let mut text = RichText::new(format!("{}. {choice}", i + 1));
                if answered.is_some() && i == q.answer {
                    text = text.color(Color32::from_rgb(80, 200, 120));
                }
                if ui.radio(picked, text).clicked() {
                    out.push(Command::Answer(i));
                }
            }
            if let Some(a) = answered {
                let verdict = if a == q.answer {
                    "✅ Right.".to_string()
                } else {
                    format!("✗ Not quite: the answer is {}.", q.answer + 1)
                };
                ui.label(RichText::new(verdict).strong());
                if !q.explain.is_empty() {
                    ui.label(&q.explain);
                }
            }
        }
        ui.add_space(8.0);
        // Wrapped, as the dots above: on a narrow card (an embed, a small phone) the buttons take two lines.
        ui.horizontal_wrapped(|ui| {
            if ui.add_enabled(p.step > 0, egui::Button::new("◀ Back")).clicked() {
                out.push(Command::LessonStep(p.step - 1));
            }
            if p.step + 1 < n {
                if ui.button(RichText::new("Next ▶").strong()).clicked() {
                    out.push(Command::LessonStep(p.step + 1));
                }
            } else if ui
                .button(RichText::new("Finish ✔").strong())
                .on_hover_text("Close the lesson; the run goes on.")
                .clicked()
            {
                out.push(Command::CloseLesson);
            }
            if ui
                .button("Open the full lab")
                .on_hover_text("Every control and view, with this run as it is now. The lessons stay in the 📚 menu.")
                .clicked()
            {
                out.push(Command::CloseLesson);
            }
        });
        if !lesson.sources.is_empty() {
            ui.add_space(6.0);
            ui.label(RichText::new(format!("Sources: {}", lesson.sources.join("; "))).small().weak());
        }
        if !compact && !guide.embed {
            egui::CollapsingHeader::new("🔗 Share this step: link, presenter, iframe").show(ui, |ui| {
                share_ui(ui, lab, page);
            });
        }
        out
    }
}

/// The list of lessons (the toolbar's menu and the welcome card): a button each, with its goal on hover.
pub fn lesson_list(ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
    let mut out = Vec::new();
    for (i, l) in lab.guide.lessons.iter().enumerate() {
        if ui.button(format!("{}. {}", i + 1, l.title)).on_hover_text(&l.goal).clicked() {
            out.push(Command::OpenLesson { id: l.id.clone(), step: 0 });
            ui.close();
        }
    }
    out
}

/// The first-start card, over a lab that is already training behind it (it never blocks the run).
#[derive(Default)]
pub struct Welcome {
    listing: bool,
}

impl Welcome {
    pub fn ui(&mut self, ctx: &egui::Context, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        egui::Window::new("Welcome to spherelab")
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .collapsible(false)
            .resizable(false)
            .default_width(420.0)
            .show(ctx, |ui| {
                ui.label(
                    "A small encoder is learning behind this card, right now: it places two views of each point \
                     close together on a circle and spreads everything else apart (contrastive learning).",
                );
                ui.add_space(6.0);
                if self.listing {
                    ui.label(RichText::new("Pick a lesson (each takes about five minutes):").strong());
                    out.extend(lesson_list(ui, lab));
                    if ui.button("◀ Back").clicked() {
                        self.listing = false;
                    }
                } else {
                    ui.horizontal(|ui| {
                        if ui
                            .button(RichText::new("📚 Start a lesson").size(16.0).strong())
                            .on_hover_text("Seven short guided lessons, each making one point on this live model.")
                            .clicked()
                        {
                            self.listing = true;
                        }
                        if ui
                            .button(RichText::new("🔬 Explore the lab").size(16.0))
                            .on_hover_text("Every control and view at once. The lessons stay in the 📚 menu.")
                            .clicked()
                        {
                            out.push(Command::DismissWelcome);
                        }
                    });
                }
            });
        if out.iter().any(|c| matches!(c, Command::OpenLesson { .. })) {
            out.push(Command::DismissWelcome);
        }
        out
    }
}

/// The Export tab's links for a class: the lesson at its step, the same in presenter mode, and an iframe
/// snippet (embed mode) for slides or a course page. `page` is where the web build is served.
pub fn share_ui(ui: &mut egui::Ui, lab: &Lab, page: &mut String) {
    ui.label(RichText::new("Share this view").strong()).on_hover_text(
        "Links that open the web build as you see it now: the run's settings, and the lesson at its step when one \
         is open. Paste the page's address (where web/build.sh's site is served) below.",
    );
    ui.horizontal(|ui| {
        ui.label("page");
        ui.text_edit_singleline(page)
            .on_hover_text("The address of the web build, e.g. https://example.org/spherelab/");
    });
    let settings = lab.config().map(spherelab_core::url_state::to_fragment).unwrap_or_default();
    let guide = &lab.guide;
    let hash = |embed: bool, presenter: bool| {
        let keys = [settings.clone(), guide.link_keys(embed, presenter)];
        keys.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("&")
    };
    let link = format!("{page}#{}", hash(false, false));
    let presenter = format!("{page}#{}", hash(false, true));
    let snippet = format!(
        "<iframe src=\"{page}#{}\" width=\"960\" height=\"600\" style=\"border:0\" allow=\"fullscreen\" \
         title=\"spherelab\"></iframe>",
        hash(true, false)
    );
    let desktop = match (guide.lesson(), guide.active.as_ref()) {
        (Some(l), Some(p)) => format!("cargo run --release -- --lesson {} --step {}", l.id, p.step + 1),
        _ => "cargo run --release".to_string(),
    };
    for (name, text, tip) in [
        ("link", link, "Opens this view in a browser."),
        ("presenter", presenter, "The same in presenter mode: large type for a projector."),
        ("embed", snippet, "An iframe for slides or a course page: no toolbar, only the lesson's panels."),
        ("desktop", desktop, "The same lesson and step in the desktop app."),
    ] {
        ui.horizontal(|ui| {
            if ui.button(format!("📋 {name}")).on_hover_text(tip).clicked() {
                ui.ctx().copy_text(text.clone());
            }
            ui.add(egui::Label::new(RichText::new(&text).monospace().small()).truncate());
        });
    }
}
