//! The browser entry (wasm32 only): the desktop app's `SpherelabApp`, drawn by eframe's WebGL2 (glow)
//! renderer on the page's canvas, plus what only a web page has:
//! - the backend: WebGPU when the browser gives a compute-capable adapter, else the CPU; `?backend=cpu` or
//!   `?backend=gpu` in the URL forces one (gpu without WebGPU falls back with a notice);
//! - the whole configuration in the URL's hash (core's `share` format), so a link reproduces a run and
//!   the back button goes back to the previous settings; a broken hash falls back to the defaults, saying so;
//! - a panic hook that writes the panic into the page, so a crash is never a silently frozen canvas;
//! - `window.spherelab`, a small status object (backend, step, loss, config, notice, error, frame timings)
//!   that the browser tests read, and anyone can read from the console;
//! - `?selftest`: the GPU self-test (spherelab_gpu::selftest: every op of a step and a 4,096-view × 128
//!   InfoNCE against the CPU engine) on the browser's WebGPU adapter, its verdict shown as a notice and
//!   published as `window.spherelab.selftest` = {passed, adapter, summary, worstCheck, worstRatio, checks}.
//! - `?bench`: T1-plain and T1-selected training steps timed in the page (step_timer.rs, the native bench's
//!   measurement) on the CPU engine and, when there is an adapter, on WebGPU (`?bench=cpu`: the CPU engine
//!   only); the lab is paused meanwhile. First it times the page's own ceiling (page_ceiling.rs), and each
//!   row gives the case's GFLOP/s (core's `bench_cases::flops_per_step`) and, on the CPU engine, its share of
//!   that ceiling. Published as `window.spherelab.bench` = {done, ceiling: {gflops, how} | {error} | null,
//!   rows: [{case, backend, stepsPerSecond, gflops, shareOfCeiling | error}]}.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use spherelab_core::{RunConfig, url_state};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_time::Instant;

use crate::SpherelabApp;
use crate::backend_choice::{self, BackendPreference};
use crate::lab::{Command, Lab, Level, Notice};

/// Frames over which the timings in the status object are taken.
const STATS_FRAMES: usize = 120;

/// Runs when the wasm module is instantiated (index.html imports it): installs the panic hook, opens the
/// GPU when asked, then starts the app on the canvas.
#[wasm_bindgen(start)]
pub fn start() {
    install_panic_hook();
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = run().await {
            show_error(&format!("spherelab could not start: {e}"));
        }
    });
}

