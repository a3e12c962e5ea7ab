//! Export and import: the embeddings with their metadata as TSV (the Embedding Projector's format), the
//! metrics as CSV, the config as JSON, a PNG of the window; and a config loaded back from JSON.
//!
//! On native targets files go to a folder the user names. In the browser there is no file system: the
//! texts are shown for copying here, and issue 5's web build turns the same strings into downloads.

use egui::RichText;
use serde::{Deserialize, Serialize};
use spherelab_core::Session;

#[cfg(not(target_arch = "wasm32"))]
use crate::lab::Notice;
use crate::lab::{Command, Lab};

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct ExportPanel {
    /// Folder the files are written to (native).
    pub folder: String,
    /// Config JSON to load, pasted by the user.
    #[serde(skip)]
    pub config_text: String,
}

impl Default for ExportPanel {
    fn default() -> Self {
        Self { folder: "spherelab-export".into(), config_text: String::new() }
    }
}

/// The embeddings as TSV: one row per sample, one column per coordinate (no header).
pub fn embeddings_tsv(z: &spherelab_core::Matrix<f32>) -> String {
    let mut s = String::new();
    for r in 0..z.rows {
        let row: Vec<String> = z.row(r).iter().map(|v| format!("{v}")).collect();
        s.push_str(&row.join("\t"));
        s.push('\n');
    }
    s
}

/// The metadata TSV that goes with `embeddings_tsv` (header row, then one row per sample).
pub fn metadata_tsv(session: &dyn Session) -> String {
    let data = session.data();
    let mut test = vec![false; data.len()];
    for &i in &session.split().test {
        test[i] = true;
    }
    let mut s = String::from("index\tlabel\tdifficult\tmixed\tboundary\tsplit\n");
    for (i, &is_test) in test.iter().enumerate() {
        s.push_str(&format!(
            "{i}\t{}\t{}\t{}\t{}\t{}\n",
            data.labels[i],
            data.difficult(i) as u8,
            data.mixed[i] as u8,
            data.boundary[i] as u8,
            if is_test { "test" } else { "train" }
        ));
    }
    s
}

/// The metrics history as CSV, one row per evaluation.
pub fn metrics_csv(session: &dyn Session) -> String {
    let mut s = String::from(
        "step,loss,alignment,uniformity,tolerance,knn_accuracy,probe_accuracy,effective_rank,selection_precision,flagged_fraction\n",
    );
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for m in &session.history().metrics {
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            m.step,
            m.loss,
            m.alignment,
            m.uniformity,
            m.tolerance,
            m.knn_accuracy,
            m.probe_accuracy,
            m.effective_rank,
            opt(m.selection_precision),
            opt(m.flagged_fraction)
        ));
    }
    s
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
        {
            ui.horizontal(|ui| {
                ui.label("folder");
                ui.text_edit_singleline(&mut self.folder).on_hover_text(
                    "Files are written into this folder (created if needed), relative to where the app started.",
                );
            });
            ui.horizontal_wrapped(|ui| {
                if ui
                    .button("Embeddings TSV")
                    .on_hover_text("embeddings.tsv and metadata.tsv of every sample.")
                    .clicked()
                    && let Some(snap) = &lab.snapshot
                {
                    let files = [("embeddings.tsv", embeddings_tsv(&snap.z)), ("metadata.tsv", metadata_tsv(session))];
                    out.push(self.write(&files));
                }
                if ui.button("Metrics CSV").on_hover_text("metrics.csv: every evaluation of this run.").clicked() {
                    out.push(self.write(&[("metrics.csv", metrics_csv(session))]));
                }
                if ui
                    .button("Config JSON")
                    .on_hover_text("config.json: every setting of this run, to reproduce it.")
                    .clicked()
                {
                    out.push(self.write(&[("config.json", session.config().to_json())]));
                }
                if ui
                    .button("Window PNG")
                    .on_hover_text("screenshot.png: a picture of the whole window as it is now.")
                    .clicked()
                {
                    out.push(Command::Screenshot);
                }
            });
        }
        #[cfg(target_arch = "wasm32")]
        {
            ui.label("In the browser, copy the config below; downloads come with the web build.");
        }
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
        out
    }

    /// Writes files into the folder and says where (or why not).
    #[cfg(not(target_arch = "wasm32"))]
    fn write(&self, files: &[(&str, String)]) -> Command {
        let dir = std::path::Path::new(&self.folder);
        let result = std::fs::create_dir_all(dir).and_then(|_| {
            for (name, text) in files {
                std::fs::write(dir.join(name), text)?;
            }
            Ok(())
        });
        let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
        Command::Notify(match result {
            Ok(()) => Notice::info(format!("Wrote {} to {}", names.join(", "), dir.display())),
            Err(e) => Notice::error(format!("Could not write to {}: {e}", dir.display())),
        })
    }
}
