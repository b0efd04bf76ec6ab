//! The speaker-aware analyser: per-turn VADER sentiment, escalation, resolution, talk metrics
//! and scores for one call.

use serde::Serialize;

use std::sync::LazyLock;

use crate::cues::{Clause, Phrases, clauses};
use crate::mood_arc::{Decoded, Decoder, Evidence, Reading};
use crate::scores::{ImprovedScores, Scores, Signals, improved_scores, origin_scores};
use crate::transcript::{Speaker, TalkMetrics, Turn, talk_metrics};
use crate::vader::{Polarity, Vader};
use crate::{Resolution, Sentiment};
use rustc_hash::FxHashMap;

/// What kind of escalation a turn is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationKind {
    /// The customer asks for a supervisor or manager.
    SupervisorRequest,
    /// The customer threatens to cancel or take their business elsewhere.
    CancelThreat,
    /// The customer threatens a formal complaint, a review, a regulator or a lawyer.
    ComplaintThreat,
    /// The contact centre transfers the call or brings a supervisor in.
    Transfer,
}

/// The first escalation in a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalation {
    /// What it was.
    pub kind: EscalationKind,
    /// Index of the turn (0-based).
    pub turn: usize,
    /// Who escalated.
    pub speaker: Speaker,
}

/// One turn's sentiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnSentiment {
    /// Who spoke.
    pub speaker: Speaker,
    /// VADER scores of the whole turn.
    #[serde(flatten)]
    pub polarity: Polarity,
    /// The customer's mood in this turn ([`crate::conversation::mood`], capped at
    /// [`ESCALATION_MOOD`] when the turn escalates); customer turns only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mood: Option<f64>,
    /// Whether the customer escalates in this turn (asks for a manager, threatens to cancel or
    /// complain).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub escalates: bool,
}

/// One side's sentiment over the call, from its turns' compound scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideSentiment {
    /// Mean compound.
    pub mean: f64,
    /// First turn's compound.
    pub start: f64,
    /// Last turn's compound.
    pub end: f64,
    /// Mean of the second half of the turns minus mean of the first half.
    pub trend: f64,
    /// How many turns.
    pub turns: usize,
}

/// Everything callsynth reads from one transcription.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// The call's label, from the customer's turns read as one mood arc
    /// ([`crate::mood_arc`]).
    #[serde(serialize_with = "as_str::sentiment")]
    pub sentiment: Sentiment,
    /// How sure the label is: its posterior probability under the mood-arc model, 0 to 1.
    pub sentiment_probability: f64,
    /// The customer's mood per turn ([`crate::conversation::mood`]) over the call.
    pub customer: Option<SideSentiment>,
    /// The agent's (and supervisor's) VADER compounds over the call.
    pub agent: Option<SideSentiment>,
    /// Whether the call escalated, and where first.
    pub escalation: Option<Escalation>,
    /// Whether the problem was solved.
    #[serde(serialize_with = "as_str::resolution")]
    pub resolution: Resolution,
    /// The turn the resolution was read from.
    pub resolution_turn: Option<usize>,
    /// Talk metrics, when the turns have timings.
    pub talk: Option<TalkMetrics>,
    /// Words in the transcription.
    pub word_count: u32,
    /// The origin's formulas on these signals.
    pub origin_scores: Scores,
    /// callsynth's scores on the richer signals.
    pub scores: ImprovedScores,
    /// Per-turn sentiment.
    pub turns: Vec<TurnSentiment>,
}

mod as_str {
    use serde::Serializer;

    pub fn sentiment<S: Serializer>(s: &crate::Sentiment, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.as_str())
    }
    pub fn resolution<S: Serializer>(r: &crate::Resolution, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(r.as_str())
    }
}

/// Context the transcript alone does not carry.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallContext {
    /// Earlier contacts from the same customer (0 on a first call).
    pub previous_contacts: u32,
}

