//! The desktop lab: `cargo run --release` at the workspace root opens this window, training two moons.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> eframe::Result {
    use spherelab_app::SpherelabApp;
    use spherelab_app::backend_choice::BackendPreference;
    use spherelab_app::lab::{Lab, Notice};

    spherelab_core::memory::keep_freed_memory();
    spherelab_core::parallel::start_pool_on_this_thread();

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
    // `--config run.json` starts from a saved config (the Export tab writes one); a bad file starts the default
    // run and says what was wrong.
    let (config, config_error) = match args.iter().position(|a| a == "--config").map(|i| args.get(i + 1)) {
        None => (Lab::default_config(), None),
        Some(None) => (Lab::default_config(), Some("--config needs a file: --config run.json".to_string())),
        Some(Some(path)) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| spherelab_core::RunConfig::from_json(&text).map_err(|e| e.to_string()))
        {
            Ok(cfg) => (cfg, None),
            Err(e) => (Lab::default_config(), Some(format!("Could not load {path}: {e}. Started the default run."))),
        },
    };
    // `--lesson temperature --step 3 --presenter --hide loss,theory --embed`: what a browser link's hash says.
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let link = spherelab_core::url_state::ViewLink {
        lesson: value("--lesson"),
        step: value("--step"),
        presenter: args.iter().any(|a| a == "--presenter"),
        embed: args.iter().any(|a| a == "--embed"),
        hide: value("--hide").map(|h| h.split(',').map(|s| s.trim().to_string()).collect()).unwrap_or_default(),
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
            let mut app = SpherelabApp::new(config, backend);
            app.greet(spherelab_app::remember::welcome_answered(), &link);
            app.pacer = Some(spherelab_app::pacing::FramePacer::default());
            // Users are greeted by a run that is already learning.
            app.lab.schedule.playing = true;
            if let Some(e) = config_error {
                app.lab.notify(Notice::error(e));
            }
            Ok(Box::new(app))
        }),
    )
}

#[cfg(target_arch = "wasm32")]
fn main() {}
