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
