//! Behaviour of the `spherelab` binary, run as a user would run it. One test binary (submodules rather than
//! one file per topic) so the workspace links it once.

mod bad_input;
mod bench;
mod common;
mod loss;
mod selftest;
mod study;
mod theory;
mod train;
