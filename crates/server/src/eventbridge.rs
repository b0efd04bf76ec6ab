//! The EventBridge API (AWS JSON 1.1, API version 2015-10-07) over an [`EventBus`]: one
//! function from the `X-Amz-Target` header and the request body to a status and a JSON body,
//! so the AWS CLI and the SDKs work against `callsynth serve` unchanged but for
//! `--endpoint-url`.
//!
//! Errors are AWS-shaped — `{"__type": "<Code>", "message": "<text>"}` with 400 (500 for
//! `InternalException`) — and PutEvents reports per-entry failures without failing the request.
//! List operations page with `Limit` (1–100) and an opaque `NextToken`.

use bus::{BusError, EventBus, PutEventsEntry, RetryPolicy, Rule, RuleState, Target, TargetInput};
use pattern::{Matcher, Pattern};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// What to send back.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
}

/// An AWS error: code (`__type`) and message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// `ValidationException`, `ResourceNotFoundException`, …
    pub code: &'static str,
    /// The message.
    pub message: String,
}

impl ApiError {
    fn new(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into() }
    }

    fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new("ValidationException", message)
    }

    /// The HTTP status AWS uses for this code.
    pub fn status(&self) -> u16 {
        if self.code == "InternalException" { 500 } else { 400 }
    }

    /// The response.
    pub fn response(&self) -> ApiResponse {
        ApiResponse { status: self.status(), body: json!({"__type": self.code, "message": self.message}).to_string() }
    }
}

impl From<BusError> for ApiError {
    fn from(e: BusError) -> ApiError {
        ApiError { code: e.code(), message: e.to_string() }
    }
}

type Result<T> = std::result::Result<T, ApiError>;

/// Handles one request. `target` is the `X-Amz-Target` header.
pub fn handle(bus: &mut EventBus, target: Option<&str>, body: &[u8]) -> ApiResponse {
    match dispatch(bus, target, body) {
        Ok(value) => ApiResponse { status: 200, body: value.to_string() },
        Err(e) => e.response(),
    }
}

fn dispatch(bus: &mut EventBus, target: Option<&str>, body: &[u8]) -> Result<Value> {
    let Some(target) = target else {
        return Err(ApiError::new("UnknownOperationException", "Missing X-Amz-Target header"));
    };
    let Some(operation) = target.strip_prefix("AWSEvents.") else {
        return Err(ApiError::new("UnknownOperationException", format!("Unknown operation {target}")));
    };
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    let request: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(ApiError::new("SerializationException", "The request body must be a JSON object")),
        Err(e) => return Err(ApiError::new("SerializationException", format!("The request body is not JSON: {e}"))),
    };
    let req = Request(request);
    match operation {
        "CreateEventBus" => create_event_bus(bus, &req),
        "DescribeEventBus" => describe_event_bus(bus, &req),
        "DeleteEventBus" => {
            bus.delete_bus(&bus_name(&req, "Name")?)?;
            Ok(json!({}))
        }
        "ListEventBuses" => list_event_buses(bus, &req),
        "PutRule" => put_rule(bus, &req),
        "DescribeRule" => describe_rule(bus, &req),
        "ListRules" => list_rules(bus, &req),
        "DeleteRule" => {
            bus.delete_rule(&bus_name(&req, "EventBusName")?, &req.required_str("Name")?)?;
            Ok(json!({}))
        }
        "EnableRule" => set_state(bus, &req, RuleState::Enabled),
        "DisableRule" => set_state(bus, &req, RuleState::Disabled),
        "PutTargets" => put_targets(bus, &req),
        "ListTargetsByRule" => list_targets_by_rule(bus, &req),
        "RemoveTargets" => remove_targets(bus, &req),
        "ListRuleNamesByTarget" => list_rule_names_by_target(bus, &req),
        "PutEvents" => put_events(bus, &req),
        "TestEventPattern" => test_event_pattern(&req),
        "CreateArchive" => create_archive(bus, &req),
        "StartReplay" => start_replay(bus, &req),
        "DescribeArchive" => describe_archive(bus, &req),
        "ListArchives" => list_archives(bus, &req),
        "DeleteArchive" => {
            bus.delete_archive(&req.required_str("ArchiveName")?)?;
            Ok(json!({}))
        }
        "DescribeReplay" => describe_replay(bus, &req),
        "ListReplays" => list_replays(bus, &req),
        "CancelReplay" => cancel_replay(bus, &req),
        other => Err(ApiError::new("UnknownOperationException", format!("Unknown operation AWSEvents.{other}"))),
    }
}

/// A request body with AWS's member access rules.
struct Request(Map<String, Value>);

