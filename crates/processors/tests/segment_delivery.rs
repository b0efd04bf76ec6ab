//! The Segment outbox against a local server that checks what Segment checks (Basic auth, gzip,
//! batch and message limits) and misbehaves on cue: 429 with Retry-After, 500s, dropped
//! connections, answers slower than the timeout, and a 400 that rejects a batch for good.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use processors::{create_tables, flush_outbox};
use rusqlite::{Connection, params};
use segment::client::{Sender, SenderConfig, WriteKey};
use serde_json::{Map, Value, json};

const KEY: &str = "wk_live_SECRET_0123456789";

/// What the server does with the next request.
#[derive(Debug, Clone)]
enum Action {
    Status(u16, Option<&'static str>),
    Drop,
    Slow(Duration),
}

#[derive(Default)]
struct Server {
    script: Mutex<VecDeque<Action>>,
    /// messageIds of batches answered 200.
    accepted: Mutex<Vec<String>>,
    requests: Mutex<u32>,
}

fn start(script: Vec<Action>) -> (String, Arc<Server>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = Arc::new(Server { script: Mutex::new(script.into()), ..Server::default() });
    let shared = Arc::clone(&server);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || serve(stream, &shared));
        }
    });
    (url, server)
}

fn respond(stream: &mut TcpStream, status: u16, extra: &str, body: &str) {
    let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n{extra}\r\n{body}", body.len());
}

