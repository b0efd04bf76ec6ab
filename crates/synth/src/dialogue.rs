//! The dialogue engine: turns a [`CallPlan`] into a full [`Call`] — words, timings, recording,
//! transcription and ground truth.
//!
//! Rendering happens in three passes over one call:
//!
//! 1. **Script**: the sequence of steps the plan implies (greeting, issue, verification,
//!    diagnosis, optional hold and extra exchanges, escalation branch, resolution attempt,
//!    closing), each with its speaker.
//! 2. **Mood**: the customer's sentiment per turn, an arc from a start set by their demeanour to
//!    an end set by the outcome, with dips where they escalate. The tone of each customer line
//!    follows its sentiment; the agent's tone follows their attitude.
//! 3. **Words and time**: a catalogue line per step with its slots filled, disfluencies at
//!    persona-dependent rates, then speaking times from per-persona speech rates, pauses, holds
//!    and interruptions.

use std::fmt::Write as _;

use model::{
    Call, CallStatus, Direction, Ending, GroundTruth, Journey, Level, Recording, SentimentLabel, Sid, SidPrefix,
    Speaker, Transcription, Turn,
};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::asr;
use crate::catalog::{Catalog, Piece, Slot, Step, Tone};
use crate::personas::PersonaPool;
use crate::plan::{CallPlan, Escalation};
use crate::profile::{AgentProfile, CustomerProfile, LengthPreference};
use crate::rng::{Purpose, RngFactory};

/// What rendering needs besides the plan.
#[derive(Debug)]
pub struct RenderContext<'a> {
    /// Phrase catalogue.
    pub catalog: &'a Catalog,
    /// Personas.
    pub pool: &'a PersonaPool,
    /// Per-call generators.
    pub factory: &'a RngFactory,
    /// `AC…` of the simulated Twilio account.
    pub account_sid: Sid,
    /// The contact centre's number (the `To` of inbound calls).
    pub centre_number: &'a str,
    /// Simulated ASR word error rate for transcription text, 0 for clean.
    pub asr_wer: f64,
}

/// One line of the script before words are chosen.
#[derive(Debug, Clone)]
struct Line {
    speaker: Speaker,
    content: Content,
    /// Extra seconds of silence before this line (holds, hand-offs).
    wait_before: f64,
    /// Sentiment floor/ceiling for customer lines.
    clamp: Option<(f64, f64)>,
    escalation: bool,
}

#[derive(Debug, Clone)]
enum Content {
    /// A verbatim persona line (greeting, farewell).
    Persona(fn(&AgentProfile) -> &str),
    /// Catalogue steps spoken back to back in one turn.
    Steps(Vec<Step>),
}

impl Line {
    fn new(speaker: Speaker, steps: &[Step]) -> Line {
        Line { speaker, content: Content::Steps(steps.to_vec()), wait_before: 0.0, clamp: None, escalation: false }
    }
    fn customer(steps: &[Step]) -> Line {
        Line::new(Speaker::Customer, steps)
    }
    fn agent(steps: &[Step]) -> Line {
        Line::new(Speaker::Agent, steps)
    }
    fn supervisor(steps: &[Step]) -> Line {
        Line::new(Speaker::Supervisor, steps)
    }
    fn persona(f: fn(&AgentProfile) -> &str) -> Line {
        Line { speaker: Speaker::Agent, content: Content::Persona(f), wait_before: 0.0, clamp: None, escalation: false }
    }
    fn at_most(mut self, ceiling: f64) -> Line {
        self.clamp = Some((-1.0, ceiling));
        self
    }
    fn at_least(mut self, floor: f64) -> Line {
        self.clamp = Some((floor, 1.0));
        self
    }
    fn escalation(mut self) -> Line {
        self.escalation = true;
        self
    }
    fn after(mut self, seconds: f64) -> Line {
        self.wait_before = seconds;
        self
    }
}

