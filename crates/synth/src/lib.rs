//! callsynth's synthetic call generator: personas, pairing, an offline dialogue engine, timings,
//! outcomes with ground truth, and the Twilio events each call produces — deterministic per seed
//! for any number of threads.
//!
//! # Example
//!
//! ```
//! use synth::catalog::Catalog;
//! use synth::encode::{EncodeOptions, Encoder};
//! use synth::generator::{Generator, GeneratorConfig};
//! use synth::personas::{builtin_agents, builtin_customers, PersonaPool};
//! use synth::sink::NdjsonSink;
//!
//! let catalog = Catalog::builtin();
//! let pool = PersonaPool::new(builtin_customers(), builtin_agents(), &catalog);
//! let config = GeneratorConfig { calls: 20, seed: 7, ..GeneratorConfig::default() };
//! let generator = Generator::new(config, catalog, pool)?;
//! let encoder = Encoder::new(EncodeOptions::default());
//! let mut sink = NdjsonSink::new(encoder.options().format, Vec::new(), None::<Vec<u8>>);
//! let summary = generator.run(2, &encoder, false, &mut sink, |_| {}).map_err(|e| e.to_string())?;
//! assert_eq!(summary.calls, 20);
//! let (events, _) = sink.into_inner();
//! assert_eq!(events.iter().filter(|&&b| b == b'\n').count() as u64, summary.events);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod arrivals;
pub mod asr;
pub mod catalog;
pub mod clock;
pub mod dialogue;
pub mod encode;
pub mod generator;
pub mod pairing;
pub mod persona_file;
pub mod personas;
pub mod plan;
pub mod profile;
pub mod rng;
pub mod sink;
pub mod status;
