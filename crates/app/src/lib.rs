//! spherelab-app: the contrastive-learning lab as an egui app, one code base for the desktop (this crate's
//! binary) and the browser (this crate as a wasm library, issue 5).
//!
//! The app is a set of panels over one shared `Lab` (the run and what is shown of it). Each frame it
//! (1) trains within a time budget (`Lab::tick`), (2) draws every panel from the lab, collecting the
//! `Command`s the panels return, and (3) applies those commands. Nothing here blocks, spawns a thread or
//! reads the clock through `std::time`, so the same code runs in a browser.

pub mod backend_choice;
#[cfg(not(target_arch = "wasm32"))]
pub mod desktop_args;
pub mod files;
pub mod guide;
pub mod lab;
pub mod mirror;
pub mod pacing;
pub mod page_ceiling;
pub mod panels;
pub mod regions;
pub mod remember;
pub mod step_timer;
pub mod theory_view;
#[cfg(target_arch = "wasm32")]
pub mod web;

use std::sync::{Arc, Mutex};

use egui::{Color32, RichText};
use serde::{Deserialize, Serialize};

use lab::{Command, Lab, Level, Notice};
use panels::{
    controls::Controls,
    curves::Curves,
    embedding::EmbeddingView,
    export::ExportPanel,
    hardness::HardnessView,
    input_plane::InputPlane,
    lesson::{self, LessonCard, Welcome},
    pruning::PruningPanel,
    similarity::SimilarityView,
    theory::TheoryPanel,
    toolbar::Toolbar,
};
use spherelab_core::lesson::Panel;

/// The tabs of the right-hand column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SideTab {
    Batch,
    Theory,
    Pruning,
    Export,
}

/// Every panel's own state.
#[derive(Default)]
pub struct Panels {
    pub toolbar: Toolbar,
    pub controls: Controls,
    pub input_plane: InputPlane,
    pub embedding: EmbeddingView,
    pub curves: Curves,
    pub similarity: SimilarityView,
    pub hardness: HardnessView,
    pub theory: TheoryPanel,
    pub pruning: PruningPanel,
    pub export: ExportPanel,
    pub lesson: LessonCard,
    pub welcome: Welcome,
}