impl Request {
    fn str(&self, member: &str) -> Result<Option<String>> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ApiError::new(
                "SerializationException",
                format!("{member} must be a string, not {}", model::json_kind(other)),
            )),
        }
    }

    fn required_str(&self, member: &str) -> Result<String> {
        self.str(member)?.ok_or_else(|| {
            ApiError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(member)
            ))
        })
    }

    fn limit(&self) -> Result<usize> {
        match self.0.get("Limit") {
            None | Some(Value::Null) => Ok(100),
            Some(v) => match v.as_u64() {
                Some(n @ 1..=100) => Ok(n as usize),
                _ => Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
                ))),
            },
        }
    }

    fn start(&self) -> Result<usize> {
        match self.str("NextToken")? {
            None => Ok(0),
            Some(token) => token
                .strip_prefix("cs1.")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| ApiError::validation("The NextToken is not valid.")),
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_lowercase().chain(c).collect())
}

/// A page of `items` and the token for the next.
fn page<T: Clone>(items: &[T], req: &Request) -> Result<(Vec<T>, Option<String>)> {
    let (start, limit) = (req.start()?, req.limit()?);
    let end = (start + limit).min(items.len());
    let slice = items.get(start.min(items.len())..end).unwrap_or_default().to_vec();
    let next = (end < items.len()).then(|| format!("cs1.{end}"));
    Ok((slice, next))
}

fn with_next(mut v: Value, next: Option<String>) -> Value {
    if let Some(token) = next {
        v["NextToken"] = Value::String(token);
    }
    v
}

/// A bus name member, given as a name or a bus ARN; `default` when absent.
fn bus_name(req: &Request, member: &str) -> Result<String> {
    let Some(given) = req.str(member)? else { return Ok("default".into()) };
    if given.starts_with("arn:") {
        return arn_name(&given, "event-bus/");
    }
    Ok(given)
}

fn create_event_bus(bus: &mut EventBus, req: &Request) -> Result<Value> {
    if req.str("EventSourceName")?.is_some() {
        return Err(ApiError::validation("Partner event sources are not supported by callsynth serve."));
    }
    let name = req.required_str("Name")?;
    let arn = bus.create_bus(&name, req.str("Description")?.as_deref())?;
    let mut out = json!({"EventBusArn": arn});
    if let Some(d) = req.str("Description")? {
        out["Description"] = Value::String(d);
    }
    Ok(out)
}

fn bus_json(b: &bus::BusInfo) -> Value {
    let mut v = json!({"Name": b.name, "Arn": b.arn, "CreationTime": b.created_at, "LastModifiedTime": b.created_at});
    if let Some(d) = &b.description {
        v["Description"] = Value::String(d.clone());
    }
    v
}

fn describe_event_bus(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let name = bus_name(req, "Name")?;
    bus.buses()?
        .iter()
        .find(|b| b.name == name)
        .map(bus_json)
        .ok_or_else(|| ApiError::new("ResourceNotFoundException", format!("Event bus {name} does not exist.")))
}

fn list_event_buses(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let prefix = req.str("NamePrefix")?.unwrap_or_default();
    let all: Vec<Value> = bus.buses()?.iter().filter(|b| b.name.starts_with(&prefix)).map(bus_json).collect();
    let (items, next) = page(&all, req)?;
    Ok(with_next(json!({"EventBuses": items}), next))
}

fn rule_json(bus: &EventBus, r: &Rule) -> Value {
    let mut v = json!({
        "Name": r.name,
        "Arn": bus.location().rule_arn(&r.bus, &r.name),
        "EventPattern": r.pattern,
        "State": r.state.as_str(),
        "EventBusName": r.bus,
    });
    if let Some(d) = &r.description {
        v["Description"] = Value::String(d.clone());
    }
    v
}

fn find_rule(bus: &EventBus, bus_name: &str, name: &str) -> Result<Rule> {
    if !bus.has_bus(bus_name) {
        return Err(ApiError::new("ResourceNotFoundException", format!("Event bus {bus_name} does not exist.")));
    }
    bus.rules(bus_name)?.into_iter().find(|r| r.name == name).ok_or_else(|| {
        ApiError::new("ResourceNotFoundException", format!("Rule {name} does not exist on EventBus {bus_name}."))
    })
}

fn put_rule(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let name = req.required_str("Name")?;
    if req.str("ScheduleExpression")?.is_some() {
        return Err(ApiError::validation(
            "ScheduleExpression is not supported by callsynth serve; give an EventPattern.",
        ));
    }
    let Some(pattern) = req.str("EventPattern")? else {
        return Err(ApiError::validation("Parameter(s) EventPattern or ScheduleExpression must be specified."));
    };
    if pattern.len() > 4096 {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to 4096",
        ));
    }
    let state = match req.str("State")?.as_deref() {
        None | Some("ENABLED") => RuleState::Enabled,
        Some("DISABLED") => RuleState::Disabled,
        Some(other) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"
            )));
        }
    };
    let rule = Rule { bus: bus_name(req, "EventBusName")?, name, pattern, state, description: req.str("Description")? };
    let arn = bus.put_rule(&rule)?;
    Ok(json!({"RuleArn": arn}))
}

