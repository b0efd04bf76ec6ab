//! Transcripts as turns: parsing speaker-labelled text, and talk metrics when turns have timings.

use serde::{Deserialize, Serialize};

/// Who spoke a turn. Supervisors count on the contact centre's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The caller.
    Customer,
    /// The contact centre's agent.
    Agent,
    /// A supervisor or team lead who joined.
    Supervisor,
    /// A label we do not recognise, or none.
    Unknown,
}

impl Speaker {
    /// Reads a transcript label (`Customer`, `Caller`, `Agent`, `Rep`, `Supervisor`, …).
    pub fn from_label(label: &str) -> Speaker {
        match label.trim().to_ascii_lowercase().as_str() {
            "customer" | "caller" | "client" | "user" | "speaker 1" | "spk_0" => Speaker::Customer,
            "agent" | "representative" | "rep" | "advisor" | "adviser" | "operator" | "associate" | "speaker 2"
            | "spk_1" => Speaker::Agent,
            "supervisor" | "manager" | "team lead" | "team leader" => Speaker::Supervisor,
            _ => Speaker::Unknown,
        }
    }

    /// The contact centre's side: agent or supervisor.
    pub fn is_staff(self) -> bool {
        matches!(self, Speaker::Agent | Speaker::Supervisor)
    }
}

/// One utterance. Times are seconds from any fixed origin; both or neither are present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Who spoke.
    pub speaker: Speaker,
    /// What was said.
    pub text: String,
    /// When the turn started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
}

/// Splits speaker-labelled text (`Customer: …` one turn per line, as Twilio-style transcription
/// exports and the generator write it) into turns. A line without a label continues the turn
/// before it; text before any label is a turn by [`Speaker::Unknown`].
pub fn parse_labelled(text: &str) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let labelled = line.split_once(':').and_then(|(label, rest)| {
            // A label is a short name, not a sentence that happens to contain a colon.
            let speaker = Speaker::from_label(label);
            (speaker != Speaker::Unknown).then(|| (speaker, rest.trim()))
        });
        match (labelled, turns.last_mut()) {
            (Some((speaker, rest)), _) => {
                turns.push(Turn { speaker, text: rest.to_string(), start: None, end: None });
            }
            (None, Some(last)) => {
                last.text.push(' ');
                last.text.push_str(line);
            }
            (None, None) => {
                turns.push(Turn { speaker: Speaker::Unknown, text: line.to_string(), start: None, end: None })
            }
        }
    }
    turns
}

/// Talk time and turn-taking, from turns with timings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TalkMetrics {
    /// Seconds the customer spoke.
    pub customer_talk_seconds: f64,
    /// Seconds the agent (and any supervisor) spoke.
    pub agent_talk_seconds: f64,
    /// Customer talk time over both sides' talk time, 0–1.
    pub customer_talk_ratio: f64,
    /// Longest single turn, in seconds.
    pub longest_monologue_seconds: f64,
    /// Who spoke it.
    pub longest_monologue_speaker: Speaker,
    /// Seconds between the first turn's start and the last turn's end when nobody spoke.
    pub silence_seconds: f64,
    /// Turns that started before the other side's previous turn ended.
    pub interruptions: u32,
    /// From the first turn's start to the last turn's end.
    pub handle_seconds: f64,
    /// Customer words per minute of customer talk.
    pub customer_words_per_minute: f64,
    /// Agent words per minute of agent talk.
    pub agent_words_per_minute: f64,
    /// Words in all turns.
    pub word_count: u32,
}