async fn run() -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let canvas = document
        .get_element_by_id("spherelab_canvas")
        .ok_or("the page has no canvas with id spherelab_canvas")?
        .dyn_into::<web_sys::HtmlCanvasElement>()
        .map_err(|_| "spherelab_canvas is not a canvas")?;

    let search = window.location().search().unwrap_or_default();
    let (pref, mut notices) = backend_from_query(&search);
    // `?crash-test` makes the app panic on its tenth frame: the browser test checks that the page then
    // shows the error instead of a frozen canvas.
    let crash_test = search.contains("crash-test");
    // `?continuous` redraws every frame even when nothing changes (egui redraws on demand): the page's frame
    // rate can then be measured paused, without training, and compared with training (web/tests/e2e.mjs).
    let continuous = search.contains("continuous");
    let selftest = search.contains("selftest");
    // `?bench` times on the CPU engine and WebGPU; `?bench=cpu` on the CPU engine only (web/test.sh's default:
    // on SwiftShader the WebGPU cases take minutes, mostly compiling pipelines).
    let bench_arg = search.split(['?', '&']).find(|p| *p == "bench" || p.starts_with("bench="));
    let bench = bench_arg.is_some();
    let bench_gpu = bench_arg != Some("bench=cpu");
    set_status("phase", &"opening the backend".into());
    if pref != BackendPreference::Cpu || selftest || bench {
        // The adapter request is asynchronous in the browser, so it happens here, before the app exists; the
        // app then opens every run synchronously on this device.
        if let Err(why) = backend_choice::open_browser_gpu().await
            && pref == BackendPreference::Gpu
        {
            notices.push(Notice::warning(format!(
                "?backend=gpu: WebGPU is not usable here ({why}); training on the CPU."
            )));
        }
    }

    let fragment = window.location().hash().unwrap_or_default();
    // `lesson=`, `step=`, `presenter=`, `embed=`, `hide=` say how to show the lab; the rest is the run.
    let (link, settings) = url_state::split_view_keys(&fragment);
    let (config, hash_notice) = config_from_hash(&settings);
    notices.extend(hash_notice.map(Notice::warning));

    let hash_changed = Rc::new(RefCell::new(None::<String>));
    let runner = eframe::WebRunner::new();
    let changed = hash_changed.clone();
    runner
        .start(
            canvas,
            eframe::WebOptions::default(),
            Box::new(move |cc| {
                listen_for_hash_changes(&cc.egui_ctx, changed);
                let mut app = SpherelabApp::new(config, pref);
                // Training takes what the panels' layout and drawing leave of each frame (pacing.rs).
                app.pacer = Some(crate::pacing::FramePacer::default());
                // Visitors are greeted by a run that is already learning, as on the desktop.
                app.lab.schedule.playing = true;
                for n in notices {
                    app.lab.notify(n);
                }
                // The bench pauses the lab, so the card's "learning behind this card, right now" would not be true;
                // a page opened to measure is not a visitor's first start either.
                if !bench {
                    app.greet(crate::remember::welcome_answered(), &link);
                }
                let selftest = selftest.then_some(SelfTestState::Waiting);
                // The bench times steps alone: the lab's own training would share the thread and the GPU.
                app.lab.schedule.playing &= !bench;
                let bench = bench.then(|| WebBench::new(bench_gpu));
                Ok(Box::new(WebApp { crash_test, continuous, selftest, bench, ..WebApp::new(app, hash_changed) }))
            }),
        )
        .await
        .map_err(|e| format!("{e:?}"))?;
    set_status("phase", &"running".into());
    if let Some(el) = document.get_element_by_id("spherelab_loading") {
        let _ = el.set_attribute("class", "hidden");
    }
    // The runner must outlive this function; the page lives as long as it does.
    std::mem::forget(runner);
    Ok(())
}

/// `?backend=cpu|gpu|auto`; anything else is ignored with a notice.
fn backend_from_query(search: &str) -> (BackendPreference, Vec<Notice>) {
    let value = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|p| p.strip_prefix("backend="))
        .map(|v| v.to_ascii_lowercase());
    match value.as_deref().map(BackendPreference::parse) {
        None => (BackendPreference::Auto, vec![]),
        Some(Ok(pref)) => (pref, vec![]),
        Some(Err(why)) => {
            (BackendPreference::Auto, vec![Notice::warning(format!("?backend= {why}: choosing automatically."))])
        }
    }
}

/// The config a URL hash describes: the app's default run for an empty hash; the defaults and a notice
/// saying what was wrong for a broken one.
fn config_from_hash(hash: &str) -> (RunConfig, Option<String>) {
    let fragment = hash.trim_start_matches('#');
    if fragment.is_empty() {
        return (Lab::default_config(), None);
    }
    match url_state::from_fragment_or_default(fragment) {
        (cfg, None) => (cfg, None),
        // `share` falls back to the engine's defaults; the app's own default run is the one users know.
        (_, Some(notice)) => (Lab::default_config(), Some(notice)),
    }
}

/// The back and forward buttons (and a hand-edited hash) change the hash; the next frame applies it.
fn listen_for_hash_changes(ctx: &egui::Context, changed: Rc<RefCell<Option<String>>>) {
    let Some(window) = web_sys::window() else { return };
    let ctx = ctx.clone();
    let on_change = Closure::<dyn FnMut()>::new(move || {
        if let Some(w) = web_sys::window() {
            *changed.borrow_mut() = Some(w.location().hash().unwrap_or_default());
        }
        ctx.request_repaint();
    });
    // Both events, since browsers differ in which one a history traversal fires; applying is idempotent.
    for event in ["hashchange", "popstate"] {
        let _ = window.add_event_listener_with_callback(event, on_change.as_ref().unchecked_ref());
    }
    on_change.forget();
}

