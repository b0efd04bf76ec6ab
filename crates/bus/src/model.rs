//! What a bus is made of — buses, rules, targets — with EventBridge's names, limits and ARNs.

use serde::{Deserialize, Serialize};

use crate::BusError;

/// Where the bus pretends to live, for ARNs and envelopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// 12-digit account id.
    pub account: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
}

impl Default for Location {
    fn default() -> Self {
        Location { account: "123456789012".into(), region: "us-east-1".into() }
    }
}

impl Location {
    /// `arn:aws:events:<region>:<account>:event-bus/<name>`.
    pub fn bus_arn(&self, bus: &str) -> String {
        format!("arn:aws:events:{}:{}:event-bus/{bus}", self.region, self.account)
    }

    /// A rule's ARN: `rule/<name>` on the default bus, `rule/<bus>/<name>` elsewhere.
    pub fn rule_arn(&self, bus: &str, rule: &str) -> String {
        if bus == "default" {
            format!("arn:aws:events:{}:{}:rule/{rule}", self.region, self.account)
        } else {
            format!("arn:aws:events:{}:{}:rule/{bus}/{rule}", self.region, self.account)
        }
    }

    /// `arn:aws:events:<region>:<account>:archive/<name>`.
    pub fn archive_arn(&self, archive: &str) -> String {
        format!("arn:aws:events:{}:{}:archive/{archive}", self.region, self.account)
    }

    /// `arn:aws:events:<region>:<account>:replay/<name>`.
    pub fn replay_arn(&self, replay: &str) -> String {
        format!("arn:aws:events:{}:{}:replay/{replay}", self.region, self.account)
    }
}

/// Limits EventBridge applies, with its defaults (the per-bus rule quota is adjustable there
/// and here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rules per bus (EventBridge's default quota: 300).
    pub rules_per_bus: usize,
    /// Targets per rule (5).
    pub targets_per_rule: usize,
    /// Largest PutEvents entry in bytes, counted as EventBridge counts it (1 MB since 2026-01-29).
    pub entry_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { rules_per_bus: 300, targets_per_rule: 5, entry_bytes: 1_048_576 }
    }
}

/// Whether a rule routes events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleState {
    /// Routes.
    Enabled,
    /// Kept, but matches nothing.
    Disabled,
}

impl RuleState {
    /// `ENABLED` / `DISABLED`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleState::Enabled => "ENABLED",
            RuleState::Disabled => "DISABLED",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<RuleState, BusError> {
        match text {
            "ENABLED" => Ok(RuleState::Enabled),
            "DISABLED" => Ok(RuleState::Disabled),
            other => Err(BusError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"
            ))),
        }
    }
}

/// A rule: a pattern on one bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Bus name.
    pub bus: String,
    /// Rule name (1–64 of `[.\-_A-Za-z0-9]`).
    pub name: String,
    /// Event pattern text.
    pub pattern: String,
    /// ENABLED or DISABLED.
    pub state: RuleState,
    /// Free text.
    pub description: Option<String>,
}

/// A bus as DescribeEventBus and ListEventBuses report it.
#[derive(Debug, Clone, PartialEq)]
pub struct BusInfo {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Free text.
    pub description: Option<String>,
    /// Epoch seconds.
    pub created_at: f64,
}

/// An archive as DescribeArchive and ListArchives report it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveInfo {
    /// Name.
    pub name: String,
    /// The bus it archives.
    pub bus: String,
    /// The pattern events must match to be kept (all events without one).
    pub pattern: Option<String>,
    /// Epoch seconds.
    pub created_at: f64,
    /// Events kept.
    pub event_count: u64,
    /// Bytes of the events kept (their envelopes).
    pub size_bytes: u64,
}

/// A replay as DescribeReplay and ListReplays report it. Replays run to completion when they
/// start, so every one recorded is `COMPLETED`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayInfo {
    /// Name.
    pub name: String,
    /// The archive replayed.
    pub archive: String,
    /// The bus it replayed onto.
    pub bus: String,
    /// The rules it was limited to (all of the bus's without).
    pub rules: Option<Vec<String>>,
    /// The event-time window, epoch seconds: `[start, end)`.
    pub event_start: f64,
    /// End of the window.
    pub event_end: f64,
    /// The latest event time replayed, if any event was.
    pub last_replayed: Option<f64>,
    /// When the replay began and ended, epoch seconds.
    pub started_at: f64,
    /// When it ended.
    pub ended_at: f64,
    /// Events replayed.
    pub events: u64,
}

/// How often and how long a target is retried (EventBridge's `RetryPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// 0–185 (default 185).
    #[serde(rename = "MaximumRetryAttempts")]
    pub maximum_retry_attempts: u32,
    /// 60–86,400 seconds (default 86,400).
    #[serde(rename = "MaximumEventAgeInSeconds")]
    pub maximum_event_age_seconds: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { maximum_retry_attempts: 185, maximum_event_age_seconds: 86_400 }
    }
}

impl RetryPolicy {
    /// Checks EventBridge's ranges.
    ///
    /// # Errors
    ///
    /// A `ValidationException` naming the member.
    pub fn validate(&self) -> Result<(), BusError> {
        if self.maximum_retry_attempts > 185 {
            return Err(BusError::Validation(format!(
                "1 validation error detected: Value '{}' at 'retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185",
                self.maximum_retry_attempts
            )));
        }
        if !(60..=86_400).contains(&self.maximum_event_age_seconds) {
            return Err(BusError::Validation(format!(
                "1 validation error detected: Value '{}' at 'retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value between 60 and 86400",
                self.maximum_event_age_seconds
            )));
        }
        Ok(())
    }
}