/// Analyses one call's turns.
pub fn analyze(turns: &[Turn], context: CallContext) -> Analysis {
    let readings: Vec<TurnReading> = TURN_READINGS.with_borrow_mut(|by_speaker| {
        turns
            .iter()
            .map(|t| {
                by_speaker[t.speaker as usize]
                    .get_or_insert_with(t.text.as_str(), |text| TurnReading::of(t.speaker, text))
            })
            .collect()
    });
    // The customer's side is read as speech (crate::conversation); the agent's is plain VADER.
    // Escalating is an act of displeasure however politely it is worded ("I'd like to speak with
    // a supervisor, please" reads positive to VADER).
    let mut moods: Vec<Reading> = Vec::new();
    let turn_sentiments: Vec<TurnSentiment> = turns
        .iter()
        .zip(&readings)
        .map(|(t, r)| {
            let customer = t.speaker == Speaker::Customer;
            let escalates = customer && r.escalation.is_some();
            let mood = customer.then(|| if escalates { r.mood.min(ESCALATION_MOOD) } else { r.mood });
            if let Some(mood) = mood {
                moods.push(Reading { mood, escalates });
            }
            TurnSentiment { speaker: t.speaker, polarity: r.polarity, mood, escalates }
        })
        .collect();
    let customer_moods: Vec<f64> = moods.iter().map(|r| r.mood).collect();
    let customer = side_sentiment(&customer_moods);
    let agent_scores: Vec<f64> =
        turn_sentiments.iter().filter(|t| t.speaker.is_staff()).map(|t| t.polarity.compound).collect();
    let agent = side_sentiment(&agent_scores);
    let escalation = find_escalation(turns, &readings);
    let (resolution, resolution_turn) = find_resolution(turns, &readings);
    let evidence = Evidence::of(&moods, resolution);
    let decoded =
        DECODINGS.with_borrow_mut(|memo| memo.get_or_insert_with(&evidence, |e| Decoder::shipped().decode_evidence(e)));
    let sentiment = decoded.label;
    let word_count = readings.iter().map(|r| r.words).sum();
    let talk = talk_metrics(turns);
    let mut analysis = Analysis {
        sentiment,
        sentiment_probability: (decoded.probability * 1000.0).round() / 1000.0,
        customer,
        agent,
        origin_scores: origin_scores(sentiment, resolution, escalation.is_some(), word_count),
        scores: ImprovedScores { churn_risk: 0, propensity_to_buy: 0, satisfaction_score: 0 },
        escalation,
        resolution,
        resolution_turn,
        talk,
        word_count,
        turns: turn_sentiments,
    };
    analysis.rescore(context);
    analysis
}

/// Everything the analysis reads from one turn on its own: a pure function of the speaker and
/// the words, so it is worked out once per distinct turn (`TURN_READINGS`).
#[derive(Debug, Clone, Copy)]
struct TurnReading {
    /// VADER on the whole turn.
    polarity: Polarity,
    /// The mood read as speech ([`crate::conversation::mood`]); customer turns only, else 0.
    mood: f64,
    /// The escalation this turn makes, by its speaker's kind of escalating.
    escalation: Option<EscalationKind>,
    /// A staff turn that hands the call on.
    hands_off: bool,
    /// A staff turn's commitment.
    offer: Option<Offer>,
    /// A customer turn's reaction.
    reply: Option<Reply>,
    /// A customer turn that gives up ("forget it") …
    gives_up: bool,
    /// … or says goodbye.
    farewell: bool,
    /// Whitespace-separated words.
    words: u32,
}

impl TurnReading {
    fn of(speaker: Speaker, text: &str) -> TurnReading {
        static GIVING_UP: LazyLock<Phrases> = LazyLock::new(|| {
            Phrases::new(&["hanging up", "forget it", "i'm done", "pointless", "don't have time for this"])
        });
        static FAREWELL: LazyLock<Phrases> = LazyLock::new(|| Phrases::new(&["goodbye", "bye"]));
        let clauses = clauses(text);
        let customer = speaker == Speaker::Customer;
        let staff = speaker.is_staff();
        let hands_off = speaker == Speaker::Agent && hands_off(&clauses);
        TurnReading {
            polarity: Vader::get().polarity_scores(text),
            mood: if customer { crate::conversation::mood(text) } else { 0.0 },
            escalation: match speaker {
                Speaker::Customer | Speaker::Unknown => clauses.iter().find_map(customer_escalation),
                Speaker::Agent => hands_off.then_some(EscalationKind::Transfer),
                // A supervisor speaking means one was brought in.
                Speaker::Supervisor => Some(EscalationKind::Transfer),
            },
            hands_off,
            offer: if staff { staff_offer(&clauses) } else { None },
            reply: if customer { customer_reply(&clauses) } else { None },
            gives_up: customer && clauses.iter().any(|c| c.mentions(&GIVING_UP)),
            farewell: customer && clauses.iter().any(|c| c.mentions(&FAREWELL)),
            words: text.split_whitespace().count() as u32,
        }
    }
}