/// The whole app: the lab and its panels.
pub struct SpherelabApp {
    pub lab: Lab,
    pub panels: Panels,
    pub tab: SideTab,
    /// Where a screenshot taken by the window reports back (its callback runs outside `ui`).
    screenshot_note: Arc<Mutex<Option<Notice>>>,
    /// Where the last frame's update went: (part, ms), training first, then each panel's layout. The browser
    /// publishes it in its status object; the frame-time benchmark prints it.
    pub frame_parts: Vec<(&'static str, f64)>,
    /// Sets the training budget from what the rest of the frame costs (the window and the browser use it;
    /// tests leave it off and fix the budget).
    pub pacer: Option<pacing::FramePacer>,
    /// The view a narrow screen shows.
    pub narrow_view: Panel,
    /// The lesson step `narrow_view` was chosen for (a new step switches to the view it watches).
    narrow_view_for: Option<(usize, usize)>,
    /// The last frame was laid out for a narrow screen (a phone).
    pub narrow: bool,
    /// The welcome card's answer is to be remembered (`remember`) once given: set by `greet` for users, off in
    /// tests, so they never write to the user's configuration.
    remember_welcome: bool,
    /// The math-symbol font is installed (on the first frame: egui applies it at once, before any text).
    fonts_installed: bool,
    /// The zoom last set for presenter mode (set only when the mode changes, so a user's own zoom stays).
    zoom_applied: Option<f32>,
}

/// Runs `f` and records how long it took under `name`.
fn timed<R>(parts: &mut Vec<(&'static str, f64)>, name: &'static str, f: impl FnOnce() -> R) -> R {
    let start = web_time::Instant::now();
    let r = f();
    parts.push((name, start.elapsed().as_secs_f64() * 1e3));
    r
}

impl SpherelabApp {
    /// The app on a config (the default: two moons). It starts paused in tests and playing for users.
    pub fn new(config: spherelab_core::RunConfig, backend: backend_choice::BackendPreference) -> Self {
        Self {
            lab: Lab::new(config, backend),
            panels: Panels::default(),
            tab: SideTab::Batch,
            screenshot_note: Arc::new(Mutex::new(None)),
            frame_parts: Vec::new(),
            pacer: None,
            narrow_view: Panel::Embedding,
            narrow_view_for: None,
            narrow: false,
            fonts_installed: false,
            remember_welcome: false,
            zoom_applied: None,
        }
    }

    /// Before a frame: with a pacer, the training budget becomes what the previous frames left of the
    /// target. `frame_seconds` is eframe's measure of the previous frame's whole work.
    pub fn pace(&mut self, frame_seconds: Option<f32>) {
        if let Some(p) = self.pacer.as_mut() {
            let frame_ms = frame_seconds.map(|s| s as f64 * 1e3);
            self.lab.schedule.frame_budget_ms = p.budget(frame_ms, self.lab.schedule.last_tick_ms);
        }
    }

    /// One frame: train, draw, apply what the panels asked for.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let mut parts = Vec::with_capacity(12);
        let trained = timed(&mut parts, "training", || self.lab.tick());
        parts.extend(self.lab.schedule.last_tick_parts);
        let mut commands = Vec::new();
        let ctx = ui.ctx().clone();
        if !self.fonts_installed {
            install_fonts(&ctx);
            self.fonts_installed = true;
        }
        // Presenter mode: everything larger, for a projector (1280×720 reads like 950×530 points).
        let zoom = if self.lab.guide.presenter { PRESENTER_ZOOM } else { 1.0 };
        if self.zoom_applied != Some(zoom) {
            ctx.set_zoom_factor(zoom);
            self.zoom_applied = Some(zoom);
        }
        // Space plays and pauses (in class, without reaching for the button), unless a widget has the keyboard
        // focus (a text field types the space; a focused button is clicked by it).
        if ctx.memory(|m| m.focused().is_none()) && ctx.input(|i| i.key_pressed(egui::Key::Space)) {
            commands.push(if self.lab.schedule.playing { Command::Pause } else { Command::Play });
        }
        let lab = &self.lab;
        let p = &mut self.panels;
        let narrow = ctx.content_rect().width() < NARROW_WIDTH;
        self.narrow = narrow;
        let embed = lab.guide.embed;

        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.add_space(2.0);
            commands.extend(timed(&mut parts, "toolbar", || p.toolbar.ui(ui, lab, narrow || embed)));
            ui.add_space(2.0);
        });
        if let Some(msg) = &lab.diverged {
            egui::Panel::top("diverged")
                .frame(egui::Frame::new().fill(Color32::from_rgb(150, 20, 20)).inner_margin(8.0))
                .show(ui, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new("⚠ Training diverged").size(18.0).strong().color(Color32::WHITE));
                        ui.label(RichText::new(msg).color(Color32::WHITE).size(14.0));
                        if ui.button("Reset").on_hover_text("Back to step 0 with the same initialisation.").clicked() {
                            commands.push(Command::Reset);
                        }
                    });
                });
        }
        if !embed {
            egui::Panel::bottom("status").show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    if let Some(n) = lab.notices.last() {
                        let color = match n.level {
                            Level::Info => ui.visuals().text_color(),
                            Level::Warning => Color32::from_rgb(240, 180, 60),
                            Level::Error => Color32::from_rgb(255, 90, 90),
                        };
                        let text = RichText::new(&n.text).color(color);
                        // A phone shows the notice's first line; the full text is in its tooltip.
                        if narrow {
                            ui.add(egui::Label::new(text).truncate()).on_hover_text(&n.text);
                        } else {
                            ui.label(text);
                        }
                    } else {
                        let hint = if lab.schedule.playing {
                            "Training. Space pauses; hover any control for what it does, a point for its two views."
                        } else {
                            "Paused: press ▶ Play (or Space) to train. Hover any control for what it does."
                        };
                        ui.label(RichText::new(hint).weak());
                    }
                });
            });
        }
        if narrow {
            self.narrow_layout(ui, &mut parts, &mut commands);
        } else if lab.guide.active.is_some() {
            self.lesson_layout(ui, &mut parts, &mut commands);
        } else {
            self.full_layout(ui, &mut parts, &mut commands);
        }
        if self.lab.guide.welcome && !embed {
            commands.extend(self.panels.welcome.ui(&ctx, &self.lab));
        }

        self.frame_parts = parts;
        // A command changes what the next frame shows (the theory tab's numbers, a new run): draw it.
        let applied = !commands.is_empty();
        for c in commands {
            if let Command::Screenshot = c {
                self.request_screenshot(ui.ctx());
            }
            if let Command::OpenLesson { .. } = c {
                self.panels.toolbar.drawer_open = false;
            }
            self.lab.apply(c);
        }
        if self.remember_welcome && self.lab.guide.welcome_answered {
            self.remember_welcome = false;
            remember::remember_welcome_answered();
        }
        if let Some(n) = self.screenshot_note.lock().ok().and_then(|mut g| g.take()) {
            self.lab.notify(n);
        }
        if trained || self.lab.schedule.playing || applied {
            ui.ctx().request_repaint();
        }
    }

    /// The whole lab: the controls on the left, the input plane and the embedding in the middle, the curves
    /// below, the batch, theory, pruning and export tabs on the right — less what a link hid.
    fn full_layout(&mut self, ui: &mut egui::Ui, parts: &mut Parts, commands: &mut Vec<Command>) {
        let lab = &self.lab;
        let p = &mut self.panels;
        let shows = |panel: Panel| lab.guide.shows(panel);
        if !lab.guide.embed && Panel::ALL.into_iter().filter(|p| p.is_control()).any(shows) {
            egui::Panel::left("controls").default_size(320.0).resizable(true).show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    commands.extend(timed(parts, "controls", || p.controls.ui(ui, lab, &shows)));
                });
            });
        }
        let tabs: Vec<(SideTab, &str, &str)> =
            SIDE_TABS.into_iter().filter(|(tab, _, _)| tab_panels(*tab).iter().any(|panel| shows(*panel))).collect();
        if !tabs.is_empty() {
            if !tabs.iter().any(|(t, _, _)| *t == self.tab) {
                self.tab = tabs[0].0;
            }
            egui::Panel::right("side").default_size(400.0).resizable(true).show(ui, |ui| {
                ui.horizontal(|ui| {
                    for (tab, name, tip) in &tabs {
                        ui.selectable_value(&mut self.tab, *tab, RichText::new(*name).strong()).on_hover_text(*tip);
                    }
                });
                ui.separator();
                match self.tab {
                    SideTab::Batch => {
                        let both = shows(Panel::Similarity) && shows(Panel::Hardness);
                        if shows(Panel::Similarity) {
                            let h = ui.available_height() * if both { 0.55 } else { 1.0 };
                            ui.allocate_ui(egui::vec2(ui.available_width(), h), |ui| {
                                commands.extend(view(p, Panel::Similarity, ui, lab, parts));
                            });
                        }
                        if both {
                            ui.separator();
                        }
                        if shows(Panel::Hardness) {
                            commands.extend(view(p, Panel::Hardness, ui, lab, parts));
                        }
                    }
                    SideTab::Theory => commands.extend(view(p, Panel::Theory, ui, lab, parts)),
                    SideTab::Pruning => commands.extend(view(p, Panel::Pruning, ui, lab, parts)),
                    SideTab::Export => commands.extend(view(p, Panel::Export, ui, lab, parts)),
                }
            });
        }
        if shows(Panel::Curves) {
            egui::Panel::bottom("curves").default_size(250.0).min_size(190.0).resizable(true).show(ui, |ui| {
                commands.extend(view(p, Panel::Curves, ui, lab, parts));
            });
        }
        let central: Vec<Panel> = [Panel::Input, Panel::Embedding].into_iter().filter(|v| shows(*v)).collect();
        egui::CentralPanel::default().show(ui, |ui| columns(ui, p, &central, lab, parts, commands));
    }

    /// A lesson on a wide screen: the lesson card (and the controls the step lets the student touch) on the
    /// left, the step's views in the middle, the curves below when the step shows them; the watched panel
    /// framed.
    fn lesson_layout(&mut self, ui: &mut egui::Ui, parts: &mut Parts, commands: &mut Vec<Command>) {
        let lab = &self.lab;
        let p = &mut self.panels;
        let shows = |panel: Panel| lab.guide.shows(panel);
        let watched = lab.guide.watched();
        egui::Panel::left("lesson").default_size(400.0).resizable(true).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                commands.extend(timed(parts, "lesson", || p.lesson.ui(ui, lab, false, &mut p.export.page)));
                if Panel::ALL.into_iter().filter(|p| p.is_control()).any(shows) {
                    ui.separator();
                    let stroke = if watched.is_some_and(|w| w.is_control()) {
                        egui::Stroke::new(2.0, lesson::WATCH_COLOR)
                    } else {
                        egui::Stroke::NONE
                    };
                    egui::Frame::new().stroke(stroke).inner_margin(4.0).show(ui, |ui| {
                        commands.extend(timed(parts, "controls", || p.controls.ui(ui, lab, &shows)));
                    });
                }
            });
        });
        if shows(Panel::Curves) {
            egui::Panel::bottom("curves").default_size(250.0).min_size(190.0).resizable(true).show(ui, |ui| {
                watch_frame(ui, watched == Some(Panel::Curves), |ui| {
                    commands.extend(view(p, Panel::Curves, ui, lab, parts));
                });
            });
        }
        let central: Vec<Panel> = VIEWS.into_iter().filter(|v| *v != Panel::Curves && shows(*v)).collect();
        egui::CentralPanel::default().show(ui, |ui| columns(ui, p, &central, lab, parts, commands));
    }

    /// A phone or a narrow window: the lesson card on top (when a lesson is open), one view at a time below
    /// with a row of buttons to switch, the controls in a drawer the toolbar opens.
    fn narrow_layout(&mut self, ui: &mut egui::Ui, parts: &mut Parts, commands: &mut Vec<Command>) {
        let lab = &self.lab;
        let p = &mut self.panels;
        let shows = |panel: Panel| lab.guide.shows(panel);
        let width = ui.ctx().content_rect().width();
        if p.toolbar.drawer_open {
            egui::Panel::left("drawer").default_size(width * 0.9).resizable(false).show(ui, |ui| {
                if ui.button("✕ Close the controls").clicked() {
                    p.toolbar.drawer_open = false;
                }
                egui::ScrollArea::vertical().show(ui, |ui| {
                    commands.extend(timed(parts, "controls", || p.controls.ui(ui, lab, &shows)));
                });
            });
            return;
        }
        if lab.guide.active.is_some() {
            let h = ui.ctx().content_rect().height() * 0.38;
            egui::Panel::top("lesson").exact_size(h).show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    commands.extend(timed(parts, "lesson", || p.lesson.ui(ui, lab, true, &mut p.export.page)));
                });
            });
        }
        let views: Vec<Panel> = VIEWS.into_iter().filter(|v| shows(*v)).collect();
        // A new lesson step opens on the view it points at.
        let at = lab.guide.active.as_ref().map(|p| (p.lesson, p.step));
        if at != self.narrow_view_for {
            self.narrow_view_for = at;
            if let Some(w) = lab.guide.watched().filter(|w| views.contains(w)) {
                self.narrow_view = w;
            }
        }
        if !views.contains(&self.narrow_view) {
            self.narrow_view = lab
                .guide
                .watched()
                .filter(|w| views.contains(w))
                .or(views.first().copied())
                .unwrap_or(Panel::Embedding);
        }
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                for v in &views {
                    let mut text = RichText::new(short_title(*v));
                    if lab.guide.watched() == Some(*v) {
                        text = text.color(lesson::WATCH_COLOR);
                    }
                    ui.selectable_value(&mut self.narrow_view, *v, text).on_hover_text(v.title());
                }
            });
            ui.separator();
            if views.contains(&self.narrow_view) {
                commands.extend(view(p, self.narrow_view, ui, lab, parts));
            }
        });
    }

    /// Asks the window for a screenshot; the callback saves it as screenshot.png when it arrives (into the
    /// export folder on the desktop, as a download in the browser).
    fn request_screenshot(&mut self, ctx: &egui::Context) {
        let note = self.screenshot_note.clone();
        let folder = self.panels.export.folder.clone();
        ctx.request_screenshot(move |image| {
            let n = match files::png_bytes(&image).and_then(|png| files::save(&folder, &[("screenshot.png", png)])) {
                Ok(done) => Notice::info(done),
                Err(e) => Notice::error(format!("The screenshot could not be saved: {e}")),
            };
            if let Ok(mut g) = note.lock() {
                *g = Some(n);
            }
        });
        ctx.request_repaint();
    }
}

