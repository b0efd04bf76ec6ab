//! The phrase catalogue: every sentence the dialogue engine can say, kept as data.
//!
//! A catalogue is a TOML file (the built-in one is `data/catalog/retail.toml`). It has:
//!
//! - `[domain]`: `name` and `company` (the `{company}` slot).
//! - `[slots]`: value lists for `{product}`, `{carrier}`, `{street}` and `{city}`.
//! - `[lines.STEP]`: lines shared by every issue category, keyed by tone.
//! - `[[categories]]`: one per issue category, with `id`, `keywords` (matched against a persona's
//!   `Issue` to pick the category), `department`, `issues` and `desired` (texts for procedural
//!   customers) and `[categories.lines.STEP]` lines that override the shared ones.
//!
//! Tones: customer lines use `angry`, `negative`, `neutral`, `positive`; agent lines `warm` and
//! `flat`; `any` serves every tone. A missing tone falls back (`angry` → `negative` → `any`,
//! `positive` → `neutral` → `any`, `warm`/`flat` → `any`); a category's lines are preferred to
//! the shared ones. Loading checks that every step resolves for every tone it is spoken in, in
//! every category, so a broken catalogue fails at start-up with a message naming the gap, never
//! mid-run.
//!
//! Lines are templates: `{slot}` is replaced by a per-call value (see [`Slot`]). An optional
//! `[vocabulary.low|medium|high]` table rewrites phrases in customer lines by the customer's
//! technical proficiency, so the same catalogue speaks plainly or in jargon.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// Who speaks a step, which decides the tones it must cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Voice {
    Customer,
    /// A customer step only ever spoken upset (demands, threats, hanging up).
    Upset,
    Agent,
    Supervisor,
}

macro_rules! steps {
    ($($variant:ident => ($key:literal, $voice:ident)),* $(,)?) => {
        /// A point in the conversation that needs a line.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Step { $($variant),* }

        impl Step {
            /// Every step, in catalogue order.
            pub const ALL: &'static [Step] = &[$(Step::$variant),*];

            /// The TOML key of this step.
            pub const fn key(self) -> &'static str {
                match self { $(Step::$variant => $key),* }
            }

            const fn voice(self) -> Voice {
                match self { $(Step::$variant => Voice::$voice),* }
            }
        }
    };
}

steps! {
    Opening => ("opening", Customer),
    RepeatOpening => ("repeat_opening", Customer),
    StateIssue => ("state_issue", Customer),
    Acknowledge => ("acknowledge", Agent),
    VerifyRequest => ("verify_request", Agent),
    VerifyGive => ("verify_give", Customer),
    VerifyThanks => ("verify_thanks", Agent),
    Diagnose => ("diagnose", Agent),
    HoldRequest => ("hold_request", Agent),
    HoldReturn => ("hold_return", Agent),
    ReactDiagnosis => ("react_diagnosis", Customer),
    ClarifyQuestion => ("clarify_question", Agent),
    ClarifyAnswer => ("clarify_answer", Customer),
    SmallTalkCustomer => ("small_talk_customer", Customer),
    SmallTalkAgent => ("small_talk_agent", Agent),
    DemandSupervisor => ("demand_supervisor", Upset),
    ThreatenCancel => ("threaten_cancel", Upset),
    ThreatenComplaint => ("threaten_complaint", Upset),
    Deescalate => ("deescalate", Agent),
    SupervisorHandoff => ("supervisor_handoff", Agent),
    SupervisorIntro => ("supervisor_intro", Supervisor),
    SupervisorComplaint => ("supervisor_complaint", Customer),
    SupervisorCommit => ("supervisor_commit", Supervisor),
    SupervisorAck => ("supervisor_ack", Customer),
    TransferAnnounce => ("transfer_announce", Agent),
    TransferAck => ("transfer_ack", Customer),
    OfferTransfer => ("offer_transfer", Agent),
    DeclineTransfer => ("decline_transfer", Customer),
    NoManagerNeeded => ("no_manager_needed", Customer),
    OfferResolved => ("offer_resolved", Agent),
    AcceptResolved => ("accept_resolved", Customer),
    OfferPartial => ("offer_partial", Agent),
    AcceptPartial => ("accept_partial", Customer),
    OfferUnresolved => ("offer_unresolved", Agent),
    Refuse => ("refuse", Customer),
    RepeatComplaint => ("repeat_complaint", Customer),
    ApologizeUnresolved => ("apologize_unresolved", Agent),
    Hangup => ("hangup", Upset),
    AnythingElse => ("anything_else", Agent),
    Closing => ("closing", Customer),
}

