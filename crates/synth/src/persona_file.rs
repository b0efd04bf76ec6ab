//! Loading and validating persona files in the origin template's format.
//!
//! A customers file is `{"CustomerPrompts": [ … ]}` and an agents file `{"AgentPrompts": [ … ]}`
//! (a bare array is accepted too, as the origin's loader did). Every record is checked and every
//! problem reported, each naming the file, the 1-based record number and the field:
//! `customers.json: record 3: CustomerName is required`.

use std::fmt;
use std::path::Path;

use model::{Agent, Customer, Level};
use serde_json::{Map, Value};

/// The two kinds of persona file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonaKind {
    /// `{"CustomerPrompts": [...]}`.
    Customers,
    /// `{"AgentPrompts": [...]}`.
    Agents,
}

impl PersonaKind {
    /// The top-level key of this kind of file.
    pub const fn key(self) -> &'static str {
        match self {
            PersonaKind::Customers => "CustomerPrompts",
            PersonaKind::Agents => "AgentPrompts",
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            PersonaKind::Customers => &CUSTOMER_FIELDS,
            PersonaKind::Agents => &AGENT_FIELDS,
        }
    }
}

const CUSTOMER_FIELDS: [&str; 10] = [
    "CustomerName",
    "ContactInformation",
    "PhoneNumber",
    "Issue",
    "DesiredResolution",
    "Demeanor",
    "TechnicalProficiency",
    "EscalationTrigger",
    "ConversationLengthPreference",
    "Prompt",
];

const AGENT_FIELDS: [&str; 8] = [
    "AgentName",
    "ScriptedIntroduction",
    "ResponseToIssue",
    "CompetenceLevel",
    "Attitude",
    "ProductKnowledge",
    "Farewell",
    "Characteristics",
];

