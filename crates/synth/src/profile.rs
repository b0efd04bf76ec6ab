//! What the dialogue engine derives from a persona's free text: a customer's difficulty and an
//! agent's skill, each in [0, 1].
//!
//! The origin template stored these traits as prose and never used them. The mappings here are
//! keyword tables, applied to lowercase text, taking the strongest match; `docs/personas.md`
//! restates them. They are deliberately simple so a user can predict what their persona file
//! will do.

use std::sync::Arc;

use model::{Agent, Customer, Level};

/// Demeanour keywords → how hard the customer is to please (0 easy … 1 furious).
const DEMEANOR_WEIGHTS: &[(&str, f64)] = &[
    ("furious", 1.0),
    ("livid", 1.0),
    ("irate", 1.0),
    ("hostile", 1.0),
    ("extremely", 0.95),
    ("angry", 0.9),
    ("frustrated", 0.85),
    ("irritated", 0.8),
    ("impatient", 0.75),
    ("annoyed", 0.7),
    ("demanding", 0.7),
    ("sarcastic", 0.7),
    ("stressed", 0.6),
    ("tense", 0.55),
    ("anxious", 0.55),
    ("worried", 0.5),
    ("hurry", 0.5),
    ("skeptical", 0.5),
    ("firm", 0.45),
    ("business", 0.4),
    ("direct", 0.35),
    ("confused", 0.35),
    ("calm", 0.25),
    ("cooperative", 0.15),
    ("casual", 0.15),
    ("polite", 0.1),
    ("friendly", 0.1),
    ("understanding", 0.1),
    ("patient", 0.05),
    ("cheerful", 0.05),
    ("easygoing", 0.05),
];

/// Escalation-trigger keywords → how readily the customer asks for a supervisor.
const TRIGGER_WEIGHTS: &[(&str, f64)] = &[
    ("any delay", 1.0),
    ("immediately", 0.9),
    ("any ", 0.8),
    ("first ", 0.75),
    ("refuse", 0.6),
    ("denied", 0.6),
    ("transferred", 0.6),
    ("more than", 0.55),
    ("cannot", 0.5),
    ("can't", 0.5),
    ("authority", 0.5),
    ("not resolved", 0.5),
    ("unresolved", 0.5),
    ("rude", 0.25),
    ("only if", 0.2),
    ("rarely", 0.1),
    ("never", 0.05),
];

/// Attitude keywords → how well the agent handles people.
const ATTITUDE_WEIGHTS: &[(&str, f64)] = &[
    ("caring", 1.0),
    ("patient", 1.0),
    ("warm", 1.0),
    ("positive", 0.95),
    ("friendly", 0.95),
    ("professional", 0.9),
    ("energetic", 0.9),
    ("respectful", 0.9),
    ("upbeat", 0.9),
    ("calm", 0.85),
    ("chatty", 0.45),
    ("nonchalant", 0.4),
    ("distracted", 0.35),
    ("impatient", 0.3),
    ("hurry", 0.3),
    ("curt", 0.3),
    ("nervous", 0.25),
    ("confused", 0.2),
    ("bored", 0.15),
    ("uninterested", 0.15),
    ("dismissive", 0.1),
];

/// Response-to-issue keywords → how effectively the agent works a problem.
const RESPONSE_WEIGHTS: &[(&str, f64)] = &[
    ("proactive", 1.0),
    ("efficient", 1.0),
    ("thorough", 1.0),
    ("empathetic", 0.95),
    ("sympathetic", 0.9),
    ("caring", 0.9),
    ("prompt", 0.9),
    ("methodical", 0.85),
    ("understanding", 0.85),
    ("eager", 0.85),
    ("rushed", 0.4),
    ("indifferent", 0.3),
    ("scripted", 0.35),
    ("hesitant", 0.25),
    ("unsure", 0.25),
    ("off-topic", 0.25),
    ("slow", 0.3),
    ("monotonous", 0.25),
];

