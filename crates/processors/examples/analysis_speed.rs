//! How long `analytics::analysis::analyze` takes per transcript, on one thread, over the
//! transcripts a `callsynth run` stored: the first pass starts with empty memos (every distinct
//! turn read once), the later passes find every turn read before.
//!
//! ```text
//! callsynth run --calls 50000 --db /tmp/run.db -q
//! cargo run --release -p processors --example analysis_speed -- /tmp/run.db
//! ```

use std::time::Instant;

use analytics::analysis::{CallContext, analyze};
use analytics::transcript::parse_labelled;

fn main() {
    let Some(source) = std::env::args().nth(1) else {
        eprintln!("usage: analysis_speed RUN_DB");
        std::process::exit(2);
    };
    // Read-only: a mistyped path is an error, not a new empty store.
    let conn = rusqlite::Connection::open_with_flags(&source, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("{source}: cannot open the run's store: {e}"));
    let texts: Vec<String> = conn
        .prepare("SELECT text FROM transcripts ORDER BY rowid")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("transcripts");
    assert!(!texts.is_empty(), "{source} holds no transcripts: run `callsynth run` into it first");
    let calls: Vec<_> = texts.iter().map(|t| parse_labelled(t)).collect();
    for pass in ["cold", "warm", "warm"] {
        let started = Instant::now();
        for turns in &calls {
            std::hint::black_box(analyze(turns, CallContext::default()));
        }
        let each = started.elapsed().as_secs_f64() * 1e6 / calls.len() as f64;
        println!("{} transcripts, {pass} memos: {each:.1} µs each", calls.len());
    }
}
