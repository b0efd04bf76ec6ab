//! The EventBridge event-pattern language: parse and validate patterns with EventBridge's
//! error messages, compile many named patterns into one [`Matcher`], match raw JSON event bytes,
//! and [`explain`] why an event does not match.
//!
//! # Example
//!
//! ```
//! use pattern::Matcher;
//!
//! let mut rules = Matcher::new();
//! rules.add("completed", r#"{"source": ["aws.partner/twilio.com"],
//!                            "detail-type": ["com.twilio.voice.call.completed"]}"#)?;
//! rules.add("long-calls", r#"{"detail": {"call_duration": [{"numeric": [">", 300]}]}}"#)?;
//! let event = br#"{"source": "aws.partner/twilio.com", "detail-type": "com.twilio.voice.call.completed",
//!                  "detail": {"call_duration": 301}}"#;
//! assert_eq!(rules.matches(event)?, ["completed", "long-calls"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod cidr;
pub mod event;
mod explain;
pub mod json;
mod matcher;
pub mod number;
pub mod pattern;
mod scan;
mod value_index;
pub mod wildcard;

pub use event::EventError;
pub use explain::explain;
pub use matcher::{Matcher, Scratch, TestError, test, validate_object};
pub use pattern::{Pattern, PatternError};