/// The leading keyword of `ConversationLengthPreference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LengthPreference {
    /// "Very short".
    VeryShort,
    /// "Short".
    Short,
    /// "Moderate", and anything unrecognised.
    Moderate,
    /// "Flexible".
    Flexible,
    /// "Long".
    Long,
}

impl LengthPreference {
    /// Reads the keyword at the start of the preference text (case-insensitive).
    pub fn parse(text: &str) -> LengthPreference {
        let lower = text.trim_start().to_ascii_lowercase();
        if lower.starts_with("very short") {
            LengthPreference::VeryShort
        } else if lower.starts_with("short") {
            LengthPreference::Short
        } else if lower.starts_with("flexible") {
            LengthPreference::Flexible
        } else if lower.starts_with("long") {
            LengthPreference::Long
        } else {
            LengthPreference::Moderate
        }
    }

    /// Contribution to difficulty: impatience with long calls.
    pub const fn impatience(self) -> f64 {
        match self {
            LengthPreference::VeryShort => 1.0,
            LengthPreference::Short => 0.75,
            LengthPreference::Moderate => 0.5,
            LengthPreference::Flexible => 0.25,
            LengthPreference::Long => 0.2,
        }
    }

    /// How many optional back-and-forth exchanges a call with this customer holds on average.
    pub const fn extra_exchanges(self) -> f64 {
        match self {
            LengthPreference::VeryShort => 0.2,
            LengthPreference::Short => 0.6,
            LengthPreference::Moderate => 1.2,
            LengthPreference::Flexible => 1.6,
            LengthPreference::Long => 2.6,
        }
    }
}

/// Strongest keyword weight found in `text`, or `default`.
fn keyword_score(text: &str, table: &[(&str, f64)], default: f64) -> f64 {
    let lower = text.to_ascii_lowercase();
    table
        .iter()
        .filter(|(word, _)| lower.contains(word))
        .map(|&(_, w)| w)
        .fold(None, |best: Option<f64>, w| Some(best.map_or(w, |b| b.max(w))))
        .unwrap_or(default)
}

/// A customer persona with the scores the engine uses.
#[derive(Debug, Clone)]
pub struct CustomerProfile {
    /// The persona as loaded.
    pub persona: Arc<Customer>,
    /// 0.6 × demeanour + 0.25 × escalation trigger + 0.15 × length impatience, in [0, 1].
    pub difficulty: f64,
    /// How readily they escalate, in [0, 1] (the trigger score).
    pub escalation_sensitivity: f64,
    /// Demeanour score alone, in [0, 1]; sets the opening mood.
    pub temper: f64,
    /// Parsed length keyword.
    pub length: LengthPreference,
    /// Index of the issue category in the phrase catalogue.
    pub category: usize,
}

/// Threshold at or above which a customer counts as *difficult* for pairing.
pub const DIFFICULT_AT: f64 = 0.55;
/// Threshold at or below which a customer counts as *patient* for pairing.
pub const PATIENT_AT: f64 = 0.35;

impl CustomerProfile {
    /// Scores a customer; `category` comes from the catalogue's keyword match on the issue.
    pub fn new(persona: Arc<Customer>, category: usize) -> CustomerProfile {
        let temper = keyword_score(&persona.demeanor, DEMEANOR_WEIGHTS, 0.4);
        let escalation_sensitivity = keyword_score(&persona.escalation_trigger, TRIGGER_WEIGHTS, 0.4);
        let length = LengthPreference::parse(&persona.conversation_length_preference);
        let difficulty = (0.6 * temper + 0.25 * escalation_sensitivity + 0.15 * length.impatience()).clamp(0.0, 1.0);
        CustomerProfile { persona, difficulty, escalation_sensitivity, temper, length, category }
    }

    /// Difficult customers: `difficulty >= DIFFICULT_AT`.
    pub fn is_difficult(&self) -> bool {
        self.difficulty >= DIFFICULT_AT
    }