/// Values of a pure function kept by their argument, up to a bound: a full memo starts again
/// empty.
struct Memo<K, V> {
    values: FxHashMap<K, V>,
}

impl<K: std::hash::Hash + Eq, V: Copy> Memo<K, V> {
    /// Entries kept before starting again (a few megabytes at most for the memos below).
    const LIMIT: usize = 1 << 16;

    fn new() -> Memo<K, V> {
        Memo { values: FxHashMap::default() }
    }

    /// The value for `key`, worked out with `make` the first time.
    fn get_or_insert_with<Q>(&mut self, key: &Q, make: impl FnOnce(&Q) -> V) -> V
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(value) = self.values.get(key) {
            return *value;
        }
        let value = make(key);
        if self.values.len() >= Self::LIMIT {
            self.values.clear();
        }
        self.values.insert(key.to_owned(), value);
        value
    }
}

thread_local! {
    /// Turn readings already worked out on this thread, per speaker and text. Contact-centre
    /// calls repeat themselves — greetings, scripted offers, "Is there anything else?" — so most
    /// turns of a batch of calls have been read before.
    static TURN_READINGS: std::cell::RefCell<[Memo<String, TurnReading>; 4]> =
        std::cell::RefCell::new(std::array::from_fn(|_| Memo::new()));
    /// Decodings by their evidence (a handful of bytes per call): calls that read alike turn by
    /// turn decode alike.
    static DECODINGS: std::cell::RefCell<Memo<Evidence, Decoded>> = std::cell::RefCell::new(Memo::new());
}

impl Analysis {
    /// Recomputes the improved scores for `context` — what changes when the same transcript is
    /// read with another customer history. The rest of the analysis depends on the text alone,
    /// so it can be computed ahead (in parallel) and scored when the history is known.
    pub fn rescore(&mut self, context: CallContext) {
        let signals = Signals {
            sentiment: self.sentiment,
            customer_mean: self.customer.as_ref().map_or(0.0, |c| c.mean),
            customer_end: self.customer.as_ref().map_or(0.0, |c| c.end),
            customer_trend: self.customer.as_ref().map_or(0.0, |c| c.trend),
            resolution: self.resolution,
            escalated: self.escalation.is_some(),
            interruptions: self.talk.as_ref().map_or(0, |t| t.interruptions),
            silence_share: self
                .talk
                .as_ref()
                .map_or(0.0, |t| if t.handle_seconds > 0.0 { t.silence_seconds / t.handle_seconds } else { 0.0 }),
            previous_contacts: context.previous_contacts,
        };
        self.scores = improved_scores(&signals);
    }
}

/// The highest mood a customer turn that escalates can have.
pub const ESCALATION_MOOD: f64 = -0.5;

fn side_sentiment(scores: &[f64]) -> Option<SideSentiment> {
    let (&start, &end) = (scores.first()?, scores.last()?);
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    let half = scores.len() / 2;
    let trend = if half == 0 {
        0.0
    } else {
        let avg = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        avg(&scores[scores.len() - half..]) - avg(&scores[..half])
    };
    let r = |x: f64| (x * 10_000.0).round() / 10_000.0;
    Some(SideSentiment { mean: r(mean), start, end, trend: r(trend), turns: scores.len() })
}

// ---------------------------------------------------------------------------------------------
// Escalation
// ---------------------------------------------------------------------------------------------