/// The register a line is spoken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tone {
    /// Customer, very negative.
    Angry,
    /// Customer, negative.
    Negative,
    /// Customer, neither.
    Neutral,
    /// Customer, positive.
    Positive,
    /// Agent with a caring attitude.
    Warm,
    /// Agent with an indifferent one.
    Flat,
    /// Lines that fit any tone.
    Any,
}

impl Tone {
    const COUNT: usize = 7;
    const ALL: [Tone; Tone::COUNT] =
        [Tone::Angry, Tone::Negative, Tone::Neutral, Tone::Positive, Tone::Warm, Tone::Flat, Tone::Any];

    const fn key(self) -> &'static str {
        match self {
            Tone::Angry => "angry",
            Tone::Negative => "negative",
            Tone::Neutral => "neutral",
            Tone::Positive => "positive",
            Tone::Warm => "warm",
            Tone::Flat => "flat",
            Tone::Any => "any",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }

    const fn fallback(self) -> &'static [Tone] {
        match self {
            Tone::Angry => &[Tone::Angry, Tone::Negative, Tone::Any],
            Tone::Negative => &[Tone::Negative, Tone::Any],
            Tone::Neutral => &[Tone::Neutral, Tone::Any],
            Tone::Positive => &[Tone::Positive, Tone::Neutral, Tone::Any],
            Tone::Warm => &[Tone::Warm, Tone::Any],
            Tone::Flat => &[Tone::Flat, Tone::Any],
            Tone::Any => &[Tone::Any],
        }
    }

    /// This tone, or `Negative` if it is not upset: for steps only ever spoken upset.
    pub fn upset(self) -> Tone {
        match self {
            Tone::Angry => Tone::Angry,
            _ => Tone::Negative,
        }
    }

    /// The customer tone for a sentiment in [-1, 1].
    pub fn for_sentiment(sentiment: f64) -> Tone {
        if sentiment < -0.5 {
            Tone::Angry
        } else if sentiment < -0.15 {
            Tone::Negative
        } else if sentiment <= 0.15 {
            Tone::Neutral
        } else {
            Tone::Positive
        }
    }
}

impl Voice {
    const fn tones(self) -> &'static [Tone] {
        match self {
            Voice::Customer => &[Tone::Angry, Tone::Negative, Tone::Neutral, Tone::Positive],
            Voice::Upset => &[Tone::Angry, Tone::Negative],
            Voice::Agent => &[Tone::Warm, Tone::Flat],
            Voice::Supervisor => &[Tone::Any],
        }
    }
}

macro_rules! slots {
    ($($variant:ident => $key:literal : $doc:literal),* $(,)?) => {
        /// A placeholder in a line, filled per call.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Slot { $(#[doc = $doc] $variant),* }

        impl Slot {
            /// Every slot.
            pub const ALL: &'static [Slot] = &[$(Slot::$variant),*];

            /// The name written between braces.
            pub const fn key(self) -> &'static str {
                match self { $(Slot::$variant => $key),* }
            }
        }
    };
}

slots! {
    Agent => "agent": "The agent's name.",
    Customer => "customer": "The customer's first name.",
    Company => "company": "The company (`[domain] company`).",
    OrderId => "order_id": "An order number.",
    Amount => "amount": "A money amount such as `$42.17`.",
    Date => "date": "A recent date such as `March 3rd`.",
    Product => "product": "A product from `[slots] product`.",
    Address => "address": "A street address.",
    Email => "email": "The customer's e-mail address.",
    Carrier => "carrier": "A delivery carrier from `[slots] carrier`.",
    Tracking => "tracking": "A tracking number.",
    Days => "days": "A small number of days, in words.",
    Department => "department": "The category's department.",
    Last4 => "last4": "Last four digits of a card.",
}

/// One piece of a compiled line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A placeholder.
    Slot(Slot),
}

/// A compiled line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Text and slots, in order.
    pub pieces: Vec<Piece>,
}

impl Template {
    /// Compiles `{slot}` placeholders.
    ///
    /// # Errors
    ///
    /// An unknown slot name or an unbalanced brace, as a message.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest.as_bytes()[open] == b'}' {
                return Err(format!("unmatched '}}' in {text:?}"));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err(format!("unclosed '{{' in {text:?}"));
            };
            let name = &rest[open + 1..open + close];
            let slot = Slot::ALL.iter().copied().find(|s| s.key() == name).ok_or_else(|| {
                let known: Vec<&str> = Slot::ALL.iter().map(|s| s.key()).collect();
                format!("unknown slot {{{name}}} in {text:?} (known: {})", known.join(", "))
            })?;
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            pieces.push(Piece::Slot(slot));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { pieces })
    }
}

