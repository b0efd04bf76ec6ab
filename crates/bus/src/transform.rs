//! What a target receives when it does not receive the whole event: `InputPath` (a part of
//! the event) and `InputTransformer` (values picked by JSON paths, placed into a template).
//!
//! Paths are EventBridge's subset of JSONPath: `$`, then `.name` (letters, digits, `-`, `_`,
//! `/`), `[index]` and `[*]` / `.*` (all elements or members, giving a list). Placeholders in a
//! template are filled by where they stand: inside a string literal a value appears as text
//! (strings unquoted and, as EventBridge does, unescaped; objects and arrays with their inner
//! quotes removed); elsewhere as JSON. A path that finds nothing gives `null` outside strings
//! and nothing inside them (EventBridge documents only that such a variable "is not created").

use serde_json::Value;

use crate::BusError;

/// The reserved variables of an input template.
pub const RESERVED: [&str; 5] = [
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
];

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    All,
}

/// A parsed JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses `$.detail.call_sid`, `$.resources[0]`, `$.detail.items[*].id`.
    ///
    /// # Errors
    ///
    /// A `ValidationException` naming the path.
    pub fn parse(text: &str) -> Result<JsonPath, BusError> {
        let bad = || BusError::Validation(format!("Invalid JSON path {text:?}: use $, .name, [index] and [*]"));
        let mut rest = text.strip_prefix('$').ok_or_else(bad)?;
        let mut steps = Vec::new();
        let name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/');
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                if let Some(after_star) = after.strip_prefix('*') {
                    steps.push(Step::All);
                    rest = after_star;
                    continue;
                }
                let end = after.find(|c: char| !name_char(c)).unwrap_or(after.len());
                if end == 0 {
                    return Err(bad());
                }
                steps.push(Step::Key(after[..end].to_string()));
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let close = after.find(']').ok_or_else(bad)?;
                let inside = &after[..close];
                steps.push(if inside == "*" { Step::All } else { Step::Index(inside.parse().map_err(|_| bad())?) });
                rest = &after[close + 1..];
            } else {
                return Err(bad());
            }
        }
        Ok(JsonPath { steps })
    }

    /// What the path finds in `value`: `None` for nothing; a list once a wildcard is crossed.
    pub fn select(&self, value: &Value) -> Option<Value> {
        select(&self.steps, value)
    }
}

fn select(steps: &[Step], value: &Value) -> Option<Value> {
    let Some((step, rest)) = steps.split_first() else { return Some(value.clone()) };
    match step {
        Step::Key(k) => select(rest, value.get(k)?),
        Step::Index(i) => select(rest, value.get(i)?),
        Step::All => {
            let items: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                Value::Object(members) => members.values().collect(),
                _ => return None,
            };
            Some(Value::Array(items.into_iter().filter_map(|v| select(rest, v)).collect()))
        }
    }
}

/// An input transformer, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Transformer {
    paths: Vec<(String, JsonPath)>,
    template: String,
}

/// What the reserved variables stand for in one delivery.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The rule's ARN.
    pub rule_arn: &'a str,
    /// The rule's name.
    pub rule_name: &'a str,
    /// When the bus accepted the event, ISO 8601.
    pub ingestion_time: &'a str,
}

impl Transformer {
    /// Checks an `InputPathsMap` (≤ 100 entries; names of `[A-Za-z0-9_-]`, not reserved) and an
    /// `InputTemplate` (1–8,192 characters).
    ///
    /// # Errors
    ///
    /// A `ValidationException` naming what is wrong.
    pub fn new(paths: &[(String, String)], template: &str) -> Result<Transformer, BusError> {
        if paths.len() > 100 {
            return Err(BusError::Validation("InputPathsMap has more than 100 entries".into()));
        }
        if template.is_empty() || template.chars().count() > 8192 {
            return Err(BusError::Validation("InputTemplate must be 1 to 8192 characters long".into()));
        }
        let paths = paths
            .iter()
            .map(|(name, path)| {
                if name.is_empty()
                    || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    || name.starts_with("aws")
                {
                    return Err(BusError::Validation(format!(
                        "InputPathsMap key {name:?} must be letters, digits, '_' or '-' and not a reserved aws.* name"
                    )));
                }
                Ok((name.clone(), JsonPath::parse(path)?))
            })
            .collect::<Result<_, _>>()?;
        Ok(Transformer { paths, template: template.to_string() })
    }