impl SpherelabApp {
    /// On a user's start (desktop or browser): the welcome card unless it was answered before (`remember`) or
    /// the link names a lesson; the answer is remembered from then on.
    pub fn greet(&mut self, answered_before: bool, link: &spherelab_core::url_state::ViewLink) {
        self.lab.guide.welcome_answered = answered_before;
        self.lab.guide.welcome = !answered_before && link.lesson.is_none() && !link.embed;
        self.remember_welcome = !answered_before;
        self.lab.open_link(link);
    }
}

impl eframe::App for SpherelabApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.pace(frame.info().cpu_usage);
        self.show(ui);
    }
}

type Parts = Vec<(&'static str, f64)>;

/// Below this width (in points) the lab lays out for a phone: one view at a time, the controls in a drawer.
pub const NARROW_WIDTH: f32 = 700.0;
/// How much larger presenter mode draws everything.
pub const PRESENTER_ZOOM: f32 = 1.35;

/// The views, in the order a narrow screen lists them.
const VIEWS: [Panel; 8] = [
    Panel::Embedding,
    Panel::Input,
    Panel::Curves,
    Panel::Similarity,
    Panel::Hardness,
    Panel::Theory,
    Panel::Pruning,
    Panel::Export,
];

const SIDE_TABS: [(SideTab, &str, &str); 4] = [
    (SideTab::Batch, "Batch", "The current batch: its similarity matrix and the hardness of the negatives."),
    (
        SideTab::Theory,
        "Theory",
        "The seed paper's similarity-graph model: bounds on the downstream error with and without difficult \
         examples, and with each remedy.",
    ),
    (SideTab::Pruning, "Pruning", "Remove the most difficult samples and retrain side by side, or over seeds."),
    (SideTab::Export, "Export", "Save embeddings, metrics, config, a screenshot; load a config; links to share."),
];

fn tab_panels(tab: SideTab) -> &'static [Panel] {
    match tab {
        SideTab::Batch => &[Panel::Similarity, Panel::Hardness],
        SideTab::Theory => &[Panel::Theory],
        SideTab::Pruning => &[Panel::Pruning],
        SideTab::Export => &[Panel::Export],
    }
}

