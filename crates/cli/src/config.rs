//! `callsynth.toml`: the buses, rules and targets `callsynth run` sets up. `callsynth init`
//! writes [`GUIDE`], which is also what `run` uses when there is no file — one text, so the
//! documented defaults are the real ones.

use std::path::Path;

use anyhow::{Context, Result};
use bus::{EventBus, RetryPolicy, Rule, RuleState, Target, TargetInput, builtin_name};
use serde::Deserialize;

use crate::builtins::{PROCESS_CALL_COMPLETED, UPDATE_SEGMENT_PROFILE};

/// The setup guide as a configuration file, with comments.
pub const GUIDE: &str = r#"# callsynth.toml: what `callsynth run` sets up before it puts events on the bus.
# It reproduces the Twilio Event Streams setup guide: one partner-style event bus, two rules,
# each with one Lambda-style target that callsynth runs as a built-in processor.
# Edit it and run `callsynth run`; definitions already in the store are replaced by these.

# An event bus (names may contain '/', as partner buses do).
[[buses]]
name = "twilio-call-events"
description = "Twilio call events"

# Archives keep a bus's events for `callsynth replay` (all of them, or those a pattern matches):
# [[archives]]
# name = "all-call-events"
# bus = "twilio-call-events"
# pattern = '{"detail-type": ["com.twilio.voice.call.completed"]}'

# Rule 1 of the guide: completed calls go to process-call-completed, which keeps one row per
# call in the `calls` table.
[[rules]]
bus = "twilio-call-events"
name = "twilio-call-completed"
description = "From the Twilio Event Streams setup guide"
state = "ENABLED"                      # or "DISABLED"
pattern = '''
{"source": ["aws.partner/twilio.com"], "detail-type": ["com.twilio.voice.call.completed"]}
'''

[[rules.targets]]
id = "1"
# A Lambda function ARN whose function name is a built-in processor (or "builtin:NAME").
arn = "arn:aws:lambda:us-east-1:123456789012:function:process-call-completed"
# EventBridge's RetryPolicy: 0-185 retries, events up to 60-86400 seconds old.
maximum_retry_attempts = 185
maximum_event_age_seconds = 86400
# Deliveries that run out of retries go to the dead-letter table, tagged with this queue.
# Other target kinds: a durable queue ("arn:aws:sqs:us-east-1:123456789012:NAME", read with
# `callsynth queue receive NAME`), another bus ("arn:aws:events:us-east-1:123456789012:event-bus/NAME")
# an NDJSON file ("file:events.ndjson") or an HTTP endpoint ("http://host/path", with optional
# http_method = "POST", http_headers = { Authorization = "..." }, http_timeout_seconds = 5,
# rate_limit_per_second = 50; at-least-once, the event id in an Idempotency-Key header).
# What a target receives is the whole event unless one of these is given:
#   input = '{"constant": true}'                     (EventBridge's Input)
#   input_path = "$.detail"                          (InputPath)
#   input_paths = { sid = "$.detail.call_sid" }      (InputTransformer's InputPathsMap) with
#   input_template = '{"call": <sid>, "rule": "<aws.events.rule-name>"}' 
dead_letter_arn = "arn:aws:sqs:us-east-1:123456789012:process-call-completed-dlq"

# Rule 2 of the guide: transcriptions go to update-segment-profile.
[[rules]]
bus = "twilio-call-events"
name = "twilio-transcription-completed"
description = "From the Twilio Event Streams setup guide"
state = "ENABLED"
pattern = '''
{"source": ["aws.partner/twilio.com"], "detail-type": ["com.twilio.voice.transcription.completed"]}
'''

