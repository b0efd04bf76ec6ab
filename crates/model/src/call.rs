//! A generated call: what happened, what was said, and the ground truth behind it.
//!
//! [`Call`] is also the record format of `callsynth generate --calls-out` (one JSON object per
//! line), the dataset analysts load and `callsynth eval` scores against. Field names are part of
//! the interface; `docs/calls-dataset.md` documents them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{Agent, Customer, Sid};

/// A call's final Twilio status, as `CallStatus` reports it on the completed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    /// The parties talked.
    Completed,
    /// The callee was busy.
    Busy,
    /// Nobody answered.
    NoAnswer,
    /// The call could not be placed.
    Failed,
    /// The caller hung up before it was answered.
    Canceled,
}

impl CallStatus {
    /// Every final status, in the order summaries print them.
    pub const ALL: [CallStatus; 5] =
        [CallStatus::Completed, CallStatus::Busy, CallStatus::NoAnswer, CallStatus::Failed, CallStatus::Canceled];

    /// Twilio's spelling (`no-answer`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            CallStatus::Completed => "completed",
            CallStatus::Busy => "busy",
            CallStatus::NoAnswer => "no-answer",
            CallStatus::Failed => "failed",
            CallStatus::Canceled => "canceled",
        }
    }

    /// Parses Twilio's spelling.
    pub fn parse(text: &str) -> Option<CallStatus> {
        CallStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether anyone spoke, and so whether a recording and a transcription exist.
    pub const fn has_talk(self) -> bool {
        matches!(self, CallStatus::Completed)
    }
}

/// Twilio's `Direction` of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// The customer called the contact centre.
    Inbound,
    /// Placed through the REST API (the origin template dialled both legs this way).
    OutboundApi,
}

impl Direction {
    /// Twilio's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::OutboundApi => "outbound-api",
        }
    }
}

/// Who speaks a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The contact-centre agent.
    Agent,
    /// The caller.
    Customer,
    /// A supervisor who joins an escalated call.
    Supervisor,
}

impl Speaker {
    /// The label that starts this speaker's lines in transcription text (`Agent`, …).
    pub const fn label(self) -> &'static str {
        match self {
            Speaker::Agent => "Agent",
            Speaker::Customer => "Customer",
            Speaker::Supervisor => "Supervisor",
        }
    }
}

/// One utterance with its timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Who spoke.
    pub speaker: Speaker,
    /// What was said (clean text, before any simulated ASR noise).
    pub text: String,
    /// Start, in seconds from the moment the call was initiated.
    pub start: f64,
    /// End, in seconds from the moment the call was initiated.
    pub end: f64,
    /// The speaker's true sentiment in [-1, 1]; present on customer turns only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<f64>,
    /// This turn started before the previous one ended.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupts: bool,
}

/// How a talked call ends, at the level the dialogue engine decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// The agent fixed the problem and the customer accepted.
    Resolved,
    /// Part of the problem was fixed.
    PartiallyResolved,
    /// Nothing the customer accepted.
    Unresolved,
    /// A supervisor took over the call.
    Supervisor,
    /// The agent transferred the call to another department.
    Transfer,
    /// The customer hung up mid-call.
    Hangup,
}

impl Ending {
    /// The outcome class this ending belongs to.
    pub const fn outcome(self) -> Outcome {
        match self {
            Ending::Resolved => Outcome::Resolved,
            Ending::PartiallyResolved => Outcome::PartiallyResolved,
            Ending::Unresolved => Outcome::Unresolved,
            Ending::Supervisor | Ending::Transfer => Outcome::Escalated,
            Ending::Hangup => Outcome::Abandoned,
        }
    }
}

/// The ground-truth outcome of a talked call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Fixed.
    Resolved,
    /// Partly fixed.
    PartiallyResolved,
    /// Not fixed.
    Unresolved,
    /// Handed to a supervisor or another department.
    Escalated,
    /// The customer hung up.
    Abandoned,
}

impl Outcome {
    /// Every outcome, in the order summaries print them.
    pub const ALL: [Outcome; 5] =
        [Outcome::Resolved, Outcome::PartiallyResolved, Outcome::Unresolved, Outcome::Escalated, Outcome::Abandoned];

    /// The snake_case spelling used in datasets.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::PartiallyResolved => "partially_resolved",
            Outcome::Unresolved => "unresolved",
            Outcome::Escalated => "escalated",
            Outcome::Abandoned => "abandoned",
        }
    }
}

/// A three-way sentiment label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentimentLabel {
    /// Mean customer sentiment above +0.1.
    Positive,
    /// Between.
    Neutral,
    /// Mean customer sentiment below -0.1.
    Negative,
}