/// One frame's timings, in ms.
struct FrameRecord {
    /// The update: training and the panels' layout (`SpherelabApp::show`).
    update_ms: f64,
    /// Its training part (`Lab::tick`), and the steps it took.
    tick_ms: f64,
    steps: usize,
    /// eframe's measure of the previous frame's whole work in wasm: the update, egui's tessellation and the
    /// WebGL calls (not the browser's own rasterising and compositing); NaN when eframe has none.
    cpu_ms: f64,
    /// The update's parts (`SpherelabApp::frame_parts`).
    parts: Vec<(&'static str, f64)>,
}

/// The app with what the page adds: the URL hash kept in step with the config, and the status object.
struct WebApp {
    app: SpherelabApp,
    /// The hash the URL holds for the current config (without '#'); `None` before the first write.
    written: Option<String>,
    hash_changed: Rc<RefCell<Option<String>>>,
    /// The timings of the recent frames (at most `STATS_FRAMES`), oldest first.
    frames: VecDeque<FrameRecord>,
    frame_count: u64,
    crash_test: bool,
    continuous: bool,
    selftest: Option<SelfTestState>,
    bench: Option<WebBench>,
}

/// `?bench`: the cases to time, the one being timed, and the rows measured so far.
struct WebBench {
    /// The page's timed ceiling, or why it could not be timed; None until it has been.
    ceiling: Option<Result<crate::page_ceiling::Ceiling, String>>,
    /// Timing the ceiling (before the first case); None once done.
    ceiling_timer: Option<crate::page_ceiling::CeilingTimer>,
    queue: VecDeque<(&'static str, BenchBackend)>,
    running: Option<BenchRun>,
    rows: Vec<(&'static str, BenchBackend, Result<f64, String>)>,
}

#[derive(Clone, Copy)]
enum BenchBackend {
    Cpu,
    WebGpu,
}

impl BenchBackend {
    fn name(self) -> &'static str {
        match self {
            BenchBackend::Cpu => "cpu (wasm)",
            BenchBackend::WebGpu => "webgpu",
        }
    }
}

enum BenchRun {
    Cpu(Box<crate::step_timer::StepTimer<spherelab_core::Cpu<f32>>>),
    WebGpu(Box<crate::step_timer::StepTimer<spherelab_gpu::Gpu>>),
}

impl BenchRun {
    /// The case and the backend, for its row.
    fn names(&self) -> (&'static str, BenchBackend) {
        match self {
            BenchRun::Cpu(t) => (t.case, BenchBackend::Cpu),
            BenchRun::WebGpu(t) => (t.case, BenchBackend::WebGpu),
        }
    }
}

/// Timed steps per case: as `spherelab bench`'s default for T1 on the CPU; fewer on WebGPU, where a software
/// adapter (SwiftShader in the tests) takes ~0.1 s a step.
const BENCH_CPU_STEPS: usize = 100;
const BENCH_GPU_STEPS: usize = 20;
/// How long the CPU engine's cases warm up before the clock starts: long enough for the browser's JIT to have
/// replaced the engine's baseline code by optimised code (step_timer.rs). The WebGPU cases keep the fixed
/// warm-up: their steps are queued, not finished, when `step` returns.
const BENCH_CPU_WARM_UP: web_time::Duration = web_time::Duration::from_secs(1);

impl WebBench {
    fn new(with_gpu: bool) -> Self {
        let backends: &[BenchBackend] =
            if with_gpu { &[BenchBackend::Cpu, BenchBackend::WebGpu] } else { &[BenchBackend::Cpu] };
        let queue = backends.iter().copied().flat_map(|b| ["T1-plain", "T1-selected"].map(|c| (c, b))).collect();
        Self {
            ceiling: None,
            ceiling_timer: Some(crate::page_ceiling::CeilingTimer::start()),
            queue,
            running: None,
            rows: Vec::new(),
        }
    }

    fn done(&self) -> bool {
        self.ceiling_timer.is_none() && self.queue.is_empty() && self.running.is_none()
    }

