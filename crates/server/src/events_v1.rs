//! Twilio's Events API v1 (the Event Streams management plane), emulated locally: Sinks,
//! Subscriptions with their SubscribedEvents, and the voice event Types callsynth emits —
//! enough to create a webhook sink pointing at `/twilio/events` and subscribe it, as a setup
//! script would against `https://events.twilio.com`. Requests are form-encoded with PascalCase
//! names, responses JSON with snake_case names, errors in Twilio's shape. State is kept in the
//! store. Sinks are not tested or validated (`/Test`, `/Validate` answer 404).

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Tables of the emulation.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS twilio_sinks (
    sid                TEXT PRIMARY KEY,
    description        TEXT NOT NULL,
    sink_type          TEXT NOT NULL,
    sink_configuration TEXT NOT NULL,
    status             TEXT NOT NULL,
    date_created       TEXT NOT NULL,
    date_updated       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS twilio_subscriptions (
    sid          TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    sink_sid     TEXT NOT NULL,
    date_created TEXT NOT NULL,
    date_updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS twilio_subscribed_events (
    subscription_sid TEXT NOT NULL,
    type             TEXT NOT NULL,
    schema_version   INTEGER NOT NULL,
    PRIMARY KEY (subscription_sid, type)
);";

/// The event types this emulation lists (those callsynth generates and the bridge maps).
pub const TYPES: [(&str, &str, &str); 5] = [
    ("com.twilio.voice.status-callback.call.initiated", "Voice.WebhookEvent", "The call was placed."),
    ("com.twilio.voice.status-callback.call.completed", "Voice.WebhookEvent", "The call ended."),
    ("com.twilio.voice.status-callback.recording.processed", "Voice.WebhookEvent", "A recording is available."),
    ("com.twilio.voice.status-callback.transcription.processed", "Voice.WebhookEvent", "A transcription is available."),
    ("com.twilio.eventstreams.test-event", "EventStreams.TestSink", "A sink test event."),
];

const BASE: &str = "https://events.twilio.com/v1";

/// A response: status and JSON body (empty for 204).
pub type Answer = (u16, String);

/// Twilio's error body with its status.
pub(crate) fn error(status: u16, code: u32, message: impl Into<String>) -> Answer {
    let body = json!({
        "code": code,
        "message": message.into(),
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    });
    (status, body.to_string())
}

fn missing(name: &str) -> Answer {
    error(400, 20001, format!("Missing required parameter {name} in the post body"))
}

fn not_found(what: &str) -> Answer {
    error(404, 20404, format!("The requested resource {what} was not found"))
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A new SID: the prefix and 32 hex digits, unique within the process and across restarts.
fn new_sid(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let digest = Sha256::digest(format!("{prefix}{t}{n}{}", std::process::id()).as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// Creates the tables if missing.
///
/// # Errors
///
/// The store refused the schema.
pub fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

/// Handles one request. `path` starts with `/v1/`; `params` are the form body's (or, for GET,
/// the query's) parameters; `account_sid` fills `account_sid` fields.
pub fn handle(conn: &Connection, method: &str, path: &str, params: &[(String, String)], account_sid: &str) -> Answer {
    match route(conn, method, path, params, account_sid) {
        Ok(answer) => answer,
        Err(e) => error(500, 20500, format!("store: {e}")),
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn route(
    conn: &Connection,
    method: &str,
    path: &str,
    params: &[(String, String)],
    account_sid: &str,
) -> rusqlite::Result<Answer> {
    let segments: Vec<&str> = path.trim_start_matches("/v1/").trim_end_matches('/').split('/').collect();
    Ok(match (method, segments.as_slice()) {
        ("POST", ["Sinks"]) => create_sink(conn, params)?,
        ("GET", ["Sinks"]) => {
            list(conn, "sinks", "SELECT sid FROM twilio_sinks ORDER BY date_created, sid", &[], sink)?
        }
        ("GET", ["Sinks", sid]) => {
            sink(conn, sid)?.map_or_else(|| not_found(&format!("/v1/Sinks/{sid}")), |v| (200, v.to_string()))
        }
        ("POST", ["Sinks", sid]) => {
            let Some(description) = param(params, "Description") else { return Ok(missing("Description")) };
            let changed = conn.execute(
                "UPDATE twilio_sinks SET description = ?2, date_updated = ?3 WHERE sid = ?1",
                params![sid, description, now()],
            )?;
            if changed == 0 {
                not_found(&format!("/v1/Sinks/{sid}"))
            } else {
                (200, sink(conn, sid)?.expect("just updated").to_string())
            }
        }
        ("DELETE", ["Sinks", sid]) => {
            let used: i64 =
                conn.query_row("SELECT COUNT(*) FROM twilio_subscriptions WHERE sink_sid = ?1", [sid], |r| r.get(0))?;
            if used > 0 {
                error(400, 20001, format!("Sink {sid} is in use by {used} subscriptions"))
            } else if conn.execute("DELETE FROM twilio_sinks WHERE sid = ?1", [sid])? == 0 {
                not_found(&format!("/v1/Sinks/{sid}"))
            } else {
                (204, String::new())
            }
        }
        ("POST", ["Subscriptions"]) => create_subscription(conn, params, account_sid)?,
        ("GET", ["Subscriptions"]) => match param(params, "SinkSid") {
            Some(sink_sid) => list(
                conn,
                "subscriptions",
                "SELECT sid FROM twilio_subscriptions WHERE sink_sid = ?1 ORDER BY date_created, sid",
                &[sink_sid],
                |c, s| subscription(c, s, account_sid),
            )?,
            None => list(
                conn,
                "subscriptions",
                "SELECT sid FROM twilio_subscriptions ORDER BY date_created, sid",
                &[],
                |c, s| subscription(c, s, account_sid),
            )?,
        },
        ("GET", ["Subscriptions", sid]) => subscription(conn, sid, account_sid)?
            .map_or_else(|| not_found(&format!("/v1/Subscriptions/{sid}")), |v| (200, v.to_string())),
        ("POST", ["Subscriptions", sid]) => {
            let Some(description) = param(params, "Description") else { return Ok(missing("Description")) };
            if conn.execute(
                "UPDATE twilio_subscriptions SET description = ?2, date_updated = ?3 WHERE sid = ?1",
                params![sid, description, now()],
            )? == 0
            {
                not_found(&format!("/v1/Subscriptions/{sid}"))
            } else {
                (200, subscription(conn, sid, account_sid)?.expect("just updated").to_string())
            }
        }
        ("DELETE", ["Subscriptions", sid]) => {
            conn.execute("DELETE FROM twilio_subscribed_events WHERE subscription_sid = ?1", [sid])?;
            if conn.execute("DELETE FROM twilio_subscriptions WHERE sid = ?1", [sid])? == 0 {
                not_found(&format!("/v1/Subscriptions/{sid}"))
            } else {
                (204, String::new())
            }
        }
        ("GET", ["Subscriptions", sid, "SubscribedEvents"]) => {
            if subscription(conn, sid, account_sid)?.is_none() {
                return Ok(not_found(&format!("/v1/Subscriptions/{sid}")));
            }
            let events = subscribed_events(conn, sid, account_sid)?;
            let url = format!("{BASE}/Subscriptions/{sid}/SubscribedEvents");
            (200, json!({"types": events, "meta": meta("types", &url)}).to_string())
        }
        ("POST", ["Subscriptions", sid, "SubscribedEvents"]) => {
            if subscription(conn, sid, account_sid)?.is_none() {
                return Ok(not_found(&format!("/v1/Subscriptions/{sid}")));
            }
            let Some(kind) = param(params, "Type") else { return Ok(missing("Type")) };
            if !TYPES.iter().any(|(t, _, _)| *t == kind) {
                return Ok(error(400, 20001, format!("Invalid event type {kind}")));
            }
            let version: i64 = param(params, "SchemaVersion").and_then(|v| v.parse().ok()).unwrap_or(1);
            conn.execute(
                "INSERT INTO twilio_subscribed_events (subscription_sid, type, schema_version) VALUES (?1, ?2, ?3)
                 ON CONFLICT (subscription_sid, type) DO UPDATE SET schema_version = excluded.schema_version",
                params![sid, kind, version],
            )?;
            (201, subscribed_event(account_sid, sid, kind, version).to_string())
        }
        ("GET", ["Types"]) => {
            let types: Vec<Value> = TYPES.iter().map(|t| event_type(*t)).collect();
            (200, json!({"types": types, "meta": meta("types", &format!("{BASE}/Types"))}).to_string())
        }
        ("GET", ["Types", kind]) => TYPES
            .iter()
            .find(|(t, _, _)| t == kind)
            .map_or_else(|| not_found(&format!("/v1/Types/{kind}")), |t| (200, event_type(*t).to_string())),
        _ => error(404, 20404, format!("{method} {path} is not part of callsynth's Events API emulation")),
    })
}

fn meta(key: &str, url: &str) -> Value {
    json!({"page": 0, "page_size": 50, "first_page_url": format!("{url}?PageSize=50&Page=0"),
           "previous_page_url": null, "url": format!("{url}?PageSize=50&Page=0"), "next_page_url": null, "key": key})
}

fn list(
    conn: &Connection,
    key: &str,
    sql: &str,
    args: &[&str],
    one: impl Fn(&Connection, &str) -> rusqlite::Result<Option<Value>>,
) -> rusqlite::Result<Answer> {
    let sids: Vec<String> = conn
        .prepare(sql)?
        .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut items = Vec::with_capacity(sids.len());
    for sid in &sids {
        items.extend(one(conn, sid)?);
    }
    let resource = if key == "sinks" { "Sinks" } else { "Subscriptions" };
    Ok((200, json!({key: items, "meta": meta(key, &format!("{BASE}/{resource}"))}).to_string()))
}

fn create_sink(conn: &Connection, params: &[(String, String)]) -> rusqlite::Result<Answer> {
    let Some(description) = param(params, "Description") else { return Ok(missing("Description")) };
    let Some(config) = param(params, "SinkConfiguration") else { return Ok(missing("SinkConfiguration")) };
    let Some(kind) = param(params, "SinkType") else { return Ok(missing("SinkType")) };
    if !matches!(kind, "webhook" | "kinesis" | "segment") {
        return Ok(error(400, 20001, format!("Invalid SinkType {kind}: webhook, kinesis or segment")));
    }
    let Ok(Value::Object(config)) = serde_json::from_str::<Value>(config) else {
        return Ok(error(400, 20001, "SinkConfiguration must be a JSON object"));
    };
    let required: &[&str] = match kind {
        "webhook" => &["destination", "method"],
        "kinesis" => &["arn", "role_arn", "external_id"],
        _ => &["write_key"],
    };
    if let Some(field) = required.iter().find(|f| !config.get(**f).is_some_and(Value::is_string)) {
        return Ok(error(400, 20001, format!("SinkConfiguration for a {kind} sink needs \"{field}\"")));
    }
    if kind == "webhook" && !matches!(config["method"].as_str(), Some("POST" | "GET")) {
        return Ok(error(400, 20001, "A webhook sink's method must be POST or GET"));
    }
    let sid = new_sid("DG");
    let at = now();
    conn.execute(
        "INSERT INTO twilio_sinks (sid, description, sink_type, sink_configuration, status, date_created, date_updated)
         VALUES (?1, ?2, ?3, ?4, 'initialized', ?5, ?5)",
        params![sid, description, kind, Value::Object(config).to_string(), at],
    )?;
    Ok((201, sink(conn, &sid)?.expect("just created").to_string()))
}

fn sink(conn: &Connection, sid: &str) -> rusqlite::Result<Option<Value>> {
    conn.query_row(
        "SELECT description, sink_type, sink_configuration, status, date_created, date_updated FROM twilio_sinks WHERE sid = ?1",
        [sid],
        |r| {
            let config: String = r.get(2)?;
            let url = format!("{BASE}/Sinks/{sid}");
            Ok(json!({
                "sid": sid,
                "description": r.get::<_, String>(0)?,
                "sink_type": r.get::<_, String>(1)?,
                "sink_configuration": serde_json::from_str::<Value>(&config).unwrap_or(Value::Null),
                "status": r.get::<_, String>(3)?,
                "date_created": r.get::<_, String>(4)?,
                "date_updated": r.get::<_, String>(5)?,
                "url": url,
                "links": {"sink_test": format!("{url}/Test"), "sink_validate": format!("{url}/Validate")},
            }))
        },
    )
    .optional()
}

fn create_subscription(conn: &Connection, params: &[(String, String)], account_sid: &str) -> rusqlite::Result<Answer> {
    let Some(description) = param(params, "Description") else { return Ok(missing("Description")) };
    let Some(sink_sid) = param(params, "SinkSid") else { return Ok(missing("SinkSid")) };
    if sink(conn, sink_sid)?.is_none() {
        return Ok(error(400, 20001, format!("Sink {sink_sid} does not exist")));
    }
    let mut types = Vec::new();
    for (_, text) in params.iter().filter(|(k, _)| k == "Types") {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return Ok(error(400, 20001, format!("Types: {text:?} is not a JSON object")));
        };
        let Some(kind) = v.get("type").and_then(Value::as_str) else {
            return Ok(error(400, 20001, format!("Types: {text:?} has no \"type\"")));
        };
        if !TYPES.iter().any(|(t, _, _)| *t == kind) {
            return Ok(error(400, 20001, format!("Invalid event type {kind}")));
        }
        types.push((kind.to_string(), v.get("schema_version").and_then(Value::as_i64).unwrap_or(1)));
    }
    if types.is_empty() {
        return Ok(missing("Types"));
    }
    let sid = new_sid("DF");
    let at = now();
    conn.execute(
        "INSERT INTO twilio_subscriptions (sid, description, sink_sid, date_created, date_updated) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![sid, description, sink_sid, at],
    )?;
    for (kind, version) in &types {
        conn.execute(
            "INSERT OR REPLACE INTO twilio_subscribed_events (subscription_sid, type, schema_version) VALUES (?1, ?2, ?3)",
            params![sid, kind, version],
        )?;
    }
    // The sink now carries events, as on Twilio once a subscription points at it.
    conn.execute("UPDATE twilio_sinks SET status = 'active', date_updated = ?2 WHERE sid = ?1", params![sink_sid, at])?;
    Ok((201, subscription(conn, &sid, account_sid)?.expect("just created").to_string()))
}

fn subscription(conn: &Connection, sid: &str, account_sid: &str) -> rusqlite::Result<Option<Value>> {
    conn.query_row(
        "SELECT description, sink_sid, date_created, date_updated FROM twilio_subscriptions WHERE sid = ?1",
        [sid],
        |r| {
            let url = format!("{BASE}/Subscriptions/{sid}");
            Ok(json!({
                "account_sid": account_sid,
                "sid": sid,
                "description": r.get::<_, String>(0)?,
                "sink_sid": r.get::<_, String>(1)?,
                "date_created": r.get::<_, String>(2)?,
                "date_updated": r.get::<_, String>(3)?,
                "url": url,
                "links": {"subscribed_events": format!("{url}/SubscribedEvents")},
            }))
        },
    )
    .optional()
}

fn subscribed_event(account_sid: &str, subscription_sid: &str, kind: &str, version: i64) -> Value {
    json!({"account_sid": account_sid, "type": kind, "schema_version": version, "subscription_sid": subscription_sid,
           "url": format!("{BASE}/Subscriptions/{subscription_sid}/SubscribedEvents/{kind}")})
}

fn subscribed_events(conn: &Connection, sid: &str, account_sid: &str) -> rusqlite::Result<Vec<Value>> {
    conn.prepare("SELECT type, schema_version FROM twilio_subscribed_events WHERE subscription_sid = ?1 ORDER BY type")?
        .query_map([sid], |r| Ok(subscribed_event(account_sid, sid, &r.get::<_, String>(0)?, r.get(1)?)))?
        .collect()
}

fn event_type((kind, schema, description): (&str, &str, &str)) -> Value {
    json!({"type": kind, "schema_id": schema, "description": description, "status": "available",
           "date_created": "2024-01-01T00:00:00Z", "date_updated": "2024-01-01T00:00:00Z",
           "documentation_url": "https://www.twilio.com/docs/events/event-types",
           "url": format!("{BASE}/Types/{kind}"),
           "links": {"schema": format!("{BASE}/Schemas/{schema}")}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_webhook_sink_and_a_subscription_round_trip() {
        let conn = Connection::open_in_memory().unwrap();
        create_tables(&conn).unwrap();
        let ac = "AC00000000000000000000000000000001";
        let (status, body) = handle(
            &conn,
            "POST",
            "/v1/Sinks",
            &p(&[
                ("Description", "local bridge"),
                (
                    "SinkConfiguration",
                    r#"{"destination":"http://127.0.0.1:4010/twilio/events","method":"POST","batch_events":true}"#,
                ),
                ("SinkType", "webhook"),
            ]),
            ac,
        );
        assert_eq!(status, 201, "{body}");
        let sink: Value = serde_json::from_str(&body).unwrap();
        let sink_sid = sink["sid"].as_str().unwrap().to_string();
        assert!(sink_sid.starts_with("DG") && sink_sid.len() == 34);
        assert_eq!(
            (sink["status"].as_str(), sink["sink_configuration"]["method"].as_str()),
            (Some("initialized"), Some("POST"))
        );

        let (status, body) = handle(
            &conn,
            "POST",
            "/v1/Subscriptions",
            &p(&[
                ("Description", "calls"),
                ("SinkSid", &sink_sid),
                ("Types", r#"{"type":"com.twilio.voice.status-callback.call.completed","schema_version":1}"#),
                ("Types", r#"{"type":"com.twilio.voice.status-callback.transcription.processed"}"#),
            ]),
            ac,
        );
        assert_eq!(status, 201, "{body}");
        let sub: Value = serde_json::from_str(&body).unwrap();
        let sub_sid = sub["sid"].as_str().unwrap();
        assert!(sub_sid.starts_with("DF"));
        assert_eq!(sub["account_sid"], ac);
        let (_, body) = handle(&conn, "GET", &format!("/v1/Subscriptions/{sub_sid}/SubscribedEvents"), &[], ac);
        let events: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(events["types"].as_array().unwrap().len(), 2);
        let (_, body) = handle(&conn, "GET", &format!("/v1/Sinks/{sink_sid}"), &[], ac);
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], "active");
        let (status, _) = handle(&conn, "DELETE", &format!("/v1/Sinks/{sink_sid}"), &[], ac);
        assert_eq!(status, 400, "in use");
        assert_eq!(handle(&conn, "DELETE", &format!("/v1/Subscriptions/{sub_sid}"), &[], ac).0, 204);
        assert_eq!(handle(&conn, "DELETE", &format!("/v1/Sinks/{sink_sid}"), &[], ac).0, 204);
        let (_, body) = handle(&conn, "GET", "/v1/Sinks", &[], ac);
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["sinks"], json!([]));
    }

    #[test]
    fn bad_requests_get_twilio_shaped_errors() {
        let conn = Connection::open_in_memory().unwrap();
        create_tables(&conn).unwrap();
        let err = |r: Answer| serde_json::from_str::<Value>(&r.1).unwrap();
        let e = err(handle(&conn, "POST", "/v1/Sinks", &p(&[("Description", "d"), ("SinkType", "webhook")]), "AC"));
        assert_eq!((e["status"].as_u64(), e["code"].as_u64()), (Some(400), Some(20001)));
        assert!(e["message"].as_str().unwrap().contains("SinkConfiguration"));
        let e = err(handle(
            &conn,
            "POST",
            "/v1/Sinks",
            &p(&[
                ("Description", "d"),
                ("SinkType", "webhook"),
                ("SinkConfiguration", r#"{"destination":"x","method":"PUT"}"#),
            ]),
            "AC",
        ));
        assert!(e["message"].as_str().unwrap().contains("POST or GET"));
        let e = err(handle(
            &conn,
            "POST",
            "/v1/Subscriptions",
            &p(&[("Description", "d"), ("SinkSid", "DGnope"), ("Types", "{}")]),
            "AC",
        ));
        assert!(e["message"].as_str().unwrap().contains("does not exist"));
        assert_eq!(handle(&conn, "GET", "/v1/Sinks/DGnope", &[], "AC").0, 404);
        assert_eq!(handle(&conn, "GET", "/v1/Types/com.twilio.voice.status-callback.call.completed", &[], "AC").0, 200);
        assert_eq!(handle(&conn, "POST", "/v1/Sinks/DGx/Test", &[], "AC").0, 404);
    }
}