fn describe_rule(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let rule = find_rule(bus, &bus_name(req, "EventBusName")?, &req.required_str("Name")?)?;
    let mut v = rule_json(bus, &rule);
    v["CreatedBy"] = Value::String(bus.location().account.clone());
    Ok(v)
}

fn list_rules(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let name = bus_name(req, "EventBusName")?;
    if !bus.has_bus(&name) {
        return Err(ApiError::new("ResourceNotFoundException", format!("Event bus {name} does not exist.")));
    }
    let prefix = req.str("NamePrefix")?.unwrap_or_default();
    let all: Vec<Value> =
        bus.rules(&name)?.iter().filter(|r| r.name.starts_with(&prefix)).map(|r| rule_json(bus, r)).collect();
    let (items, next) = page(&all, req)?;
    Ok(with_next(json!({"Rules": items}), next))
}

fn set_state(bus: &mut EventBus, req: &Request, state: RuleState) -> Result<Value> {
    let mut rule = find_rule(bus, &bus_name(req, "EventBusName")?, &req.required_str("Name")?)?;
    rule.state = state;
    bus.put_rule(&rule)?;
    Ok(json!({}))
}

/// A target as PutTargets sends it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireTarget {
    id: Option<String>,
    arn: Option<String>,
    input: Option<String>,
    input_path: Option<String>,
    input_transformer: Option<WireTransformer>,
    retry_policy: Option<WireRetry>,
    dead_letter_config: Option<WireDeadLetter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireTransformer {
    #[serde(default)]
    input_paths_map: Map<String, Value>,
    input_template: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireRetry {
    maximum_retry_attempts: Option<u32>,
    maximum_event_age_in_seconds: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireDeadLetter {
    arn: Option<String>,
}

fn target_from_wire(w: WireTarget) -> Result<Target> {
    let missing = |member: &str| {
        ApiError::validation(format!(
            "1 validation error detected: Value null at 'targets.member.{member}' failed to satisfy constraint: Member must not be null"
        ))
    };
    let id = w.id.ok_or_else(|| missing("id"))?;
    let arn = w.arn.ok_or_else(|| missing("arn"))?;
    let given = usize::from(w.input.is_some())
        + usize::from(w.input_path.is_some())
        + usize::from(w.input_transformer.is_some());
    if given > 1 {
        return Err(ApiError::validation(format!(
            "Target {id}: only one of Input, InputPath and InputTransformer may be given."
        )));
    }
    let input = if let Some(text) = w.input {
        TargetInput::Constant(text)
    } else if let Some(path) = w.input_path {
        TargetInput::Path(path)
    } else if let Some(t) = w.input_transformer {
        let template = t.input_template.ok_or_else(|| missing("inputTransformer.inputTemplate"))?;
        let mut paths = Vec::with_capacity(t.input_paths_map.len());
        for (name, path) in t.input_paths_map {
            let Value::String(path) = path else {
                return Err(ApiError::validation(format!("Target {id}: InputPathsMap values must be strings.")));
            };
            paths.push((name, path));
        }
        TargetInput::Transformer { paths, template }
    } else {
        TargetInput::Event
    };
    let defaults = RetryPolicy::default();
    let retry = w.retry_policy.map_or(defaults, |r| RetryPolicy {
        maximum_retry_attempts: r.maximum_retry_attempts.unwrap_or(defaults.maximum_retry_attempts),
        maximum_event_age_seconds: r.maximum_event_age_in_seconds.unwrap_or(defaults.maximum_event_age_seconds),
    });
    Ok(Target { id, arn, input, retry, dead_letter_arn: w.dead_letter_config.and_then(|d| d.arn), ..Target::default() })
}

fn put_targets(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let rule = req.required_str("Rule")?;
    let bus_name = bus_name(req, "EventBusName")?;
    let wire: Vec<WireTarget> = match req.0.get("Targets") {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| ApiError::new("SerializationException", format!("Targets: {e}")))?,
        None => {
            return Err(ApiError::validation(
                "1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null",
            ));
        }
    };
    if wire.is_empty() || wire.len() > 10 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and 10 (got {})",
            wire.len()
        )));
    }
    let targets = wire.into_iter().map(target_from_wire).collect::<Result<Vec<_>>>()?;
    bus.put_targets(&bus_name, &rule, &targets)?;
    Ok(json!({"FailedEntryCount": 0, "FailedEntries": []}))
}

