//! Parsing and validating one event pattern.
//!
//! Validation walks the pattern in document order and stops at the first problem, as
//! EventBridge does, with EventBridge's reason text. `$or` is expanded here into branches (the
//! cartesian product of alternatives); a pattern matches when any branch does.

use std::fmt;

use crate::cidr::Cidr;
use crate::json::{self, Json};
use crate::number::Number;
use crate::wildcard::{self, Glob};

/// Longest pattern text EventBridge accepts (`EventPattern` in PutRule and TestEventPattern).
pub const MAX_PATTERN_LEN: usize = 4096;
/// Most branches a pattern's `$or`s may expand to.
pub const MAX_OR_COMBINATIONS: usize = 1000;

/// Why a pattern is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// `InvalidEventPatternException`: the reason EventBridge gives.
    #[error("Event pattern is not valid. Reason: {0}")]
    Invalid(String),
    /// `ValidationException`: the text is longer than [`MAX_PATTERN_LEN`].
    #[error(
        "1 validation error detected: Value at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to {MAX_PATTERN_LEN}"
    )]
    TooLong,
}

impl PatternError {
    /// The AWS error code (`__type`) for this error.
    pub fn code(&self) -> &'static str {
        match self {
            PatternError::Invalid(_) => "InvalidEventPatternException",
            PatternError::TooLong => "ValidationException",
        }
    }
}

fn invalid<T>(reason: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError::Invalid(reason.into()))
}

/// A literal value in a pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string.
    Str(String),
    /// A number.
    Num(Number, String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// One bound of a numeric range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// The value.
    pub value: f64,
    /// Whether the value itself is inside.
    pub inclusive: bool,
}

/// What `anything-but` excludes.
#[derive(Debug, Clone, PartialEq)]
pub enum AnythingBut {
    /// These strings.
    Strings(Vec<String>),
    /// These numbers.
    Numbers(Vec<Number>),
    /// Strings with these prefixes.
    Prefixes(Vec<String>),
    /// Strings with these suffixes.
    Suffixes(Vec<String>),
    /// Strings matching these globs.
    Wildcards(Vec<Glob>),
    /// These strings, ignoring case.
    IgnoreCase(Vec<String>),
}

/// One test a value can pass.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Equal to a literal.
    Exact(Literal),
    /// A string starting with this (optionally ignoring case).
    Prefix(String, bool),
    /// A string ending with this (optionally ignoring case).
    Suffix(String, bool),
    /// A string equal to this ignoring case.
    EqualsIgnoreCase(String),
    /// A string matching this glob.
    Wildcard(Glob),
    /// A number in this range.
    Numeric(Option<Bound>, Option<Bound>),
    /// The field is present (`true`) or absent (`false`).
    Exists(bool),
    /// An IP address in this network.
    Cidr(Cidr, String),
    /// Any value except these.
    AnythingBut(AnythingBut),
}

/// A flattened path and the conditions of which a value there must pass one.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Dot-joined path (`detail.state`).
    pub path: String,
    /// Alternatives.
    pub conditions: Vec<Condition>,
}

/// A parsed, validated pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The `$or`-expanded branches; each lists its fields sorted by path.
    pub branches: Vec<Vec<Field>>,
}

impl Pattern {
    /// Parses and validates pattern text.
    ///
    /// # Errors
    ///
    /// [`PatternError`] with EventBridge's wording.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        if text.len() > MAX_PATTERN_LEN {
            return Err(PatternError::TooLong);
        }
        let json = json::parse(text.as_bytes()).map_err(|e| PatternError::Invalid(e.to_string()))?;
        let Json::Obj(members) = &json else { return invalid("Filter is not an object") };
        let mut branches: Vec<Vec<Field>> = Vec::new();
        parse_object(members, "", &mut branches, false)?;
        if branches.is_empty() {
            branches.push(Vec::new());
        }
        for branch in &mut branches {
            branch.sort_by(|a, b| a.path.cmp(&b.path));
        }
        Ok(Pattern { branches })
    }
}

const RESERVED_IN_OR: [&str; 8] =
    ["anything-but", "numeric", "prefix", "suffix", "exists", "equals-ignore-case", "cidr", "wildcard"];

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