    /// Patient customers: `difficulty <= PATIENT_AT`.
    pub fn is_patient(&self) -> bool {
        self.difficulty <= PATIENT_AT
    }
}

/// An agent persona with its skill score.
#[derive(Debug, Clone)]
pub struct AgentProfile {
    /// The persona as loaded.
    pub persona: Arc<Agent>,
    /// 0.6 × competence + 0.25 × attitude + 0.15 × response-to-issue, in [0, 1].
    pub skill: f64,
    /// Attitude score alone: warm agents word things warmly.
    pub warmth: f64,
}

impl AgentProfile {
    /// Scores an agent.
    pub fn new(persona: Arc<Agent>) -> AgentProfile {
        let competence = match persona.competence_level {
            Level::High => 1.0,
            Level::Medium => 0.6,
            Level::Low => 0.25,
        };
        let warmth = keyword_score(&persona.attitude, ATTITUDE_WEIGHTS, 0.6);
        let response = keyword_score(&persona.response_to_issue, RESPONSE_WEIGHTS, 0.6);
        let skill = (0.6 * competence + 0.25 * warmth + 0.15 * response).clamp(0.0, 1.0);
        AgentProfile { persona, skill, warmth }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(demeanor: &str, trigger: &str, length: &str) -> CustomerProfile {
        CustomerProfile::new(
            Arc::new(Customer {
                customer_name: "A".into(),
                contact_information: "a@example.com".into(),
                phone_number: "+15125550100".into(),
                issue: "x".into(),
                desired_resolution: "y".into(),
                demeanor: demeanor.into(),
                technical_proficiency: Level::Low,
                escalation_trigger: trigger.into(),
                conversation_length_preference: length.into(),
                prompt: None,
            }),
            0,
        )
    }

    #[test]
    fn difficulty_orders_demeanours_as_a_person_would() {
        let furious = customer("Extremely frustrated.", "Any delay at all.", "Very short - now");
        let firm = customer("Calm but firm.", "If refused a refund.", "Moderate - fine");
        let patient = customer("Patient and understanding.", "Only if the agent is rude.", "Long - chatty");
        assert!(furious.difficulty > firm.difficulty && firm.difficulty > patient.difficulty);
        assert!(furious.is_difficult() && !furious.is_patient());
        assert!(patient.is_patient() && !patient.is_difficult());
        assert!((furious.difficulty - (0.6 * 0.95 + 0.25 * 1.0 + 0.15 * 1.0)).abs() < 1e-12);
    }

    #[test]
    fn length_keyword_is_read_from_the_start() {
        assert_eq!(LengthPreference::parse("Very short - in a rush"), LengthPreference::VeryShort);
        assert_eq!(LengthPreference::parse("short"), LengthPreference::Short);
        assert_eq!(LengthPreference::parse("Long - loves to chat"), LengthPreference::Long);
        assert_eq!(LengthPreference::parse("Flexible"), LengthPreference::Flexible);
        assert_eq!(LengthPreference::parse("whatever"), LengthPreference::Moderate);
    }

    #[test]
    fn skill_rewards_competence_and_attitude() {
        let agent = |level, attitude: &str, response: &str| {
            AgentProfile::new(Arc::new(Agent {
                agent_name: "B".into(),
                scripted_introduction: "Hi".into(),
                response_to_issue: response.into(),
                competence_level: level,
                attitude: attitude.into(),
                product_knowledge: "ok".into(),
                farewell: "bye".into(),
                characteristics: None,
            }))
            .skill
        };
        let best = agent(Level::High, "Caring and patient.", "Proactive and efficient.");
        let bored = agent(Level::High, "Bored and uninterested.", "Monotonous.");
        let weak = agent(Level::Low, "Caring and patient.", "Proactive and efficient.");
        assert!((best - 1.0).abs() < 1e-12);
        assert!(best > bored && best > weak);
        assert!(bored > agent(Level::Low, "Bored and uninterested.", "Monotonous."));
    }
}