fn target_json(t: &Target) -> Value {
    let mut v = json!({
        "Id": t.id,
        "Arn": t.arn,
        "RetryPolicy": {
            "MaximumRetryAttempts": t.retry.maximum_retry_attempts,
            "MaximumEventAgeInSeconds": t.retry.maximum_event_age_seconds,
        },
    });
    match &t.input {
        TargetInput::Event => {}
        TargetInput::Constant(text) => v["Input"] = Value::String(text.clone()),
        TargetInput::Path(path) => v["InputPath"] = Value::String(path.clone()),
        TargetInput::Transformer { paths, template } => {
            let map: Map<String, Value> = paths.iter().map(|(k, p)| (k.clone(), Value::String(p.clone()))).collect();
            v["InputTransformer"] = json!({"InputPathsMap": map, "InputTemplate": template});
        }
    }
    if let Some(arn) = &t.dead_letter_arn {
        v["DeadLetterConfig"] = json!({"Arn": arn});
    }
    v
}

fn list_targets_by_rule(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let targets = bus.targets(&bus_name(req, "EventBusName")?, &req.required_str("Rule")?)?;
    let all: Vec<Value> = targets.iter().map(target_json).collect();
    let (items, next) = page(&all, req)?;
    Ok(with_next(json!({"Targets": items}), next))
}

fn remove_targets(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let rule = req.required_str("Rule")?;
    let ids: Vec<String> = match req.0.get("Ids") {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| ApiError::new("SerializationException", format!("Ids: {e}")))?,
        None => {
            return Err(ApiError::validation(
                "1 validation error detected: Value null at 'ids' failed to satisfy constraint: Member must not be null",
            ));
        }
    };
    let missing = bus.remove_targets(&bus_name(req, "EventBusName")?, &rule, &ids)?;
    let failed: Vec<Value> = missing
        .iter()
        .map(|id| {
            json!({"TargetId": id, "ErrorCode": "ResourceNotFoundException",
                   "ErrorMessage": format!("Target {id} does not exist on rule {rule}.")})
        })
        .collect();
    Ok(json!({"FailedEntryCount": failed.len(), "FailedEntries": failed}))
}

fn list_rule_names_by_target(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let arn = req.required_str("TargetArn")?;
    let names = bus.rule_names_by_target(&bus_name(req, "EventBusName")?, &arn)?;
    let (items, next) = page(&names, req)?;
    Ok(with_next(json!({"RuleNames": items}), next))
}

fn put_events(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let entries = entries_of(req)?;
    let results = bus.put_events(&entries)?;
    Ok(put_events_result(&results))
}

fn entries_of(req: &Request) -> Result<Vec<PutEventsEntry>> {
    let entries: Vec<PutEventsEntry> = match req.0.get("Entries") {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| ApiError::new("SerializationException", format!("Entries: {e}")))?,
        None => {
            return Err(ApiError::validation(
                "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
            ));
        }
    };
    bus::check_entry_count(&entries)?;
    Ok(entries)
}

fn put_events_result(results: &[bus::PutEventsResultEntry]) -> Value {
    let failed = results.iter().filter(|r| r.error_code.is_some()).count();
    json!({"FailedEntryCount": failed, "Entries": results})
}

/// A PutEvents body's entries, or the answer that refuses the request on its own; for the
/// server's group commit.
pub fn parse_put_events(body: &[u8]) -> std::result::Result<Vec<PutEventsEntry>, ApiResponse> {
    /// The body, read straight into entries (no intermediate JSON tree).
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Body {
        entries: Option<Vec<PutEventsEntry>>,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(Body { entries: Some(entries) }) => {
            bus::check_entry_count(&entries).map_err(|e| ApiError::from(e).response())?;
            Ok(entries)
        }
        // Anything unusual takes the general path, which words the error.
        _ => match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => entries_of(&Request(map)).map_err(|e| e.response()),
            Ok(_) => Err(ApiError::new("SerializationException", "The request body must be a JSON object").response()),
            Err(e) => {
                Err(ApiError::new("SerializationException", format!("The request body is not JSON: {e}")).response())
            }
        },
    }
}

/// Puts several parsed PutEvents requests in one transaction and answers each as [`handle`]
/// would have one by one.
pub fn put_events_grouped(bus: &mut EventBus, requests: &[Vec<PutEventsEntry>]) -> Vec<ApiResponse> {
    match bus.put_event_batches(requests, None) {
        Ok(all) => all
            .iter()
            .map(|results| ApiResponse { status: 200, body: put_events_result(results).to_string() })
            .collect(),
        Err(e) => vec![ApiError::from(e).response(); requests.len()],
    }
}

