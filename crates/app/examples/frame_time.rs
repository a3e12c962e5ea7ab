//! Frame-time benchmark of the lab: the real app (`SpherelabApp`, default run, CPU backend) driven frame by
//! frame in a headless egui context at 1600×1000, playing, with the browser's training budget.
//!
//! For each frame it measures what the app controls: the training part (`Lab::tick`: steps, metrics,
//! snapshot), the panels' layout (the rest of `SpherelabApp::show`) and egui's tessellation of the
//! shapes; painting (GPU / WebGL) is not included. The first 30 frames (font atlas, first layout) are left
//! out. Then the pieces of the training part and each panel alone, to show where the time goes.
//!
//!     cargo run --release -p spherelab-app --example frame_time -- [frames] [training budget, ms] [--gpu]
//!
//! Without a budget, training is paced as in the app (pacing.rs). `--gpu` runs on the GPU engine (any
//! adapter, lavapipe included) instead of the CPU one: the frames must then never wait for the device.
//!
//! Native numbers; the browser runs the same code as wasm (roughly 1.5–2× slower), and reports its own
//! timings in `window.spherelab` (web/tests/e2e.mjs prints them).

use std::time::Instant;

use egui::{Pos2, RawInput, Rect, Vec2};
use spherelab_app::SpherelabApp;
use spherelab_app::backend_choice::BackendPreference;
use spherelab_app::lab::Lab;

/// Frames left out of the statistics: the first frames build the font atlas and lay out every text once.
const WARM_UP: usize = 30;

fn input(frame: usize) -> RawInput {
    RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, Vec2::new(1600.0, 1000.0))),
        time: Some(frame as f64 / 60.0),
        ..Default::default()
    }
}

/// Mean, 95th percentile and maximum of a series, in ms.
fn summary(name: &str, v: &[f64]) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
    let p95 = s[((s.len() as f64 * 0.95) as usize).min(s.len() - 1)];
    let max = s.last().copied().unwrap_or(0.0);
    println!("{name:<28} mean {mean:6.2} ms   p95 {p95:6.2} ms   max {max:6.2} ms");
}

fn main() {
    spherelab_core::parallel::start_pool_on_this_thread(); // as the app's main does
    let all: Vec<String> = std::env::args().collect();
    let gpu = all.iter().any(|a| a == "--gpu");
    let args: Vec<&String> = all.iter().filter(|a| !a.starts_with("--")).collect();
    let frames: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(600);
    // A fixed training budget in ms, or (by default) the app's pacing: training gets what the rest of the
    // frame leaves of its target (here the rest is layout and tessellation; there is no painting).
    let budget: Option<f64> = args.get(2).and_then(|a| a.parse().ok());

    let ctx = egui::Context::default();
    let backend = if gpu { BackendPreference::Gpu } else { BackendPreference::Cpu };
    let mut app = SpherelabApp::new(Lab::default_config(), backend);
    println!(
        "backend: {}",
        app.lab.session().map_or("none".into(), |s| format!("{} · {}", s.info().kind, s.info().adapter))
    );
    match budget {
        Some(ms) => app.lab.schedule.frame_budget_ms = ms,
        None => app.pacer = Some(spherelab_app::pacing::FramePacer::default()),
    }
    app.lab.schedule.playing = true;
    let mut last_frame_ms = None;
    let (mut tick, mut layout, mut tess, mut total) = (vec![], vec![], vec![], vec![]);
    let mut parts: Vec<(&'static str, Vec<f64>)> = Vec::new();
    for f in 0..frames + WARM_UP {
        app.pace(last_frame_ms);
        let t0 = Instant::now();
        let out = ctx.run_ui(input(f), |ui| app.show(ui));
        let t1 = Instant::now();
        let _ = ctx.tessellate(out.shapes, out.pixels_per_point);
        let t2 = Instant::now();
        last_frame_ms = Some((t2 - t0).as_secs_f32());
        if f < WARM_UP {
            continue;
        }
        for &(name, ms) in &app.frame_parts {
            match parts.iter_mut().find(|p| p.0 == name) {
                Some(p) => p.1.push(ms),
                None => parts.push((name, vec![ms])),
            }
        }
        let update = (t1 - t0).as_secs_f64() * 1e3;
        tick.push(app.lab.schedule.last_tick_ms);
        layout.push(update - app.lab.schedule.last_tick_ms);
        tess.push((t2 - t1).as_secs_f64() * 1e3);
        total.push((t2 - t0).as_secs_f64() * 1e3);
    }
    let budget =
        budget.map_or(format!("paced, {:.1} ms at the end", app.lab.schedule.frame_budget_ms), |b| format!("{b} ms"));
    println!(
        "{frames} frames, training budget {budget}, reached step {} ({} metric records)",
        app.lab.step_count(),
        app.lab.session().map(|s| s.history().metrics.len()).unwrap_or(0)
    );
    summary("training (Lab::tick)", &tick);
    summary("layout (panels)", &layout);
    summary("tessellation", &tess);
    summary("whole frame (no painting)", &total);
    println!("\nthe update's parts, as the app measures them (SpherelabApp::frame_parts):");
    for (name, v) in &parts {
        summary(name, v);
    }

    // The pieces of the training part, each alone.
    app.lab.schedule.playing = false;
    println!("\nthe training part's pieces, 50 of each:");
    let time = |f: &mut dyn FnMut()| {
        (0..50)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect::<Vec<_>>()
    };
    let session = app.lab.session.as_mut().expect("a run");
    summary("one step", &time(&mut || session.step().expect("step")));
    summary(
        "evaluate",
        &time(&mut || {
            session.evaluate().expect("evaluate");
        }),
    );
    summary("embeddings (all samples)", &time(&mut || drop(session.embeddings())));
    summary("inspect_batch", &time(&mut || drop(session.inspect_batch())));
    summary("refresh_snapshot", &time(&mut || app.lab.refresh_snapshot()));

    // Each panel alone, on the final state (paused so the lab does not change).
    println!("\nper panel, paused, 100 frames each:");
    macro_rules! panel {
        ($name:expr, $field:ident $(, $arg:expr)*) => {{
            let mut v = vec![];
            for f in 0..100 {
                let lab = &app.lab;
                let p = &mut app.panels.$field;
                let t0 = Instant::now();
                let out = ctx.run_ui(input(frames + WARM_UP + f), |ui| {
                    egui::CentralPanel::default().show(ui, |ui| {
                        let _ = p.ui(ui, lab $(, $arg)*);
                    });
                });
                let _ = ctx.tessellate(out.shapes, out.pixels_per_point);
                v.push(t0.elapsed().as_secs_f64() * 1e3);
            }
            summary($name, &v);
        }};
    }
    panel!("toolbar", toolbar, false);
    panel!("controls", controls, &|_| true);
    panel!("input plane", input_plane);
    panel!("embedding", embedding);
    panel!("curves", curves);
    panel!("similarity", similarity);
    panel!("hardness", hardness);
    panel!("theory", theory);
    panel!("pruning", pruning);
    panel!("export", export);
}