/// What a target receives (EventBridge's mutually exclusive `Input`, `InputPath` and
/// `InputTransformer`, or the whole event).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TargetInput {
    /// The whole event.
    #[default]
    Event,
    /// `Input`: this constant JSON text instead of the event.
    Constant(String),
    /// `InputPath`: the part of the event a JSON path selects (`$.detail`).
    Path(String),
    /// `InputTransformer`: `InputPathsMap` (name → JSON path) and `InputTemplate`.
    Transformer {
        /// Variables and the paths that fill them.
        paths: Vec<(String, String)>,
        /// The template, with `<name>` placeholders.
        template: String,
    },
}

/// How an HTTP target is called (EventBridge's API destinations: method, headers, rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpParameters {
    /// `POST` (default), `PUT` or `PATCH`.
    #[serde(default = "post")]
    pub method: String,
    /// Extra request headers.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Whole-call timeout (default 5 s; EventBridge's is 5 s for API destinations).
    #[serde(default = "five")]
    pub timeout_seconds: f64,
    /// Most invocations per second (`InvocationRateLimitPerSecond`); unlimited when absent.
    #[serde(default)]
    pub rate_limit_per_second: Option<f64>,
}

fn post() -> String {
    "POST".into()
}

fn five() -> f64 {
    5.0
}

impl Default for HttpParameters {
    fn default() -> Self {
        HttpParameters { method: post(), headers: Vec::new(), timeout_seconds: five(), rate_limit_per_second: None }
    }
}

/// A target of a rule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Target {
    /// Id, unique within the rule (1–64 of `[.\-_A-Za-z0-9]`).
    pub id: String,
    /// Where deliveries go: `builtin:NAME`, a Lambda function ARN, …
    pub arn: String,
    /// What it receives.
    pub input: TargetInput,
    /// Retries before the dead-letter queue.
    pub retry: RetryPolicy,
    /// `DeadLetterConfig.Arn`; without one, exhausted deliveries are dropped (and counted).
    pub dead_letter_arn: Option<String>,
    /// For `http://` targets: how to call them.
    pub http: Option<HttpParameters>,
}

/// Checks a bus, rule or target name against EventBridge's pattern and length.
pub(crate) fn check_name(what: &str, name: &str, max: usize, slash_ok: bool) -> Result<(), BusError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') || (slash_ok && c == '/');
    if name.is_empty() || name.len() > max || !name.chars().all(ok_char) {
        let set = if slash_ok { "[/\\.\\-_A-Za-z0-9]+" } else { "[\\.\\-_A-Za-z0-9]+" };
        return Err(BusError::Validation(format!(
            "1 validation error detected: Value '{name}' at '{what}' failed to satisfy constraint: Member must satisfy regular expression pattern: {set} and have length between 1 and {max}"
        )));
    }
    Ok(())
}

/// The function name of a target ARN that names a built-in processor: `builtin:NAME`, or a
/// Lambda function ARN (`arn:aws:lambda:…:function:NAME[:qualifier]`).
pub fn builtin_name(arn: &str) -> Option<&str> {
    if let Some(name) = arn.strip_prefix("builtin:") {
        return Some(name);
    }
    let rest = arn.strip_prefix("arn:aws:lambda:")?;
    let (_, function) = rest.split_once(":function:")?;
    Some(function.split(':').next().unwrap_or(function))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_follow_eventbridges_shapes() {
        let l = Location::default();
        assert_eq!(
            l.bus_arn("twilio-call-events"),
            "arn:aws:events:us-east-1:123456789012:event-bus/twilio-call-events"
        );
        assert_eq!(l.rule_arn("default", "r"), "arn:aws:events:us-east-1:123456789012:rule/r");
        assert_eq!(l.rule_arn("b", "r"), "arn:aws:events:us-east-1:123456789012:rule/b/r");
        assert_eq!(
            builtin_name("arn:aws:lambda:us-east-1:123456789012:function:process-call-completed"),
            Some("process-call-completed")
        );
        assert_eq!(builtin_name("arn:aws:lambda:us-east-1:123456789012:function:f:live"), Some("f"));
        assert_eq!(builtin_name("builtin:update-segment-profile"), Some("update-segment-profile"));
        assert_eq!(builtin_name("arn:aws:sqs:us-east-1:123456789012:q"), None);
    }

    #[test]
    fn names_and_retry_policies_are_checked() {
        assert!(check_name("name", "twilio-call-completed", 64, false).is_ok());
        assert!(check_name("name", "aws.partner/twilio.com/x", 256, true).is_ok());
        assert!(check_name("name", "a/b", 64, false).is_err());
        assert!(check_name("name", "", 64, false).is_err());
        assert!(check_name("name", &"a".repeat(65), 64, false).is_err());
        assert!(RetryPolicy { maximum_retry_attempts: 186, maximum_event_age_seconds: 60 }.validate().is_err());
        assert!(RetryPolicy { maximum_retry_attempts: 0, maximum_event_age_seconds: 59 }.validate().is_err());
        assert!(RetryPolicy { maximum_retry_attempts: 0, maximum_event_age_seconds: 60 }.validate().is_ok());
    }
}