/// Talk metrics, or `None` unless every turn has a start and an end (end ≥ start).
pub fn talk_metrics(turns: &[Turn]) -> Option<TalkMetrics> {
    let timed: Vec<(f64, f64)> = turns
        .iter()
        .map(|t| match (t.start, t.end) {
            (Some(s), Some(e)) if s.is_finite() && e.is_finite() && e >= s => Some((s, e)),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if timed.is_empty() {
        return None;
    }
    let (mut customer, mut agent, mut customer_words, mut agent_words) = (0.0, 0.0, 0u32, 0u32);
    let mut longest = (0.0f64, turns[0].speaker);
    let mut interruptions = 0u32;
    let mut word_count = 0u32;
    for (i, (turn, &(start, end))) in turns.iter().zip(&timed).enumerate() {
        let seconds = end - start;
        let words = turn.text.split_whitespace().count() as u32;
        word_count += words;
        if turn.speaker == Speaker::Customer {
            customer += seconds;
            customer_words += words;
        } else if turn.speaker.is_staff() {
            agent += seconds;
            agent_words += words;
        }
        if seconds > longest.0 {
            longest = (seconds, turn.speaker);
        }
        if i > 0 && turns[i - 1].speaker != turn.speaker && start < timed[i - 1].1 {
            interruptions += 1;
        }
    }
    // Silence: the gaps in the union of speech intervals.
    let mut intervals = timed.clone();
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let first = intervals[0].0;
    let (mut covered_until, mut silence) = (first, 0.0);
    let mut last_end = first;
    for (start, end) in intervals {
        if start > covered_until {
            silence += start - covered_until;
        }
        covered_until = covered_until.max(end);
        last_end = last_end.max(end);
    }
    let per_minute = |words: u32, seconds: f64| if seconds > 0.0 { f64::from(words) * 60.0 / seconds } else { 0.0 };
    let both = customer + agent;
    Some(TalkMetrics {
        customer_talk_seconds: round3(customer),
        agent_talk_seconds: round3(agent),
        customer_talk_ratio: if both > 0.0 { round3(customer / both) } else { 0.0 },
        longest_monologue_seconds: round3(longest.0),
        longest_monologue_speaker: longest.1,
        silence_seconds: round3(silence),
        interruptions,
        handle_seconds: round3(last_end - first),
        customer_words_per_minute: round3(per_minute(customer_words, customer)),
        agent_words_per_minute: round3(per_minute(agent_words, agent)),
        word_count,
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed(speaker: Speaker, text: &str, start: f64, end: f64) -> Turn {
        Turn { speaker, text: text.into(), start: Some(start), end: Some(end) }
    }

    #[test]
    fn labelled_lines_become_turns_and_unlabelled_lines_continue_them() {
        let turns =
            parse_labelled("Agent: Hello.\nCustomer: Hi: it's about order 12.\nand another thing\n\nRep: Sure.");
        let got: Vec<(Speaker, &str)> = turns.iter().map(|t| (t.speaker, t.text.as_str())).collect();
        assert_eq!(
            got,
            [
                (Speaker::Agent, "Hello."),
                (Speaker::Customer, "Hi: it's about order 12. and another thing"),
                (Speaker::Agent, "Sure.")
            ]
        );
        assert_eq!(parse_labelled("Note: this was recorded")[0].speaker, Speaker::Unknown);
    }

    #[test]
    fn talk_metrics_count_overlap_silence_and_sides() {
        let turns = [
            timed(Speaker::Agent, "hello there how can I help", 0.0, 3.0),
            timed(Speaker::Customer, "my order is late", 4.0, 6.0),
            timed(Speaker::Agent, "let me check that for you now", 7.0, 12.0),
            timed(Speaker::Customer, "hurry up", 11.0, 13.0),
        ];
        let m = talk_metrics(&turns).expect("timed");
        assert_eq!(m.customer_talk_seconds, 4.0);
        assert_eq!(m.agent_talk_seconds, 8.0);
        assert_eq!(m.customer_talk_ratio, 0.333);
        assert_eq!(m.interruptions, 1, "the last turn starts before the agent's ends");
        assert_eq!(m.silence_seconds, 2.0, "gaps 3–4 and 6–7; the overlap is not silence");
        assert_eq!(m.handle_seconds, 13.0);
        assert_eq!((m.longest_monologue_seconds, m.longest_monologue_speaker), (5.0, Speaker::Agent));
        assert_eq!(m.customer_words_per_minute, 90.0, "6 words in 4 s");
        assert_eq!(m.word_count, 19);
        let untimed = [Turn { speaker: Speaker::Agent, text: "x".into(), start: None, end: None }];
        assert!(talk_metrics(&untimed).is_none());
    }
}
