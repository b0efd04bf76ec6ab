//! PutEvents entries: what callers send, how EventBridge sizes and checks them, and the envelope
//! targets receive.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One PutEvents entry, with the API's member names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutEventsEntry {
    /// Event time, epoch seconds; the ingestion time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
    /// Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// ARNs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<String>>,
    /// Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_type: Option<String>,
    /// Required: a JSON object, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Bus name or ARN; `default` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_bus_name: Option<String>,
    /// X-Ray trace header (kept, unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
}

/// One PutEvents result entry: an event id, or an error code and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutEventsResultEntry {
    /// The accepted event's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Why the entry was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// In words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl PutEventsResultEntry {
    pub(crate) fn accepted(id: String) -> Self {
        PutEventsResultEntry { event_id: Some(id), error_code: None, error_message: None }
    }

    pub(crate) fn refused(code: &str, message: impl Into<String>) -> Self {
        PutEventsResultEntry { event_id: None, error_code: Some(code.into()), error_message: Some(message.into()) }
    }
}

impl PutEventsEntry {
    /// The entry's size as EventBridge counts it: `Time` as 14 bytes when given, plus the UTF-8
    /// bytes of `Source`, `DetailType`, `Detail` and every `Resources` item.
    pub fn size(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        usize::from(self.time.is_some()) * 14
            + text(&self.source)
            + text(&self.detail_type)
            + text(&self.detail)
            + self.resources.iter().flatten().map(String::len).sum::<usize>()
    }

    /// The bus name the entry goes to (`default`, or the name inside an ARN).
    pub fn bus_name(&self) -> &str {
        match self.event_bus_name.as_deref() {
            None => "default",
            Some(name) => name.rsplit_once(":event-bus/").map_or(name, |(_, n)| n),
        }
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` for epoch seconds (whole seconds, as EventBridge delivers).
pub(crate) fn envelope_time(epoch_seconds: f64) -> String {
    let whole = epoch_seconds.floor() as i64;
    OffsetDateTime::from_unix_timestamp(whole)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// The envelope targets receive, written directly as JSON text; `detail` is spliced in as the
/// caller sent it (already checked to be one JSON object), so numbers keep their spelling.
pub(crate) struct Envelope<'a> {
    pub id: &'a str,
    pub detail_type: &'a str,
    pub source: &'a str,
    pub account: &'a str,
    pub time: &'a str,
    pub region: &'a str,
    pub resources: &'a [String],
    pub detail: &'a str,
}

impl Envelope<'_> {
    pub(crate) fn to_json(&self) -> String {
        let detail = self.detail.trim();
        let mut out = String::with_capacity(192 + detail.len() + self.detail_type.len() + self.source.len());
        out.push_str(r#"{"version":"0","id":"#);
        push_json_string(&mut out, self.id);
        for (key, value) in [
            ("detail-type", self.detail_type),
            ("source", self.source),
            ("account", self.account),
            ("time", self.time),
            ("region", self.region),
        ] {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            push_json_string(&mut out, value);
        }
        out.push_str(r#","resources":["#);
        for (i, r) in self.resources.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(&mut out, r);
        }
        out.push_str(r#"],"detail":"#);
        out.push_str(detail);
        out.push('}');
        out
    }
}

/// Appends `s` as a JSON string: as it is between quotes when nothing needs escaping (the
/// usual case), through serde_json otherwise.
fn push_json_string(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).expect("strings serialise"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_counts_time_as_fourteen_bytes_and_text_as_utf8() {
        let e = PutEventsEntry {
            time: Some(1.0),
            source: Some("src".into()),
            detail_type: Some("dt".into()),
            detail: Some(r#"{"é":1}"#.into()),
            resources: Some(vec!["arn:a".into(), "arn:b".into()]),
            ..Default::default()
        };
        assert_eq!(e.size(), 14 + 3 + 2 + 8 + 5 + 5); // `é` is two bytes
        assert_eq!(PutEventsEntry::default().size(), 0);
    }

    #[test]
    fn bus_names_come_from_names_or_arns() {
        let mut e = PutEventsEntry::default();
        assert_eq!(e.bus_name(), "default");
        e.event_bus_name = Some("twilio-call-events".into());
        assert_eq!(e.bus_name(), "twilio-call-events");
        e.event_bus_name = Some("arn:aws:events:us-east-1:123456789012:event-bus/twilio-call-events".into());
        assert_eq!(e.bus_name(), "twilio-call-events");
    }

    #[test]
    fn envelopes_are_json_with_escaped_fields_and_the_detail_verbatim() {
        let resources = ["arn:a".to_string(), "q\"uote".to_string()];
        let e = Envelope {
            id: "i",
            detail_type: "a \"b\"\n",
            source: "s",
            account: "1",
            time: "t",
            region: "r",
            resources: &resources,
            detail: r#" {"x": 1.50} "#,
        }
        .to_json();
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(v["detail-type"], "a \"b\"\n");
        assert_eq!(v["resources"][1], "q\"uote");
        assert!(e.ends_with(r#""detail":{"x": 1.50}}"#), "{e}");
    }

    #[test]
    fn envelope_times_have_whole_seconds() {
        assert_eq!(envelope_time(1_768_500_245.9), "2026-01-15T18:04:05Z");
    }
}
