//! `callsynth run`: the guide end to end into the store, and `--resume` after `kill -9`.

use std::path::Path;
use std::process::{Command, Stdio};

use rusqlite::Connection;

use crate::support::{assert_ok, callsynth, segment_stub, stderr, tempdir};

/// Row counts and delivery counters that describe a finished run.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    events: i64,
    distinct_event_ids: i64,
    calls: i64,
    transcripts: i64,
    pending: i64,
    dead_letters: i64,
    invocations: i64,
    triggered: i64,
    analysed: i64,
    profiles: i64,
    counted_calls: i64,
    segment_messages: i64,
}

fn counts(db: &Path) -> Counts {
    try_counts(db).expect("a callsynth store")
}

/// The counts, or `None` for a store a killed run left without its tables.
fn try_counts(db: &Path) -> Option<Counts> {
    let conn = Connection::open(db).ok()?;
    let one = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).ok();
    Some(Counts {
        events: one("SELECT COUNT(*) FROM events")?,
        distinct_event_ids: one("SELECT COUNT(DISTINCT event_id) FROM events")?,
        calls: one("SELECT COUNT(*) FROM calls")?,
        transcripts: one("SELECT COUNT(*) FROM transcripts")?,
        pending: one("SELECT COUNT(*) FROM deliveries")?,
        dead_letters: one("SELECT COUNT(*) FROM dead_letters")?,
        invocations: one("SELECT COALESCE(SUM(value), 0) FROM metrics WHERE name = 'Invocations'")?,
        triggered: one("SELECT COALESCE(SUM(value), 0) FROM metrics WHERE name = 'TriggeredRules'")?,
        analysed: one("SELECT COUNT(*) FROM call_analytics")?,
        profiles: one("SELECT COUNT(*) FROM segment_profiles")?,
        counted_calls: one("SELECT COALESCE(SUM(total_calls), 0) FROM segment_profiles")?,
        segment_messages: one("SELECT COUNT(*) FROM segment_outbox")?,
    })
}

const CALLS: &str = "3000";