/// Someone above the agent.
static HIGHER_UP: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "supervisor",
        "manager",
        "someone in charge",
        // "up" is often lost to the recogniser; "someone higher" says it alone.
        "someone higher",
        "someone senior",
        "team lead",
        "team leader",
        "your boss",
        "escalate",
    ])
});
/// Words that make a mention of a manager a request for one.
const ASKING: [&str; 18] = [
    "want", "speak", "talk", "get", "put", "need", "like", "demand", "see", "escalate", "connect", "bring", "let",
    "transfer", "give", "insist", "can", "may",
];
static CANCEL: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "cancel my account",
        "cancel my membership",
        "cancel my subscription",
        "cancel my service",
        "cancel my contract",
        "cancel my plan",
        "cancel every",
        "cancelling my",
        "canceling my",
        "close my account",
        "closing my account",
        "business elsewhere",
        "taking my business",
        "take my business",
        "switch to a competitor",
        "switching to a competitor",
    ])
});
static COMPLAINT: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "file a complaint",
        "filing a complaint",
        "formal complaint",
        "make a complaint",
        "lodge a complaint",
        "report this",
        "reporting this",
        "leave a review",
        "leaving a review",
        "consumer protection",
        "better business bureau",
        "my lawyer",
        "legal action",
        "hearing from me",
    ])
});
/// The contact centre handing the call on.
static HANDOFF: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "transfer you",
        "transfer your call",
        "transferring you",
        "transferring your call",
        "connecting you",
        "put you through",
        "putting you through",
        "bring my supervisor",
        "get my supervisor",
        "connecting my supervisor",
        "bring in my supervisor",
        "escalate this",
        "escalating this",
        "escalating your",
    ])
});
/// Words before a hand-off in its clause that make it an offer the customer may decline.
const OFFERING: [&str; 9] = ["if", "could", "would", "can", "prefer", "want", "like", "option", "able"];
/// Words anywhere in the turn that make a hand-off conditional ("… if you want a second opinion").
const CONDITIONAL: [&str; 3] = ["if", "prefer", "whether"];

fn find_escalation(turns: &[Turn], readings: &[TurnReading]) -> Option<Escalation> {
    turns.iter().zip(readings).enumerate().find_map(|(i, (turn, reading))| {
        reading.escalation.map(|kind| Escalation { kind, turn: i, speaker: turn.speaker })
    })
}

fn customer_escalation(c: &Clause) -> Option<EscalationKind> {
    if c.affirms(&CANCEL).is_some() {
        return Some(EscalationKind::CancelThreat);
    }
    if c.affirms(&COMPLAINT).is_some() {
        return Some(EscalationKind::ComplaintThreat);
    }
    if let Some(at) = c.affirms(&HIGHER_UP)
        && c.words().take(at).any(|w| ASKING.contains(&w))
    {
        return Some(EscalationKind::SupervisorRequest);
    }
    // "Transfer me" as a demand, not "don't transfer me".
    static DEMANDS_TRANSFER: LazyLock<Phrases> = LazyLock::new(|| Phrases::new(&["transfer me", "put me through"]));
    if c.affirms(&DEMANDS_TRANSFER).is_some() {
        return Some(EscalationKind::SupervisorRequest);
    }
    None
}

/// A staff turn that transfers the call, not one that offers to.
fn hands_off(clauses: &[Clause]) -> bool {
    clauses.iter().any(staff_handoff) && !clauses.iter().any(|c| c.has_word(&CONDITIONAL))
}

fn staff_handoff(c: &Clause) -> bool {
    let Some(at) = c.affirms(&HANDOFF) else { return false };
    !c.question && !c.words().take(at).any(|w| OFFERING.contains(&w))
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/// What the contact centre's last commitment says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offer {
    Done,
    Partial,
    Refused,
}

/// A completed fix: "I've refunded …", "that's fixed now".
static DONE: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "i've refunded",
        "i've reversed",
        "i've applied",
        "i've issued",
        "i've sent",
        "i've taken care",
        "i've fixed",
        "i've updated",
        "i've corrected",
        "i've processed",
        "i've reset",
        "i've credited",
        "i've rescheduled",
        "i've cancelled",
        "i've changed",
        "i've arranged",
        "i've resent",
        "i've booked",
        "i've replaced",
        "i've approved",
        "i've waived",
        "i have refunded",
        "i have sent",
        "i have fixed",
        "that's fixed",
        "it's fixed",
        "is fixed",
        "all set",
        "been resolved",
        "been refunded",
    ])
});
/// Only part of it: "part of", "the rest needs approval".
static PARTIAL: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "part of",
        "partial",
        "half of",
        "the rest",
        "needs approval",
        "needs a",
        "has to be approved",
        "needs to be approved",
        "will be approved",
        "once we receive",
        "out of stock",
        "for now",
        "in the meantime",
        "pending",
        "less than",
        "restocking fee",
        "for the remainder",
        "store credit",
        "sign-off",
    ])
});
/// The centre cannot do it.
static CANNOT: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "can't",
        "cannot",
        "not able",
        "unable",
        "nothing i can",
        "nothing else i can",
        "doesn't allow",
        "won't be able",
        "afraid",
        "not possible",
        "no way",
        "policy",
        "all i can do",
        "couldn't",
        "has closed",
        "not eligible",
    ])
});
/// Follow-ups that leave the problem open: a call back, a case, a review.
static LATER: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "call you back",
        "get back to you",
        "follow up",
        "priority case",
        "opening a case",
        "open a case",
        "opening a ticket",
        "review this",
        "taking ownership",
    ])
});