/// The name in an EventBridge ARN of `kind` (`event-bus/`, `archive/`, `rule/`): checked as
/// AWS checks it, with AWS's message for a malformed one.
fn arn_name(arn: &str, kind: &str) -> Result<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let name = match parts.as_slice() {
        ["arn", partition, "events", region, account, resource]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            resource.strip_prefix(kind).filter(|n| !n.is_empty())
        }
        _ => None,
    };
    name.map(str::to_owned).ok_or_else(|| {
        ApiError::validation(format!("Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."))
    })
}

fn create_archive(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let name = req.required_str("ArchiveName")?;
    let source = req.required_str("EventSourceArn")?;
    let bus_name = arn_name(&source, "event-bus/")?;
    let arn = bus.create_archive(&name, &bus_name, req.str("EventPattern")?.as_deref())?;
    Ok(json!({"ArchiveArn": arn, "State": "ENABLED", "CreationTime": bus::now()}))
}

/// StartReplay runs the whole replay before answering (callsynth's archives are local), so the
/// state is already `COMPLETED`.
fn start_replay(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let name = req.required_str("ReplayName")?;
    let archive = arn_name(&req.required_str("EventSourceArn")?, "archive/")?;
    let time = |member: &str| -> Result<f64> {
        req.0.get(member).and_then(Value::as_f64).ok_or_else(|| {
            ApiError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(member)
            ))
        })
    };
    let (start, end) = (time("EventStartTime")?, time("EventEndTime")?);
    if end <= start {
        return Err(ApiError::validation("EventEndTime must be after EventStartTime."));
    }
    let filter: Option<Vec<String>> = match req.0.get("Destination").and_then(|d| d.get("FilterArns")) {
        Some(Value::Array(arns)) => Some(
            arns.iter()
                .map(|a| {
                    let arn = a.as_str().unwrap_or_default();
                    let rule = arn_name(arn, "rule/")?;
                    Ok(rule.rsplit('/').next().unwrap_or(&rule).to_string())
                })
                .collect::<Result<_>>()?,
        ),
        _ => None,
    };
    let started = bus::now();
    bus.replay(&name, &archive, start, end, filter.as_deref())?;
    Ok(json!({"ReplayArn": bus.location().replay_arn(&name), "State": "COMPLETED", "ReplayStartTime": started}))
}

/// DescribeArchive's members; ListArchives reports all but the ARN and pattern.
fn archive_json(bus: &EventBus, a: &bus::ArchiveInfo, full: bool) -> Value {
    let mut v = json!({
        "ArchiveName": a.name,
        "EventSourceArn": bus.location().bus_arn(&a.bus),
        "State": "ENABLED",
        "RetentionDays": 0,
        "SizeBytes": a.size_bytes,
        "EventCount": a.event_count,
        "CreationTime": a.created_at,
    });
    if full {
        v["ArchiveArn"] = json!(bus.location().archive_arn(&a.name));
        if let Some(p) = &a.pattern {
            v["EventPattern"] = json!(p);
        }
    }
    v
}

fn describe_archive(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let name = req.required_str("ArchiveName")?;
    let archive = bus.archives()?.into_iter().find(|a| a.name == name);
    let archive =
        archive.ok_or_else(|| ApiError::new("ResourceNotFoundException", format!("Archive {name} does not exist.")))?;
    Ok(archive_json(bus, &archive, true))
}

/// The filters ListArchives and ListReplays share: `NamePrefix`, `EventSourceArn` (a bus or an
/// archive ARN) and `State`.
struct ListFilter {
    prefix: String,
    source: Option<String>,
    state: Option<String>,
}

impl ListFilter {
    /// Reads the filters; `source_kind` is the ARN resource prefix (`event-bus/`, `archive/`).
    fn parse(req: &Request, source_kind: &str) -> Result<ListFilter> {
        let source = match req.str("EventSourceArn")? {
            Some(arn) => Some(arn_name(&arn, source_kind)?),
            None => None,
        };
        Ok(ListFilter { prefix: req.str("NamePrefix")?.unwrap_or_default(), source, state: req.str("State")? })
    }

    fn keeps(&self, name: &str, source: &str, state: &str) -> bool {
        name.starts_with(&self.prefix)
            && self.source.as_deref().is_none_or(|s| s == source)
            && self.state.as_deref().is_none_or(|s| s == state)
    }
}

fn list_archives(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let filter = ListFilter::parse(req, "event-bus/")?;
    let all: Vec<Value> = bus
        .archives()?
        .iter()
        .filter(|a| filter.keeps(&a.name, &a.bus, "ENABLED"))
        .map(|a| archive_json(bus, a, false))
        .collect();
    let (items, next) = page(&all, req)?;
    Ok(with_next(json!({"Archives": items}), next))
}

