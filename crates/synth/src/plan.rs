//! Call plans: the decisions made in call order, before any words are chosen.
//!
//! The [`Planner`] walks the calls in index order on one thread. For each it decides the time,
//! the pair, the final status and — for talked calls — how the conversation will end. Those are
//! cheap draws; rendering the conversation (the expensive part) happens later, in parallel, from
//! the plan alone. Planning in order is what lets customer journeys exist: an unresolved caller
//! is scheduled to call again, and that call must come later in the same stream.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use model::{CallStatus, Ending, Sid, SidPrefix};
use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::arrivals::Arrivals;
use crate::pairing::Pairing;
use crate::personas::PersonaPool;
use crate::rng::{Purpose, RngFactory};
use crate::status::StatusRates;

/// How a customer escalates, if they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escalation {
    /// The customer demands a supervisor or manager.
    DemandSupervisor,
    /// The customer threatens to cancel their account.
    ThreatenCancel,
    /// The customer threatens a formal complaint.
    ThreatenComplaint,
    /// The agent transfers the call without being asked.
    AgentTransfer,
}

/// What the conversation of a talked call will be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TalkPlan {
    /// How it ends.
    pub ending: Ending,
    /// Whether and how it escalates.
    pub escalation: Option<Escalation>,
    /// The agent talked the customer down and went on to a resolution attempt.
    pub deescalated: bool,
}

/// Everything decided about a call before rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct CallPlan {
    /// Position in the stream.
    pub index: u64,
    /// `CA…`, decided here so a later repeat call can point back to it.
    pub call_sid: Sid,
    /// Initiation time, Unix ms.
    pub initiated_at_ms: i64,
    /// Index into the pool's customers.
    pub customer: usize,
    /// Index into the pool's agents.
    pub agent: usize,
    /// Final status.
    pub status: CallStatus,
    /// Present for talked calls.
    pub talk: Option<TalkPlan>,
    /// 1 for the customer's first call in the stream.
    pub contact_number: u32,
    /// The call this one follows up.
    pub previous_call_sid: Option<Sid>,
}

/// Knobs of the call-level model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanSettings {
    /// Final-status mix.
    pub status_rates: StatusRates,
    /// Probability that a caller whose problem was not fixed calls again.
    pub repeat_probability: f64,
    /// Mean delay before such a call, in hours (exponential, at least 10 minutes).
    pub repeat_delay_hours: f64,
}

impl Default for PlanSettings {
    fn default() -> PlanSettings {
        PlanSettings { status_rates: StatusRates::default(), repeat_probability: 0.35, repeat_delay_hours: 20.0 }
    }
}

/// A scheduled follow-up call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FollowUp {
    at_ms: i64,
    /// Tie-break by scheduling order so equal times stay deterministic.
    order: u64,
    customer: usize,
    previous: Sid,
}

/// Produces call plans in index order.
#[derive(Debug)]
pub struct Planner<'a> {
    factory: &'a RngFactory,
    pool: &'a PersonaPool,
    pairing: &'a Pairing,
    settings: PlanSettings,
    arrivals: Arrivals,
    next_arrival: i64,
    follow_ups: BinaryHeap<Reverse<FollowUp>>,
    contacts: HashMap<usize, u32>,
    next_index: u64,
    remaining: u64,
}

