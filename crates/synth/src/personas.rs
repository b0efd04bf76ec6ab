//! The people on the calls: the built-in persona set, user files, and procedural customers.

use std::sync::Arc;

use model::{Agent, Customer, Level};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde::Deserialize;

use crate::catalog::Catalog;
use crate::persona_file;
use crate::profile::{AgentProfile, CustomerProfile};
use crate::rng::{Purpose, RngFactory};

/// The built-in customers (`data/personas/customers.json`), written for callsynth.
pub const BUILTIN_CUSTOMERS: &str = include_str!("../data/personas/customers.json");
/// The built-in agents (`data/personas/agents.json`), written for callsynth.
pub const BUILTIN_AGENTS: &str = include_str!("../data/personas/agents.json");
const PROCEDURAL_WORDS: &str = include_str!("../data/procedural.toml");

/// The most procedural customers with distinct fictional phone numbers: 712 valid North
/// American area codes × the 100 numbers 555-0100…555-0199 reserved for fiction.
pub const MAX_PROCEDURAL_CUSTOMERS: usize = 71_200;

/// The built-in customers.
pub fn builtin_customers() -> Vec<Customer> {
    persona_file::parse_customers("built-in customers.json", BUILTIN_CUSTOMERS)
        .expect("the built-in customers are valid")
}

/// The built-in agents.
pub fn builtin_agents() -> Vec<Agent> {
    persona_file::parse_agents("built-in agents.json", BUILTIN_AGENTS).expect("the built-in agents are valid")
}

/// Customers and agents with their derived scores, ready for pairing.
#[derive(Debug, Clone)]
pub struct PersonaPool {
    /// Customers, in file order.
    pub customers: Vec<CustomerProfile>,
    /// Agents, in file order.
    pub agents: Vec<AgentProfile>,
}

impl PersonaPool {
    /// Scores the personas and places each customer's issue in a catalogue category.
    pub fn new(customers: Vec<Customer>, agents: Vec<Agent>, catalog: &Catalog) -> PersonaPool {
        let customers = customers
            .into_iter()
            .map(|c| {
                let category = catalog.categorize(&c.issue);
                CustomerProfile::new(Arc::new(c), category)
            })
            .collect();
        let agents = agents.into_iter().map(|a| AgentProfile::new(Arc::new(a))).collect();
        PersonaPool { customers, agents }
    }
}

/// Why procedural customers cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProceduralError {
    /// Zero requested.
    #[error("--customers must be at least 1")]
    Zero,
    /// More than there are distinct fictional numbers.
    #[error(
        "--customers {0} is more than the {MAX_PROCEDURAL_CUSTOMERS} customers that can have distinct fictional \
         phone numbers (+1 NPA 555-01xx)"
    )]
    TooMany(usize),
}

#[derive(Deserialize)]
struct Words {
    first_names: Vec<String>,
    last_names: Vec<String>,
    demeanors: Vec<String>,
    escalation_triggers: Vec<String>,
    length_preferences: Vec<String>,
}

/// Valid NANP area codes: first digit 2–9, second 0–8, not of the N11 form.
fn area_codes() -> Vec<u16> {
    (200..1000u16).filter(|n| (n / 10) % 10 != 9 && n % 100 != 11).collect()
}

