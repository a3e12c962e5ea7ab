//! The desktop lab: `cargo run --release` at the workspace root opens this window, training two moons.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> eframe::Result {
    use spherelab_app::backend_choice::BackendPreference;
    use spherelab_app::{SpherelabApp, lab::Lab};

    // `--cpu` forces the CPU backend (for comparing, or when a GPU driver misbehaves); `--gpu` asks for the GPU
    // (still falling back, with the reason in the status line, when none is usable).
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend = if args.iter().any(|a| a == "--cpu") {
        BackendPreference::Cpu
    } else if args.iter().any(|a| a == "--gpu") {
        BackendPreference::Gpu
    } else {
        BackendPreference::Auto
    };
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