/// One problem found in a persona file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonaError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based record number, when the problem is inside a record.
    pub record: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PersonaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record {
            Some(n) => write!(f, "{}: record {n}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Every problem found in one or more persona files; `Display` prints one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PersonaErrors(pub Vec<PersonaError>);

impl fmt::Display for PersonaErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The personas of one file, whichever kind it turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum PersonaSet {
    /// A customers file.
    Customers(Vec<Customer>),
    /// An agents file.
    Agents(Vec<Agent>),
}

/// Reads and validates a customers file.
///
/// # Errors
///
/// Every unreadable, malformed or invalid part of the file, each naming where it is.
pub fn load_customers(path: &Path) -> Result<Vec<Customer>, PersonaErrors> {
    let name = path.display().to_string();
    let text = read(path, &name)?;
    parse_customers(&name, &text)
}

/// Reads and validates an agents file.
///
/// # Errors
///
/// As [`load_customers`].
pub fn load_agents(path: &Path) -> Result<Vec<Agent>, PersonaErrors> {
    let name = path.display().to_string();
    let text = read(path, &name)?;
    parse_agents(&name, &text)
}

/// Reads a persona file of either kind, telling the kind from its top-level key.
///
/// # Errors
///
/// As [`load_customers`]; a file with neither key is an error.
pub fn load_any(path: &Path) -> Result<PersonaSet, PersonaErrors> {
    let name = path.display().to_string();
    let text = read(path, &name)?;
    let value = parse_json(&name, &text)?;
    let kind = match &value {
        Value::Object(map) if map.contains_key(PersonaKind::Agents.key()) => PersonaKind::Agents,
        Value::Object(map) if map.contains_key(PersonaKind::Customers.key()) => PersonaKind::Customers,
        _ => {
            return Err(one(&name, None, "expected an object with key \"CustomerPrompts\" or \"AgentPrompts\"".into()));
        }
    };
    match kind {
        PersonaKind::Customers => validate_records(&name, kind, &value, customer_from).map(PersonaSet::Customers),
        PersonaKind::Agents => validate_records(&name, kind, &value, agent_from).map(PersonaSet::Agents),
    }
}

/// Validates customers from JSON text; `name` is used in messages.
///
/// # Errors
///
/// As [`load_customers`].
pub fn parse_customers(name: &str, text: &str) -> Result<Vec<Customer>, PersonaErrors> {
    let value = parse_json(name, text)?;
    validate_records(name, PersonaKind::Customers, &value, customer_from)
}

/// Validates agents from JSON text; `name` is used in messages.
///
/// # Errors
///
/// As [`load_customers`].
pub fn parse_agents(name: &str, text: &str) -> Result<Vec<Agent>, PersonaErrors> {
    let value = parse_json(name, text)?;
    validate_records(name, PersonaKind::Agents, &value, agent_from)
}

fn read(path: &Path, name: &str) -> Result<String, PersonaErrors> {
    std::fs::read_to_string(path).map_err(|e| one(name, None, format!("cannot read file: {e}")))
}

fn parse_json(name: &str, text: &str) -> Result<Value, PersonaErrors> {
    serde_json::from_str(text).map_err(|e| one(name, None, format!("invalid JSON: {e}")))
}

fn one(file: &str, record: Option<usize>, message: String) -> PersonaErrors {
    PersonaErrors(vec![PersonaError { file: file.into(), record, message }])
}

fn validate_records<T>(
    name: &str,
    kind: PersonaKind,
    value: &Value,
    build: fn(&mut Record<'_>) -> Option<T>,
) -> Result<Vec<T>, PersonaErrors> {
    let records = match value {
        Value::Array(items) => items,
        Value::Object(map) => match map.get(kind.key()) {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(one(name, None, format!("\"{}\" must be an array", kind.key()))),
            None => {
                let other = match kind {
                    PersonaKind::Customers => PersonaKind::Agents,
                    PersonaKind::Agents => PersonaKind::Customers,
                };
                let hint = if map.contains_key(other.key()) {
                    format!(" (found \"{}\": is this the other kind of persona file?)", other.key())
                } else {
                    String::new()
                };
                return Err(one(name, None, format!("expected top-level key \"{}\"{hint}", kind.key())));
            }
        },
        _ => return Err(one(name, None, format!("expected an object with key \"{}\"", kind.key()))),
    };
    if records.is_empty() {
        return Err(one(name, None, format!("\"{}\" is empty: at least one record is needed", kind.key())));
    }
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(records.len());
    for (i, item) in records.iter().enumerate() {
        let mut record = Record { file: name, number: i + 1, map: None, errors: &mut errors };
        match item {
            Value::Object(map) => {
                record.map = Some(map);
                record.reject_unknown(kind.fields());
                if let Some(persona) = build(&mut record) {
                    out.push(persona);
                }
            }
            _ => record.error("must be a JSON object".into()),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(PersonaErrors(errors)) }
}

/// One record being validated; collects every error rather than stopping at the first.
struct Record<'a> {
    file: &'a str,
    number: usize,
    map: Option<&'a Map<String, Value>>,
    errors: &'a mut Vec<PersonaError>,
}

impl Record<'_> {
    fn error(&mut self, message: String) {
        self.errors.push(PersonaError { file: self.file.into(), record: Some(self.number), message });
    }

    fn reject_unknown(&mut self, known: &[&str]) {
        let Some(map) = self.map else { return };
        let unknown: Vec<String> = map.keys().filter(|k| !known.contains(&k.as_str())).cloned().collect();
        for key in unknown {
            self.error(format!("unknown field \"{key}\" (expected one of: {})", known.join(", ")));
        }
    }

    /// A required, non-blank string field.
    fn text(&mut self, field: &str) -> Option<String> {
        match self.map.and_then(|m| m.get(field)) {
            None | Some(Value::Null) => {
                self.error(format!("{field} is required"));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.error(format!("{field} cannot be empty"));
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.error(format!("{field} must be a string, found {}", model::json_kind(other)));
                None
            }
        }
    }

    /// An optional string field.
    fn optional_text(&mut self, field: &str) -> Option<String> {
        match self.map.and_then(|m| m.get(field)) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.error(format!("{field} must be a string, found {}", model::json_kind(other)));
                None
            }
        }
    }

    fn level(&mut self, field: &str) -> Option<Level> {
        let text = self.text(field)?;
        let level = Level::parse(&text);
        if level.is_none() {
            self.error(format!("{field} must be Low, Medium, or High (found {text:?})"));
        }
        level
    }

    fn email(&mut self, field: &str) -> Option<String> {
        let text = self.text(field)?;
        if !is_email(&text) {
            self.error(format!("{field} must be a valid email (found {text:?})"));
            return None;
        }
        Some(text)
    }

    fn phone(&mut self, field: &str) -> Option<String> {
        let text = self.text(field)?;
        if !is_e164(&text) {
            self.error(format!("{field} must be in E.164 format, e.g. +15550100123 (found {text:?})"));
            return None;
        }
        Some(text)
    }
}

