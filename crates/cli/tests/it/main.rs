//! callsynth's integration tests: one binary, a module per feature.

mod analyze_cli;
mod bad_input;
mod catalog;
mod determinism;
mod eval_cli;
mod events;
mod pattern_cli;
mod personas_cli;
mod run_cli;
mod serve_cli;
mod strategies;
mod support;
mod transcripts;
