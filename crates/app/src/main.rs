//! The desktop lab: `cargo run --release` at the workspace root opens this window, training two moons.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use spherelab_app::SpherelabApp;
    use spherelab_app::desktop_args::{self, USAGE};
    use spherelab_app::lab::{Lab, Notice};
    use std::process::ExitCode;

    spherelab_core::memory::keep_freed_memory();
    spherelab_core::parallel::start_pool_on_this_thread();

    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match desktop_args::parse(&args) {
        Ok(a) if a.help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (backend, link) = (args.backend, args.link);
    // `--config run.json` starts from a saved config (the Export tab writes one); a bad file starts the default
    // run and says what was wrong.
    let (config, config_error) = match &args.config {
        None => (Lab::default_config(), None),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| spherelab_core::RunConfig::from_json(&text).map_err(|e| e.to_string()))
        {
            Ok(cfg) => (cfg, None),
            Err(e) => (Lab::default_config(), Some(format!("Could not load {path}: {e}. Started the default run."))),
        },
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("spherelab — contrastive learning, live")
            .with_inner_size([1600.0, 1000.0])
            .with_min_inner_size([1000.0, 640.0]),
        ..Default::default()
    };
    let opened = eframe::run_native(
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
    );
    match opened {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Most often no graphical session: over SSH, in a container, in CI.
            eprintln!(
                "error: could not open the lab's window: {e}\n  \
                 The desktop app needs a graphical session (DISPLAY or WAYLAND_DISPLAY set; under Xvfb, DISPLAY=:N).\n  \
                 Without one, the CLI runs the same engine (spherelab train --help), and ./web/build.sh builds the lab \
                 for a browser."
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