/// ListReplays's members; DescribeReplay adds the ARN and the destination.
fn replay_json(bus: &EventBus, r: &bus::ReplayInfo, full: bool) -> Value {
    let mut v = json!({
        "ReplayName": r.name,
        "EventSourceArn": bus.location().archive_arn(&r.archive),
        "State": "COMPLETED",
        "EventStartTime": r.event_start,
        "EventEndTime": r.event_end,
        "ReplayStartTime": r.started_at,
        "ReplayEndTime": r.ended_at,
    });
    if let Some(t) = r.last_replayed {
        v["EventLastReplayedTime"] = json!(t);
    }
    if full {
        v["ReplayArn"] = json!(bus.location().replay_arn(&r.name));
        let mut destination = json!({"Arn": bus.location().bus_arn(&r.bus)});
        if let Some(rules) = &r.rules {
            let arns: Vec<String> = rules.iter().map(|rule| bus.location().rule_arn(&r.bus, rule)).collect();
            destination["FilterArns"] = json!(arns);
        }
        v["Destination"] = destination;
    }
    v
}

fn find_replay(bus: &EventBus, name: &str) -> Result<bus::ReplayInfo> {
    bus.replays()?
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| ApiError::new("ResourceNotFoundException", format!("Replay {name} does not exist.")))
}

fn describe_replay(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let replay = find_replay(bus, &req.required_str("ReplayName")?)?;
    Ok(replay_json(bus, &replay, true))
}

fn list_replays(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let filter = ListFilter::parse(req, "archive/")?;
    let all: Vec<Value> = bus
        .replays()?
        .iter()
        .filter(|r| filter.keeps(&r.name, &r.archive, "COMPLETED"))
        .map(|r| replay_json(bus, r, false))
        .collect();
    let (items, next) = page(&all, req)?;
    Ok(with_next(json!({"Replays": items}), next))
}

/// Replays finish before StartReplay answers, so there is never one to cancel.
fn cancel_replay(bus: &mut EventBus, req: &Request) -> Result<Value> {
    let replay = find_replay(bus, &req.required_str("ReplayName")?)?;
    Err(ApiError::new(
        "IllegalStatusException",
        format!("Replay {} is COMPLETED; only a STARTING or RUNNING replay can be cancelled.", replay.name),
    ))
}

fn test_event_pattern(req: &Request) -> Result<Value> {
    let pattern_text = req.required_str("EventPattern")?;
    let event = req.required_str("Event")?;
    let pattern = Pattern::parse(&pattern_text).map_err(|e| ApiError { code: e.code(), message: e.to_string() })?;
    let parsed: Value = serde_json::from_str(&event)
        .map_err(|e| ApiError::validation(format!("Parameter Event is not valid. Reason: {e}")))?;
    let missing: Vec<&str> = ["id", "account", "source", "time", "region", "resources", "detail-type"]
        .into_iter()
        .filter(|k| parsed.get(*k).is_none())
        .collect();
    if !parsed.is_object() || !missing.is_empty() {
        return Err(ApiError::validation(format!(
            "Parameter Event is not valid. Reason: the event must contain {}",
            missing.join(", ")
        )));
    }
    let mut m = Matcher::new();
    m.add_parsed("p", &pattern);
    let hits = m
        .matches(event.as_bytes())
        .map_err(|e| ApiError::validation(format!("Parameter Event is not valid. Reason: {e}")))?;
    Ok(json!({"Result": !hits.is_empty()}))
}

#[cfg(test)]
mod tests {
    use bus::{Limits, Location};

    use super::*;

    fn bus() -> EventBus {
        let mut bus = EventBus::open(":memory:".as_ref(), Location::default(), Limits::default()).unwrap();
        bus.create_bus("default", None).unwrap();
        bus
    }

    fn call(bus: &mut EventBus, op: &str, body: Value) -> (u16, Value) {
        let r = handle(bus, Some(&format!("AWSEvents.{op}")), body.to_string().as_bytes());
        (r.status, serde_json::from_str(&r.body).unwrap())
    }

