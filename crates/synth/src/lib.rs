//! callsynth's synthetic call generator.
#![deny(missing_docs)]

pub mod catalog;
pub mod pairing;
pub mod persona_file;
pub mod personas;
pub mod profile;
pub mod rng;
