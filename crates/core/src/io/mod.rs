//! Input and output: run configs and their validation (with the memory budget of a run), the data sets (generators, the digits, CSV, ω mixing,
//! augmentations, the split), study files, lesson files, the files a run exports, and the URL fragment that carries a
//! config and how to show the lab.

pub mod config;
pub use config::budget;
pub mod data;
pub mod export;
pub mod lesson;
pub mod study;
pub mod url_state;
