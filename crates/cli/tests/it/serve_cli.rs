//! `callsynth serve`: the Twilio bridge end to end (signed deliveries from `generate
//! --to-webhook`, deduplication, refusals) and a clean stop on SIGTERM. The EventBridge API
//! against the real AWS CLI and boto3 is `scripts/aws-cli-test`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::support::{assert_ok, segment_stub, tempdir};

const TOKEN: &str = "tok_test_6f1c";

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &std::path::Path, token: Option<&str>, extra: &[&str]) -> Server {
        Server::start_with(dir, token, extra, &[])
    }

    fn start_with(dir: &std::path::Path, token: Option<&str>, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_callsynth"));
        command
            .args(["serve", "--db", "serve.db", "--init-guide", "--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env_remove("TWILIO_AUTH_TOKEN")
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(token) = token {
            command.env("TWILIO_AUTH_TOKEN", token);
        }
        command.env_remove("SEGMENT_WRITE_KEY").envs(env.iter().copied());
        let child = command.spawn().unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "serve did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/twilio/events", self.port)
    }

    /// A raw POST; returns the status code.
    fn post(&self, path_and_query: &str, headers: &[(&str, &str)], body: &str) -> u16 {
        self.request("POST", path_and_query, headers, body).0
    }

    /// A raw request; returns the status code and the body.
    fn request(&self, method: &str, path_and_query: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut req = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
        (status, body)
    }

    /// Stops with SIGTERM, as a process manager would; returns the status and stderr.
    fn stop(self) -> (std::process::ExitStatus, String) {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let out = self.child.wait_with_output().unwrap();
        (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn webhook(dir: &std::path::Path, url: &str, token: &str, schema: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_callsynth"))
        .args(["generate", "--format", "cloudevents", "--schema", schema, "--calls", "40", "--seed", "4", "-q"])
        .args(["--to-webhook", url, "--twilio-auth-token", token])
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn the_twilio_bridge_takes_signed_deliveries_once_and_refuses_the_rest() {
    let dir = tempdir();
    let server = Server::start(dir.path(), Some(TOKEN), &[]);
    let db = dir.path().join("serve.db");

    // Twilio's own event types, signed as Twilio signs them.
    assert_ok(&webhook(dir.path(), &server.url(), TOKEN, "twilio"));
    let wait_for = |sql: &str, want: i64| {
        let started = Instant::now();
        while count(&db, sql) != want && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        count(&db, sql)
    };
    let events = count(&db, "SELECT COUNT(*) FROM events");
    assert!(events > 100, "{events} events from 40 calls");
    assert_eq!(wait_for("SELECT COUNT(*) FROM calls", 40), 40, "every call completed → one row");
    let transcripts = count(&db, "SELECT COUNT(*) FROM transcripts");
    assert!(transcripts > 20);
    assert_eq!(wait_for("SELECT COUNT(*) FROM call_analytics", transcripts), transcripts);
    let kept: String =
        Connection::open(&db).unwrap().query_row("SELECT envelope FROM events LIMIT 1", [], |r| r.get(0)).unwrap();
    let envelope: serde_json::Value = serde_json::from_str(&kept).unwrap();
    assert_eq!(envelope["source"], "aws.partner/twilio.com");
    assert!(envelope["detail"]["twilio_event_id"].as_str().unwrap().starts_with("EZ"), "{envelope}");

    // Twilio retries: the same deliveries again add nothing.
    assert_ok(&webhook(dir.path(), &server.url(), TOKEN, "twilio"));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM events"), events);

    // A wrong token, a missing signature, a body that does not match its hash: 403, nothing kept.
    let wrong = webhook(dir.path(), &server.url(), "not-the-token", "seed");
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("403"));
    assert_eq!(server.post("/twilio/events", &[], "[]"), 403);
    let (url, sig) = server::twilio_signature::sign_json(TOKEN, &server.url(), b"[]");
    let path = &url[url.find("/twilio").unwrap()..];
    assert_eq!(server.post(path, &[("X-Twilio-Signature", &sig)], "[1]"), 403, "body changed after signing");
    assert_eq!(server.post(path, &[("X-Twilio-Signature", &sig)], "[]"), 200, "the same request, intact");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM events"), events);

    let (status, log) = server.stop();
    assert!(status.success(), "{status:?}: {log}");
    assert!(log.contains("stopped after"), "{log}");
}

#[test]
fn without_a_token_every_delivery_is_refused_and_insecure_dev_warns_on_each() {
    let dir = tempdir();
    let server = Server::start(dir.path(), None, &[]);
    assert_eq!(server.post("/twilio/events", &[("X-Twilio-Signature", "x")], "[]"), 403);
    let (_, log) = server.stop();
    assert!(log.contains("no Twilio auth token"), "{log}");

    let server = Server::start(dir.path(), None, &["--insecure-dev"]);
    assert_eq!(server.post("/twilio/events", &[], "[]"), 200, "unsigned, accepted");
    assert_eq!(server.post("/twilio/events", &[], "not json"), 400);
    let (_, log) = server.stop();
    assert_eq!(log.matches("accepting a Twilio delivery without checking its signature").count(), 2, "{log}");
}

#[test]
fn classic_form_callbacks_are_signed_the_classic_way_and_routed_once() {
    let dir = tempdir();
    let server = Server::start(dir.path(), Some(TOKEN), &[]);
    let db = dir.path().join("serve.db");
    let params = [
        ("AccountSid", "AC00000000000000000000000000000001"),
        ("CallSid", "CA00000000000000000000000000000002"),
        ("CallStatus", "completed"),
        ("CallDuration", "61"),
        ("Direction", "inbound"),
        ("From", "+15125550100"),
        ("To", "+18005550199"),
        ("Timestamp", "Mon, 05 Jan 2026 13:24:20 +0000"),
    ];
    let url = format!("http://127.0.0.1:{}/twilio/call-status", server.port);
    let signature = server::twilio_signature::signature(TOKEN, &url, &params);
    let body: String = params
        .iter()
        .map(|(k, v)| {
            format!("{k}={}", v.replace('+', "%2B").replace(' ', "+").replace(',', "%2C").replace(':', "%3A"))
        })
        .collect::<Vec<_>>()
        .join("&");
    let form = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature.as_str())];
    assert_eq!(server.post("/twilio/call-status", &form, &body), 200);
    assert_eq!(server.post("/twilio/call-status", &form, &body), 200, "Twilio's retry");
    let tampered = body.replace("CallDuration=61", "CallDuration=62");
    assert_eq!(server.post("/twilio/call-status", &form, &tampered), 403);
    let started = Instant::now();
    while count(&db, "SELECT COUNT(*) FROM calls") == 0 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM events"), 1, "one event, deduplicated on CallSid and status");
    let row: (String, i64) = Connection::open(&db)
        .unwrap()
        .query_row("SELECT from_number, duration_seconds FROM calls", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(row, ("+15125550100".to_string(), 61));
    let (status, _) = server.stop();
    assert!(status.success());
}

#[test]
fn the_events_api_emulation_creates_a_webhook_sink_and_a_subscription() {
    use base64::Engine as _;
    let dir = tempdir();
    let server = Server::start(dir.path(), Some(TOKEN), &[]);
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("AC00000000000000000000000000000007:{TOKEN}"))
    );
    let auth = [("Authorization", basic.as_str())];
    let config = format!(r#"{{"destination":"http://127.0.0.1:{}/twilio/events","method":"POST"}}"#, server.port);
    let form = |pairs: &[(&str, &str)]| -> String {
        pairs
            .iter()
            .map(|(k, v)| {
                let enc: String = v
                    .bytes()
                    .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
                    .collect();
                format!("{k}={enc}")
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    let (status, body) = server.request(
        "POST",
        "/v1/Sinks",
        &auth,
        &form(&[("Description", "bridge"), ("SinkConfiguration", &config), ("SinkType", "webhook")]),
    );
    assert_eq!(status, 201, "{body}");
    let sink: serde_json::Value = serde_json::from_str(&body).unwrap();
    let sink_sid = sink["sid"].as_str().unwrap();
    assert_eq!(
        sink["sink_configuration"]["destination"].as_str(),
        Some(&*format!("http://127.0.0.1:{}/twilio/events", server.port))
    );
    let (status, body) = server.request(
        "POST",
        "/v1/Subscriptions",
        &auth,
        &form(&[
            ("Description", "calls"),
            ("SinkSid", sink_sid),
            ("Types", r#"{"type":"com.twilio.voice.status-callback.call.completed","schema_version":1}"#),
        ]),
    );
    assert_eq!(status, 201, "{body}");
    let sub: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sub["account_sid"], "AC00000000000000000000000000000007");
    let (status, body) = server.request("GET", &format!("/v1/Subscriptions?SinkSid={sink_sid}"), &auth, "");
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["subscriptions"].as_array().unwrap().len(), 1);
    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("AC00000000000000000000000000000007:nope")
    );
    assert_eq!(server.request("GET", "/v1/Sinks", &[("Authorization", wrong.as_str())], "").0, 401);
    assert_eq!(server.request("GET", "/v1/Sinks", &[], "").0, 401);
    let (status, _) = server.stop();
    assert!(status.success());
}

#[test]
fn with_a_write_key_serve_sends_the_outbox_while_it_runs() {
    let dir = tempdir();
    let (segment, received) = segment_stub();
    let key = "wk_serve_SECRET_77";
    let server =
        Server::start_with(dir.path(), Some(TOKEN), &["--segment-endpoint", &segment], &[("SEGMENT_WRITE_KEY", key)]);
    assert_ok(&webhook(dir.path(), &server.url(), TOKEN, "seed"));
    let db = dir.path().join("serve.db");
    let started = Instant::now();
    loop {
        let queued = count(&db, "SELECT COUNT(*) FROM segment_outbox");
        let sent = received.load(std::sync::atomic::Ordering::SeqCst) as i64;
        if queued > 0 && sent == queued && count(&db, "SELECT COUNT(*) FROM segment_outbox WHERE sent_at IS NULL") == 0
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "outbox {queued}, sent {sent}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, log) = server.stop();
    assert!(status.success());
    assert!(log.contains("segment sent:") && !log.contains(key), "{log}");
}
