//! What the store alone costs per call: replays the rows a `callsynth run` wrote — events,
//! deliveries, `calls`, `transcripts`, `call_analytics`, `segment_profiles`, `segment_outbox` —
//! into a new store with the same schema, pragmas and statements, on one thread, with every
//! value ready. No parsing, matching, analysis or JSON: the floor under `run`'s single writer.
//!
//! ```text
//! callsynth run --calls 50000 --db /tmp/run.db -q
//! cargo run --release -p processors --example store_floor -- /tmp/run.db [--no-queue] [--no-lookups]
//! ```
//!
//! Commits — the transaction's pages written to the WAL — are reported on their own.
//!
//! `--no-queue` puts no delivery rows and reads the event log in order instead (what a store
//! without a delivery queue for first attempts would do); `--no-lookups` skips the
//! transcription processor's three reads (the call, the profile, whether the call was analysed).

use std::time::Instant;

use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

/// Deliveries per transaction, as `callsynth run` makes them.
const DELIVERY_BATCH: usize = 4096;
/// Calls per put transaction, as the generator hands them over.
const PUT_BATCH_CALLS: usize = 1024;

fn rows(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare(sql).expect("query");
    let width = stmt.column_count();
    stmt.query_map([], |r| (0..width).map(|i| r.get(i)).collect())
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("readable rows")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(source) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: store_floor RUN_DB [--no-queue] [--no-lookups]");
        std::process::exit(2);
    };
    let (no_queue, no_lookups) = (args.iter().any(|a| a == "--no-queue"), args.iter().any(|a| a == "--no-lookups"));
    // Read-only: a mistyped path is an error, not a new empty store.
    let src = Connection::open_with_flags(source, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("{source}: cannot open the run's store: {e}"));
    let schema: Vec<String> = src
        .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("schema");
    let events = rows(&src, "SELECT seq, event_id, bus, ingested_at, envelope FROM events ORDER BY seq");
    let calls = rows(&src, "SELECT * FROM calls ORDER BY rowid");
    let transcripts = rows(&src, "SELECT * FROM transcripts ORDER BY rowid");
    let analytics = rows(&src, "SELECT * FROM call_analytics ORDER BY rowid");
    let outbox = rows(&src, "SELECT message_id, kind, user_id, body, created_at FROM segment_outbox ORDER BY seq");
    assert!(!calls.is_empty(), "{source} holds no calls: run `callsynth run` into it first");

    let path = std::env::temp_dir().join(format!("store-floor-{}.db", std::process::id()));
    let mut db = Connection::open(&path).expect("scratch store");
    for (pragma, value) in [("page_size", "16384"), ("journal_mode", "WAL"), ("synchronous", "NORMAL")] {
        db.pragma_update(None, pragma, value).expect("pragma");
    }
    db.pragma_update(None, "wal_autocheckpoint", 16384).expect("pragma");
    db.pragma_update(None, "cache_size", -65536).expect("pragma");
    db.execute_batch(&schema.join(";\n")).expect("schema");

    // Put: the event log, and a delivery for each event a rule matches (completions and
    // transcriptions).
    let routed = |envelope: &Value| match envelope {
        Value::Text(t) => t.contains(".completed\""),
        _ => false,
    };
    let events_per_batch = events.len() * PUT_BATCH_CALLS / calls.len();
    let mut commits = std::time::Duration::ZERO;
    let started = Instant::now();
    for chunk in events.chunks(events_per_batch.max(1)) {
        let tx = db.transaction().expect("begin");
        {
            let mut event = tx
                .prepare_cached(
                    "INSERT INTO events (seq, event_id, bus, ingested_at, envelope) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .expect("insert");
            let mut delivery = tx
                .prepare_cached(
                    "INSERT INTO deliveries (event_seq, bus, rule, target, due_at) VALUES (?1, ?2, 'rule', '1', ?3)",
                )
                .expect("insert");
            for e in chunk {
                event.execute(params_from_iter(e)).expect("event");
                if !no_queue && routed(&e[4]) {
                    delivery.execute(params![e[0], e[2], e[3]]).expect("delivery");
                }
            }
        }
        let committing = Instant::now();
        tx.commit().expect("commit");
        commits += committing.elapsed();
    }
    let put = started.elapsed();

    // Deliver: each completion upserts its call; each transcription its transcript, analysis,
    // profile and outbox messages; each delivery is acknowledged.
    let started = Instant::now();
    let (mut next_call, mut next_transcript, mut next_message, mut cursor) = (0, 0, 0, 0i64);
    loop {
        let tx = db.transaction().expect("begin");
        let due: Vec<(i64, String)> = if no_queue {
            let batch: Vec<(i64, String)> = tx
                .prepare_cached("SELECT seq, envelope FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
                .and_then(|mut s| {
                    s.query_map(params![cursor, DELIVERY_BATCH as i64], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
                })
                .expect("events");
            cursor = batch.last().map_or(cursor, |(seq, _)| *seq);
            batch.into_iter().filter(|(_, e)| routed(&Value::Text(e.clone()))).collect()
        } else {
            tx.prepare_cached(
                "SELECT d.id, e.envelope FROM deliveries d JOIN events e ON e.seq = d.event_seq
                 ORDER BY d.due_at, d.id LIMIT ?1",
            )
            .and_then(|mut s| s.query_map([DELIVERY_BATCH as i64], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .expect("deliveries")
        };
        if due.is_empty() && (!no_queue || next_call >= calls.len()) {
            break;
        }
        for (id, envelope) in &due {
            if envelope.contains("call.completed") && next_call < calls.len() {
                tx.prepare_cached(
                    "INSERT INTO calls VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (call_sid) DO UPDATE SET status = excluded.status",
                )
                .and_then(|mut s| s.execute(params_from_iter(&calls[next_call])))
                .expect("call");
                next_call += 1;
            } else if next_transcript < transcripts.len() {
                let (transcript, analysis) = (&transcripts[next_transcript], &analytics[next_transcript]);
                next_transcript += 1;
                tx.prepare_cached(
                    "INSERT INTO transcripts VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (call_sid) DO UPDATE SET text = excluded.text",
                )
                .and_then(|mut s| s.execute(params_from_iter(transcript)))
                .expect("transcript");
                if !no_lookups {
                    for (sql, key) in [
                        ("SELECT from_number FROM calls WHERE call_sid = ?1", &transcript[0]),
                        ("SELECT total_calls FROM segment_profiles WHERE user_id = ?1", &analysis[1]),
                        ("SELECT 1 FROM call_analytics WHERE call_sid = ?1", &analysis[0]),
                    ] {
                        let mut stmt = tx.prepare_cached(sql).expect("lookup");
                        let mut found = stmt.query([key]).expect("lookup");
                        let _ = found.next().expect("lookup");
                    }
                }
                tx.prepare_cached(
                    "INSERT INTO call_analytics VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                     ON CONFLICT (call_sid) DO UPDATE SET sentiment = excluded.sentiment",
                )
                .and_then(|mut s| s.execute(params_from_iter(analysis)))
                .expect("analysis");
                tx.prepare_cached(
                    "INSERT INTO segment_profiles VALUES (?1, '+15550100', 1, ?2, 't')
                     ON CONFLICT (user_id) DO UPDATE SET total_calls = total_calls + 1",
                )
                .and_then(|mut s| s.execute(params![analysis[1], analysis[0]]))
                .expect("profile");
                let messages = outbox.len() / transcripts.len().max(1);
                for message in outbox.iter().skip(next_message).take(messages) {
                    tx.prepare_cached(
                        "INSERT INTO segment_outbox (message_id, kind, user_id, body, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (message_id) DO NOTHING",
                    )
                    .and_then(|mut s| s.execute(params_from_iter(message)))
                    .expect("message");
                }
                next_message += messages;
            }
            if !no_queue {
                tx.prepare_cached("DELETE FROM deliveries WHERE id = ?1")
                    .and_then(|mut s| s.execute([id]))
                    .expect("ack");
            }
        }
        let committing = Instant::now();
        tx.commit().expect("commit");
        commits += committing.elapsed();
    }
    let deliver = started.elapsed();
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let per_call = |d: std::time::Duration| d.as_secs_f64() * 1e6 / calls.len() as f64;
    println!(
        "{} calls: put {:.1} µs/call, deliver {:.1} µs/call, store total {:.1} µs/call, of which commits \
         {:.1} ({:.0} calls/s on one writer)",
        calls.len(),
        per_call(put),
        per_call(deliver),
        per_call(put + deliver),
        per_call(commits),
        calls.len() as f64 / (put + deliver).as_secs_f64()
    );
}
