//! callsynth's synthetic call generator.
#![deny(missing_docs)]

pub mod catalog;
pub mod persona_file;
pub mod profile;