/// Why a catalogue cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("phrase catalogue {file}: {message}")]
pub struct CatalogError {
    /// The catalogue file as named by the user (or `built-in`).
    pub file: String,
    /// What is wrong and where.
    pub message: String,
}

/// An issue category: what customers call about.
#[derive(Debug, Clone)]
pub struct Category {
    /// Identifier used in ground truth (`billing`, `damaged_item`, …).
    pub id: String,
    /// Lowercase words that place a persona's `Issue` in this category.
    pub keywords: Vec<String>,
    /// The department a transfer goes to.
    pub department: String,
    /// Issue texts for procedural customers.
    pub issues: Vec<String>,
    /// Desired resolutions for procedural customers.
    pub desired: Vec<String>,
}

/// A validated, compiled phrase catalogue.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Domain name (`retail`).
    pub domain: String,
    /// Company name used in `{company}`.
    pub company: String,
    /// Products for `{product}`.
    pub products: Vec<String>,
    /// Carriers for `{carrier}`.
    pub carriers: Vec<String>,
    /// Streets for `{address}`.
    pub streets: Vec<String>,
    /// Cities for `{address}`.
    pub cities: Vec<String>,
    /// Issue categories.
    pub categories: Vec<Category>,
    arena: Vec<Template>,
    /// `(start, len)` into `arena` for each (category, step, tone).
    index: Vec<(u32, u32)>,
    /// Phrase rewrites per technical proficiency (Low, Medium, High), longest first.
    vocabulary: [Vec<(String, String)>; 3],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    domain: RawDomain,
    slots: RawSlots,
    #[serde(default)]
    lines: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    categories: Vec<RawCategory>,
    #[serde(default)]
    vocabulary: RawVocabulary,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawVocabulary {
    #[serde(default)]
    low: BTreeMap<String, String>,
    #[serde(default)]
    medium: BTreeMap<String, String>,
    #[serde(default)]
    high: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDomain {
    name: String,
    company: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlots {
    product: Vec<String>,
    carrier: Vec<String>,
    street: Vec<String>,
    city: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    id: String,
    keywords: Vec<String>,
    department: String,
    issues: Vec<String>,
    desired: Vec<String>,
    #[serde(default)]
    lines: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

type CompiledLines = BTreeMap<(usize, usize), Vec<Template>>; // (step, tone) → lines

/// The built-in retail e-commerce catalogue.
pub const BUILTIN_RETAIL: &str = include_str!("../data/catalog/retail.toml");

impl Catalog {
    /// The built-in retail e-commerce catalogue.
    pub fn builtin() -> Catalog {
        Catalog::parse("built-in retail.toml", BUILTIN_RETAIL).expect("the built-in catalogue is valid")
    }

    /// Parses and validates a catalogue; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// TOML syntax, unknown keys, unknown steps, tones or slots, empty lists, and any step that
    /// cannot be spoken in some tone in some category.
    pub fn parse(file: &str, text: &str) -> Result<Catalog, CatalogError> {
        let err = |message: String| CatalogError { file: file.into(), message };
        let raw: RawCatalog = toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        for (name, list) in [
            ("slots.product", &raw.slots.product),
            ("slots.carrier", &raw.slots.carrier),
            ("slots.street", &raw.slots.street),
            ("slots.city", &raw.slots.city),
        ] {
            if list.is_empty() {
                return Err(err(format!("{name} must list at least one value")));
            }
        }
        if raw.categories.is_empty() {
            return Err(err("at least one [[categories]] entry is needed".into()));
        }
        let shared = compile_lines(&raw.lines, "lines").map_err(err)?;
        let mut categories = Vec::with_capacity(raw.categories.len());
        let mut per_category = Vec::with_capacity(raw.categories.len());
        for (i, c) in raw.categories.iter().enumerate() {
            if c.id.is_empty() || categories.iter().any(|k: &Category| k.id == c.id) {
                return Err(err(format!("categories[{i}]: id {:?} is empty or repeated", c.id)));
            }
            if c.issues.is_empty() || c.desired.is_empty() {
                return Err(err(format!("category {:?}: issues and desired must not be empty", c.id)));
            }
            per_category.push(compile_lines(&c.lines, &format!("category {:?} lines", c.id)).map_err(err)?);
            categories.push(Category {
                id: c.id.clone(),
                keywords: c.keywords.iter().map(|k| k.to_lowercase()).collect(),
                department: c.department.clone(),
                issues: c.issues.clone(),
                desired: c.desired.clone(),
            });
        }
        let mut arena = Vec::new();
        let mut index = vec![(0u32, 0u32); categories.len() * Step::ALL.len() * Tone::COUNT];
        for (ci, own) in per_category.iter().enumerate() {
            for (si, step) in Step::ALL.iter().enumerate() {
                for tone in Tone::ALL {
                    let chain = tone.fallback();
                    let found = chain
                        .iter()
                        .find_map(|t| own.get(&(si, t.index())))
                        .or_else(|| chain.iter().find_map(|t| shared.get(&(si, t.index()))));
                    match found {
                        Some(lines) => {
                            let start = arena.len() as u32;
                            arena.extend(lines.iter().cloned());
                            index[(ci * Step::ALL.len() + si) * Tone::COUNT + tone.index()] =
                                (start, lines.len() as u32);
                        }
                        None if step.voice().tones().contains(&tone) => {
                            return Err(err(format!(
                                "step \"{}\" has no line for tone \"{}\" in category \"{}\" \
                                 (add [lines.{}] {} = [...] or any = [...])",
                                step.key(),
                                tone.key(),
                                categories[ci].id,
                                step.key(),
                                tone.key()
                            )));
                        }
                        None => {}
                    }
                }
            }
        }
        let rewrites = |map: BTreeMap<String, String>, level: &str| -> Result<Vec<(String, String)>, CatalogError> {
            let mut list: Vec<(String, String)> = map.into_iter().collect();
            if let Some((from, _)) = list.iter().find(|(from, _)| from.trim().is_empty()) {
                return Err(err(format!("vocabulary.{level}: empty phrase {from:?}")));
            }
            list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
            Ok(list)
        };
        let vocabulary = [
            rewrites(raw.vocabulary.low, "low")?,
            rewrites(raw.vocabulary.medium, "medium")?,
            rewrites(raw.vocabulary.high, "high")?,
        ];
        Ok(Catalog {
            domain: raw.domain.name,
            company: raw.domain.company,
            products: raw.slots.product,
            carriers: raw.slots.carrier,
            streets: raw.slots.street,
            cities: raw.slots.city,
            categories,
            arena,
            index,
            vocabulary,
        })
    }

    /// Phrase rewrites for customers of a technical proficiency (`[vocabulary.low]` …): Low
    /// proficiency customers describe things in plain words, High ones in the trade's terms.
    pub fn vocabulary(&self, level: model::Level) -> &[(String, String)] {
        &self.vocabulary[match level {
            model::Level::Low => 0,
            model::Level::Medium => 1,
            model::Level::High => 2,
        }]
    }

    /// Applies the rewrites for `level` to `text`.
    pub fn reword(&self, level: model::Level, text: String) -> String {
        let mut text = text;
        for (from, to) in self.vocabulary(level) {
            if text.contains(from.as_str()) {
                text = text.replace(from.as_str(), to);
            }
        }
        text
    }

    /// The lines for a step in a tone and category (never empty for the tones the step's
    /// speaker uses; validated at load).
    pub fn lines(&self, category: usize, step: Step, tone: Tone) -> &[Template] {
        let si = Step::ALL.iter().position(|s| *s == step).expect("step is listed in ALL");
        let (start, len) = self.index[(category * Step::ALL.len() + si) * Tone::COUNT + tone.index()];
        &self.arena[start as usize..(start + len) as usize]
    }

    /// The category whose keywords best match an issue text (whole words, case-insensitive):
    /// most keyword hits, first on ties;
    /// a category named `other` (or else the first) when nothing matches.
    pub fn categorize(&self, issue: &str) -> usize {
        let lower = issue.to_lowercase();
        let mut best = (0usize, None);
        for (i, c) in self.categories.iter().enumerate() {
            let hits = c.keywords.iter().filter(|k| contains_words(&lower, k)).count();
            if hits > best.0 {
                best = (hits, Some(i));
            }
        }
        best.1.or_else(|| self.categories.iter().position(|c| c.id == "other")).unwrap_or(0)
    }
}

/// Whether `phrase` occurs in `text` on word boundaries ("late" is not in "unrelated").
fn contains_words(text: &str, phrase: &str) -> bool {
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    text.match_indices(phrase)
        .any(|(at, _)| !is_word(text[..at].chars().next_back()) && !is_word(text[at + phrase.len()..].chars().next()))
}

fn compile_lines(
    raw: &BTreeMap<String, BTreeMap<String, Vec<String>>>,
    context: &str,
) -> Result<CompiledLines, String> {
    let mut out = CompiledLines::new();
    for (step_key, tones) in raw {
        let si = Step::ALL
            .iter()
            .position(|s| s.key() == step_key)
            .ok_or_else(|| format!("{context}: unknown step \"{step_key}\" (known steps: {})", StepList))?;
        for (tone_key, lines) in tones {
            let tone = Tone::ALL.iter().find(|t| t.key() == tone_key).ok_or_else(|| {
                format!(
                    "{context}.{step_key}: unknown tone \"{tone_key}\" (use angry, negative, neutral, positive, warm, flat or any)"
                )
            })?;
            if lines.is_empty() {
                return Err(format!("{context}.{step_key}.{tone_key} is an empty list"));
            }
            let compiled = lines
                .iter()
                .map(|l| Template::parse(l).map_err(|e| format!("{context}.{step_key}.{tone_key}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            out.insert((si, tone.index()), compiled);
        }
    }
    Ok(out)
}

struct StepList;

impl fmt::Display for StepList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in Step::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(s.key())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile_slots_and_reject_bad_braces() {
        let t = Template::parse("Order {order_id} for {amount}.").unwrap();
        assert_eq!(
            t.pieces,
            vec![
                Piece::Text("Order ".into()),
                Piece::Slot(Slot::OrderId),
                Piece::Text(" for ".into()),
                Piece::Slot(Slot::Amount),
                Piece::Text(".".into()),
            ]
        );
        assert!(Template::parse("a {nope} b").unwrap_err().contains("unknown slot {nope}"));
        assert!(Template::parse("a {order_id").unwrap_err().contains("unclosed"));
        assert!(Template::parse("a } b").unwrap_err().contains("unmatched"));
    }

    #[test]
    fn builtin_catalogue_covers_every_step_tone_and_category() {
        let catalog = Catalog::builtin();
        assert!(catalog.categories.len() >= 8);
        for c in 0..catalog.categories.len() {
            for step in Step::ALL {
                for tone in step.voice().tones() {
                    assert!(!catalog.lines(c, *step, *tone).is_empty(), "{step:?} {tone:?} {c}");
                }
            }
        }
    }

    #[test]
    fn vocabulary_rewrites_by_proficiency_longest_phrase_first() {
        let catalog = Catalog::builtin();
        let said = "The password reset link isn't arriving and I was charged twice.".to_string();
        let low = catalog.reword(model::Level::Low, said.clone());
        let high = catalog.reword(model::Level::High, said.clone());
        assert_eq!(low, "The link to change my password isn't arriving and I was charged twice.");
        assert_eq!(high, "The password reset token email isn't arriving and I was double-billed.");
        assert_eq!(catalog.reword(model::Level::Medium, said.clone()), said);
    }

    #[test]
    fn categorize_picks_the_best_keyword_match() {
        let catalog = Catalog::builtin();
        let id = |issue: &str| catalog.categories[catalog.categorize(issue)].id.clone();
        assert_eq!(id("I was double-charged for my last order and want a refund"), "billing");
        assert_eq!(id("The package arrived damaged and the lamp is broken"), "damaged_item");
        assert_eq!(id("Something entirely unrelated"), "other");
    }

    #[test]
    fn gaps_and_typos_are_reported_with_their_location() {
        let base = BUILTIN_RETAIL;
        let broken = base.replacen("[lines.closing]", "[lines.closng]", 1);
        let e = Catalog::parse("mine.toml", &broken).unwrap_err().to_string();
        assert!(e.starts_with("phrase catalogue mine.toml: lines: unknown step \"closng\""), "{e}");

        let minimal = r#"
            [domain]
            name = "x"
            company = "X"
            [slots]
            product = ["p"]
            carrier = ["c"]
            street = ["s"]
            city = ["c"]
            [lines.opening]
            any = ["Hi {agent}."]
            [[categories]]
            id = "other"
            keywords = []
            department = "d"
            issues = ["i"]
            desired = ["d"]
        "#;
        let e = Catalog::parse("mini.toml", minimal).unwrap_err().to_string();
        assert!(e.contains("step \"repeat_opening\" has no line for tone \"angry\" in category \"other\""), "{e}");

        let bad_slot = minimal.replace("Hi {agent}.", "Hi {agnet}.");
        let e = Catalog::parse("mini.toml", &bad_slot).unwrap_err().to_string();
        assert!(e.contains("lines.opening.any: unknown slot {agnet}"), "{e}");
    }
}