    /// Times the ceiling (the first call), then polls the case being timed, or starts the next; at most one
    /// case's work per frame.
    fn advance(&mut self) {
        if let Some(timer) = &mut self.ceiling_timer {
            if let Some(ceiling) = timer.poll() {
                self.ceiling = Some(ceiling);
                self.ceiling_timer = None;
            }
            return;
        }
        if let Some(run) = &mut self.running {
            let (case, backend) = run.names();
            let rate = match run {
                BenchRun::Cpu(t) => t.poll(),
                BenchRun::WebGpu(t) => t.poll(),
            };
            match rate {
                Ok(None) => return,
                Ok(Some(r)) => self.rows.push((case, backend, Ok(r))),
                Err(e) => self.rows.push((case, backend, Err(e.to_string()))),
            }
            self.running = None;
        }
        let Some((case, backend)) = self.queue.pop_front() else { return };
        use crate::step_timer::StepTimer;
        let started = match backend {
            BenchBackend::Cpu => {
                StepTimer::start(spherelab_core::Cpu::<f32>::new(), case, BENCH_CPU_STEPS, BENCH_CPU_WARM_UP)
                    .map(|t| BenchRun::Cpu(Box::new(t)))
                    .map_err(|e| e.to_string())
            }
            BenchBackend::WebGpu => crate::backend_choice::try_gpu()
                .map_err(|why| format!("no WebGPU adapter ({why})"))
                .and_then(|gpu| {
                    StepTimer::start(gpu, case, BENCH_GPU_STEPS, web_time::Duration::ZERO).map_err(|e| e.to_string())
                })
                .map(|t| BenchRun::WebGpu(Box::new(t))),
        };
        match started {
            Ok(run) => self.running = Some(run),
            Err(e) => self.rows.push((case, backend, Err(e))),
        }
    }

    /// `window.spherelab.bench`.
    fn publish(&self) {
        let rows = js_sys::Array::new();
        for (case, backend, rate) in &self.rows {
            let row = js_sys::Object::new();
            let put = |k: &str, v: JsValue| {
                let _ = js_sys::Reflect::set(&row, &k.into(), &v);
            };
            put("case", (*case).into());
            put("backend", backend.name().into());
            match rate {
                Ok(r) => {
                    put("stepsPerSecond", JsValue::from_f64(*r));
                    if let Some(flops) = spherelab_core::bench_cases::flops_per_step(case) {
                        let gflops = flops * r / 1e9;
                        put("gflops", JsValue::from_f64(gflops));
                        // The ceiling is the CPU's: a share only for the rows the CPU engine computed.
                        if let (Some(Ok(c)), BenchBackend::Cpu) = (&self.ceiling, backend) {
                            put("shareOfCeiling", JsValue::from_f64(gflops / c.gflops));
                        }
                    }
                }
                Err(e) => put("error", e.clone().into()),
            }
            rows.push(&row);
        }
        let obj = js_sys::Object::new();
        let ceiling = match &self.ceiling {
            Some(result) => {
                let o = js_sys::Object::new();
                let put = |k: &str, v: JsValue| {
                    let _ = js_sys::Reflect::set(&o, &k.into(), &v);
                };
                match result {
                    Ok(c) => {
                        put("gflops", JsValue::from_f64(c.gflops));
                        put("how", c.how.clone().into());
                    }
                    Err(why) => put("error", why.clone().into()),
                }
                o.into()
            }
            None => JsValue::NULL,
        };
        let _ = js_sys::Reflect::set(&obj, &"ceiling".into(), &ceiling);
        let _ = js_sys::Reflect::set(&obj, &"done".into(), &self.done().into());
        let _ = js_sys::Reflect::set(&obj, &"rows".into(), &rows);
        set_status("bench", &obj.into());
    }