/// The customer's reaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Accepts,
    Partly,
    Refuses,
}

static ACCEPTS: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "that works",
        "that solves",
        "solves it",
        "solves everything",
        "takes care of it",
        "perfect",
        "exactly what i needed",
        "sounds fine",
        "sounds good",
        "sounds great",
        "that's great",
        "that's fine",
        "that helps",
        "helpful",
        "appreciate",
        "thank you",
        "thanks",
        "wonderful",
    ])
});
static PARTLY: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "part of",
        "half of",
        "the rest",
        "a start",
        "progress",
        "a bit",
        "fix everything",
        "pending",
        "partly",
        "only half",
        "wait for the rest",
        "keep an eye",
    ])
});
static REFUSES: LazyLock<Phrases> = LazyLock::new(|| {
    Phrases::new(&[
        "not good enough",
        "doesn't solve",
        "doesn't really solve",
        "never mind",
        "won't work",
        "doesn't work",
        "doesn't really work",
        "useless",
        "haven't fixed",
        "terrible answer",
        "not what i asked",
        "a shame",
        "still broken",
        "still not",
        "still there",
        "still waiting",
        "absolutely not",
        "not acceptable",
        "unacceptable",
        "ridiculous",
        "not resolved",
        "repeating myself",
    ])
});

fn find_resolution(turns: &[Turn], readings: &[TurnReading]) -> (Resolution, Option<usize>) {
    // The centre's last commitment, and what the customer said after it.
    let offer = (0..turns.len()).rev().find_map(|i| readings[i].offer.map(|o| (i, o)));
    let after = offer.map_or(0, |(i, _)| i + 1);
    let reply = (after..turns.len()).filter_map(|i| readings[i].reply.map(|r| (i, r))).fold(
        None,
        |acc: Option<(usize, Reply)>, (i, r)| match acc {
            // A refusal or a partial answer outweighs a later courtesy ("thanks anyway").
            Some((_, Reply::Refuses | Reply::Partly)) if r == Reply::Accepts => acc,
            _ => Some((i, r)),
        },
    );
    // A transfer, or a supervisor taking over, leaves the problem open unless a fix follows.
    let handoff = (0..turns.len()).find(|&i| match turns[i].speaker {
        Speaker::Supervisor => true,
        Speaker::Agent => readings[i].hands_off,
        _ => false,
    });
    let handed_on = handoff.is_some_and(|h| offer.is_none_or(|(i, o)| o != Offer::Done || i < h));
    match (offer, reply) {
        _ if handed_on => (Resolution::Unresolved, handoff),
        (Some((i, Offer::Partial)), Some((_, Reply::Refuses))) => (Resolution::Unresolved, Some(i)),
        (Some((i, Offer::Partial)), _) => (Resolution::PartiallyResolved, Some(i)),
        (Some((i, Offer::Refused)), _) => (Resolution::Unresolved, Some(i)),
        (Some((i, Offer::Done)), None | Some((_, Reply::Accepts))) => (Resolution::Resolved, Some(i)),
        (Some((_, Offer::Done)), Some((j, Reply::Partly))) => (Resolution::PartiallyResolved, Some(j)),
        (Some((_, Offer::Done)), Some((j, Reply::Refuses))) => (Resolution::Unresolved, Some(j)),
        (None, Some((j, reply))) => (
            match reply {
                Reply::Accepts => Resolution::Resolved,
                Reply::Partly => Resolution::PartiallyResolved,
                Reply::Refuses => Resolution::Unresolved,
            },
            Some(j),
        ),
        (None, None) if hung_up(turns, readings) => (Resolution::Unresolved, Some(turns.len() - 1)),
        (None, None) => (Resolution::Unknown, None),
    }
}

