//! Pairing strategies: which customer meets which agent.
//!
//! Unlike the origin template (which always drew the customer at random, and whose `patient`
//! strategy equalled `random`), every strategy here constrains both sides.

use std::fmt;
use std::str::FromStr;

use model::Level;
use rand::Rng;

use crate::personas::PersonaPool;
use crate::profile::{DIFFICULT_AT, PATIENT_AT};

/// How calls are paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Any customer with any agent, uniformly.
    #[default]
    Random,
    /// Difficult customers with High-competence agents.
    Frustrated,
    /// Patient customers with any agent.
    Patient,
    /// Difficult customers with Low-competence agents.
    Challenging,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Strategy; 4] = [Strategy::Random, Strategy::Frustrated, Strategy::Patient, Strategy::Challenging];

    /// The flag spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Strategy::Random => "random",
            Strategy::Frustrated => "frustrated",
            Strategy::Patient => "patient",
            Strategy::Challenging => "challenging",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Strategy, String> {
        Strategy::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown strategy {s:?} (use random, frustrated, patient or challenging)"))
    }
}

/// A strategy that the persona set cannot satisfy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strategy {strategy} has no eligible pair: {reason}")]
pub struct PairingError {
    /// The strategy asked for.
    pub strategy: Strategy,
    /// Which side has nobody, and what would qualify.
    pub reason: String,
}

/// The eligible customers and agents of a strategy, ready to draw from.
#[derive(Debug, Clone)]
pub struct Pairing {
    customers: Vec<usize>,
    agents: Vec<usize>,
}

impl Pairing {
    /// Filters the pool for a strategy.
    ///
    /// # Errors
    ///
    /// When either side has no eligible persona, saying which and why.
    pub fn new(strategy: Strategy, pool: &PersonaPool) -> Result<Pairing, PairingError> {
        let customers_where = |keep: &dyn Fn(usize) -> bool| (0..pool.customers.len()).filter(|&i| keep(i)).collect();
        let agents_where = |keep: &dyn Fn(usize) -> bool| (0..pool.agents.len()).filter(|&i| keep(i)).collect();
        let difficult = |i: usize| pool.customers[i].is_difficult();
        let competence = |level: Level| move |i: usize| pool.agents[i].persona.competence_level == level;
        let (customers, agents, need_customer, need_agent): (Vec<usize>, Vec<usize>, String, String) = match strategy {
            Strategy::Random => {
                (customers_where(&|_| true), agents_where(&|_| true), "any customer".into(), "any agent".into())
            }
            Strategy::Frustrated => (
                customers_where(&difficult),
                agents_where(&competence(Level::High)),
                format!("a difficult customer (difficulty >= {DIFFICULT_AT})"),
                "an agent with CompetenceLevel High".into(),
            ),
            Strategy::Patient => (
                customers_where(&|i| pool.customers[i].is_patient()),
                agents_where(&|_| true),
                format!("a patient customer (difficulty <= {PATIENT_AT})"),
                "any agent".into(),
            ),
            Strategy::Challenging => (
                customers_where(&difficult),
                agents_where(&competence(Level::Low)),
                format!("a difficult customer (difficulty >= {DIFFICULT_AT})"),
                "an agent with CompetenceLevel Low".into(),
            ),
        };
        let missing: Vec<String> = [
            (customers.is_empty(), need_customer, pool.customers.len(), "customers"),
            (agents.is_empty(), need_agent, pool.agents.len(), "agents"),
        ]
        .into_iter()
        .filter(|(empty, ..)| *empty)
        .map(|(_, need, total, side)| format!("it needs {need}, and none of the {total} {side} qualifies"))
        .collect();
        if !missing.is_empty() {
            return Err(PairingError { strategy, reason: missing.join("; ") });
        }
        Ok(Pairing { customers, agents })
    }

    /// Draws a (customer, agent) pair, each uniformly from its eligible set.
    pub fn pick(&self, rng: &mut impl Rng) -> (usize, usize) {
        (self.customers[rng.random_range(0..self.customers.len())], self.pick_agent(rng))
    }

    /// Draws an agent for a customer already chosen (a repeat call).
    pub fn pick_agent(&self, rng: &mut impl Rng) -> usize {
        self.agents[rng.random_range(0..self.agents.len())]
    }

    /// Eligible customer indices.
    pub fn customers(&self) -> &[usize] {
        &self.customers
    }

    /// Eligible agent indices.
    pub fn agents(&self) -> &[usize] {
        &self.agents
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::catalog::Catalog;
    use crate::personas::{builtin_agents, builtin_customers};

    fn pool() -> PersonaPool {
        PersonaPool::new(builtin_customers(), builtin_agents(), &Catalog::builtin())
    }

    #[test]
    fn every_strategy_honours_its_constraint_on_both_sides() {
        let pool = pool();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for strategy in Strategy::ALL {
            let pairing = Pairing::new(strategy, &pool).unwrap();
            for _ in 0..2000 {
                let (c, a) = pairing.pick(&mut rng);
                let (customer, agent) = (&pool.customers[c], &pool.agents[a]);
                match strategy {
                    Strategy::Random => {}
                    Strategy::Frustrated => {
                        assert!(customer.is_difficult() && agent.persona.competence_level == Level::High)
                    }
                    Strategy::Patient => assert!(customer.is_patient()),
                    Strategy::Challenging => {
                        assert!(customer.is_difficult() && agent.persona.competence_level == Level::Low)
                    }
                }
            }
        }
    }

    #[test]
    fn a_strategy_without_candidates_says_which_side_is_empty() {
        let mut pool = pool();
        pool.agents.retain(|a| a.persona.competence_level != Level::Low);
        let err = Pairing::new(Strategy::Challenging, &pool).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "strategy challenging has no eligible pair: it needs an agent with CompetenceLevel Low, and none of the {} agents qualifies",
                pool.agents.len()
            )
        );
        pool.customers.retain(|c| !c.is_patient());
        let err = Pairing::new(Strategy::Patient, &pool).unwrap_err().to_string();
        assert!(err.contains("it needs a patient customer (difficulty <= 0.35)"), "{err}");
    }

    #[test]
    fn strategies_parse_and_reject_unknown_names() {
        assert_eq!("patient".parse::<Strategy>(), Ok(Strategy::Patient));
        assert!("calm".parse::<Strategy>().unwrap_err().contains("unknown strategy \"calm\""));
    }
}