fn customer_from(r: &mut Record<'_>) -> Option<Customer> {
    // Evaluate every field before combining so each missing one is reported.
    let customer_name = r.text("CustomerName");
    let contact_information = r.email("ContactInformation");
    let phone_number = r.phone("PhoneNumber");
    let issue = r.text("Issue");
    let desired_resolution = r.text("DesiredResolution");
    let demeanor = r.text("Demeanor");
    let technical_proficiency = r.level("TechnicalProficiency");
    let escalation_trigger = r.text("EscalationTrigger");
    let conversation_length_preference = r.text("ConversationLengthPreference");
    let prompt = r.optional_text("Prompt");
    Some(Customer {
        customer_name: customer_name?,
        contact_information: contact_information?,
        phone_number: phone_number?,
        issue: issue?,
        desired_resolution: desired_resolution?,
        demeanor: demeanor?,
        technical_proficiency: technical_proficiency?,
        escalation_trigger: escalation_trigger?,
        conversation_length_preference: conversation_length_preference?,
        prompt,
    })
}

fn agent_from(r: &mut Record<'_>) -> Option<Agent> {
    let agent_name = r.text("AgentName");
    let scripted_introduction = r.text("ScriptedIntroduction");
    let response_to_issue = r.text("ResponseToIssue");
    let competence_level = r.level("CompetenceLevel");
    let attitude = r.text("Attitude");
    let product_knowledge = r.text("ProductKnowledge");
    let farewell = r.text("Farewell");
    let characteristics = r.optional_text("Characteristics");
    Some(Agent {
        agent_name: agent_name?,
        scripted_introduction: scripted_introduction?,
        response_to_issue: response_to_issue?,
        competence_level: competence_level?,
        attitude: attitude?,
        product_knowledge: product_knowledge?,
        farewell: farewell?,
        characteristics,
    })
}

