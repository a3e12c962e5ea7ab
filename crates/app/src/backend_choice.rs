//! Which compute backend a run uses. The app asks for the GPU engine when one is usable and falls back to
//! the CPU reference backend (f32) otherwise, with one line the user sees in the status bar saying why.
//!
//! The GPU engine (crate spherelab-gpu) is not part of this build yet. To add it, the lead adds the
//! dependency and fills in `try_gpu` (a few lines: open the device, check its downlevel flags for compute
//! shaders, wrap it in a `Trainer`); everything else in the app already goes through `open`.

use spherelab_core::data::Dataset;
use spherelab_core::{Cpu, Result, RunConfig, Session, Trainer};

/// What the user asked for (a future command-line flag or `?backend=` in the browser's URL).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendPreference {
    /// The GPU when one is usable, else the CPU.
    #[default]
    Auto,
    Cpu,
    Gpu,
}

/// A run opened on the chosen backend, with the one-line notice explaining that choice.
pub struct Opened {
    pub session: Box<dyn Session>,
    /// E.g. "CPU (GPU engine not built in)"; shown next to the backend name.
    pub notice: String,
}

/// Opens a run: on `data` (edited points, a loaded CSV) when given, else on the data its config describes;
/// `excluded` leaves training samples out (a pruning run).
pub fn open(pref: BackendPreference, config: RunConfig, data: Option<Dataset>, excluded: &[usize]) -> Result<Opened> {
    let notice = match pref {
        BackendPreference::Cpu => "CPU (chosen)".to_string(),
        BackendPreference::Auto | BackendPreference::Gpu => match try_gpu(&config, data.as_ref(), excluded) {
            Ok(session) => return Ok(Opened { session, notice: String::new() }),
            Err(why) => format!("CPU ({why})"),
        },
    };
    let session: Box<dyn Session> = match data {
        Some(d) => Box::new(Trainer::with_data(Cpu::<f32>::new(), config, d, excluded)?),
        None if excluded.is_empty() => Box::new(Trainer::new(Cpu::<f32>::new(), config)?),
        None => {
            let d = spherelab_core::data::build(&config.data, config.seed)?;
            Box::new(Trainer::with_data(Cpu::<f32>::new(), config, d, excluded)?)
        }
    };
    Ok(Opened { session, notice })
}

/// Tries to open the GPU engine. Returns why not in a few words, for the user.
fn try_gpu(
    _config: &RunConfig,
    _data: Option<&Dataset>,
    _excluded: &[usize],
) -> std::result::Result<Box<dyn Session>, String> {
    Err("GPU engine not built in".into())
}