#[test]
fn run_stores_every_completed_call_and_transcript() {
    let dir = tempdir();
    let out = callsynth(dir.path(), &["run", "--calls", CALLS, "--seed", "5"]);
    assert_ok(&out);
    let c = counts(&dir.path().join("callsynth.db"));
    assert_eq!(c.calls, 3000, "one row per call");
    assert!(c.transcripts > 2000 && c.transcripts < 3000, "{c:?}");
    assert_eq!(c.events, c.distinct_event_ids);
    assert_eq!((c.pending, c.dead_letters), (0, 0));
    assert_eq!(c.invocations, c.calls + c.transcripts, "each routed event delivered once");
    assert_eq!(c.triggered, c.invocations);
    let text = stderr(&out);
    assert!(text.contains("calls table:") && text.contains("sqlite3 callsynth.db"), "{text}");
    // Every transcript analysed and counted once on its customer's profile; one creation per
    // profile plus an identify and a track per call in the Segment outbox.
    assert_eq!((c.analysed, c.counted_calls), (c.transcripts, c.transcripts), "{c:?}");
    assert_eq!(c.segment_messages, 2 * c.transcripts + c.profiles, "{c:?}");
    let export = callsynth(dir.path(), &["segment", "export"]);
    assert_ok(&export);
    let mut exported = 0;
    for body in String::from_utf8(export.stdout).unwrap().lines() {
        assert!(body.len() <= 500_000);
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(v["sentAt"].is_string());
        for m in v["batch"].as_array().unwrap() {
            assert!(m["userId"].as_str().unwrap().starts_with("cust_") && m["messageId"].is_string(), "{m}");
            exported += 1;
        }
    }
    assert_eq!(exported, c.segment_messages);

    // The store's interface: calls and their columns as documented.
    let conn = Connection::open(dir.path().join("callsynth.db")).unwrap();
    let (sid, status, duration): (String, String, i64) = conn
        .query_row("SELECT call_sid, status, duration_seconds FROM calls WHERE status = 'completed' LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert!(sid.starts_with("CA") && sid.len() == 34 && status == "completed" && duration > 0);

    // A second plain run refuses to mix runs; --fresh starts over.
    let again = callsynth(dir.path(), &["run", "--calls", CALLS, "--seed", "5"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already holds a run. Add --resume"), "{}", stderr(&again));
    let other = callsynth(dir.path(), &["run", "--calls", "10", "--resume"]);
    assert!(stderr(&other).contains("holds a run made with other flags"), "{}", stderr(&other));
    assert_ok(&callsynth(dir.path(), &["run", "--calls", "50", "--fresh", "-q"]));
    assert_eq!(counts(&dir.path().join("callsynth.db")).calls, 50);
}

#[test]
fn bad_store_paths_are_clear_errors() {
    let dir = tempdir();
    let out = callsynth(dir.path(), &["run", "--calls", "5", "--db", "no/such/dir/x.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--db no/such/dir/x.db: cannot open the store"), "{}", stderr(&out));
    std::fs::write(dir.path().join("junk.db"), "this is not a database, just text that is long enough ...").unwrap();
    let out = callsynth(dir.path(), &["run", "--calls", "5", "--db", "junk.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--db junk.db"), "{}", stderr(&out));
}

/// kill -9 at moments spread over the run, then `--resume`: the store ends exactly as after
/// an uninterrupted run — every accepted event processed once, none lost, none twice.
#[test]
fn resume_after_kill_9_loses_nothing_and_repeats_nothing() {
    let reference_dir = tempdir();
    let started = std::time::Instant::now();
    assert_ok(&callsynth(reference_dir.path(), &["run", "--calls", CALLS, "--seed", "9", "-q"]));
    // Kill moments are fractions of an uninterrupted run on this machine, so they spread over
    // start-up, putting and delivering however fast the machine is.
    let whole = started.elapsed();
    let want = counts(&reference_dir.path().join("callsynth.db"));
    // Event ids are fresh UUIDs per run; everything else must be identical.
    let mut interrupted = 0;
    for trial in 0..10u64 {
        let dir = tempdir();
        let mut child = Command::new(env!("CARGO_BIN_EXE_callsynth"))
            .args(["run", "--calls", CALLS, "--seed", "9", "-q"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(whole.mul_f64((trial as f64 + 0.5) / 11.0));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let db = dir.path().join("callsynth.db");
        let before = if db.exists() { try_counts(&db) } else { None };
        if before.is_none_or(|b| b != want) {
            interrupted += 1;
        }
        let resumed = callsynth(dir.path(), &["run", "--calls", CALLS, "--seed", "9", "-q", "--resume"]);
        assert_ok(&resumed);
        assert_eq!(counts(&dir.path().join("callsynth.db")), want, "trial {trial}");
    }
    // The last kills may land after a fast run has finished; most must not.
    assert!(interrupted >= 6, "only {interrupted} of 10 kills landed before the run finished");
}

#[test]
fn stats_and_dead_letters_list_and_redrive() {
    let dir = tempdir();
    assert_ok(&callsynth(dir.path(), &["run", "--calls", "20", "-q"]));
    let db = dir.path().join("callsynth.db");
    // Two deliveries to a target that does not exist: they end as dead letters.
    let conn = Connection::open(&db).unwrap();
    conn.execute(
        "INSERT INTO deliveries (event_seq, bus, rule, target, due_at)
         SELECT seq, bus, 'twilio-call-completed', 'ghost', 0 FROM events
         WHERE envelope LIKE '%com.twilio.voice.call.completed%' ORDER BY seq LIMIT 2",
        [],
    )
    .unwrap();
    let first = callsynth(dir.path(), &["dlq", "redrive", "--all"]);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let list = callsynth(dir.path(), &["dlq", "list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert_eq!(text.matches("TargetNotFound").count(), 2, "{text}");
    // Once the target exists, a redrive delivers them.
    conn.execute(
        "INSERT INTO targets (bus, rule, id, arn, max_retry_attempts, max_event_age_seconds)
         VALUES ('twilio-call-events', 'twilio-call-completed', 'ghost', 'builtin:process-call-completed', 0, 60)",
        [],
    )
    .unwrap();
    drop(conn);
    let again = callsynth(dir.path(), &["dlq", "redrive", "--all"]);
    assert_ok(&again);
    assert!(String::from_utf8_lossy(&again.stdout).contains("redrove 2: 2 delivered, 0 dead-lettered"));
    let stats = callsynth(dir.path(), &["stats"]);
    assert_ok(&stats);
    let text = String::from_utf8_lossy(&stats.stdout);
    assert!(text.contains("calls table:") && text.contains("dead letters:   0"), "{text}");
    assert!(text.contains("Invocations") && text.contains("twilio-call-events/twilio-call-completed/ghost"), "{text}");
    let missing = callsynth(dir.path(), &["stats", "--db", "nope.db"]);
    assert!(stderr(&missing).contains("--db nope.db: no such store"));
}

#[test]
fn init_writes_the_guide_and_bad_configs_are_clear_errors() {
    let dir = tempdir();
    assert_ok(&callsynth(dir.path(), &["init"]));
    let again = callsynth(dir.path(), &["init"]);
    assert!(stderr(&again).contains("callsynth.toml exists; add --force"), "{}", stderr(&again));
    // The written file is what run uses by default: same result as the built-in guide.
    assert_ok(&callsynth(dir.path(), &["run", "--calls", "30", "-q"]));
    assert_eq!(counts(&dir.path().join("callsynth.db")).calls, 30);

    let cases: [(&str, &str); 5] = [
        ("[[buses]\nname = \"b\"\n", "TOML parse error at line 1"),
        ("[[buses]]\nname = \"b\"\ncolour = 1\n", "unknown field `colour`"),
        (
            "[[buses]]\nname = \"b\"\n[[rules]]\nbus = \"nope\"\nname = \"r\"\npattern = '{}'\n",
            "rules[0] (r): bus \"nope\" is not declared",
        ),
        (
            "[[buses]]\nname = \"b\"\n[[rules]]\nbus = \"b\"\nname = \"r\"\npattern = '{\"a\": \"x\"}'\n",
            "rules[0] (r): pattern: Event pattern is not valid. Reason: \"a\" must be an object or an array",
        ),
        (
            "[[buses]]\nname = \"b\"\n[[rules]]\nbus = \"b\"\nname = \"r\"\npattern = '{\"a\": [1]}'\n[[rules.targets]]\nid = \"1\"\narn = \"builtin:nope\"\n",
            "targets[0] (1): arn: \"nope\" is not a built-in processor",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(dir.path().join("bad.toml"), text).unwrap();
        let out = callsynth(dir.path(), &["run", "--config", "bad.toml", "--fresh", "--calls", "5"]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(stderr(&out).contains(want), "{text}\n{}", stderr(&out));
        // A bad configuration is refused before --fresh deletes anything.
        assert!(dir.path().join("callsynth.db").exists());
    }
}

#[test]
fn a_configured_queue_target_is_read_with_queue_receive() {
    let dir = tempdir();
    assert_ok(&callsynth(dir.path(), &["init"]));
    let config = std::fs::read_to_string(dir.path().join("callsynth.toml")).unwrap()
        + "\n[[rules]]\nbus = \"twilio-call-events\"\nname = \"busy-calls\"\n\
           pattern = '{\"detail\": {\"call_status\": [\"busy\"]}}'\n\n[[rules.targets]]\nid = \"q\"\n\
           arn = \"arn:aws:sqs:us-east-1:123456789012:busy\"\n";
    std::fs::write(dir.path().join("callsynth.toml"), config).unwrap();
    assert_ok(&callsynth(dir.path(), &["run", "--calls", "200", "-q"]));
    let conn = Connection::open(dir.path().join("callsynth.db")).unwrap();
    let busy: i64 = conn.query_row("SELECT COUNT(*) FROM calls WHERE status = 'busy'", [], |r| r.get(0)).unwrap();
    assert!(busy > 0);
    // A reader that goes away takes nothing: every message stays queued.
    let mut gone = std::process::Command::new(env!("CARGO_BIN_EXE_callsynth"))
        .current_dir(dir.path())
        .args(["queue", "receive", "busy", "--max", "1000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(gone.stdout.take());
    let gone = gone.wait_with_output().unwrap();
    assert!(gone.status.success(), "a closed pipe is not an error: {:?} {}", gone.status, stderr(&gone));
    let queued: i64 = conn.query_row("SELECT COUNT(*) FROM queue_messages", [], |r| r.get(0)).unwrap();
    assert_eq!(queued, busy, "nothing was taken that nobody read");
    let out = callsynth(dir.path(), &["queue", "receive", "busy", "--max", "1000"]);
    assert_ok(&out);
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len() as i64, busy);
    assert!(lines.iter().all(|e| e["detail"]["call_status"] == "busy"));
    let empty = callsynth(dir.path(), &["queue", "receive", "busy"]);
    assert!(stderr(&empty).contains("queue \"busy\" is empty"));
}

#[test]
fn archived_events_can_be_replayed_to_chosen_rules() {
    let dir = tempdir();
    assert_ok(&callsynth(dir.path(), &["init"]));
    let config = std::fs::read_to_string(dir.path().join("callsynth.toml")).unwrap()
        + "\n[[archives]]\nname = \"all\"\nbus = \"twilio-call-events\"\n";
    std::fs::write(dir.path().join("callsynth.toml"), config).unwrap();
    assert_ok(&callsynth(dir.path(), &["run", "--calls", "40", "-q"]));
    let db = dir.path().join("callsynth.db");
    let before = counts(&db);
    // The simulated calls start 2026-01-05T08:00:00Z; replay the whole window to one rule.
    let out = callsynth(
        dir.path(),
        &[
            "replay",
            "again",
            "--archive",
            "all",
            "--from",
            "2026-01-01T00:00:00Z",
            "--to",
            "2026-02-01T00:00:00Z",
            "--rule",
            "twilio-call-completed",
        ],
    );
    assert_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("replayed {} events: 40 deliveries", before.events)), "{text}");
    let after = counts(&db);
    assert_eq!(after.calls, before.calls, "replays upsert the same calls");
    assert_eq!(after.invocations, before.invocations + 40);
    let bad = callsynth(dir.path(), &["replay", "x", "--archive", "nope"]);
    assert!(stderr(&bad).contains("Archive nope does not exist."), "{}", stderr(&bad));
    let bad_time = callsynth(dir.path(), &["replay", "x", "--archive", "all", "--from", "yesterday"]);
    assert!(stderr(&bad_time).contains("--from \"yesterday\" is not an RFC 3339 timestamp"), "{}", stderr(&bad_time));
}

#[test]
fn an_unreachable_http_target_does_not_hold_the_run() {
    let dir = tempdir();
    assert_ok(&callsynth(dir.path(), &["init"]));
    // Port 9 (discard) on loopback: nothing listens, every attempt is refused and retried.
    let config = std::fs::read_to_string(dir.path().join("callsynth.toml")).unwrap()
        + "\n[[rules]]\nbus = \"twilio-call-events\"\nname = \"hook\"\n\
           pattern = '{\"detail-type\": [\"com.twilio.voice.call.completed\"]}'\n\n[[rules.targets]]\nid = \"web\"\n\
           arn = \"http://127.0.0.1:9/hook\"\n";
    std::fs::write(dir.path().join("callsynth.toml"), config).unwrap();
    let out = callsynth(dir.path(), &["run", "--calls", "5"]);
    assert_ok(&out);
    let text = stderr(&out);
    assert!(text.contains("deliveries waiting: 5"), "{text}");
    assert!(text.contains("running the same command again with --resume delivers them"), "{text}");
    // Nothing was lost: the processors ran, and the web deliveries are still queued.
    let c = counts(&dir.path().join("callsynth.db"));
    assert_eq!((c.calls, c.pending, c.dead_letters), (5, 5, 0));
}

#[test]
fn with_a_write_key_run_sends_the_outbox_and_never_prints_the_key() {
    let dir = tempdir();
    let (url, received) = segment_stub();
    let key = "wk_SECRET_run_4242";
    let out = Command::new(env!("CARGO_BIN_EXE_callsynth"))
        .args(["run", "--calls", "300", "--seed", "3", "--segment-endpoint", &url])
        .env("SEGMENT_WRITE_KEY", key)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_ok(&out);
    let c = counts(&dir.path().join("callsynth.db"));
    assert!(c.segment_messages > 0);
    assert_eq!(received.load(std::sync::atomic::Ordering::SeqCst) as i64, c.segment_messages);
    let conn = Connection::open(dir.path().join("callsynth.db")).unwrap();
    let unsent: i64 =
        conn.query_row("SELECT COUNT(*) FROM segment_outbox WHERE sent_at IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(unsent, 0);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("segment sent:") && !text.contains(key), "{text}");
    let store = std::fs::read(dir.path().join("callsynth.db")).unwrap();
    assert!(!store.windows(key.len()).any(|w| w == key.as_bytes()), "the key is not in the store");

    // Without a key, `segment flush` says what to do.
    let flush = Command::new(env!("CARGO_BIN_EXE_callsynth"))
        .args(["segment", "flush"])
        .env_remove("SEGMENT_WRITE_KEY")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!flush.status.success());
    assert!(stderr(&flush).contains("SEGMENT_WRITE_KEY is not set"), "{}", stderr(&flush));
}
