//! Export and import: the embeddings with their metadata as TSV (the Embedding Projector's format), the
//! metrics as CSV, the config as JSON, a PNG of the window; and a config loaded back from JSON.
//!
//! The files are `spherelab_core::export`'s (the CLI writes the same ones). On the desktop they go to a folder
//! the user names; in the browser each becomes a download (`crate::files`).

use egui::RichText;
use serde::{Deserialize, Serialize};
use spherelab_core::export;

use crate::lab::{Command, Lab, Notice};

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct ExportPanel {
    /// Folder the files are written to (native).
    pub folder: String,
    /// Config JSON to load, pasted by the user.
    #[serde(skip)]
    pub config_text: String,
    /// Where the web build is served, for the share links (the page's own address in the browser).
    pub page: String,
}

impl Default for ExportPanel {
    fn default() -> Self {
        Self { folder: "spherelab-export".into(), config_text: String::new(), page: default_page() }
    }
}

/// The page the links point at: this page in the browser; a placeholder to replace on the desktop.
fn default_page() -> String {
    #[cfg(target_arch = "wasm32")]
    if let Some(l) = web_sys::window().map(|w| w.location()) {
        return format!("{}{}", l.origin().unwrap_or_default(), l.pathname().unwrap_or_default());
    }
    "https://example.org/spherelab/".to_string()
}

impl ExportPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Export and import").strong());
            super::help(
                ui,
                "Save what you see: embeddings.tsv + metadata.tsv load into the TensorFlow Embedding Projector \
                 (projector.tensorflow.org); metrics.csv for your own plots; config.json to reproduce the run \
                 (load it back below, or give it to the command line: spherelab train --config config.json).",
            );
        });
        let Some(session) = lab.session() else { return out };
        #[cfg(not(target_arch = "wasm32"))]
        ui.horizontal(|ui| {
            ui.label("folder");
            ui.text_edit_singleline(&mut self.folder).on_hover_text(
                "Files are written into this folder (created if needed), relative to where the app started.",
            );
        });
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Embeddings TSV")
                .on_hover_text(
                    "embeddings.tsv: the embedding z of every sample, one row each; metadata.tsv: its label, whether \
                     it is difficult (mixed or at a boundary), its split (train/test) and whether it was pruned.",
                )
                .clicked()
                && let Some(snap) = &lab.views.snapshot
            {
                let files = [
                    ("embeddings.tsv", export::embeddings_tsv(&snap.z).into_bytes()),
                    (
                        "metadata.tsv",
                        export::metadata_tsv(session.data(), session.split(), session.active_train()).into_bytes(),
                    ),
                ];
                out.push(self.save(&files));
            }
            if ui.button("Metrics CSV").on_hover_text("metrics.csv: every evaluation of this run.").clicked() {
                out.push(self.save(&[("metrics.csv", export::metrics_csv(session.history()).into_bytes())]));
            }
            if ui
                .button("Config JSON")
                .on_hover_text("config.json: every setting of this run, to reproduce it.")
                .clicked()
            {
                out.push(self.save(&[("config.json", session.config().to_json().into_bytes())]));
            }
            if ui
                .button("Window PNG")
                .on_hover_text("screenshot.png: a picture of the whole window as it is now.")
                .clicked()
            {
                out.push(Command::Screenshot);
            }
        });
        ui.separator();
        ui.label("Load a config (JSON)").on_hover_text("Paste a config.json and press Load: the run restarts with it.");
        ui.add(
            egui::TextEdit::multiline(&mut self.config_text)
                .desired_rows(3)
                .desired_width(f32::INFINITY)
                .font(egui::TextStyle::Monospace)
                .hint_text("{ \"seed\": 1, \"loss\": { \"tau\": 0.1 } }"),
        )
        .on_hover_text("Any subset of the config's keys; the rest keep their defaults. Unknown keys are an error.");
        ui.horizontal(|ui| {
            if ui.button("Load config").on_hover_text("Apply the pasted JSON config.").clicked() {
                out.push(Command::LoadConfigJson(self.config_text.clone()));
            }
            if ui
                .button("Copy current")
                .on_hover_text("Put the current config's JSON in the box above, to edit it.")
                .clicked()
            {
                self.config_text = session.config().to_json();
            }
            #[cfg(not(target_arch = "wasm32"))]
            if ui.button("Load config.json").on_hover_text("Read config.json from the folder above.").clicked() {
                let path = std::path::Path::new(&self.folder).join("config.json");
                match std::fs::read_to_string(&path) {
                    Ok(text) => out.push(Command::LoadConfigJson(text)),
                    Err(e) => out.push(Command::Notify(Notice::error(format!("{}: {e}", path.display())))),
                }
            }
        });
        ui.separator();
        super::lesson::share_ui(ui, lab, &mut self.page);
        out
    }

    /// Saves files (into the folder, or as downloads in the browser) and says where, or why not.
    pub fn save(&self, files: &[(&str, Vec<u8>)]) -> Command {
        Command::Notify(match crate::files::save(&self.folder, files) {
            Ok(done) => Notice::info(done),
            Err(e) => Notice::error(e),
        })
    }
}