/// Makes `count` distinct customers, deterministically from the seed.
///
/// Names, phones and e-mails are unique by construction (bijections of the customer number);
/// the issue comes from a random catalogue category; demeanour, proficiency, escalation trigger
/// and length preference are drawn independently.
///
/// # Errors
///
/// Zero, or more than [`MAX_PROCEDURAL_CUSTOMERS`].
pub fn procedural_customers(count: usize, seed: u64, catalog: &Catalog) -> Result<Vec<Customer>, ProceduralError> {
    if count == 0 {
        return Err(ProceduralError::Zero);
    }
    if count > MAX_PROCEDURAL_CUSTOMERS {
        return Err(ProceduralError::TooMany(count));
    }
    let words: Words = toml::from_str(PROCEDURAL_WORDS).expect("procedural word lists are valid");
    let areas = area_codes();
    debug_assert_eq!(areas.len() * 100, MAX_PROCEDURAL_CUSTOMERS);
    let factory = RngFactory::new(seed);
    let names = (words.first_names.len() * words.last_names.len() * 26) as u64;
    let offset = seed % MAX_PROCEDURAL_CUSTOMERS as u64;
    let name_offset = seed % names;
    let out = (0..count as u64)
        .map(|k| {
            let mut rng = factory.rng(Purpose::Customer, k);
            // 7919 is prime and divides neither count of combinations: k ↦ k·7919 is a bijection.
            let n = (k * 7919 + name_offset) % names;
            let first = &words.first_names[(n % words.first_names.len() as u64) as usize];
            let rest = n / words.first_names.len() as u64;
            let last = &words.last_names[(rest % words.last_names.len() as u64) as usize];
            let initial = char::from(b'A' + (rest / words.last_names.len() as u64) as u8);
            let p = ((k + offset) % MAX_PROCEDURAL_CUSTOMERS as u64) as usize;
            let phone = format!("+1{}55501{:02}", areas[p / 100], p % 100);
            let domain = ["example.com", "example.net", "example.org"][(k % 3) as usize];
            let category = catalog.categories.choose(&mut rng).expect("catalogues have categories");
            let proficiency = [Level::Low, Level::Medium, Level::High][rng.random_range(0..3)];
            Customer {
                customer_name: format!("{first} {initial}. {last}"),
                contact_information: format!(
                    "{}.{}.{}{k}@{domain}",
                    first.to_lowercase(),
                    initial.to_ascii_lowercase(),
                    last.to_lowercase()
                ),
                phone_number: phone,
                issue: category.issues.choose(&mut rng).expect("validated non-empty").clone(),
                desired_resolution: category.desired.choose(&mut rng).expect("validated non-empty").clone(),
                demeanor: words.demeanors.choose(&mut rng).expect("non-empty").clone(),
                technical_proficiency: proficiency,
                escalation_trigger: words.escalation_triggers.choose(&mut rng).expect("non-empty").clone(),
                conversation_length_preference: words.length_preferences.choose(&mut rng).expect("non-empty").clone(),
                prompt: None,
            }
        })
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::persona_file::{is_e164, is_email};

    #[test]
    fn builtin_set_is_large_varied_and_fictional() {
        let customers = builtin_customers();
        let agents = builtin_agents();
        assert!(customers.len() >= 20 && agents.len() >= 10);
        for c in &customers {
            let line = &c.phone_number[c.phone_number.len() - 7..];
            assert!(line.starts_with("55501"), "{} is not a 555-01xx number", c.phone_number);
            assert!(c.contact_information.ends_with(".example.com") || c.contact_information.contains("@example."));
        }
        for level in [Level::Low, Level::Medium, Level::High] {
            assert!(customers.iter().any(|c| c.technical_proficiency == level));
            assert!(agents.iter().any(|a| a.competence_level == level));
        }
        let pool = PersonaPool::new(customers, agents, &Catalog::builtin());
        assert!(pool.customers.iter().any(CustomerProfile::is_difficult));
        assert!(pool.customers.iter().any(CustomerProfile::is_patient));
        let phones: HashSet<_> = pool.customers.iter().map(|c| &c.persona.phone_number).collect();
        assert_eq!(phones.len(), pool.customers.len());
    }

    #[test]
    fn procedural_customers_are_distinct_valid_and_deterministic() {
        let catalog = Catalog::builtin();
        let a = procedural_customers(5000, 42, &catalog).unwrap();
        assert_eq!(a, procedural_customers(5000, 42, &catalog).unwrap());
        assert_ne!(a, procedural_customers(5000, 43, &catalog).unwrap());
        let names: HashSet<_> = a.iter().map(|c| &c.customer_name).collect();
        let phones: HashSet<_> = a.iter().map(|c| &c.phone_number).collect();
        let emails: HashSet<_> = a.iter().map(|c| &c.contact_information).collect();
        assert_eq!((names.len(), phones.len(), emails.len()), (5000, 5000, 5000));
        assert!(a.iter().all(|c| is_e164(&c.phone_number) && is_email(&c.contact_information)));
        let pool = PersonaPool::new(a, builtin_agents(), &catalog);
        let categories: HashSet<_> = pool.customers.iter().map(|c| c.category).collect();
        assert!(categories.len() >= catalog.categories.len() - 1);
    }

    #[test]
    fn procedural_limits_are_errors() {
        let catalog = Catalog::builtin();
        assert_eq!(procedural_customers(0, 1, &catalog), Err(ProceduralError::Zero));
        assert_eq!(
            procedural_customers(MAX_PROCEDURAL_CUSTOMERS + 1, 1, &catalog),
            Err(ProceduralError::TooMany(MAX_PROCEDURAL_CUSTOMERS + 1))
        );
        let all = procedural_customers(MAX_PROCEDURAL_CUSTOMERS, 9, &catalog).unwrap();
        let phones: HashSet<_> = all.iter().map(|c| c.phone_number.as_str()).collect();
        assert_eq!(phones.len(), MAX_PROCEDURAL_CUSTOMERS);
    }
}