    /// Fills the template from `event` (the envelope).
    pub fn apply(&self, event: &Value, ctx: Context<'_>) -> String {
        let lookup = |name: &str| -> Option<Value> {
            match name {
                "aws.events.rule-arn" => Some(Value::String(ctx.rule_arn.into())),
                "aws.events.rule-name" => Some(Value::String(ctx.rule_name.into())),
                "aws.events.event.ingestion-time" => Some(Value::String(ctx.ingestion_time.into())),
                "aws.events.event.json" => Some(event.clone()),
                "aws.events.event" => {
                    let mut without = event.clone();
                    if let Value::Object(m) = &mut without {
                        m.remove("detail");
                    }
                    Some(without)
                }
                _ => self.paths.iter().find(|(n, _)| n == name).and_then(|(_, p)| p.select(event)),
            }
        };
        let plain_text = !matches!(self.template.trim_start().chars().next(), Some('{' | '[' | '"'));
        let mut out = String::with_capacity(self.template.len());
        let mut in_string = false;
        let mut escaped = false;
        let mut rest = self.template.as_str();
        while let Some(c) = rest.chars().next() {
            if c == '<'
                && let Some(end) = rest.find('>')
                && is_variable(&rest[1..end])
                && (self.paths.iter().any(|(n, _)| n == &rest[1..end]) || RESERVED.contains(&&rest[1..end]))
            {
                let value = lookup(&rest[1..end]);
                out.push_str(&render(value.as_ref(), in_string || plain_text));
                rest = &rest[end + 1..];
                escaped = false;
                continue;
            }
            if in_string && c == '\\' && !escaped {
                escaped = true;
            } else {
                if c == '"' && !escaped {
                    in_string = !in_string;
                }
                escaped = false;
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }
}

fn is_variable(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A value as text inside a string, or as JSON outside one.
fn render(value: Option<&Value>, as_text: bool) -> String {
    match (value, as_text) {
        (None, true) => String::new(),
        (None, false) => "null".into(),
        (Some(Value::String(s)), true) => s.clone(),
        (Some(v @ (Value::Object(_) | Value::Array(_))), true) => v.to_string().replace('"', ""),
        (Some(v), _) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event() -> Value {
        json!({"version": "0", "id": "e1", "detail-type": "call.completed", "source": "twilio",
               "resources": ["arn:a", "arn:b"],
               "detail": {"call_sid": "CA1", "duration": 300, "ok": true, "who": {"name": "Ana"},
                          "items": [{"id": 1}, {"id": 2}]}})
    }

    const CTX: Context<'static> = Context {
        rule_arn: "arn:aws:events:us-east-1:1:rule/b/r",
        rule_name: "r",
        ingestion_time: "2026-01-05T08:00:00Z",
    };

    #[test]
    fn paths_select_keys_indices_and_wildcards() {
        let e = event();
        let get = |p: &str| JsonPath::parse(p).unwrap().select(&e);
        assert_eq!(get("$.detail.call_sid"), Some(json!("CA1")));
        assert_eq!(get("$.detail-type"), Some(json!("call.completed")));
        assert_eq!(get("$.resources[1]"), Some(json!("arn:b")));
        assert_eq!(get("$.detail.items[*].id"), Some(json!([1, 2])));
        assert_eq!(get("$.detail.nope"), None);
        assert_eq!(get("$"), Some(e.clone()));
        for bad in ["detail", "$.", "$[x]", "$.a b", "$[1"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn placeholders_are_json_outside_strings_and_text_inside() {
        let paths =
            |list: &[(&str, &str)]| list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        let t = Transformer::new(
            &paths(&[("sid", "$.detail.call_sid"), ("d", "$.detail.duration"), ("who", "$.detail.who"), ("x", "$.nope")]),
            r#"{"call": <sid>, "secs": <d>, "who": <who>, "line": "<sid> took <d> s, <who>", "missing": <x>, "m2": "[<x>]", "rule": "<aws.events.rule-name>"}"#,
        )
        .unwrap();
        let out = t.apply(&event(), CTX);
        assert_eq!(
            out,
            r#"{"call": "CA1", "secs": 300, "who": {"name":"Ana"}, "line": "CA1 took 300 s, {name:Ana}", "missing": null, "m2": "[]", "rule": "r"}"#
        );
        assert!(serde_json::from_str::<Value>(&out).is_ok());
        let plain = Transformer::new(&paths(&[("sid", "$.detail.call_sid")]), "call <sid> done <unknown>").unwrap();
        assert_eq!(plain.apply(&event(), CTX), "call CA1 done <unknown>");
        let whole = Transformer::new(&[], r#"{"e": <aws.events.event>, "arn": "<aws.events.rule-arn>"}"#).unwrap();
        let v: Value = serde_json::from_str(&whole.apply(&event(), CTX)).unwrap();
        assert!(v["e"].get("detail").is_none() && v["e"]["id"] == "e1");
        assert_eq!(v["arn"], CTX.rule_arn);
    }

    #[test]
    fn transformers_are_checked() {
        let one = |k: &str| vec![(k.to_string(), "$.a".to_string())];
        assert!(Transformer::new(&one("aws.events.x"), "<x>").is_err());
        assert!(Transformer::new(&one("a b"), "<x>").is_err());
        assert!(Transformer::new(&one("ok"), "").is_err());
        assert!(Transformer::new(&[("ok".into(), "a".into())], "<ok>").is_err());
        let many: Vec<(String, String)> = (0..101).map(|i| (format!("k{i}"), "$.a".into())).collect();
        assert!(Transformer::new(&many, "<k1>").is_err());
    }
}