    /// The table as one notice line.
    fn summary(&self) -> String {
        let cells: Vec<String> = self
            .rows
            .iter()
            .map(|(case, backend, rate)| match rate {
                Ok(r) => format!("{case} on {}: {r:.1} steps/s", backend.name()),
                Err(e) => format!("{case} on {}: {e}", backend.name()),
            })
            .collect();
        let ceiling = match &self.ceiling {
            Some(Ok(c)) => format!(" (page ceiling {:.1} GFLOP/s)", c.gflops),
            Some(Err(why)) => format!(" (page ceiling {why})"),
            None => String::new(),
        };
        format!("bench: {}{ceiling}", cells.join("; "))
    }
}

/// `?selftest`: started on the second frame (so the page has drawn once before the CPU references, a few
/// seconds of work, block it), polled every frame until its read-back lands.
enum SelfTestState {
    Waiting,
    Running(Box<spherelab_gpu::selftest::SelfTest>, Box<spherelab_gpu::Gpu>),
    Done,
}

impl WebApp {
    fn new(app: SpherelabApp, hash_changed: Rc<RefCell<Option<String>>>) -> Self {
        Self {
            app,
            written: None,
            hash_changed,
            frames: VecDeque::new(),
            frame_count: 0,
            crash_test: false,
            continuous: false,
            selftest: None,
            bench: None,
        }
    }

    /// Advances `?selftest`: starts it, polls it, and reports the verdict as a notice and in the status object.
    fn advance_selftest(&mut self) {
        use spherelab_gpu::selftest::{LARGE_DIM, LARGE_VIEWS, SelfTest};
        let report = match self.selftest.take() {
            None | Some(SelfTestState::Done) => return,
            Some(SelfTestState::Waiting) if self.frame_count < 2 => {
                self.selftest = Some(SelfTestState::Waiting);
                return;
            }
            Some(SelfTestState::Waiting) => match crate::backend_choice::try_gpu() {
                Err(why) => Err(format!("no usable WebGPU adapter ({why}): the self-test needs one")),
                Ok(gpu) => {
                    set_status("phase", &"running the GPU self-test".into());
                    // Without the wide case (2–3 minutes on SwiftShader, 252 s in CI): what a visitor waits for.
                    match SelfTest::start(&gpu, LARGE_VIEWS, LARGE_DIM, false) {
                        Ok(t) => {
                            self.selftest = Some(SelfTestState::Running(Box::new(t), Box::new(gpu)));
                            return;
                        }
                        Err(e) => Err(e),
                    }
                }
            },
            Some(SelfTestState::Running(mut t, gpu)) => match t.poll(&gpu) {
                None => {
                    self.selftest = Some(SelfTestState::Running(t, gpu));
                    return;
                }
                Some(r) => r,
            },
        };
        self.selftest = Some(SelfTestState::Done);
        set_status("phase", &"running".into());
        let obj = js_sys::Object::new();
        let put = |k: &str, v: JsValue| {
            let _ = js_sys::Reflect::set(&obj, &k.into(), &v);
        };
        match report {
            Ok(report) => {
                put("passed", report.passed().into());
                put("adapter", report.adapter.clone().into());
                put("summary", report.summary().into());
                put("checks", JsValue::from_f64(report.checks.len() as f64));
                if let Some(w) = report.worst() {
                    put("worstCheck", w.name.clone().into());
                    put("worstRatio", JsValue::from_f64(w.comparison.worst_ratio()));
                }
                put("report", report.render().into());
                let notice =
                    if report.passed() { Notice::info(report.summary()) } else { Notice::error(report.summary()) };
                self.app.lab.notify(notice);
            }
            Err(e) => {
                put("passed", false.into());
                put("error", e.clone().into());
                self.app.lab.notify(Notice::error(format!("GPU self-test: {e}")));
            }
        }
        set_status("selftest", &obj.into());
    }

    /// Advances `?bench` from the second frame on (the page has drawn once), one case's work per frame.
    fn advance_bench(&mut self) {
        let Some(bench) = &mut self.bench else { return };
        if self.frame_count < 2 || bench.done() {
            return;
        }
        set_status("phase", &"running the bench".into());
        bench.advance();
        bench.publish();
        if bench.done() {
            set_status("phase", &"running".into());
            self.app.lab.notify(Notice::info(bench.summary()));
        }
    }

