//! Segment's HTTP Tracking API, as data: `identify` and `track` messages with the exact field
//! names, the per-message and per-batch limits, and batch bodies (`{"batch": [...], "sentAt": …}`)
//! exactly as they are posted to `/v1/batch`.
//!
//! Profiles follow the origin template: `userId` is `cust_` + the hex MD5 of the customer's E.164
//! number ([`user_id_for_phone`]). Every message carries a `messageId` derived from the bus event
//! that caused it, so a redelivered event produces the same message and Segment deduplicates it.
#![deny(missing_docs)]

pub mod client;

use std::ops::Range;

use md5::{Digest, Md5};
use serde::Serialize;
use serde_json::{Map, Value};

/// Largest message Segment accepts, alone or inside a batch: 32 KB.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// Largest batch request body. Segment documents 500 KB; this stays under both readings of "KB"
/// and leaves room for `sentAt`.
pub const MAX_BATCH_BYTES: usize = 500_000;
/// Most messages per batch (more are answered 200 and silently dropped).
pub const MAX_BATCH_MESSAGES: usize = 2_500;
/// `context.library.name`.
pub const LIBRARY_NAME: &str = "callsynth";

/// `cust_` + hex MD5 of the phone number as given (E.164), as the origin template computes it.
///
/// ```
/// assert_eq!(segment::user_id_for_phone("+15129358764"), "cust_a3e3835ce1df229cce1271a25b0c8822");
/// ```
pub fn user_id_for_phone(e164: &str) -> String {
    let digest = Md5::digest(e164.as_bytes());
    let mut id = String::with_capacity(5 + 32);
    id.push_str("cust_");
    for byte in digest {
        id.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        id.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    id
}

/// Why a message cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Over [`MAX_MESSAGE_BYTES`] once serialised; Segment would reject it (400).
    #[error("Segment {kind} message {message_id} is {bytes} bytes, over Segment's limit of {MAX_MESSAGE_BYTES}")]
    TooLarge {
        /// `identify` or `track`.
        kind: &'static str,
        /// Its `messageId`.
        message_id: String,
        /// Its size.
        bytes: usize,
    },
    /// `messageId` must be under 100 characters.
    #[error("messageId {0:?} is 100 characters or more")]
    MessageIdTooLong(String),
}

/// A message ready for the outbox: its kind, id, user and serialised JSON (without `sentAt`,
/// which is stamped when a batch is sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `identify` or `track`.
    pub kind: &'static str,
    /// `messageId`.
    pub message_id: String,
    /// `userId`.
    pub user_id: String,
    /// The JSON object, with `type`.
    pub json: String,
}