fn staff_offer(clauses: &[Clause]) -> Option<Offer> {
    let mut found = None;
    for c in clauses {
        if c.question {
            continue;
        }
        let offer = if c.mentions(&PARTIAL) {
            Some(Offer::Partial)
        } else if c.mentions(&CANNOT) || c.mentions(&LATER) {
            Some(Offer::Refused)
        } else if c.affirms(&DONE).is_some() {
            Some(Offer::Done)
        } else {
            None
        };
        // Within one turn, "part of it" or "can't" qualifies a "done" in another clause.
        found = match (found, offer) {
            (Some(Offer::Partial), _) | (_, Some(Offer::Partial)) => Some(Offer::Partial),
            (Some(Offer::Done), Some(Offer::Refused)) | (Some(Offer::Refused), Some(Offer::Done)) => {
                Some(Offer::Partial)
            }
            (f, None) => f,
            (_, o) => o,
        };
    }
    found
}

fn customer_reply(clauses: &[Clause]) -> Option<Reply> {
    let (mut partly, mut refuses, mut accepts) = (false, false, false);
    for c in clauses {
        partly |= c.mentions(&PARTLY);
        // "I don't think that solves it": an acceptance, negated, is a refusal.
        refuses |= c.mentions(&REFUSES) || c.denies(&ACCEPTS);
        accepts |= c.affirms(&ACCEPTS).is_some();
    }
    if partly {
        Some(Reply::Partly)
    } else if refuses {
        Some(Reply::Refuses)
    } else if accepts {
        Some(Reply::Accepts)
    } else {
        None
    }
}

