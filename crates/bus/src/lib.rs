//! An embedded EventBridge-style event bus.
//!
//! Buses hold rules; a rule's event pattern (crate `pattern`) picks events; its targets receive
//! them. [`EventBus::put_events`] checks entries as PutEvents does, writes each accepted event
//! to the log and enqueues one delivery per matched target — all in one SQLite transaction,
//! committed before it returns. [`EventBus::deliver_due`] then works the queue through a
//! [`Handler`], retrying with exponential backoff and jitter per the target's `RetryPolicy` and
//! moving exhausted deliveries to the dead-letter table with what EventBridge attaches. A
//! handler's own writes commit with the delivery's acknowledgement, so a built-in processor
//! sees each event exactly once, even across a killed process.
//!
//! # Example
//!
//! ```
//! use bus::{EventBus, Limits, Location, PutEventsEntry, Rule, RuleState, Target};
//!
//! let mut bus = EventBus::open(":memory:".as_ref(), Location::default(), Limits::default())?;
//! bus.create_bus("twilio-call-events", None)?;
//! bus.put_rule(&Rule {
//!     bus: "twilio-call-events".into(),
//!     name: "twilio-call-completed".into(),
//!     pattern: r#"{"detail-type": ["call.completed"]}"#.into(),
//!     state: RuleState::Enabled,
//!     description: None,
//! })?;
//! bus.put_targets("twilio-call-events", "twilio-call-completed", &[Target {
//!     id: "store".into(),
//!     arn: "builtin:process-call-completed".into(),
//!     ..Default::default()
//! }])?;
//! let results = bus.put_events(&[PutEventsEntry {
//!     source: Some("twilio".into()),
//!     detail_type: Some("call.completed".into()),
//!     detail: Some(r#"{"call_sid": "CA1"}"#.into()),
//!     event_bus_name: Some("twilio-call-events".into()),
//!     ..Default::default()
//! }])?;
//! assert!(results[0].event_id.is_some());
//! assert_eq!(bus.pending()?, 1);
//! # Ok::<(), bus::BusError>(())
//! ```
#![deny(missing_docs)]

mod entry;
mod event_bus;
mod http;
mod model;
mod store;
pub mod transform;

pub use entry::{PutEventsEntry, PutEventsResultEntry};
pub use event_bus::{
    DURATION_BUCKET, DeadLetter, Delivery, DeliveryError, DeliveryReport, EventBus, Handler, backoff_seconds,
    check_entry_count, now,
};
pub use model::{
    ArchiveInfo, BusInfo, HttpParameters, Limits, Location, ReplayInfo, RetryPolicy, Rule, RuleState, Target,
    TargetInput, builtin_name,
};

/// Why a bus operation failed, with EventBridge's error codes.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// `ValidationException`.
    #[error("{0}")]
    Validation(String),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `ResourceAlreadyExistsException`.
    #[error("{0}")]
    AlreadyExists(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `InvalidEventPatternException` (or `ValidationException` for an over-long pattern).
    #[error(transparent)]
    Pattern(#[from] pattern::PatternError),
    /// An event the bus itself built failed to parse (a bug, reported rather than panicking).
    #[error("internal: {0}")]
    Event(#[from] pattern::EventError),
    /// The store.
    #[error("store: {0}")]
    Store(#[from] rusqlite::Error),
}

/// Why [`EventBus::receive_with`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError<E> {
    /// The store.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The consumer refused a message (it and the ones after it stay queued).
    #[error("the consumer stopped: {0}")]
    Consumer(E),
}

impl BusError {
    /// The AWS error code (`__type`).
    pub fn code(&self) -> &'static str {
        match self {
            BusError::Validation(_) => "ValidationException",
            BusError::NotFound(_) => "ResourceNotFoundException",
            BusError::AlreadyExists(_) => "ResourceAlreadyExistsException",
            BusError::LimitExceeded(_) => "LimitExceededException",
            BusError::Pattern(p) => p.code(),
            BusError::Event(_) | BusError::Store(_) => "InternalException",
        }
    }
}