#[derive(Serialize)]
struct Library {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Context {
    library: Library,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    r#type: &'static str,
    message_id: &'a str,
    user_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    traits: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<&'a Map<String, Value>>,
    timestamp: &'a str,
    context: Context,
}

fn build(
    kind: &'static str,
    message_id: &str,
    user_id: &str,
    timestamp: &str,
    event: Option<&str>,
    traits: Option<&Map<String, Value>>,
    properties: Option<&Map<String, Value>>,
) -> Result<Message, MessageError> {
    if message_id.chars().count() >= 100 {
        return Err(MessageError::MessageIdTooLong(message_id.to_string()));
    }
    let wire = Wire {
        r#type: kind,
        message_id,
        user_id,
        event,
        traits,
        properties,
        timestamp,
        context: Context { library: Library { name: LIBRARY_NAME, version: env!("CARGO_PKG_VERSION") } },
    };
    let json = serde_json::to_string(&wire).expect("maps of JSON values serialise");
    if json.len() > MAX_MESSAGE_BYTES {
        return Err(MessageError::TooLarge { kind, message_id: message_id.to_string(), bytes: json.len() });
    }
    Ok(Message { kind, message_id: message_id.to_string(), user_id: user_id.to_string(), json })
}

/// An `identify` call: `traits` set on the profile `user_id`. `timestamp` is ISO 8601.
///
/// # Errors
///
/// The message would be over Segment's limits.
pub fn identify(
    message_id: &str,
    user_id: &str,
    timestamp: &str,
    traits: &Map<String, Value>,
) -> Result<Message, MessageError> {
    build("identify", message_id, user_id, timestamp, None, Some(traits), None)
}

/// A `track` call: `event` with `properties` for `user_id`.
///
/// # Errors
///
/// The message would be over Segment's limits.
pub fn track(
    message_id: &str,
    user_id: &str,
    timestamp: &str,
    event: &str,
    properties: &Map<String, Value>,
) -> Result<Message, MessageError> {
    build("track", message_id, user_id, timestamp, Some(event), None, Some(properties))
}

/// Splits messages of the given serialised sizes, in order, into batches that fit
/// [`MAX_BATCH_BYTES`] and [`MAX_BATCH_MESSAGES`] once wrapped by [`batch_body`].
///
/// Every size must be within [`MAX_MESSAGE_BYTES`] (as [`identify`] and [`track`] guarantee), so
/// every message fits in some batch.
pub fn plan_batches(sizes: impl IntoIterator<Item = usize>) -> Vec<Range<usize>> {
    // `{"batch":[` … `],"sentAt":"…"}` with an RFC 3339 time of up to 35 characters.
    const WRAPPER: usize = 10 + 13 + 37;
    let mut batches = Vec::new();
    let (mut start, mut count, mut bytes) = (0usize, 0usize, WRAPPER);
    for (i, size) in sizes.into_iter().enumerate() {
        let extra = size + usize::from(count > 0);
        if count > 0 && (count == MAX_BATCH_MESSAGES || bytes + extra > MAX_BATCH_BYTES) {
            batches.push(start..i);
            (start, count, bytes) = (i, 0, WRAPPER);
        }
        bytes += size + usize::from(count > 0);
        count += 1;
    }
    if count > 0 {
        batches.push(start..start + count);
    }
    batches
}

/// The `/v1/batch` body for `messages` (serialised JSON objects), stamped with `sent_at`.
pub fn batch_body(messages: &[&str], sent_at: &str) -> String {
    let mut body = String::with_capacity(messages.iter().map(|m| m.len() + 1).sum::<usize>() + 64);
    body.push_str("{\"batch\":[");
    body.push_str(&messages.join(","));
    body.push_str("],\"sentAt\":");
    body.push_str(&Value::String(sent_at.to_string()).to_string());
    body.push('}');
    body
}

/// [`plan_batches`] then [`batch_body`] for each batch.
pub fn batch_bodies<'a>(messages: impl IntoIterator<Item = &'a str>, sent_at: &str) -> Vec<String> {
    let messages: Vec<&str> = messages.into_iter().collect();
    plan_batches(messages.iter().map(|m| m.len())).into_iter().map(|r| batch_body(&messages[r], sent_at)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traits(n: usize) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("note".into(), Value::String("x".repeat(n)));
        m
    }

    #[test]
    fn the_origins_pinned_user_id() {
        assert_eq!(user_id_for_phone("+15129358764"), "cust_a3e3835ce1df229cce1271a25b0c8822");
    }

    #[test]
    fn messages_have_segments_field_names() {
        let mut props = Map::new();
        props.insert("wordCount".into(), Value::from(12));
        let m = track("ev-1:track", "cust_1", "2025-10-07T12:00:00Z", "call_completed", &props).unwrap();
        let v: Value = serde_json::from_str(&m.json).unwrap();
        assert_eq!(v["type"], "track");
        assert_eq!(v["messageId"], "ev-1:track");
        assert_eq!(v["userId"], "cust_1");
        assert_eq!(v["event"], "call_completed");
        assert_eq!(v["properties"]["wordCount"], 12);
        assert_eq!(v["timestamp"], "2025-10-07T12:00:00Z");
        assert_eq!(v["context"]["library"]["name"], "callsynth");
        assert!(v.get("traits").is_none() && v.get("sentAt").is_none());
        let i = identify("ev-1:identify", "cust_1", "2025-10-07T12:00:00Z", &traits(3)).unwrap();
        let v: Value = serde_json::from_str(&i.json).unwrap();
        assert_eq!((v["type"].as_str(), v["traits"]["note"].as_str()), (Some("identify"), Some("xxx")));
    }

    #[test]
    fn oversize_messages_and_long_ids_are_refused() {
        let err = identify("m", "u", "t", &traits(MAX_MESSAGE_BYTES)).unwrap_err();
        assert!(matches!(err, MessageError::TooLarge { bytes, .. } if bytes > MAX_MESSAGE_BYTES));
        assert!(err.to_string().contains("over Segment's limit of 32768"));
        assert!(identify(&"m".repeat(100), "u", "t", &traits(1)).is_err());
        assert!(identify(&"m".repeat(99), "u", "t", &traits(1)).is_ok());
    }

    #[test]
    fn batches_respect_both_limits_and_keep_order() {
        let big: Vec<String> =
            (0..40).map(|i| identify(&format!("m{i}"), "u", "t", &traits(30_000)).unwrap().json).collect();
        let bodies = batch_bodies(big.iter().map(String::as_str), "2025-10-07T12:00:01Z");
        assert!(bodies.len() >= 3);
        let mut seen = Vec::new();
        for body in &bodies {
            assert!(body.len() <= MAX_BATCH_BYTES, "{}", body.len());
            let v: Value = serde_json::from_str(body).unwrap();
            assert_eq!(v["sentAt"], "2025-10-07T12:00:01Z");
            seen.extend(v["batch"].as_array().unwrap().iter().map(|m| m["messageId"].as_str().unwrap().to_string()));
        }
        assert_eq!(seen, (0..40).map(|i| format!("m{i}")).collect::<Vec<_>>());
        let small: Vec<String> = (0..6000).map(|i| format!("{{\"n\":{i}}}")).collect();
        let bodies = batch_bodies(small.iter().map(String::as_str), "t");
        let counts: Vec<usize> = bodies
            .iter()
            .map(|b| serde_json::from_str::<Value>(b).unwrap()["batch"].as_array().unwrap().len())
            .collect();
        assert_eq!(counts, [2500, 2500, 1000]);
        assert!(batch_bodies(std::iter::empty(), "t").is_empty());
    }
}