fn parse_object(
    members: &[(String, Json)],
    prefix: &str,
    branches: &mut Vec<Vec<Field>>,
    inside_or: bool,
) -> Result<(), PatternError> {
    if members.is_empty() {
        return invalid("Empty objects are not allowed");
    }
    for (key, value) in members {
        if key == "$or" {
            parse_or(value, prefix, branches)?;
            continue;
        }
        if inside_or && RESERVED_IN_OR.contains(&key.as_str()) {
            return invalid(format!("{key} is Ruler reserved fieldName which cannot be used inside $or."));
        }
        match value {
            Json::Obj(inner) => parse_object(inner, &join(prefix, key), branches, inside_or)?,
            Json::Arr(items) => {
                let conditions = parse_values(items)?;
                if branches.is_empty() {
                    branches.push(Vec::new());
                }
                let path = join(prefix, key);
                for branch in branches.iter_mut() {
                    // A repeated key replaces the earlier one, as a JSON object would.
                    branch.retain(|f| f.path != path);
                    branch.push(Field { path: path.clone(), conditions: conditions.clone() });
                }
            }
            _ => return invalid(format!("\"{key}\" must be an object or an array")),
        }
    }
    Ok(())
}

fn parse_or(value: &Json, prefix: &str, branches: &mut Vec<Vec<Field>>) -> Result<(), PatternError> {
    let Json::Arr(alternatives) = value else { return invalid("It must be an Array followed with $or.") };
    let current = std::mem::take(branches);
    let mut count = 0;
    for alternative in alternatives {
        count += 1;
        let Json::Obj(members) = alternative else {
            return invalid("Only JSON object is allowed in array of $or relationship.");
        };
        let mut fork = if current.is_empty() { vec![Vec::new()] } else { current.clone() };
        parse_object(members, prefix, &mut fork, true)?;
        branches.extend(fork);
        if branches.len() > MAX_OR_COMBINATIONS {
            return invalid(format!(
                "Rule is too complex - the $or relationships expand to more than {MAX_OR_COMBINATIONS} combinations"
            ));
        }
    }
    if count < 2 {
        return invalid("There must have at least 2 Objects in $or relationship.");
    }
    Ok(())
}

fn parse_values(items: &[Json]) -> Result<Vec<Condition>, PatternError> {
    if items.is_empty() {
        return invalid("Empty arrays are not allowed");
    }
    items
        .iter()
        .map(|item| match item {
            Json::Obj(members) => match_expression(members),
            Json::Str(s) => Ok(Condition::Exact(Literal::Str(s.clone()))),
            Json::Num(t) => Ok(Condition::Exact(Literal::Num(Number::parse(t), t.clone()))),
            Json::Bool(b) => Ok(Condition::Exact(Literal::Bool(*b))),
            Json::Null => Ok(Condition::Exact(Literal::Null)),
            Json::Arr(_) => invalid("Match value must be String, number, true, false, or null"),
        })
        .collect()
}

fn only_one_key(members: &[(String, Json)]) -> Result<(), PatternError> {
    if members.len() > 1 { invalid("Only one key allowed in match expression") } else { Ok(()) }
}

fn glob(text: &str) -> Result<Glob, PatternError> {
    let g = Glob::parse(text).map_err(PatternError::Invalid)?;
    if g.complexity() > wildcard::MAX_COMPLEXITY {
        return invalid(
            "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character",
        );
    }
    Ok(g)
}

fn match_expression(members: &[(String, Json)]) -> Result<Condition, PatternError> {
    let Some((name, value)) = members.first() else { return invalid("Match expression name not found") };
    let condition = match name.as_str() {
        "exact" => match value {
            Json::Str(s) => Condition::Exact(Literal::Str(s.clone())),
            _ => return invalid("exact match pattern must be a string"),
        },
        "prefix" | "suffix" => {
            let (text, ignore_case) = match value {
                Json::Str(s) => (s.clone(), false),
                Json::Obj(inner) => match inner.as_slice() {
                    [(k, Json::Str(s))] if k == "equals-ignore-case" => (s.clone(), true),
                    _ => return invalid(format!("{name} match pattern must be a string")),
                },
                _ => return invalid(format!("{name} match pattern must be a string")),
            };
            if name == "prefix" { Condition::Prefix(text, ignore_case) } else { Condition::Suffix(text, ignore_case) }
        }
        "numeric" => {
            let Json::Arr(terms) = value else { return invalid("Value of numeric must be an array.") };
            numeric(terms)?
        }
        "anything-but" => anything_but(value)?,
        "exists" => match value {
            Json::Bool(b) => Condition::Exists(*b),
            _ => return invalid("exists match pattern must be either true or false."),
        },
        "cidr" => match value {
            Json::Str(s) => Condition::Cidr(Cidr::parse(s).map_err(PatternError::Invalid)?, s.clone()),
            _ => return invalid("prefix match pattern must be a string"),
        },
        "equals-ignore-case" => match value {
            Json::Str(s) => Condition::EqualsIgnoreCase(s.clone()),
            _ => return invalid("equals-ignore-case match pattern must be a string"),
        },
        "wildcard" => match value {
            Json::Str(s) => Condition::Wildcard(glob(s)?),
            _ => return invalid("wildcard match pattern must be a string"),
        },
        other => return invalid(format!("Unrecognized match type {other}")),
    };
    if name == "numeric" || name == "anything-but" {
        if members.len() > 1 {
            return invalid("Too many elements in numeric expression");
        }
    } else {
        only_one_key(members)?;
    }
    Ok(condition)
}