/// A view's name on a phone's row of view buttons.
fn short_title(panel: Panel) -> &'static str {
    match panel {
        Panel::Input => "Input",
        Panel::Similarity => "Similarity",
        Panel::Hardness => "Hardness",
        other => other.title(),
    }
}

/// Draws `add` inside an orange frame when `watched` (the lesson points at it).
fn watch_frame(ui: &mut egui::Ui, watched: bool, add: impl FnOnce(&mut egui::Ui)) {
    if watched {
        egui::Frame::new().stroke(egui::Stroke::new(2.5, lesson::WATCH_COLOR)).inner_margin(3.0).show(ui, add);
    } else {
        add(ui);
    }
}

/// The name a view's drawing time is recorded under in `SpherelabApp::frame_parts` (None for a control section).
pub fn view_part_name(panel: Panel) -> Option<&'static str> {
    Some(match panel {
        Panel::Input => "input plane",
        Panel::Embedding => "embedding",
        Panel::Curves => "curves",
        Panel::Similarity => "similarity",
        Panel::Hardness => "hardness",
        Panel::Theory => "theory",
        Panel::Pruning => "pruning",
        Panel::Export => "export",
        _ => return None,
    })
}

/// Draws one view.
fn view(p: &mut Panels, panel: Panel, ui: &mut egui::Ui, lab: &Lab, parts: &mut Parts) -> Vec<Command> {
    let Some(name) = view_part_name(panel) else { return Vec::new() };
    timed(parts, name, || match panel {
        Panel::Input => p.input_plane.ui(ui, lab),
        Panel::Embedding => p.embedding.ui(ui, lab),
        Panel::Curves => p.curves.ui(ui, lab),
        Panel::Similarity => p.similarity.ui(ui, lab),
        Panel::Hardness => p.hardness.ui(ui, lab),
        Panel::Theory => egui::ScrollArea::vertical().id_salt("theory").show(ui, |ui| p.theory.ui(ui, lab)).inner,
        Panel::Pruning => p.pruning.ui(ui, lab),
        Panel::Export => p.export.ui(ui, lab),
        _ => Vec::new(),
    })
}