impl<'a> Planner<'a> {
    /// A planner for `calls` calls starting at `start_ms` over `window_ms`.
    pub fn new(
        factory: &'a RngFactory,
        pool: &'a PersonaPool,
        pairing: &'a Pairing,
        settings: PlanSettings,
        start_ms: i64,
        window_ms: i64,
        calls: u64,
    ) -> Planner<'a> {
        let mut arrivals = Arrivals::new(factory.rng(Purpose::Arrivals, 0), start_ms, window_ms, calls);
        let next_arrival = arrivals.next_ms();
        Planner {
            factory,
            pool,
            pairing,
            settings,
            arrivals,
            next_arrival,
            follow_ups: BinaryHeap::new(),
            contacts: HashMap::new(),
            next_index: 0,
            remaining: calls,
        }
    }

    fn plan_talk(&self, rng: &mut impl Rng, customer: usize, agent: usize, contact_number: u32) -> TalkPlan {
        let c = &self.pool.customers[customer];
        let a = &self.pool.agents[agent];
        let noise = Normal::new(0.0, 0.12).expect("valid sigma").sample(rng);
        let repeat = if contact_number > 1 { 0.15 } else { 0.0 };
        let friction = (c.difficulty * (1.15 - a.skill) + noise + repeat).clamp(0.0, 1.0);
        if rng.random::<f64>() < 0.01 + 0.08 * friction {
            return TalkPlan { ending: Ending::Hangup, escalation: None, deescalated: false };
        }
        let p_escalate = (0.02 + 0.6 * friction * (0.5 + c.escalation_sensitivity)).min(0.85);
        let mut escalation = None;
        let mut deescalated = false;
        if rng.random::<f64>() < p_escalate {
            let kind = match rng.random::<f64>() {
                u if u < 0.6 => Escalation::DemandSupervisor,
                u if u < 0.82 => Escalation::ThreatenCancel,
                _ => Escalation::ThreatenComplaint,
            };
            escalation = Some(kind);
            if rng.random::<f64>() < 0.2 + 0.45 * a.skill {
                deescalated = true;
            } else {
                let ending = if rng.random::<f64>() < 0.65 { Ending::Supervisor } else { Ending::Transfer };
                return TalkPlan { ending, escalation, deescalated };
            }
        } else if rng.random::<f64>() < 0.03 {
            return TalkPlan { ending: Ending::Transfer, escalation: Some(Escalation::AgentTransfer), deescalated };
        }
        let p_resolved = (0.45 + 0.5 * a.skill - 0.35 * c.difficulty - repeat).clamp(0.05, 0.95);
        let p_partial = 0.35 * (1.0 - p_resolved);
        let u: f64 = rng.random();
        let ending = if u < p_resolved {
            Ending::Resolved
        } else if u < p_resolved + p_partial {
            Ending::PartiallyResolved
        } else {
            Ending::Unresolved
        };
        TalkPlan { ending, escalation, deescalated }
    }
}

impl Iterator for Planner<'_> {
    type Item = CallPlan;

    fn next(&mut self) -> Option<CallPlan> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let index = self.next_index;
        self.next_index += 1;
        let mut rng = self.factory.rng(Purpose::Plan, index);
        let mut sid_bytes = [0u8; 16];
        rng.fill(&mut sid_bytes);
        let call_sid = Sid::from_bytes(SidPrefix::Call, sid_bytes);

        let due = self.follow_ups.peek().is_some_and(|Reverse(f)| f.at_ms <= self.next_arrival);
        let (at_ms, customer, agent, previous) = if due {
            let Reverse(f) = self.follow_ups.pop().expect("peeked");
            (f.at_ms, f.customer, self.pairing.pick_agent(&mut rng), Some(f.previous))
        } else {
            let at = self.next_arrival;
            self.next_arrival = self.arrivals.next_ms();
            let (c, a) = self.pairing.pick(&mut rng);
            (at, c, a, None)
        };
        let contact_number = {
            let n = self.contacts.entry(customer).or_insert(0);
            *n += 1;
            *n
        };
        let status = self.settings.status_rates.sample(&mut rng);
        let talk = status.has_talk().then(|| self.plan_talk(&mut rng, customer, agent, contact_number));
        let unfixed = talk.is_some_and(|t| {
            matches!(t.ending, Ending::Unresolved | Ending::PartiallyResolved | Ending::Hangup | Ending::Transfer)
        });
        if unfixed && rng.random::<f64>() < self.settings.repeat_probability {
            let delay_h =
                1.0 / 6.0 + self.settings.repeat_delay_hours * Distribution::<f64>::sample(&rand_distr::Exp1, &mut rng);
            self.follow_ups.push(Reverse(FollowUp {
                at_ms: at_ms + (delay_h * 3_600_000.0) as i64,
                order: index,
                customer,
                previous: call_sid,
            }));
        }
        Some(CallPlan {
            index,
            call_sid,
            initiated_at_ms: at_ms,
            customer,
            agent,
            status,
            talk,
            contact_number,
            previous_call_sid: previous,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}