impl SentimentLabel {
    /// Half-width of the neutral band around 0.
    pub const NEUTRAL_BAND: f64 = 0.1;

    /// Labels a mean sentiment in [-1, 1].
    pub fn from_score(score: f64) -> SentimentLabel {
        if score > Self::NEUTRAL_BAND {
            SentimentLabel::Positive
        } else if score < -Self::NEUTRAL_BAND {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        }
    }
}

/// What really happened on a talked call. Never part of any event: it is what analytics are
/// scored against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Outcome class.
    pub outcome: Outcome,
    /// The dialogue branch that produced it.
    pub ending: Ending,
    /// The customer asked for a supervisor or manager, threatened to cancel or complain, or was
    /// transferred.
    pub escalated: bool,
    /// Index into `turns` of the first escalation, when `escalated`.
    pub escalation_turn: Option<usize>,
    /// Mean of the customer's per-turn sentiment.
    pub customer_sentiment: f64,
    /// [`SentimentLabel::from_score`] of `customer_sentiment`.
    pub sentiment_label: SentimentLabel,
    /// Post-call survey score, 1–5.
    pub csat: u8,
    /// The phrase catalogue's category of the customer's issue (`billing`, `damaged_item`, …).
    pub issue_category: String,
}

/// Where a call sits in its customer's history within the simulated window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    /// Stable key of the customer (their E.164 phone number).
    pub customer_key: String,
    /// 1 for the customer's first call in the window, 2 for the next, …
    pub contact_number: u32,
    /// The earlier unresolved call this one follows up, if any.
    pub previous_call_sid: Option<Sid>,
}

/// A call recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// `RE…`.
    pub sid: Sid,
    /// Media URL under Twilio's REST API.
    pub url: String,
    /// Whole seconds of audio (from answer to hang-up).
    pub duration_seconds: u32,
    /// When the recording became available, Unix milliseconds.
    pub completed_at_ms: i64,
}

/// A call transcription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcription {
    /// `TR…`.
    pub sid: Sid,
    /// The text as emitted in `transcription.completed`: one `Speaker: words` line per turn,
    /// after any simulated ASR noise.
    pub text: String,
    /// When the transcription became available, Unix milliseconds.
    pub completed_at_ms: i64,
}

/// One generated call and everything known about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Position in the generated sequence (0-based); with the seed it determines the call.
    pub index: u64,
    /// `CA…`.
    pub call_sid: Sid,
    /// `AC…` of the simulated Twilio account.
    pub account_sid: Sid,
    /// Caller, E.164.
    pub from: String,
    /// Callee, E.164.
    pub to: String,
    /// Twilio call direction.
    pub direction: Direction,
    /// Final status.
    pub status: CallStatus,
    /// When the call was initiated, Unix milliseconds.
    pub initiated_at_ms: i64,
    /// Seconds from initiation until answer (or until the call gave up).
    pub ring_seconds: f64,
    /// Seconds spent on hold within the conversation.
    pub hold_seconds: f64,
    /// `CallDuration`: whole seconds from initiation to hang-up, `ceil(last turn end)` for
    /// talked calls (queue ring, conversation and holds); 0 for calls nobody answered.
    pub duration_seconds: u32,
    /// The caller's persona.
    pub customer: Arc<Customer>,
    /// Difficulty score of the customer in [0, 1] (see `docs/personas.md`).
    pub customer_difficulty: f64,
    /// The agent's persona.
    pub agent: Arc<Agent>,
    /// Skill score of the agent in [0, 1] (see `docs/personas.md`).
    pub agent_skill: f64,
    /// The customer's history.
    pub journey: Journey,
    /// The supervisor's conference, for calls a supervisor joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_sid: Option<Sid>,
    /// Present when the call was talked.
    pub recording: Option<Recording>,
    /// Present when the call was talked.
    pub transcription: Option<Transcription>,
    /// The conversation; empty when nobody talked.
    pub turns: Vec<Turn>,
    /// Ground truth; present when the call was talked.
    pub truth: Option<GroundTruth>,
}

impl Call {
    /// When the call ended, Unix milliseconds: after the conversation for talked calls, after
    /// the ringing for the others (whose `CallDuration` is 0).
    pub fn ended_at_ms(&self) -> i64 {
        if self.status.has_talk() {
            self.initiated_at_ms + i64::from(self.duration_seconds) * 1000
        } else {
            self.initiated_at_ms + (self.ring_seconds * 1000.0).ceil() as i64
        }
    }
}