fn number_of(term: Option<&Json>) -> Option<f64> {
    match term {
        Some(Json::Num(t)) => Some(Number::parse(t).value),
        _ => None,
    }
}

fn term_text(term: Option<&Json>) -> String {
    match term {
        None => "]".into(),
        Some(Json::Str(s)) => s.clone(),
        Some(Json::Num(t)) => t.clone(),
        Some(Json::Bool(b)) => b.to_string(),
        Some(Json::Null) => "null".into(),
        Some(Json::Arr(_)) => "[".into(),
        Some(Json::Obj(_)) => "{".into(),
    }
}

fn numeric(terms: &[Json]) -> Result<Condition, PatternError> {
    let Some(Json::Str(op)) = terms.first() else {
        return invalid(format!("Invalid member in numeric match: {}", term_text(terms.first())));
    };
    let value = |i: usize, what: &str| {
        number_of(terms.get(i)).ok_or_else(|| PatternError::Invalid(format!("Value of {what} must be numeric")))
    };
    let condition = match op.as_str() {
        "=" => {
            let v = value(1, "equals")?;
            if terms.len() > 2 {
                return invalid("Too many elements in numeric expression");
            }
            let b = Bound { value: v, inclusive: true };
            Condition::Numeric(Some(b), Some(b))
        }
        ">" | ">=" => {
            let bottom = Bound { value: value(1, op)?, inclusive: op == ">=" };
            if terms.len() == 2 {
                Condition::Numeric(Some(bottom), None)
            } else {
                let Some(Json::Str(op2)) = terms.get(2) else {
                    return invalid(format!("Bad value in numeric range: {}", term_text(terms.get(2))));
                };
                if op2 != "<" && op2 != "<=" {
                    return invalid(format!("Bad numeric range operator: {op2}"));
                }
                let top = Bound { value: value(3, op2)?, inclusive: op2 == "<=" };
                if terms.len() > 4 {
                    return invalid("Too many terms in numeric range expression");
                }
                if bottom.value >= top.value {
                    return invalid("Bottom must be less than top");
                }
                Condition::Numeric(Some(bottom), Some(top))
            }
        }
        "<" | "<=" => {
            let top = Bound { value: value(1, op)?, inclusive: op == "<=" };
            if terms.len() > 2 {
                return invalid("Too many elements in numeric expression");
            }
            Condition::Numeric(None, Some(top))
        }
        other => return invalid(format!("Unrecognized numeric range operator: {other}")),
    };
    Ok(condition)
}

/// Strings of a `prefix`/`suffix`/`wildcard`/`equals-ignore-case` value inside anything-but:
/// one string or a list of strings.
fn string_list(value: &Json, message: &str) -> Result<Vec<String>, PatternError> {
    match value {
        Json::Str(s) => Ok(vec![s.clone()]),
        Json::Arr(items) => items
            .iter()
            .map(|i| match i {
                Json::Str(s) => Ok(s.clone()),
                _ => invalid(message),
            })
            .collect(),
        _ => invalid(message),
    }
}