    #[test]
    fn rules_and_targets_round_trip_and_page() {
        let mut b = bus();
        let (status, out) = call(&mut b, "CreateEventBus", json!({"Name": "calls", "Description": "d"}));
        assert_eq!(
            (status, out["EventBusArn"].as_str()),
            (200, Some("arn:aws:events:us-east-1:123456789012:event-bus/calls"))
        );
        assert_eq!(
            call(&mut b, "CreateEventBus", json!({"Name": "calls"})).1["__type"],
            "ResourceAlreadyExistsException"
        );
        for i in 0..5 {
            let (s, _) = call(
                &mut b,
                "PutRule",
                json!({"Name": format!("r{i}"), "EventBusName": "arn:aws:events:us-east-1:123456789012:event-bus/calls", "EventPattern": r#"{"source":["a"]}"#}),
            );
            assert_eq!(s, 200);
        }
        // Pages of two: r0 r1 | r2 r3 | r4.
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = json!({"EventBusName": "calls", "Limit": 2});
            if let Some(t) = &token {
                req["NextToken"] = json!(t);
            }
            let (_, out) = call(&mut b, "ListRules", req);
            names.extend(out["Rules"].as_array().unwrap().iter().map(|r| r["Name"].as_str().unwrap().to_string()));
            match out["NextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        assert_eq!(names, ["r0", "r1", "r2", "r3", "r4"]);
        assert_eq!(
            call(&mut b, "ListRules", json!({"EventBusName": "calls", "Limit": 0})).1["__type"],
            "ValidationException"
        );
        assert_eq!(
            call(&mut b, "ListRules", json!({"EventBusName": "calls", "NextToken": "junk"})).1["__type"],
            "ValidationException"
        );

        let t = json!({"Rule": "r0", "EventBusName": "calls", "Targets": [
            {"Id": "a", "Arn": "builtin:process-call-completed", "InputPath": "$.detail", "RetryPolicy": {"MaximumRetryAttempts": 3}},
            {"Id": "b", "Arn": "arn:aws:sqs:us-east-1:123456789012:q", "InputTransformer": {"InputPathsMap": {"s": "$.source"}, "InputTemplate": "<s>"}}]});
        assert_eq!(call(&mut b, "PutTargets", t).1["FailedEntryCount"], 0);
        let (_, out) = call(&mut b, "ListTargetsByRule", json!({"Rule": "r0", "EventBusName": "calls"}));
        assert_eq!(out["Targets"][0]["InputPath"], "$.detail");
        assert_eq!(out["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"], 3);
        assert_eq!(out["Targets"][1]["InputTransformer"]["InputPathsMap"]["s"], "$.source");
        let both = json!({"Rule": "r0", "EventBusName": "calls", "Targets": [{"Id": "c", "Arn": "x", "Input": "{}", "InputPath": "$"}]});
        assert_eq!(call(&mut b, "PutTargets", both).1["__type"], "ValidationException");
        let (_, out) = call(
            &mut b,
            "ListRuleNamesByTarget",
            json!({"TargetArn": "builtin:process-call-completed", "EventBusName": "calls"}),
        );
        assert_eq!(out["RuleNames"], json!(["r0"]));

        assert_eq!(
            call(&mut b, "DeleteRule", json!({"Name": "r0", "EventBusName": "calls"})).1["__type"],
            "ValidationException",
            "it has targets"
        );
        let (_, out) =
            call(&mut b, "RemoveTargets", json!({"Rule": "r0", "EventBusName": "calls", "Ids": ["a", "b", "zz"]}));
        assert_eq!(
            (out["FailedEntryCount"].as_u64(), out["FailedEntries"][0]["TargetId"].as_str()),
            (Some(1), Some("zz"))
        );
        assert_eq!(call(&mut b, "DeleteRule", json!({"Name": "r0", "EventBusName": "calls"})).0, 200);
        assert_eq!(
            call(&mut b, "DescribeRule", json!({"Name": "r0", "EventBusName": "calls"})).1["__type"],
            "ResourceNotFoundException"
        );

        assert_eq!(call(&mut b, "DisableRule", json!({"Name": "r1", "EventBusName": "calls"})).0, 200);
        assert_eq!(call(&mut b, "DescribeRule", json!({"Name": "r1", "EventBusName": "calls"})).1["State"], "DISABLED");
        assert_eq!(call(&mut b, "DeleteEventBus", json!({"Name": "default"})).1["__type"], "ValidationException");
    }

    #[test]
    fn archives_and_replays_through_the_api() {
        let mut b = bus();
        call(&mut b, "PutRule", json!({"Name": "all", "EventPattern": r#"{"source":["a"]}"#}));
        let bus_arn = "arn:aws:events:us-east-1:123456789012:event-bus/default";
        let (s, out) = call(&mut b, "CreateArchive", json!({"ArchiveName": "keep", "EventSourceArn": bus_arn}));
        assert_eq!((s, out["State"].as_str()), (200, Some("ENABLED")), "{out}");
        let entry = json!({"Source": "a", "DetailType": "t", "Detail": "{}", "Time": 1_767_614_400});
        assert_eq!(call(&mut b, "PutEvents", json!({"Entries": [entry]})).1["FailedEntryCount"], 0);
        let archive_arn = out["ArchiveArn"].as_str().unwrap();
        let (s, out) = call(
            &mut b,
            "StartReplay",
            json!({"ReplayName": "r1", "EventSourceArn": archive_arn,
            "EventStartTime": 1_767_614_000, "EventEndTime": 1_767_615_000,
            "Destination": {"Arn": bus_arn, "FilterArns": ["arn:aws:events:us-east-1:123456789012:rule/all"]}}),
        );
        assert_eq!((s, out["State"].as_str()), (200, Some("COMPLETED")), "{out}");

        let (_, out) = call(&mut b, "DescribeArchive", json!({"ArchiveName": "keep"}));
        assert_eq!((out["ArchiveArn"].as_str(), out["EventCount"].as_u64()), (Some(archive_arn), Some(1)), "{out}");
        assert!(out["SizeBytes"].as_u64().unwrap() > 100, "the envelope's bytes: {out}");
        assert_eq!(out["EventSourceArn"], bus_arn);
        let (_, out) = call(&mut b, "ListArchives", json!({"NamePrefix": "ke"}));
        assert_eq!(out["Archives"].as_array().map(Vec::len), Some(1), "{out}");
        assert_eq!(call(&mut b, "ListArchives", json!({"NamePrefix": "zz"})).1["Archives"], json!([]));

        let (_, out) = call(&mut b, "DescribeReplay", json!({"ReplayName": "r1"}));
        assert_eq!(out["State"], "COMPLETED", "{out}");
        assert_eq!(out["EventSourceArn"], archive_arn);
        assert_eq!(out["EventLastReplayedTime"], 1_767_614_400.0);
        assert_eq!(out["Destination"]["FilterArns"], json!(["arn:aws:events:us-east-1:123456789012:rule/all"]));
        let (_, out) = call(&mut b, "ListReplays", json!({"EventSourceArn": archive_arn}));
        assert_eq!(out["Replays"][0]["ReplayName"], "r1", "{out}");
        let (s, out) = call(&mut b, "CancelReplay", json!({"ReplayName": "r1"}));
        assert_eq!((s, out["__type"].as_str()), (400, Some("IllegalStatusException")));
        assert_eq!(
            call(&mut b, "DescribeReplay", json!({"ReplayName": "nope"})).1["__type"],
            "ResourceNotFoundException"
        );
        let again = json!({"ReplayName": "r1", "EventSourceArn": archive_arn, "EventStartTime": 1, "EventEndTime": 2});
        assert_eq!(call(&mut b, "StartReplay", again).1["__type"], "ResourceAlreadyExistsException");

        assert_eq!(call(&mut b, "DeleteArchive", json!({"ArchiveName": "keep"})).0, 200);
        assert_eq!(
            call(&mut b, "DescribeArchive", json!({"ArchiveName": "keep"})).1["__type"],
            "ResourceNotFoundException"
        );
        assert_eq!(
            call(&mut b, "DeleteArchive", json!({"ArchiveName": "keep"})).1["__type"],
            "ResourceNotFoundException"
        );
        let (_, out) = call(&mut b, "CreateArchive", json!({"ArchiveName": "x", "EventSourceArn": "bus"}));
        assert_eq!(out["__type"], "ValidationException");
        let (_, out) = call(
            &mut b,
            "StartReplay",
            json!({"ReplayName": "r2", "EventSourceArn": "arn:aws:events:us-east-1:123456789012:archive/none", "EventStartTime": 1, "EventEndTime": 2}),
        );
        assert_eq!(out["__type"], "ResourceNotFoundException");
    }

    #[test]
    fn bad_requests_get_aws_shaped_errors() {
        let mut b = bus();
        let r = handle(&mut b, None, b"{}");
        assert_eq!(r.status, 400);
        assert!(r.body.contains("UnknownOperationException"));
        let r = handle(&mut b, Some("AWSEvents.PutRule"), b"{\"Name\": 5}");
        assert!(r.body.contains("SerializationException"), "{}", r.body);
        let (s, out) = call(&mut b, "PutRule", json!({"Name": "x", "EventPattern": "{\"a\": 1}"}));
        assert_eq!((s, out["__type"].as_str()), (400, Some("InvalidEventPatternException")));
        let (_, out) = call(&mut b, "PutRule", json!({"Name": "x", "ScheduleExpression": "rate(1 minute)"}));
        assert_eq!(out["__type"], "ValidationException");
        let (_, out) = call(&mut b, "DescribeEventBus", json!({"Name": "arn:aws:events:us-east-1:12:event-bus/x"}));
        assert!(out["message"].as_str().unwrap().contains("Provided Arn is not in correct format"), "{out}");
        let (_, out) = call(&mut b, "PutEvents", json!({}));
        assert_eq!(out["__type"], "ValidationException");
        let (_, out) = call(
            &mut b,
            "TestEventPattern",
            json!({"EventPattern": "{\"source\":[\"a\"]}", "Event": "{\"source\": \"a\"}"}),
        );
        assert_eq!(out["__type"], "ValidationException", "the test event lacks id, account, …");
    }
}