    /// Applies a hash the user navigated to (unless it is the one this app wrote): its run, and its lesson
    /// and step when they differ from the ones shown.
    fn apply_hash(&mut self, hash: &str) {
        let fragment = hash.trim_start_matches('#');
        if self.written.as_deref() == Some(fragment) {
            return;
        }
        let (link, settings) = url_state::split_view_keys(fragment);
        let (config, notice) = config_from_hash(&settings);
        if let Some(n) = notice {
            self.app.lab.notify(Notice::warning(n));
        }
        // The next write replaces this entry (a broken hash by the defaults' link, a hand-written one by its
        // canonical form) instead of adding one, so the back button goes to the previous config.
        self.written = None;
        self.app.lab.custom_data = None;
        self.app.lab.apply(Command::SetConfig(Box::new(config)));
        let lab = &mut self.app.lab;
        let shown = lab.guide.lesson().map(|l| l.id.clone());
        let shown_step = lab.guide.active.as_ref().map(|p| (p.step + 1).to_string());
        if link.lesson.is_none() && shown.is_some() {
            lab.apply(Command::CloseLesson);
        }
        if link.lesson != shown || link.step != shown_step || link.presenter != lab.guide.presenter {
            lab.open_link(&link);
        }
    }

    /// Writes the current config into the hash when it changed: a new history entry, so back undoes it.
    /// Not while a slider is being dragged (one entry per drag, not one per frame).
    fn write_hash(&mut self, ctx: &egui::Context) {
        let Some(config) = self.app.lab.config() else { return };
        let guide = &self.app.lab.guide;
        let view = guide.link_keys(guide.embed, guide.presenter);
        let fragment =
            [url_state::to_fragment(config), view].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("&");
        if self.written.as_deref() == Some(fragment.as_str()) || ctx.input(|i| i.pointer.any_down()) {
            return;
        }
        let Some(history) = web_sys::window().and_then(|w| w.history().ok()) else { return };
        let url = format!("#{fragment}");
        // The first write (and the one after a broken link) replaces the entry the page was opened with.
        let _ = if self.written.is_none() {
            history.replace_state_with_url(&JsValue::NULL, "", Some(&url))
        } else {
            history.push_state_with_url(&JsValue::NULL, "", Some(&url))
        };
        self.written = Some(fragment);
    }

