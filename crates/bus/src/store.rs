//! The one SQLite file that holds everything: definitions, the event log, the delivery queue,
//! the dead-letter queue and metrics. Table and column names are part of callsynth's interface
//! (README, "The store").

use std::path::Path;

use rusqlite::Connection;

use crate::BusError;

/// Schema, applied idempotently on open.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS buses (
    name        TEXT PRIMARY KEY,
    arn         TEXT NOT NULL,
    description TEXT,
    created_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rules (
    bus         TEXT NOT NULL REFERENCES buses(name),
    name        TEXT NOT NULL,
    arn         TEXT NOT NULL,
    pattern     TEXT NOT NULL,
    state       TEXT NOT NULL,
    description TEXT,
    PRIMARY KEY (bus, name)
);
CREATE TABLE IF NOT EXISTS targets (
    bus                   TEXT NOT NULL,
    rule                  TEXT NOT NULL,
    id                    TEXT NOT NULL,
    arn                   TEXT NOT NULL,
    input                 TEXT,
    max_retry_attempts    INTEGER NOT NULL,
    max_event_age_seconds INTEGER NOT NULL,
    dead_letter_arn       TEXT,
    http                  TEXT,
    PRIMARY KEY (bus, rule, id),
    FOREIGN KEY (bus, rule) REFERENCES rules(bus, name)
);
-- Every accepted event, as delivered to targets (the EventBridge envelope). Event ids are
-- random UUIDs; they are not indexed, which keeps inserts sequential.
CREATE TABLE IF NOT EXISTS events (
    seq         INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL,
    bus         TEXT NOT NULL,
    ingested_at REAL NOT NULL,
    envelope    TEXT NOT NULL
);
-- One row per (event, matched rule, target) still to deliver.
CREATE TABLE IF NOT EXISTS deliveries (
    id          INTEGER PRIMARY KEY,
    event_seq   INTEGER NOT NULL REFERENCES events(seq),
    bus         TEXT NOT NULL,
    rule        TEXT NOT NULL,
    target      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    due_at      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(due_at);
-- Deliveries that ran out of retries, with what EventBridge attaches to a dead letter.
CREATE TABLE IF NOT EXISTS dead_letters (
    id            INTEGER PRIMARY KEY,
    event_seq     INTEGER NOT NULL REFERENCES events(seq),
    bus           TEXT NOT NULL,
    rule          TEXT NOT NULL,
    target        TEXT NOT NULL,
    queue_arn     TEXT,
    rule_arn      TEXT NOT NULL,
    target_arn    TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    error_code    TEXT NOT NULL,
    error_message TEXT NOT NULL,
    failed_at     REAL NOT NULL
);
-- Archives (CreateArchive) and the events each keeps, by event time, for replay.
CREATE TABLE IF NOT EXISTS archives (
    name       TEXT PRIMARY KEY,
    bus        TEXT NOT NULL REFERENCES buses(name),
    pattern    TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS archive_events (
    archive    TEXT NOT NULL,
    event_seq  INTEGER NOT NULL REFERENCES events(seq),
    event_time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS archive_events_time ON archive_events(archive, event_time);
-- Replays run (StartReplay), for DescribeReplay and ListReplays; names are unique.
CREATE TABLE IF NOT EXISTS replays (
    name          TEXT PRIMARY KEY,
    archive       TEXT NOT NULL,
    bus           TEXT NOT NULL,
    rules         TEXT,
    event_start   REAL NOT NULL,
    event_end     REAL NOT NULL,
    last_replayed REAL,
    started_at    REAL NOT NULL,
    ended_at      REAL NOT NULL,
    events        INTEGER NOT NULL
);
-- Durable named queues (SQS-style targets), read with `callsynth queue receive`.
CREATE TABLE IF NOT EXISTS queue_messages (
    id          INTEGER PRIMARY KEY,
    queue       TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    body        TEXT NOT NULL,
    enqueued_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_messages_queue ON queue_messages(queue, id);
-- Progress markers written in the same transaction as the events they describe (`run --resume`).
CREATE TABLE IF NOT EXISTS checkpoints (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- CloudWatch-named counters per scope ('bus', 'bus/rule' or 'bus/rule/target').
CREATE TABLE IF NOT EXISTS metrics (
    scope TEXT NOT NULL,
    name  TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (scope, name)
);
";

/// Opens (creating if needed) the store at `path`; `:memory:` for a throw-away store.
///
/// WAL journal: readers never block the writer, and a committed transaction survives the
/// process being killed (synchronous=NORMAL keeps it across crashes of the process, not of the
/// machine).
///
/// # Errors
///
/// The file cannot be opened or is not a callsynth store.
pub fn open(path: &Path) -> Result<Connection, BusError> {
    let conn = if path == Path::new(":memory:") { Connection::open_in_memory()? } else { Connection::open(path)? };
    // Larger pages suit rows of a kilobyte or more (envelopes with transcripts); only takes
    // effect on a new file.
    conn.pragma_update(None, "page_size", 16384)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Bulk puts write many large rows. A `Checkpointer` thread copies the WAL back while the
    // writer goes on; the writer itself checkpoints only if that thread falls 256 MiB behind.
    conn.pragma_update(None, "wal_autocheckpoint", 16384)?; // pages: 256 MiB
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// Copies committed WAL frames back into the database file on a thread of its own, so the
/// thread that writes (puts, deliveries) does not stop to do it: on two cores that is about a
/// sixth of a put's time. PASSIVE checkpoints never block the writer or readers; what a
/// checkpoint cannot copy yet is copied by the next.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How often the checkpointer looks at the WAL.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

impl Checkpointer {
    /// Starts checkpointing the store at `path` (a file, opened by [`open`] first).
    ///
    /// If no thread can be started, the writer's own auto-checkpoint does the work.
    pub(crate) fn start(path: &Path) -> Result<Checkpointer, BusError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let stop = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let signal = std::sync::Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || {
                let (stopped, wake) = &*signal;
                let mut guard = stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                while !*guard {
                    guard =
                        wake.wait_timeout(guard, CHECKPOINT_EVERY).unwrap_or_else(std::sync::PoisonError::into_inner).0;
                    // A failed checkpoint is retried on the next tick; the writer's own
                    // auto-checkpoint is the backstop.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .ok();
        Ok(Checkpointer { stop, thread })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
