//! The engine's error type. Every error a user can cause says what is wrong and what to do.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// A value the user gave (config, flag, file content) is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// Training produced a non-finite value.
    #[error("{0}")]
    Diverged(String),
    /// A backend could not be set up or failed.
    #[error("{0}")]
    Backend(String),
}

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A piece of the user's input as an error message shows it: on one line (control characters escaped), in
/// quotes, cut after 60 characters — a message names what is wrong, it does not replay a whole file or link.
pub fn shown(input: &str) -> String {
    let cut: String = input.chars().take(60).collect();
    let more = if input.chars().count() > 60 { "…" } else { "" };
    format!("'{}{more}'", cut.escape_debug())
}