fn anything_but(value: &Json) -> Result<Condition, PatternError> {
    const SHAPE: &str = "Value of anything-but must be an array or single string/number value.";
    let excluded = match value {
        Json::Obj(inner) => {
            let Some((op, v)) = inner.first() else { return invalid("Anything-But expression name not found") };
            let result = match op.as_str() {
                "prefix" | "suffix" => {
                    if matches!(v, Json::Obj(_)) {
                        return invalid(SHAPE);
                    }
                    let list = string_list(v, "prefix/suffix match pattern must be a string")?;
                    if list.iter().any(String::is_empty) {
                        return invalid("Null prefix/suffix not allowed");
                    }
                    if op == "prefix" { AnythingBut::Prefixes(list) } else { AnythingBut::Suffixes(list) }
                }
                "wildcard" => AnythingBut::Wildcards(
                    string_list(v, "wildcard match pattern must be a string")?
                        .iter()
                        .map(|s| glob(s))
                        .collect::<Result<_, _>>()?,
                ),
                "equals-ignore-case" => AnythingBut::IgnoreCase(string_list(
                    v,
                    "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
                )?),
                other => return invalid(format!("Unsupported anything-but pattern: {other}")),
            };
            if inner.len() > 1 {
                return invalid("Only one key allowed in match expression");
            }
            result
        }
        Json::Str(s) => AnythingBut::Strings(vec![s.clone()]),
        Json::Num(t) => AnythingBut::Numbers(vec![Number::parse(t)]),
        Json::Arr(items) => {
            let (mut strings, mut numbers) = (Vec::new(), Vec::new());
            for item in items {
                match item {
                    Json::Str(s) => strings.push(s.clone()),
                    Json::Num(t) => numbers.push(Number::parse(t)),
                    _ => return invalid("Inside anything but list, start|null|boolean is not supported."),
                }
            }
            match (strings.is_empty(), numbers.is_empty()) {
                (false, true) => AnythingBut::Strings(strings),
                (true, false) => AnythingBut::Numbers(numbers),
                _ => {
                    return invalid(
                        "Inside anything but list, either all values are number or string, mixed type is not supported",
                    );
                }
            }
        }
        _ => return invalid(SHAPE),
    };
    Ok(Condition::AnythingBut(excluded))
}

impl fmt::Display for Condition {
    /// The condition in pattern syntax, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = |s: &str| format!("{s:?}");
        let list = |v: &[String]| v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ");
        match self {
            Condition::Exact(Literal::Str(s)) => write!(f, "{}", q(s)),
            Condition::Exact(Literal::Num(_, t)) => write!(f, "{t}"),
            Condition::Exact(Literal::Bool(b)) => write!(f, "{b}"),
            Condition::Exact(Literal::Null) => write!(f, "null"),
            Condition::Prefix(s, false) => write!(f, "{{\"prefix\": {}}}", q(s)),
            Condition::Prefix(s, true) => write!(f, "{{\"prefix\": {{\"equals-ignore-case\": {}}}}}", q(s)),
            Condition::Suffix(s, false) => write!(f, "{{\"suffix\": {}}}", q(s)),
            Condition::Suffix(s, true) => write!(f, "{{\"suffix\": {{\"equals-ignore-case\": {}}}}}", q(s)),
            Condition::EqualsIgnoreCase(s) => write!(f, "{{\"equals-ignore-case\": {}}}", q(s)),
            Condition::Wildcard(g) => write!(f, "{{\"wildcard\": {}}}", q(&g.source)),
            Condition::Numeric(lo, hi) => {
                let mut parts = Vec::new();
                match (lo, hi) {
                    (Some(a), Some(b)) if a.value == b.value && a.inclusive && b.inclusive => {
                        parts.push(format!("\"=\", {}", a.value))
                    }
                    _ => {
                        if let Some(a) = lo {
                            parts.push(format!("\"{}\", {}", if a.inclusive { ">=" } else { ">" }, a.value));
                        }
                        if let Some(b) = hi {
                            parts.push(format!("\"{}\", {}", if b.inclusive { "<=" } else { "<" }, b.value));
                        }
                    }
                }
                write!(f, "{{\"numeric\": [{}]}}", parts.join(", "))
            }
            Condition::Exists(b) => write!(f, "{{\"exists\": {b}}}"),
            Condition::Cidr(_, s) => write!(f, "{{\"cidr\": {}}}", q(s)),
            Condition::AnythingBut(a) => match a {
                AnythingBut::Strings(v) => write!(f, "{{\"anything-but\": [{}]}}", list(v)),
                AnythingBut::Numbers(v) => {
                    let n: Vec<String> = v.iter().map(|n| n.value.to_string()).collect();
                    write!(f, "{{\"anything-but\": [{}]}}", n.join(", "))
                }
                AnythingBut::Prefixes(v) => write!(f, "{{\"anything-but\": {{\"prefix\": [{}]}}}}", list(v)),
                AnythingBut::Suffixes(v) => write!(f, "{{\"anything-but\": {{\"suffix\": [{}]}}}}", list(v)),
                AnythingBut::Wildcards(v) => {
                    let s: Vec<String> = v.iter().map(|g| g.source.clone()).collect();
                    write!(f, "{{\"anything-but\": {{\"wildcard\": [{}]}}}}", list(&s))
                }
                AnythingBut::IgnoreCase(v) => {
                    write!(f, "{{\"anything-but\": {{\"equals-ignore-case\": [{}]}}}}", list(v))
                }
            },
        }
    }
}
