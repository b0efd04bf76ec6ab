//! Customer and agent personas, field for field as the origin template's persona files spell them.
//!
//! The JSON names (`CustomerName`, `CompetenceLevel`, …) are part of callsynth's interface: a
//! user's existing `customers.json` / `agents.json` from the origin project load unchanged.
//! Validation (with errors that name file, record and field) lives in `synth::persona_file`.

use serde::{Deserialize, Serialize};

/// A three-step scale used by `TechnicalProficiency` and `CompetenceLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    /// `Low`.
    Low,
    /// `Medium`.
    Medium,
    /// `High`.
    High,
}

impl Level {
    /// Parses the exact spelling used in persona files (`Low`, `Medium`, `High`).
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "Low" => Some(Level::Low),
            "Medium" => Some(Level::Medium),
            "High" => Some(Level::High),
            _ => None,
        }
    }

    /// The persona-file spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Low => "Low",
            Level::Medium => "Medium",
            Level::High => "High",
        }
    }
}

/// A synthetic caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Customer {
    /// Full name.
    pub customer_name: String,
    /// E-mail address.
    pub contact_information: String,
    /// E.164 phone number; also the seed of the Segment user id.
    pub phone_number: String,
    /// Why the customer calls, in their words.
    pub issue: String,
    /// What would satisfy them.
    pub desired_resolution: String,
    /// Emotional state, free text ("Calm but firm.").
    pub demeanor: String,
    /// How technical the customer's vocabulary is.
    pub technical_proficiency: Level,
    /// What would make them ask for a supervisor, free text.
    pub escalation_trigger: String,
    /// "Keyword - explanation"; the keyword is Very short, Short, Moderate, Flexible or Long.
    pub conversation_length_preference: String,
    /// The origin's LLM system prompt. Accepted for compatibility; the offline engine does not
    /// need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

/// A synthetic contact-centre agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Agent {
    /// First name.
    pub agent_name: String,
    /// The greeting spoken on the agent's first turn.
    pub scripted_introduction: String,
    /// How the agent reacts to problems ("Empathetic and eager to help.").
    pub response_to_issue: String,
    /// Competence, which drives resolution rates.
    pub competence_level: Level,
    /// Attitude, free text ("Bored and uninterested.").
    pub attitude: String,
    /// Strengths and gaps in product knowledge, free text.
    pub product_knowledge: String,
    /// The closing line spoken at the end of a call.
    pub farewell: String,
    /// The origin's behaviour paragraph. Accepted for compatibility; optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub characteristics: Option<String>,
}