/// The views side by side in equal columns, the watched one framed.
fn columns(ui: &mut egui::Ui, p: &mut Panels, views: &[Panel], lab: &Lab, parts: &mut Parts, out: &mut Vec<Command>) {
    if views.is_empty() {
        return;
    }
    let avail = ui.available_size();
    let w = (avail.x - 8.0 * (views.len() - 1) as f32) / views.len() as f32;
    let watched = lab.guide.active.is_some().then(|| lab.guide.watched()).flatten();
    ui.horizontal(|ui| {
        for v in views {
            ui.allocate_ui(egui::vec2(w, avail.y), |ui| {
                ui.vertical(|ui| watch_frame(ui, watched == Some(*v), |ui| out.extend(view(p, *v, ui, lab, parts))));
            });
        }
    });
}

/// Adds, after egui's text fonts (Ubuntu-Light, Hack, egui-icons), the symbol fonts in egui's own fallback order:
/// subsets of egui's two emoji fonts with only the symbols the lab and egui's widgets draw (▶ ⏸ ✅ ⚠ ⏷ ☀ …;
/// scripts/subset-fonts.py cuts them, at egui's scale tweaks, so a symbol looks as with egui's
/// `monochrome_emoji_fonts`, which would embed 743 KB), then a subset of DejaVu Sans with the symbols of the
/// lessons' formulas (ẑᵢᵀẑⱼ, ‖·‖, ∈, →, ✓ …). All in crates/app/assets, their licences beside them. The test
/// `every_character_the_app_writes_has_a_glyph` fails on a string or lesson symbol none of the fonts has.
fn install_fonts(ctx: &egui::Context) {
    use egui::epaint::text::{FontInsert, FontPriority, FontTweak, InsertFontFamily};
    let fonts: [(&str, &'static [u8], f32); 3] = [
        ("NotoEmoji-subset", include_bytes!("../assets/NotoEmoji-subset.ttf"), 0.81),
        ("emoji-icon-font-subset", include_bytes!("../assets/emoji-icon-font-subset.ttf"), 0.90),
        ("dejavu-math", include_bytes!("../assets/DejaVuSans-math.ttf"), 1.0),
    ];
    for (name, bytes, scale) in fonts {
        let data = egui::FontData::from_static(bytes).tweak(FontTweak { scale, ..Default::default() });
        ctx.add_font(FontInsert::new(
            name,
            data,
            vec![
                InsertFontFamily { family: egui::FontFamily::Proportional, priority: FontPriority::Lowest },
                InsertFontFamily { family: egui::FontFamily::Monospace, priority: FontPriority::Lowest },
            ],
        ));
    }
}