    fn publish_status(&self) {
        let lab = &self.app.lab;
        let info = lab.session().map(|s| s.info());
        let steps = lab.session().map(|s| &s.history().steps[..]).unwrap_or(&[]);
        let recent = &steps[steps.len().saturating_sub(20)..];
        let mean = |v: &[spherelab_core::trainer::StepRecord]| {
            if v.is_empty() { f64::NAN } else { v.iter().map(|r| r.loss as f64).sum::<f64>() / v.len() as f64 }
        };
        let playing_frames: Vec<&FrameRecord> = self.frames.iter().filter(|f| f.steps > 0).collect();
        let n = playing_frames.len().max(1) as f64;
        let num = |v: f64| JsValue::from_f64(v);
        // Every frame: look the status object up once, not once per key.
        let Some(status) = status_object() else { return };
        let set_status = |key: &str, value: &JsValue| {
            let _ = js_sys::Reflect::set(&status, &key.into(), value);
        };
        set_status("backend", &info.as_ref().map(|i| i.kind.clone()).unwrap_or_default().into());
        set_status("adapter", &info.as_ref().map(|i| i.adapter.clone()).unwrap_or_default().into());
        set_status("backendLine", &lab.backend_line.clone().into());
        set_status("step", &num(lab.step_count() as f64));
        set_status("loss", &num(steps.last().map(|r| r.loss as f64).unwrap_or(f64::NAN)));
        set_status("lossRecent", &num(mean(recent)));
        set_status("firstLoss", &num(steps.first().map(|r| r.loss as f64).unwrap_or(f64::NAN)));
        set_status("lossesRead", &num(steps.len() as f64));
        set_status("metrics", &num(lab.session().map(|s| s.history().metrics.len()).unwrap_or(0) as f64));
        set_status("snapshotStep", &num(lab.views.snapshot.as_ref().map(|s| s.step as f64).unwrap_or(f64::NAN)));
        set_status("playing", &lab.schedule.playing.into());
        let cfg = lab.config();
        set_status("fragment", &cfg.map(url_state::to_fragment).unwrap_or_default().into());
        set_status("seed", &num(cfg.map(|c| c.seed as f64).unwrap_or(f64::NAN)));
        set_status("tau", &num(cfg.map(|c| c.loss.tau as f64).unwrap_or(f64::NAN)));
        set_status("dataset", &cfg.map(|c| format!("{:?}", c.data.dataset).to_lowercase()).unwrap_or_default().into());
        let notice = lab.notices.iter().rev().find(|n| n.level != Level::Info).or(lab.notices.last());
        set_status("notice", &notice.map(|n| n.text.clone()).unwrap_or_default().into());
        set_status("diverged", &lab.diverged.clone().unwrap_or_default().into());
        set_status("frames", &num(self.frame_count as f64));
        set_status("stepsPerSecond", &num(lab.schedule.steps_per_second));
        // Over the recent frames that trained: the update's time (training steps plus the UI's layout) and
        // the steps taken per frame.
        let p95 = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(((v.len() as f64 * 0.95) as usize).min(v.len().saturating_sub(1))).copied().unwrap_or(f64::NAN)
        };
        set_status("frameMsP95", &num(p95(playing_frames.iter().map(|f| f.update_ms).collect())));
        set_status("tickMsP95", &num(p95(playing_frames.iter().map(|f| f.tick_ms).collect())));
        set_status("frameMsAvg", &num(playing_frames.iter().map(|f| f.update_ms).sum::<f64>() / n));
        set_status("frameMsMax", &num(playing_frames.iter().map(|f| f.update_ms).fold(0.0, f64::max)));
        set_status("tickMsAvg", &num(playing_frames.iter().map(|f| f.tick_ms).sum::<f64>() / n));
        set_status("tickMsMax", &num(playing_frames.iter().map(|f| f.tick_ms).fold(0.0, f64::max)));
        set_status("stepsPerFrame", &num(playing_frames.iter().map(|f| f.steps as f64).sum::<f64>() / n));
        // Where the time goes, part by part, over the recent frames: {name: [mean ms, max ms]}.
        let parts = js_sys::Object::new();
        let all_parts = || self.frames.iter().flat_map(|f| &f.parts);
        let mut names: Vec<&'static str> = all_parts().map(|p| p.0).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let v: Vec<f64> = all_parts().filter(|p| p.0 == name).map(|p| p.1).collect();
            let stats = js_sys::Array::of2(
                &num(v.iter().sum::<f64>() / self.frames.len().max(1) as f64),
                &num(v.iter().copied().fold(0.0, f64::max)),
            );
            let _ = js_sys::Reflect::set(&parts, &name.into(), &stats);
        }
        set_status("frameParts", &parts.into());
        let cpu: Vec<f64> = self.frames.iter().map(|f| f.cpu_ms).filter(|v| v.is_finite()).collect();
        set_status("cpuMsAvg", &num(cpu.iter().sum::<f64>() / cpu.len().max(1) as f64));
        set_status("cpuMsMax", &num(cpu.iter().copied().fold(0.0, f64::max)));
        set_status("cpuMsP95", &num(p95(cpu)));
        set_status("trainBudgetMs", &num(lab.schedule.frame_budget_ms));
        // The lesson: {id, title, step (from 1), steps, observed (the shown step's condition has held),
        // observedSteps, answered}, or null outside one; and the modes.
        let lesson = match (lab.guide.lesson(), lab.guide.active.as_ref()) {
            (Some(l), Some(p)) => {
                let obj = js_sys::Object::new();
                let put = |k: &str, v: JsValue| {
                    let _ = js_sys::Reflect::set(&obj, &k.into(), &v);
                };
                put("id", l.id.clone().into());
                put("title", l.title.clone().into());
                put("step", num((p.step + 1) as f64));
                put("steps", num(l.steps.len() as f64));
                put("observed", p.observed[p.step].into());
                put("observedSteps", p.observed.iter().map(|&o| JsValue::from(o)).collect::<js_sys::Array>().into());
                put("answered", p.answers[p.step].is_some().into());
                put("watch", l.steps[p.step].watch.name().into());
                obj.into()
            }
            _ => JsValue::NULL,
        };
        set_status("lesson", &lesson);
        set_status("presenter", &lab.guide.presenter.into());
        set_status("embed", &lab.guide.embed.into());
        set_status("welcome", &lab.guide.welcome.into());
        let hidden: js_sys::Array = lab.guide.hidden.iter().map(|p| JsValue::from(p.name())).collect();
        set_status("hidden", &hidden.into());
        set_status("lessons", &num(lab.guide.lessons.len() as f64));
        set_status("narrow", &self.app.narrow.into());
        set_status("ready", &true.into());
    }
}