/// `^\+[1-9]\d{1,14}$`: E.164 as the origin validated it.
pub fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else { return false };
    (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// "non-space@non-space.non-space", the origin's e-mail shape check.
pub fn is_email(text: &str) -> bool {
    if text.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = text.split_once('@') else { return false };
    let Some((host, tld)) = domain.rsplit_once('.') else { return false };
    !local.is_empty() && !host.is_empty() && !tld.is_empty() && !domain.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer_json(overrides: &[(&str, Value)]) -> Value {
        let mut record = serde_json::json!({
            "CustomerName": "Ada Example",
            "ContactInformation": "ada@example.com",
            "PhoneNumber": "+15125550101",
            "Issue": "Charged twice",
            "DesiredResolution": "Refund",
            "Demeanor": "Calm but firm.",
            "TechnicalProficiency": "Medium",
            "EscalationTrigger": "If refused a refund.",
            "ConversationLengthPreference": "Moderate - gets to the point"
        });
        for (k, v) in overrides {
            if v.is_null() {
                record.as_object_mut().unwrap().remove(*k);
            } else {
                record[*k] = v.clone();
            }
        }
        record
    }

    fn customers(records: Vec<Value>) -> String {
        serde_json::json!({ "CustomerPrompts": records }).to_string()
    }

    fn messages(result: Result<Vec<Customer>, PersonaErrors>) -> Vec<String> {
        result.unwrap_err().0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_valid_record_loads() {
        let text = customers(vec![customer_json(&[])]);
        let loaded = parse_customers("customers.json", &text).unwrap();
        assert_eq!(loaded[0].customer_name, "Ada Example");
        assert_eq!(loaded[0].technical_proficiency, Level::Medium);
    }

    #[test]
    fn errors_name_file_record_and_field() {
        let text =
            customers(vec![customer_json(&[]), customer_json(&[]), customer_json(&[("CustomerName", Value::Null)])]);
        assert_eq!(
            messages(parse_customers("customers.json", &text)),
            ["customers.json: record 3: CustomerName is required"]
        );
    }

    #[test]
    fn every_bad_field_of_every_record_is_reported() {
        let text = customers(vec![
            customer_json(&[("PhoneNumber", "555-0101".into()), ("TechnicalProficiency", "Expert".into())]),
            customer_json(&[("ContactInformation", "not an email".into()), ("Issue", "   ".into())]),
            customer_json(&[("Mood", "odd".into()), ("Demeanor", 3.into())]),
        ]);
        let got = messages(parse_customers("c.json", &text));
        assert_eq!(got.len(), 6, "{got:#?}");
        assert!(got[0].starts_with("c.json: record 1: PhoneNumber must be in E.164 format"));
        assert!(got[1].starts_with("c.json: record 1: TechnicalProficiency must be Low, Medium, or High"));
        assert!(got[2].starts_with("c.json: record 2: ContactInformation must be a valid email"));
        assert_eq!(got[3], "c.json: record 2: Issue cannot be empty");
        assert!(got[4].starts_with("c.json: record 3: unknown field \"Mood\""));
        assert_eq!(got[5], "c.json: record 3: Demeanor must be a string, found a number");
    }

    #[test]
    fn agent_competence_must_be_a_known_level() {
        let text = serde_json::json!({"AgentPrompts": [{
            "AgentName": "Kai", "ScriptedIntroduction": "Hi", "ResponseToIssue": "Prompt.",
            "CompetenceLevel": "Expert", "Attitude": "Kind.", "ProductKnowledge": "Good.",
            "Farewell": "Bye."
        }]})
        .to_string();
        let err = parse_agents("agents.json", &text).unwrap_err().to_string();
        assert_eq!(err, "agents.json: record 1: CompetenceLevel must be Low, Medium, or High (found \"Expert\")");
    }

    #[test]
    fn file_level_problems_are_explained() {
        let err = |text: &str| parse_customers("f.json", text).unwrap_err().to_string();
        assert!(err("{not json").starts_with("f.json: invalid JSON: "));
        assert_eq!(
            err(r#"{"CustomerPrompts": []}"#),
            "f.json: \"CustomerPrompts\" is empty: at least one record is needed"
        );
        assert_eq!(
            err(r#"{"AgentPrompts": []}"#),
            "f.json: expected top-level key \"CustomerPrompts\" (found \"AgentPrompts\": is this the other kind of persona file?)"
        );
        assert_eq!(err(r#"{"CustomerPrompts": [7]}"#), "f.json: record 1: must be a JSON object");
    }

    #[test]
    fn a_bare_array_is_accepted_as_the_origin_did() {
        let text = serde_json::to_string(&vec![customer_json(&[])]).unwrap();
        assert_eq!(parse_customers("c.json", &text).unwrap().len(), 1);
    }

    #[test]
    fn e164_and_email_shapes() {
        for ok in ["+15125550101", "+12", "+123456789012345"] {
            assert!(is_e164(ok), "{ok}");
        }
        for bad in ["15125550101", "+0123", "+1", "+1234567890123456", "+1 512 555", "+1512555010a"] {
            assert!(!is_e164(bad), "{bad}");
        }
        assert!(is_email("a@b.c"));
        for bad in ["a@b", "@b.c", "a b@c.d", "a@.c", "a@b.", "a@b@c.d"] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
