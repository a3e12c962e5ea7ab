//! The desktop lab: `cargo run --release` at the workspace root opens this window, training two moons.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> eframe::Result {
    use spherelab_app::backend_choice::BackendPreference;
    use spherelab_app::{SpherelabApp, lab::Lab};

    // `--cpu` forces the CPU backend (for comparing, or when a GPU driver misbehaves).
    let backend = if std::env::args().any(|a| a == "--cpu") { BackendPreference::Cpu } else { BackendPreference::Auto };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("spherelab — contrastive learning, live")
            .with_inner_size([1600.0, 1000.0])
            .with_min_inner_size([1000.0, 640.0]),
        ..Default::default()
    };
    eframe::run_native(
        "spherelab",
        options,
        Box::new(move |_cc| {
            let mut app = SpherelabApp::new(Lab::default_config(), backend);
            // Users are greeted by a run that is already learning.
            app.lab.playing = true;
            Ok(Box::new(app))
        }),
    )
}

#[cfg(target_arch = "wasm32")]
fn main() {}