/// The customer's last turn gives up, or says goodbye in displeasure ("Got it. Bye." ends a
/// call that went fine).
fn hung_up(turns: &[Turn], readings: &[TurnReading]) -> bool {
    let Some(last) = turns.iter().rposition(|t| t.speaker == Speaker::Customer) else { return false };
    let r = &readings[last];
    r.gives_up || (r.farewell && r.mood < 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::parse_labelled;

    fn run(text: &str) -> Analysis {
        analyze(&parse_labelled(text), CallContext::default())
    }

    /// The memo keys a turn by its speaker as well as its words: the same words read
    /// differently from the agent and from the customer.
    #[test]
    fn remembered_turns_are_read_per_speaker() {
        let words = "I want to speak to your manager about this, it is useless.";
        let agent = run(&format!("Agent: {words}\nCustomer: Okay."));
        let customer = run(&format!("Agent: Hello.\nCustomer: {words}"));
        assert_eq!(agent.escalation, None, "an agent asking for a manager is no escalation");
        assert_eq!(agent.turns[0].mood, None);
        let escalation = customer.escalation.expect("the customer asks for a manager");
        assert_eq!((escalation.kind, escalation.turn), (EscalationKind::SupervisorRequest, 1));
        assert!(customer.turns[1].escalates && customer.turns[1].mood.is_some_and(|m| m <= ESCALATION_MOOD));
    }

    /// Readings and decodings taken from the memos are the ones worked out afresh: a thread
    /// that has read other calls first analyses each call exactly as a new thread does.
    #[test]
    fn memoised_analyses_equal_fresh_ones() {
        let calls = [
            "Agent: Thanks for calling, how can I help?\nCustomer: My order never came and I already called twice.\nAgent: I'm sorry. I've reshipped it today.\nCustomer: Fine. Bye.",
            "Agent: Thanks for calling, how can I help?\nCustomer: I'd like to update my address.\nAgent: Done, it's updated.\nCustomer: Great, thank you so much!",
            "Agent: Thanks for calling, how can I help?\nCustomer: This is useless, get me a supervisor.\nSupervisor: I'm here now.\nCustomer: Fine. Bye.",
        ];
        let fresh: Vec<String> = calls
            .iter()
            .map(|text| {
                let text = text.to_string();
                std::thread::spawn(move || serde_json::to_string(&run(&text)).unwrap()).join().unwrap()
            })
            .collect();
        // One thread, every call twice: later calls and repeats hit the memos.
        let warm: Vec<String> = std::thread::spawn(move || {
            calls.iter().chain(&calls).map(|text| serde_json::to_string(&run(text)).unwrap()).collect()
        })
        .join()
        .unwrap();
        assert_eq!(warm[..3], fresh[..]);
        assert_eq!(warm[3..], fresh[..]);
    }

    #[test]
    fn escalation_is_speaker_and_negation_aware() {
        assert_eq!(run("Customer: I don't need a manager, I need this fixed.").escalation, None);
        assert_eq!(
            run("Agent: If you'd prefer, I could transfer you to billing.\nCustomer: No, don't transfer me.")
                .escalation,
            None
        );
        assert_eq!(
            run("Agent: A refund needs a manager's sign-off.").escalation,
            None,
            "the agent mentioning a manager"
        );
        let e = run("Agent: Hello.\nCustomer: Get me a manager. Now.").escalation.expect("escalated");
        assert_eq!((e.kind, e.turn, e.speaker), (EscalationKind::SupervisorRequest, 1, Speaker::Customer));
        let e = run("Customer: I'm going to cancel every order and close my account.").escalation.expect("threat");
        assert_eq!(e.kind, EscalationKind::CancelThreat);
        let e =
            run("Customer: Hmm.\nAgent: I'll transfer you to returns, they can handle this.").escalation.expect("x");
        assert_eq!((e.kind, e.turn), (EscalationKind::Transfer, 1));
        assert_eq!(
            run("Customer: I want to talk to your super visor").escalation.map(|e| e.kind),
            Some(EscalationKind::SupervisorRequest)
        );
        assert_eq!(run("Agent: I can also transfer you to billing if you want a second opinion.").escalation, None);
    }

    #[test]
    fn resolution_reads_the_last_commitment_and_the_reply() {
        let resolved = "Agent: I've refunded the duplicate charge.\nCustomer: That's perfect, thank you so much!\nAgent: Anything else?\nCustomer: No, that's all.";
        assert_eq!(run(resolved).resolution, Resolution::Resolved);
        let partial =
            "Agent: I've fixed part of it today, and opened a ticket for the rest.\nCustomer: Okay, that's a start.";
        assert_eq!(run(partial).resolution, Resolution::PartiallyResolved);
        let refused = "Agent: Unfortunately our policy doesn't allow me to do that.\nCustomer: That doesn't really solve my problem.";
        assert_eq!(run(refused).resolution, Resolution::Unresolved);
        let reopened = "Agent: That's fixed now.\nCustomer: No. It's still broken.";
        assert_eq!(run(reopened).resolution, Resolution::Unresolved);
        assert_eq!(run("Customer: Hello?\nAgent: Hi.").resolution, Resolution::Unknown);
        let transferred = "Customer: Get me a manager.\nAgent: I'll transfer you to billing now.\nCustomer: Fine.";
        assert_eq!(run(transferred).resolution, Resolution::Unresolved);
        // Leaving in displeasure is giving up; a plain farewell is not.
        let gave_up = "Agent: Let me look into it.\nCustomer: I don't have time for this. Bye.";
        assert_eq!(run(gave_up).resolution, Resolution::Unresolved);
        let angry_farewell = "Agent: Let me look into it.\nCustomer: This is awful. Goodbye.";
        assert_eq!(run(angry_farewell).resolution, Resolution::Unresolved);
        let informed = "Customer: What's the tracking number?\nAgent: It's 1Z999.\nCustomer: Got it. Bye.";
        assert_eq!(run(informed).resolution, Resolution::Unknown);
    }

    #[test]
    fn rescoring_with_a_history_equals_analysing_with_it() {
        let turns =
            parse_labelled("Agent: Hi.\nCustomer: It's broken again and I'm fed up.\nAgent: I can't fix that, sorry.");
        let mut ahead = analyze(&turns, CallContext::default());
        let with_history = analyze(&turns, CallContext { previous_contacts: 2 });
        assert_ne!(ahead.scores, with_history.scores, "repeat contacts move the scores");
        ahead.rescore(CallContext { previous_contacts: 2 });
        assert_eq!(ahead, with_history);
    }

    #[test]
    fn the_label_comes_from_the_customer_not_the_agent() {
        let a = run(
            "Agent: Thank you so much for calling, it's wonderful to hear from you!\nCustomer: This is terrible. I'm furious.",
        );
        assert_eq!(a.sentiment, Sentiment::Negative);
        assert!(a.agent.expect("agent").mean > 0.5);
        assert_eq!(a.turns.len(), 2);
    }
}