/// Per-call slot values.
struct Slots<'a> {
    agent: &'a str,
    customer: &'a str,
    company: &'a str,
    order_id: String,
    amount: String,
    date: String,
    product: &'a str,
    address: String,
    email: &'a str,
    carrier: &'a str,
    tracking: String,
    days: &'static str,
    department: &'a str,
    last4: String,
}

impl Slots<'_> {
    fn get(&self, slot: Slot) -> &str {
        match slot {
            Slot::Agent => self.agent,
            Slot::Customer => self.customer,
            Slot::Company => self.company,
            Slot::OrderId => &self.order_id,
            Slot::Amount => &self.amount,
            Slot::Date => &self.date,
            Slot::Product => self.product,
            Slot::Address => &self.address,
            Slot::Email => self.email,
            Slot::Carrier => self.carrier,
            Slot::Tracking => &self.tracking,
            Slot::Days => self.days,
            Slot::Department => self.department,
            Slot::Last4 => &self.last4,
        }
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS_IN_WORDS: [&str; 6] = ["two", "three", "four", "five", "six", "seven"];

fn ordinal(day: u8) -> String {
    let suffix = match (day % 10, day % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

fn first_name(full: &str) -> &str {
    full.split_whitespace().next().unwrap_or(full)
}

fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    Normal::new(mean, sd).expect("valid sigma").sample(rng)
}

/// Renders one call.
pub fn render(plan: &CallPlan, ctx: &RenderContext<'_>) -> Call {
    let mut rng = ctx.factory.rng(Purpose::Render, plan.index);
    let customer = &ctx.pool.customers[plan.customer];
    let agent = &ctx.pool.agents[plan.agent];
    let mut call = Call {
        index: plan.index,
        call_sid: plan.call_sid,
        account_sid: ctx.account_sid,
        from: customer.persona.phone_number.clone(),
        to: ctx.centre_number.to_string(),
        direction: Direction::Inbound,
        status: plan.status,
        initiated_at_ms: plan.initiated_at_ms,
        ring_seconds: 0.0,
        hold_seconds: 0.0,
        duration_seconds: 0,
        customer: customer.persona.clone(),
        customer_difficulty: customer.difficulty,
        agent: agent.persona.clone(),
        agent_skill: agent.skill,
        journey: Journey {
            customer_key: customer.persona.phone_number.clone(),
            contact_number: plan.contact_number,
            previous_call_sid: plan.previous_call_sid,
        },
        conference_sid: None,
        recording: None,
        transcription: None,
        turns: Vec::new(),
        truth: None,
    };
    call.ring_seconds = ring_seconds(plan.status, &mut rng);
    let Some(talk) = plan.talk else {
        return call;
    };

    // Pass 1: the script.
    let script = script(plan, customer, agent, &mut rng);

    // Pass 2: customer sentiment per customer line.
    let repeat = plan.contact_number > 1;
    let start =
        (0.45 - customer.temper + normal(&mut rng, 0.0, 0.12) - if repeat { 0.2 } else { 0.0 }).clamp(-0.95, 0.8);
    let end = match talk.ending {
        Ending::Resolved => 0.5 + 0.3 * agent.skill,
        Ending::PartiallyResolved => 0.1 * agent.skill,
        Ending::Unresolved => -0.45,
        Ending::Supervisor => -0.5,
        Ending::Transfer => -0.35,
        Ending::Hangup => -0.85,
    } + normal(&mut rng, 0.0, 0.08);
    let customer_lines = script.iter().filter(|l| l.speaker == Speaker::Customer).count();
    let mut k = 0usize;
    let sentiments: Vec<Option<f64>> = script
        .iter()
        .map(|line| {
            (line.speaker == Speaker::Customer).then(|| {
                let x = if customer_lines > 1 { k as f64 / (customer_lines - 1) as f64 } else { 1.0 };
                k += 1;
                let base = start + (end - start) * x.powf(1.5) + normal(&mut rng, 0.0, 0.07);
                let (lo, hi) = line.clamp.unwrap_or((-1.0, 1.0));
                (base.clamp(lo, hi) * 1000.0).round() / 1000.0
            })
        })
        .collect();

    // Pass 3: words.
    let category = &ctx.catalog.categories[customer.category];
    let slots = slots(ctx, customer, agent, &category.department, plan.initiated_at_ms, &mut rng);
    let agent_tone = if agent.warmth >= 0.6 { Tone::Warm } else { Tone::Flat };
    let customer_fillers = 0.02
        + match customer.persona.technical_proficiency {
            Level::Low => 0.05,
            Level::Medium => 0.025,
            Level::High => 0.0,
        };
    let agent_fillers = if agent.skill < 0.5 { 0.04 } else { 0.005 };
    let mut texts = Vec::with_capacity(script.len());
    for (line, sentiment) in script.iter().zip(&sentiments) {
        let mut text = String::with_capacity(96);
        match &line.content {
            Content::Persona(f) => text.push_str(f(agent)),
            Content::Steps(steps) => {
                for step in steps {
                    let tone = match line.speaker {
                        Speaker::Customer => {
                            let tone = Tone::for_sentiment(sentiment.expect("customer lines have a sentiment"));
                            if matches!(
                                step,
                                Step::DemandSupervisor | Step::ThreatenCancel | Step::ThreatenComplaint | Step::Hangup
                            ) {
                                tone.upset()
                            } else {
                                tone
                            }
                        }
                        Speaker::Agent => agent_tone,
                        Speaker::Supervisor => Tone::Any,
                    };
                    let template = ctx
                        .catalog
                        .lines(customer.category, *step, tone)
                        .choose(&mut rng)
                        .expect("catalogue validated every step and tone");
                    if !text.is_empty() {
                        text.push(' ');
                    }
                    for piece in &template.pieces {
                        match piece {
                            Piece::Text(t) => text.push_str(t),
                            Piece::Slot(s) => text.push_str(slots.get(*s)),
                        }
                    }
                }
            }
        }
        if line.speaker == Speaker::Customer {
            text = ctx.catalog.reword(customer.persona.technical_proficiency, text);
        }
        let rate = match (&line.content, line.speaker) {
            // Scripted persona lines are read out verbatim.
            (Content::Persona(_), _) => 0.0,
            (_, Speaker::Customer) => customer_fillers + if sentiment.unwrap_or(0.0) < -0.3 { 0.02 } else { 0.0 },
            (_, Speaker::Agent) => agent_fillers,
            (_, Speaker::Supervisor) => 0.0,
        };
        texts.push(add_disfluencies(&text, rate, &mut rng));
    }

    // Timing.
    let customer_wpm = (150.0
        + if customer.temper > 0.7 { 18.0 } else { 0.0 }
        + match customer.persona.technical_proficiency {
            Level::Low => -12.0,
            Level::Medium => 0.0,
            Level::High => 8.0,
        }
        + match customer.length {
            LengthPreference::VeryShort | LengthPreference::Short => 10.0,
            LengthPreference::Long => -10.0,
            _ => 0.0,
        }
        + normal(&mut rng, 0.0, 8.0))
    .clamp(100.0, 210.0);
    let agent_wpm = (148.0 + 14.0 * agent.skill + normal(&mut rng, 0.0, 6.0)).clamp(110.0, 200.0);
    let supervisor_wpm = 155.0;
    let mut turns: Vec<Turn> = Vec::with_capacity(script.len());
    let mut clock = call.ring_seconds;
    let mut hold = 0.0;
    for ((line, text), sentiment) in script.iter().zip(texts).zip(sentiments) {
        let words = text.split_whitespace().count() as f64;
        let wpm = match line.speaker {
            Speaker::Customer => customer_wpm,
            Speaker::Agent => agent_wpm,
            Speaker::Supervisor => supervisor_wpm,
        };
        let speaking = words * 60.0 / wpm + rng.random_range(0.1..0.5);
        let mut interrupts = false;
        let start = if turns.is_empty() {
            clock
        } else if line.wait_before > 0.0 {
            hold += line.wait_before;
            clock + line.wait_before
        } else if line.speaker == Speaker::Customer
            && sentiment.is_some_and(|s| s < -0.4)
            && turns.last().is_some_and(|t: &Turn| t.speaker != Speaker::Customer && t.end - t.start > 2.0)
            && rng.random::<f64>() < 0.35
        {
            interrupts = true;
            let prev = turns.last().expect("checked");
            (prev.end - rng.random_range(0.3..1.2)).max(prev.start + 1.0)
        } else {
            clock + rng.random_range(0.25..1.1)
        };
        let end = start + speaking;
        clock = clock.max(end);
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        turns.push(Turn { speaker: line.speaker, text, start: round(start), end: round(end), sentiment, interrupts });
    }
    let last_end = turns.iter().map(|t| t.end).fold(0.0, f64::max);
    call.hold_seconds = (hold * 1000.0).round() / 1000.0;
    call.duration_seconds = last_end.ceil() as u32;

    // Recording and transcription.
    let mut sid = |prefix| {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        Sid::from_bytes(prefix, bytes)
    };
    let recording_sid = sid(SidPrefix::Recording);
    let transcription_sid = sid(SidPrefix::Transcription);
    if talk.ending == Ending::Supervisor {
        call.conference_sid = Some(sid(SidPrefix::Conference));
    }
    let ended = call.ended_at_ms();
    let recording_done = ended + rng.random_range(1_000..5_000);
    let transcription_done =
        recording_done + 10_000 + i64::from(call.duration_seconds) * 300 + rng.random_range(0..20_000);
    call.recording = Some(Recording {
        sid: recording_sid,
        url: format!("https://api.twilio.com/2010-04-01/Accounts/{}/Recordings/{recording_sid}", ctx.account_sid),
        duration_seconds: (last_end - call.ring_seconds).ceil() as u32,
        completed_at_ms: recording_done,
    });
    let mut asr_rng = ctx.factory.rng(Purpose::Asr, plan.index);
    let mut text = String::with_capacity(turns.iter().map(|t| t.text.len() + 12).sum());
    for (i, turn) in turns.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(turn.speaker.label());
        text.push_str(": ");
        if ctx.asr_wer > 0.0 {
            asr::corrupt(&turn.text, ctx.asr_wer, &mut asr_rng, &mut text);
        } else {
            text.push_str(&turn.text);
        }
    }
    call.transcription = Some(Transcription { sid: transcription_sid, text, completed_at_ms: transcription_done });

    // Ground truth.
    let customer_sentiments: Vec<f64> = turns.iter().filter_map(|t| t.sentiment).collect();
    let mean = customer_sentiments.iter().sum::<f64>() / customer_sentiments.len().max(1) as f64;
    let outcome = talk.ending.outcome();
    let outcome_adjust = match talk.ending {
        Ending::Resolved => 0.4,
        Ending::PartiallyResolved => 0.0,
        Ending::Unresolved => -0.4,
        Ending::Supervisor | Ending::Transfer => -0.3,
        Ending::Hangup => -0.6,
    };
    let final_mood = customer_sentiments.last().copied().unwrap_or(end);
    let csat = (3.0 + 1.6 * final_mood + outcome_adjust + normal(&mut rng, 0.0, 0.45)).round().clamp(1.0, 5.0) as u8;
    let escalation_turn = script.iter().position(|l| l.escalation);
    call.truth = Some(GroundTruth {
        outcome,
        ending: talk.ending,
        escalated: escalation_turn.is_some(),
        escalation_turn,
        customer_sentiment: (mean * 1000.0).round() / 1000.0,
        sentiment_label: SentimentLabel::from_score(mean),
        csat,
        issue_category: category.id.clone(),
    });
    call.turns = turns;
    call
}

fn ring_seconds(status: CallStatus, rng: &mut impl Rng) -> f64 {
    let s: f64 = match status {
        CallStatus::Completed => 2.0 + 10.0 * Distribution::<f64>::sample(&rand_distr::Exp1, rng),
        CallStatus::Busy => rng.random_range(0.5..2.0),
        CallStatus::NoAnswer => rng.random_range(15.0..40.0),
        CallStatus::Failed => rng.random_range(0.1..1.5),
        CallStatus::Canceled => rng.random_range(2.0..25.0),
    };
    (s.min(180.0) * 1000.0).round() / 1000.0
}

fn slots<'a>(
    ctx: &'a RenderContext<'_>,
    customer: &'a CustomerProfile,
    agent: &'a AgentProfile,
    department: &'a str,
    now_ms: i64,
    rng: &mut ChaCha8Rng,
) -> Slots<'a> {
    let catalog = ctx.catalog;
    let mut tracking = String::from("1Z");
    for _ in 0..10 {
        tracking.push(char::from(b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ"[rng.random_range(0..33)]));
    }
    // A date one to three weeks before the call: when the order was placed or shipped.
    let days_ago = rng.random_range(1..22i64);
    let when = time::OffsetDateTime::from_unix_timestamp((now_ms / 1000) - days_ago * 86_400)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let mut date = String::new();
    let _ = write!(date, "{} {}", MONTHS[usize::from(u8::from(when.month())) - 1], ordinal(when.day()));
    Slots {
        agent: first_name(&agent.persona.agent_name),
        customer: first_name(&customer.persona.customer_name),
        company: &catalog.company,
        order_id: format!("{}", rng.random_range(10_000_000u32..100_000_000)),
        amount: format!("${}.{:02}", rng.random_range(8..480), rng.random_range(0..100)),
        date,
        product: catalog.products.choose(rng).expect("validated non-empty"),
        address: format!(
            "{} {}, {}",
            rng.random_range(2..1999),
            catalog.streets.choose(rng).expect("validated non-empty"),
            catalog.cities.choose(rng).expect("validated non-empty")
        ),
        email: &customer.persona.contact_information,
        carrier: catalog.carriers.choose(rng).expect("validated non-empty"),
        tracking,
        days: DAYS_IN_WORDS.choose(rng).expect("non-empty"),
        department,
        last4: format!("{:04}", rng.random_range(0..10_000)),
    }
}

/// The sequence of lines the plan implies.
fn script(plan: &CallPlan, customer: &CustomerProfile, agent: &AgentProfile, rng: &mut impl Rng) -> Vec<Line> {
    use Step::*;
    let talk = plan.talk.expect("only talked calls have a script");
    let mut lines = Vec::with_capacity(20);
    lines.push(Line::persona(|a| &a.persona.scripted_introduction));
    let mut opening = vec![Opening];
    if plan.contact_number > 1 && plan.previous_call_sid.is_some() {
        opening.push(RepeatOpening);
    }
    opening.push(StateIssue);
    lines.push(Line::customer(&opening));
    lines.push(Line::agent(&[Acknowledge, VerifyRequest]));
    lines.push(Line::customer(&[VerifyGive]));
    if rng.random::<f64>() < 0.2 + 0.25 * (1.0 - agent.skill) {
        lines.push(Line::agent(&[VerifyThanks, HoldRequest]));
        lines.push(Line::agent(&[HoldReturn, Diagnose]).after(rng.random_range(20.0..120.0)));
    } else {
        lines.push(Line::agent(&[VerifyThanks, Diagnose]));
    }
    let mild = talk.escalation.is_none() && talk.ending != Ending::Hangup;
    if mild && rng.random::<f64>() < 0.1 {
        lines.push(Line::customer(&[ReactDiagnosis, NoManagerNeeded]));
    } else {
        lines.push(Line::customer(&[ReactDiagnosis]));
    }

    // Optional exchanges: long-winded customers and low proficiency make calls longer.
    let mut extra = customer.length.extra_exchanges()
        + if customer.persona.technical_proficiency == Level::Low { 0.7 } else { 0.0 };
    while extra > 0.0 {
        if rng.random::<f64>() < extra.min(1.0) {
            if customer.length == LengthPreference::Long && rng.random::<f64>() < 0.5 {
                lines.push(Line::customer(&[SmallTalkCustomer]));
                lines.push(Line::agent(&[SmallTalkAgent]));
            } else {
                lines.push(Line::agent(&[ClarifyQuestion]));
                lines.push(Line::customer(&[ClarifyAnswer]));
            }
        }
        extra -= 1.0;
    }

    if talk.ending == Ending::Hangup {
        lines.push(Line::customer(&[Hangup]).at_most(-0.55));
        return lines;
    }

    match talk.escalation {
        Some(Escalation::AgentTransfer) => {
            lines.push(Line::agent(&[TransferAnnounce]).escalation());
            lines.push(Line::customer(&[TransferAck]));
            return lines;
        }
        Some(kind) => {
            let step = match kind {
                Escalation::DemandSupervisor => DemandSupervisor,
                Escalation::ThreatenCancel => ThreatenCancel,
                _ => ThreatenComplaint,
            };
            lines.push(Line::customer(&[step]).at_most(-0.5).escalation());
            if talk.deescalated {
                lines.push(Line::agent(&[Deescalate]));
                lines.push(Line::customer(&[ReactDiagnosis]));
            } else if talk.ending == Ending::Supervisor {
                lines.push(Line::agent(&[SupervisorHandoff]));
                lines.push(Line::supervisor(&[SupervisorIntro]).after(rng.random_range(15.0..60.0)));
                lines.push(Line::customer(&[SupervisorComplaint]));
                lines.push(Line::supervisor(&[SupervisorCommit]));
                lines.push(Line::customer(&[SupervisorAck]));
                return lines;
            } else {
                lines.push(Line::agent(&[TransferAnnounce]));
                lines.push(Line::customer(&[TransferAck]));
                return lines;
            }
        }
        None => {
            if rng.random::<f64>() < 0.08 {
                lines.push(Line::agent(&[OfferTransfer]));
                lines.push(Line::customer(&[DeclineTransfer]));
            }
        }
    }

    match talk.ending {
        Ending::Resolved => {
            lines.push(Line::agent(&[OfferResolved]));
            lines.push(Line::customer(&[AcceptResolved]).at_least(-0.1));
        }
        Ending::PartiallyResolved => {
            lines.push(Line::agent(&[OfferPartial]));
            lines.push(Line::customer(&[AcceptPartial]));
        }
        _ => {
            lines.push(Line::agent(&[OfferUnresolved]));
            lines.push(Line::customer(&[Refuse]).at_most(0.1));
            if rng.random::<f64>() < 0.5 {
                lines.push(Line::agent(&[ApologizeUnresolved]));
                lines.push(Line::customer(&[RepeatComplaint]).at_most(0.1));
            }
        }
    }
    lines.push(Line::agent(&[AnythingElse]));
    lines.push(Line::customer(&[Closing]));
    lines.push(Line::persona(|a| &a.persona.farewell));
    lines
}

/// Inserts fillers ("um", "uh") and restarts ("I- I") at `rate` per word.
fn add_disfluencies(text: &str, rate: f64, rng: &mut impl Rng) -> String {
    if rate <= 0.0 {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let u: f64 = rng.random();
        if u < rate * 0.7 {
            out.push_str(if i == 0 {
                if u < rate * 0.35 { "Um, " } else { "Uh, " }
            } else if u < rate * 0.35 {
                "um, "
            } else {
                "uh, "
            });
        } else if u < rate && word.chars().all(char::is_alphabetic) && word.len() <= 6 {
            out.push_str(word);
            out.push_str("- ");
        }
        out.push_str(word);
    }
    out
}