[[rules.targets]]
id = "1"
arn = "arn:aws:lambda:us-east-1:123456789012:function:update-segment-profile"
maximum_retry_attempts = 185
maximum_event_age_seconds = 86400
dead_letter_arn = "arn:aws:sqs:us-east-1:123456789012:update-segment-profile-dlq"
"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    buses: Vec<BusConfig>,
    #[serde(default)]
    rules: Vec<RuleConfig>,
    #[serde(default)]
    archives: Vec<ArchiveConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchiveConfig {
    name: String,
    bus: String,
    pattern: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BusConfig {
    name: String,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleConfig {
    bus: String,
    name: String,
    pattern: String,
    #[serde(default = "enabled")]
    state: String,
    description: Option<String>,
    #[serde(default)]
    targets: Vec<TargetConfig>,
}

fn enabled() -> String {
    "ENABLED".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetConfig {
    id: String,
    arn: String,
    /// A constant JSON text sent instead of the event (EventBridge's `Input`).
    input: Option<String>,
    /// The part of the event to send (`InputPath`, e.g. "$.detail").
    input_path: Option<String>,
    /// `InputTransformer`: variables from JSON paths, and the template they fill.
    #[serde(default)]
    input_paths: std::collections::BTreeMap<String, String>,
    input_template: Option<String>,
    #[serde(default = "max_retries")]
    maximum_retry_attempts: u32,
    #[serde(default = "max_age")]
    maximum_event_age_seconds: u32,
    dead_letter_arn: Option<String>,
    /// For http(s):// targets.
    http_method: Option<String>,
    #[serde(default)]
    http_headers: std::collections::BTreeMap<String, String>,
    http_timeout_seconds: Option<f64>,
    rate_limit_per_second: Option<f64>,
}

fn max_retries() -> u32 {
    RetryPolicy::default().maximum_retry_attempts
}

fn max_age() -> u32 {
    RetryPolicy::default().maximum_event_age_seconds
}

impl Config {
    /// The built-in guide.
    pub fn guide() -> Config {
        Config::parse(GUIDE, "built-in configuration").expect("the built-in configuration is valid")
    }

    /// Reads and checks a configuration file.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not TOML (line and column), has unknown or missing fields,
    /// or names something that does not exist.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
        Config::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, origin: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        config.check(origin)?;
        Ok(config)
    }

    /// What toml cannot check: rules on declared buses, valid patterns and states, targets
    /// that are built-in processors.
    fn check(&self, origin: &str) -> Result<()> {
        for (i, a) in self.archives.iter().enumerate() {
            let at = format!("{origin}: archives[{i}] ({})", a.name);
            if !self.buses.iter().any(|b| b.name == a.bus) {
                anyhow::bail!("{at}: bus {:?} is not declared in [[buses]]", a.bus);
            }
            if let Some(p) = &a.pattern {
                pattern::Pattern::parse(p.trim()).map_err(|e| anyhow::anyhow!("{at}: pattern: {e}"))?;
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("{origin}: rules[{i}] ({})", rule.name);
            if !self.buses.iter().any(|b| b.name == rule.bus) {
                anyhow::bail!("{at}: bus {:?} is not declared in [[buses]]", rule.bus);
            }
            pattern::Pattern::parse(rule.pattern.trim()).map_err(|e| anyhow::anyhow!("{at}: pattern: {e}"))?;
            if !matches!(rule.state.as_str(), "ENABLED" | "DISABLED") {
                anyhow::bail!("{at}: state must be ENABLED or DISABLED, not {:?}", rule.state);
            }
            for (j, target) in rule.targets.iter().enumerate() {
                let at = format!("{at}: targets[{j}] ({})", target.id);
                let given = [target.input.is_some(), target.input_path.is_some(), target.input_template.is_some()];
                if given.iter().filter(|g| **g).count() > 1 {
                    anyhow::bail!("{at}: input, input_path and input_template are mutually exclusive");
                }
                if !target.input_paths.is_empty() && target.input_template.is_none() {
                    anyhow::bail!("{at}: input_paths needs an input_template");
                }
                if let Some(method) = &target.http_method
                    && !matches!(method.as_str(), "POST" | "PUT" | "PATCH")
                {
                    anyhow::bail!("{at}: http_method must be POST, PUT or PATCH, not {method:?}");
                }
                let local = target.arn.starts_with("file:")
                    || target.arn.starts_with("http://")
                    || target.arn.starts_with("arn:aws:sqs:")
                    || target.arn.starts_with("arn:aws:events:") && target.arn.contains(":event-bus/");
                match builtin_name(&target.arn) {
                    _ if local => {}
                    Some(PROCESS_CALL_COMPLETED | UPDATE_SEGMENT_PROFILE) => {}
                    Some(other) => anyhow::bail!(
                        "{at}: arn: {other:?} is not a built-in processor (there are {PROCESS_CALL_COMPLETED} and {UPDATE_SEGMENT_PROFILE})"
                    ),
                    None => anyhow::bail!(
                        "{at}: arn {:?}: a target is a built-in processor (builtin:NAME or a Lambda function ARN naming one), a queue (arn:aws:sqs:…), another bus (arn:aws:events:…:event-bus/NAME), a file (file:PATH) or an http:// endpoint",
                        target.arn
                    ),
                }
            }
        }
        Ok(())
    }

    /// Creates the buses and puts the rules and targets (replacing same-named ones).
    ///
    /// # Errors
    ///
    /// What the bus refuses (limits, names), naming the rule or target.
    pub fn apply(&self, bus: &mut EventBus) -> Result<()> {
        for b in &self.buses {
            if !bus.has_bus(&b.name) {
                bus.create_bus(&b.name, b.description.as_deref()).with_context(|| format!("bus {:?}", b.name))?;
            }
        }
        for a in &self.archives {
            let exists: bool = bus
                .connection()
                .query_row("SELECT COUNT(*) FROM archives WHERE name = ?1", [&a.name], |r| r.get::<_, i64>(0))
                .map(|n| n > 0)?;
            if !exists {
                bus.create_archive(&a.name, &a.bus, a.pattern.as_deref().map(str::trim))
                    .with_context(|| format!("archive {:?}", a.name))?;
            }
        }
        for r in &self.rules {
            let state = if r.state == "ENABLED" { RuleState::Enabled } else { RuleState::Disabled };
            bus.put_rule(&Rule {
                bus: r.bus.clone(),
                name: r.name.clone(),
                pattern: r.pattern.trim().to_string(),
                state,
                description: r.description.clone(),
            })
            .with_context(|| format!("rule {:?}", r.name))?;
            let targets: Vec<Target> = r
                .targets
                .iter()
                .map(|t| Target {
                    id: t.id.clone(),
                    arn: t.arn.clone(),
                    input: match (&t.input, &t.input_path, &t.input_template) {
                        (Some(text), _, _) => TargetInput::Constant(text.clone()),
                        (_, Some(path), _) => TargetInput::Path(path.clone()),
                        (_, _, Some(template)) => TargetInput::Transformer {
                            paths: t.input_paths.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                            template: template.clone(),
                        },
                        _ => TargetInput::Event,
                    },
                    retry: RetryPolicy {
                        maximum_retry_attempts: t.maximum_retry_attempts,
                        maximum_event_age_seconds: t.maximum_event_age_seconds,
                    },
                    dead_letter_arn: t.dead_letter_arn.clone(),
                    http: t.arn.starts_with("http").then(|| bus::HttpParameters {
                        method: t.http_method.clone().unwrap_or_else(|| "POST".into()),
                        headers: t.http_headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                        timeout_seconds: t.http_timeout_seconds.unwrap_or(5.0),
                        rate_limit_per_second: t.rate_limit_per_second,
                    }),
                })
                .collect();
            if !targets.is_empty() {
                bus.put_targets(&r.bus, &r.name, &targets).with_context(|| format!("rule {:?}: targets", r.name))?;
            }
        }
        Ok(())
    }
}