fn serve(mut stream: TcpStream, server: &Server) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            head.push(line.trim_end().to_string());
        }
        let header = |name: &str| {
            head.iter().find_map(|h| {
                let (k, v) = h.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        };
        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        *server.requests.lock().unwrap() += 1;
        let action = server.script.lock().unwrap().pop_front().unwrap_or(Action::Status(200, None));
        match action {
            Action::Drop => return,
            Action::Slow(d) => std::thread::sleep(d),
            Action::Status(status, retry_after) if status != 200 => {
                let extra = retry_after.map_or(String::new(), |s| format!("Retry-After: {s}\r\n"));
                respond(&mut stream, status, &extra, r#"{"code":"invalid_request","message":"scripted"}"#);
                continue;
            }
            Action::Status(..) => {}
        }
        // Segment's checks: auth, gzip, limits.
        let auth_ok = header("authorization").as_deref() == Some("Basic d2tfbGl2ZV9TRUNSRVRfMDEyMzQ1Njc4OTo=");
        let mut json = String::new();
        let gz_ok = header("content-encoding").as_deref() == Some("gzip")
            && flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut json).is_ok();
        let parsed: Option<Value> = serde_json::from_str(&json).ok();
        let batch = parsed.as_ref().and_then(|v| v["batch"].as_array());
        let limits_ok = json.len() <= 500_000
            && batch.is_some_and(|b| b.len() <= 2500 && b.iter().all(|m| m.to_string().len() <= 32 * 1024));
        if !(auth_ok && gz_ok && limits_ok) {
            respond(&mut stream, 400, "", r#"{"code":"bad","message":"failed the server's checks"}"#);
            continue;
        }
        let ids = batch.unwrap().iter().map(|m| m["messageId"].as_str().unwrap().to_string());
        server.accepted.lock().unwrap().extend(ids);
        respond(&mut stream, 200, "", r#"{"success":true}"#);
    }
}

fn outbox_with(n: usize) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    create_tables(&conn).unwrap();
    let mut props = Map::new();
    props.insert("note".into(), Value::String("x".repeat(400)));
    for i in 0..n {
        let m = segment::track(&format!("ev{i}:track"), "cust_1", "2025-10-07T12:00:00Z", "call_completed", &props)
            .unwrap();
        conn.execute(
            "INSERT INTO segment_outbox (message_id, kind, user_id, body, created_at) VALUES (?1, ?2, ?3, ?4, 't')",
            params![m.message_id, m.kind, m.user_id, m.json],
        )
        .unwrap();
    }
    conn
}

fn sender(url: &str) -> Sender {
    let mut config = SenderConfig::new(url, WriteKey::new(KEY).unwrap());
    config.timeout = Duration::from_millis(400);
    config.base_backoff = Duration::from_millis(2);
    config.max_retry_after = Duration::from_millis(20);
    config.max_retries = 4;
    Sender::new(config)
}

fn column(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn every_message_ends_delivered_or_dead_with_a_reason() {
    // 6,000 messages of ~0.5 KB: the 500 KB limit splits them into batches of ~900.
    let conn = outbox_with(6000);
    let script = vec![
        Action::Status(429, Some("1")),
        Action::Status(500, None),
        Action::Drop,
        Action::Slow(Duration::from_millis(900)),
        Action::Status(200, None),
        Action::Status(503, None),
        Action::Status(200, None),
        Action::Status(400, None),
        Action::Status(200, None),
    ];
    let (url, server) = start(script);
    let report = flush_outbox(&conn, &mut sender(&url), "2025-10-07T12:00:05Z").unwrap();
    assert_eq!(report.waiting, 0, "{report:?}");
    assert_eq!(report.delivered + report.dead, 6000, "{report:?}");
    assert!(report.dead > 0 && report.dead < 2500, "exactly one batch was refused: {report:?}");

    let dead = column(&conn, "SELECT last_error FROM segment_outbox WHERE dead_at IS NOT NULL");
    assert_eq!(dead.len() as u64, report.dead);
    assert!(dead.iter().all(|e| e.contains("answered 400") && e.contains("scripted")), "{:?}", dead[0]);
    let sent: HashSet<String> =
        column(&conn, "SELECT message_id FROM segment_outbox WHERE sent_at IS NOT NULL").into_iter().collect();
    // At least once: the slow answer may have been recorded by the server before the client gave
    // up on it, so the server can hold a batch twice — but nothing the store calls sent is missing.
    let accepted: HashSet<String> = server.accepted.lock().unwrap().iter().cloned().collect();
    assert_eq!(sent.len() as u64, report.delivered);
    assert!(sent.is_subset(&accepted));
    assert!(dead.len() + sent.len() == 6000);

    // The key is in no row, no reason, no report.
    let everything = column(&conn, "SELECT body || COALESCE(last_error, '') FROM segment_outbox").concat();
    assert!(!everything.contains(KEY) && !format!("{report:?}").contains(KEY));

    // Flushing again sends nothing twice.
    let before = *server.requests.lock().unwrap();
    let again = flush_outbox(&conn, &mut sender(&url), "2025-10-07T12:00:06Z").unwrap();
    assert_eq!((again.delivered, again.dead, again.waiting), (0, 0, 0));
    assert_eq!(*server.requests.lock().unwrap(), before);
}

#[test]
fn a_dead_endpoint_keeps_messages_and_opens_the_circuit() {
    let conn = outbox_with(30);
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let mut config = SenderConfig::new(&url, WriteKey::new(KEY).unwrap());
    config.base_backoff = Duration::from_millis(1);
    config.max_retries = 2;
    config.breaker_threshold = 1;
    let mut sender = Sender::new(config);
    let report = flush_outbox(&conn, &mut sender, "t").unwrap();
    assert_eq!((report.delivered, report.dead, report.waiting), (0, 0, 30));
    let reason = report.stopped.expect("stopped");
    assert!(reason.contains(&format!("127.0.0.1:{port}")) && !reason.contains(KEY), "{reason}");
    let attempts = column(&conn, "SELECT CAST(attempts AS TEXT) FROM segment_outbox");
    assert!(attempts.iter().all(|a| a == "3"), "first try and two retries: {attempts:?}");
    // The circuit is open: the next flush returns at once without trying.
    let started = std::time::Instant::now();
    let second = flush_outbox(&conn, &mut sender, "t").unwrap();
    assert!(second.stopped.expect("stopped").contains("circuit"));
    assert!(started.elapsed() < Duration::from_millis(200));
    assert_eq!(second.waiting, 30);
}

#[test]
fn a_429_waits_for_retry_after_and_then_delivers() {
    let conn = outbox_with(3);
    let (url, server) = start(vec![Action::Status(429, Some("0")), Action::Status(429, Some("0"))]);
    let report = flush_outbox(&conn, &mut sender(&url), "t").unwrap();
    assert_eq!((report.delivered, report.batches, report.waiting), (3, 1, 0));
    assert_eq!(*server.requests.lock().unwrap(), 3);
    let body = json!(server.accepted.lock().unwrap().clone());
    assert_eq!(body, json!(["ev0:track", "ev1:track", "ev2:track"]));
}