impl eframe::App for WebApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if self.crash_test && self.frame_count == 10 {
            panic!("crash test requested by the URL (?crash-test)");
        }
        let pending = self.hash_changed.borrow_mut().take();
        if let Some(hash) = pending {
            self.apply_hash(&hash);
        }
        self.app.pace(frame.info().cpu_usage);
        let start = Instant::now();
        let step_before = self.app.lab.step_count();
        self.app.show(ui);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let steps = self.app.lab.step_count().saturating_sub(step_before);
        self.frames.push_back(FrameRecord {
            update_ms: ms,
            tick_ms: self.app.lab.schedule.last_tick_ms,
            steps,
            cpu_ms: frame.info().cpu_usage.map_or(f64::NAN, |s| s as f64 * 1e3),
            parts: self.app.frame_parts.clone(),
        });
        if self.frames.len() > STATS_FRAMES {
            self.frames.pop_front();
        }
        self.frame_count += 1;
        self.write_hash(ui.ctx());
        self.advance_selftest();
        self.advance_bench();
        self.publish_status();
        let benching = self.bench.as_ref().is_some_and(|b| !b.done());
        if self.continuous
            || benching
            || matches!(self.selftest, Some(SelfTestState::Waiting | SelfTestState::Running(..)))
        {
            ui.ctx().request_repaint();
        }
    }
}

/// `window.spherelab`, the status object the tests read, created when the page did not.
fn status_object() -> Option<JsValue> {
    let window = web_sys::window()?;
    let obj = js_sys::Reflect::get(&window, &"spherelab".into()).unwrap_or(JsValue::UNDEFINED);
    if obj.is_object() {
        return Some(obj);
    }
    let obj: JsValue = js_sys::Object::new().into();
    let _ = js_sys::Reflect::set(&window, &"spherelab".into(), &obj);
    Some(obj)
}

/// Sets `window.spherelab[key]`.
fn set_status(key: &str, value: &JsValue) {
    if let Some(obj) = status_object() {
        let _ = js_sys::Reflect::set(&obj, &key.into(), value);
    }
}

/// Shows a message in the page's error box (over the canvas) and in the status object.
fn show_error(message: &str) {
    set_status("error", &message.into());
    web_sys::console::error_1(&message.into());
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    if let Some(el) = document.get_element_by_id("spherelab_error") {
        el.set_text_content(Some(message));
        let _ = el.set_attribute("class", "shown");
    }
}

/// A panic writes itself into the page: after one the app cannot go on, and a frozen canvas with the reason
/// only in the console would look like a hang. The page (index.html's `spherelabCrashed`) then offers "start
/// again with the defaults" (the same page without the link's settings, which may be what crashed it) and
/// "copy the error" for a bug report; the status object says so (`crashed`, `recovery`).
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = format!(
            "spherelab stopped on an internal error.\n\n{info}\n\nPlease report it (\"Copy the error\" below), with the \
             page's URL: it holds the settings."
        );
        set_status("crashed", &JsValue::TRUE);
        set_status("recovery", &"start again with the defaults".into());
        show_error(&message);
        if let Some(window) = web_sys::window()
            && let Ok(f) = js_sys::Reflect::get(&window, &"spherelabCrashed".into())
            && let Some(f) = f.dyn_ref::<js_sys::Function>()
        {
            let _ = f.call1(&JsValue::NULL, &message.into());
        }
        previous(info);
    }));
}
