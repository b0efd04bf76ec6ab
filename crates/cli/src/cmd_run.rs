//! `callsynth run`: the setup guide, offline, in one command — generate calls, put their events
//! on the embedded bus, let the guide's rules route them, deliver to the built-in processors.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bus::{EventBus, Limits, Location, PutEventsEntry};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use synth::encode::{Format, Schema};
use synth::generator::RunError;
use synth::sink::{CallSink, RenderedCall};

use crate::builtins::Builtins;
use crate::cmd_store;
use crate::config::Config;
use crate::generator_args::GeneratorArgs;

pub const EXAMPLES: &str = "\
Examples:
  callsynth run
      1,000 calls through bus twilio-call-events into callsynth.db.
  callsynth run --calls 100000 --seed 7 --db /tmp/big.db
  callsynth run --resume
      Finish a run that was interrupted (Ctrl-C, kill -9): nothing lost, nothing twice.
  callsynth run --fresh
      Delete callsynth.db first and start over.
  sqlite3 callsynth.db 'SELECT status, COUNT(*) FROM calls GROUP BY status'";

const CONFIG_KEY: &str = "run.config";
const PUT_KEY: &str = "run.calls_put";

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    generator: GeneratorArgs,

    /// The store: one SQLite file holding the event log, the delivery queue, dead letters,
    /// metrics and the processors' tables (`calls`, `transcripts`). `:memory:` for a throw-away
    /// run.
    #[arg(long, default_value = "callsynth.db", value_name = "PATH")]
    db: PathBuf,

    /// Finish an interrupted run in --db with the same flags: calls whose events were accepted
    /// are not put again, and deliveries already made are not repeated.
    #[arg(long, conflicts_with = "fresh")]
    resume: bool,

    /// Delete --db first and start over.
    #[arg(long)]
    fresh: bool,

    /// Buses, rules and targets to set up (see `callsynth init`). Default: ./callsynth.toml if
    /// it exists, otherwise the setup guide's.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Where to send the Segment outbox when SEGMENT_WRITE_KEY is set (scheme and host; also
    /// read from SEGMENT_ENDPOINT). Default https://api.segment.io; EU workspaces:
    /// https://events.eu1.segmentapis.com. Without a write key, messages stay in the outbox.
    #[arg(long, value_name = "URL")]
    segment_endpoint: Option<String>,

    /// No progress bars and no summary.
    #[arg(long, short)]
    quiet: bool,
}

/// Puts each batch of calls on the bus in one transaction, with how many calls are now in.
struct BusSink {
    bus: EventBus,
    /// Index of the next call the generator hands over.
    next_call: u64,
    /// Calls already put by an earlier, interrupted run.
    skip: u64,
    events_put: u64,
    refused: u64,
    first_refusal: Option<String>,
}

impl CallSink for BusSink {
    type Error = anyhow::Error;

    fn accept(&mut self, batch: &[RenderedCall]) -> Result<()> {
        let mut requests: Vec<Vec<PutEventsEntry>> = Vec::new();
        let mut request = Vec::with_capacity(10);
        for call in batch {
            let index = self.next_call;
            self.next_call += 1;
            if index < self.skip {
                continue;
            }
            for event in call.events() {
                request.push(serde_json::from_slice(event).context("the generator wrote an unreadable entry")?);
                if request.len() == 10 {
                    requests.push(std::mem::replace(&mut request, Vec::with_capacity(10)));
                }
            }
        }
        if !request.is_empty() {
            requests.push(request);
        }
        if requests.is_empty() {
            return Ok(());
        }
        let put = self.next_call.to_string();
        let results = self.bus.put_event_batches(&requests, Some((PUT_KEY, &put)))?;
        for result in results.iter().flatten() {
            if result.event_id.is_some() {
                self.events_put += 1;
            } else {
                self.refused += 1;
                self.first_refusal.get_or_insert_with(|| {
                    format!(
                        "{}: {}",
                        result.error_code.as_deref().unwrap_or("?"),
                        result.error_message.as_deref().unwrap_or("")
                    )
                });
            }
        }
        Ok(())
    }
}

fn bar(quiet: bool, len: u64, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(8));
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}}  {{per_sec}}  eta {{eta}}"
        ))
        .expect("static template")
        .progress_chars("=> "),
    );
    bar
}

fn remove_store(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("--fresh: cannot delete {}", PathBuf::from(path).display()));
            }
        }
    }
    Ok(())
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let db = args.db.display().to_string();
    // Check everything the user wrote before touching the store.
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None if Path::new("callsynth.toml").exists() => Config::load(Path::new("callsynth.toml"))?,
        None => Config::guide(),
    };
    if args.fresh && args.db != Path::new(":memory:") {
        remove_store(&args.db)?;
    }
    let (generator, encoder) = args.generator.build(Format::PutEvents, Schema::Seed)?;
    let location = Location { account: args.generator.account.clone(), region: args.generator.region.clone() };
    let mut bus = EventBus::open(&args.db, location, Limits::default())
        .with_context(|| format!("--db {db}: cannot open the store"))?;
    processors::create_tables(bus.connection()).with_context(|| format!("--db {db}"))?;

    // Which run is this? The flags that shape the events are the run's identity.
    let identity = format!("{:?}", args.generator).replace(&format!("threads: {:?}, ", args.generator.threads), "");
    let skip = match (bus.checkpoint(CONFIG_KEY)?, args.resume) {
        (None, _) => {
            bus.set_checkpoint(CONFIG_KEY, &identity)?;
            0
        }
        (Some(_), false) => anyhow::bail!(
            "--db {db} already holds a run. Add --resume to finish it with the same flags, --fresh to delete it \
             and start over, or choose another --db."
        ),
        (Some(saved), true) if saved != identity => anyhow::bail!(
            "--resume: --db {db} holds a run made with other flags; resume it with the same flags as before, \
             or start over with --fresh"
        ),
        (Some(_), true) => bus.checkpoint(PUT_KEY)?.map_or(Ok(0), |n| n.parse()).context("corrupt run checkpoint")?,
    };
    config.apply(&mut bus)?;

    // 1. Generate and put (each batch of calls in one transaction).
    let calls = args.generator.calls;
    let generating = bar(args.quiet, calls, "generating + putting");
    generating.set_position(skip);
    let mut sink = BusSink { bus, next_call: 0, skip, events_put: 0, refused: 0, first_refusal: None };
    let summary = generator
        .run(args.generator.threads(), &encoder, false, &mut sink, |done| generating.set_position(done))
        .map_err(|e| match e {
            RunError::Sink(err) => err.context(format!("--db {db}: putting events failed")),
            other => anyhow::anyhow!("{other}"),
        })?;
    generating.finish_and_clear();
    let put_elapsed = started.elapsed();
    let BusSink { mut bus, events_put, refused, first_refusal, .. } = sink;
    if let Some(why) = &first_refusal {
        eprintln!("warning: {refused} entries were refused; the first: {why}");
    }

    // 2. Deliver until the queue is empty (retries wait for their backoff).
    let (delivered, dead) = deliver_all(&mut bus, args.quiet)?;

    // 3. Send the Segment outbox, if there is somewhere to send it.
    if let Some(mut sender) = cmd_store::segment_sender(args.segment_endpoint.as_deref())? {
        let report = cmd_store::flush(bus.connection(), &mut sender)?;
        if !args.quiet {
            eprintln!("{}", cmd_store::describe_flush(&report));
        }
    }
    if !args.quiet {
        print_summary(
            &bus,
            &db,
            &Totals {
                calls,
                skipped: skip,
                generated: summary.calls,
                events_put,
                refused,
                delivered,
                dead,
                put_elapsed,
                elapsed: started.elapsed(),
            },
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Delivers until the queue is empty or holds only retries due more than a couple of seconds
/// from now (those stay queued; running again delivers them). Returns (delivered,
/// dead-lettered).
/// Retries due later than this are left in the store rather than waited for: a target that is
/// down must not hold the command for the hours its retry policy allows.
const RETRY_WAIT_LIMIT_SECONDS: f64 = 2.0;

pub fn deliver_all(bus: &mut EventBus, quiet: bool) -> Result<(u64, u64)> {
    let delivering = bar(quiet, bus.pending()?, "delivering");
    let mut handler = Builtins::default();
    let (mut delivered, mut dead) = (0u64, 0u64);
    loop {
        let report = bus.deliver_due(&mut handler, bus::now(), 4096)?;
        delivered += report.delivered;
        dead += report.dead_lettered;
        delivering.inc(report.delivered + report.dead_lettered);
        if report == bus::DeliveryReport::default() {
            match bus.next_due()? {
                Some(due) if due - bus::now() <= RETRY_WAIT_LIMIT_SECONDS => {
                    std::thread::sleep(Duration::from_secs_f64((due - bus::now()).clamp(0.01, 1.0)));
                }
                _ => break,
            }
        }
    }
    delivering.finish_and_clear();
    Ok((delivered, dead))
}

struct Totals {
    calls: u64,
    skipped: u64,
    generated: u64,
    events_put: u64,
    refused: u64,
    delivered: u64,
    dead: u64,
    put_elapsed: Duration,
    elapsed: Duration,
}

fn print_summary(bus: &EventBus, db: &str, t: &Totals) -> Result<()> {
    let secs = t.elapsed.as_secs_f64().max(1e-9);
    let mut out = Vec::new();
    let resumed = if t.skipped > 0 { format!(" (resumed after {} calls)", t.skipped) } else { String::new() };
    out.push(format!(
        "ran {} calls{resumed} in {secs:.2}s: {:.0} calls/s; {} events put in {:.2}s ({:.0} events/s), {} deliveries",
        t.calls,
        t.generated.saturating_sub(t.skipped) as f64 / secs,
        t.events_put,
        t.put_elapsed.as_secs_f64(),
        t.events_put as f64 / t.put_elapsed.as_secs_f64().max(1e-9),
        t.delivered,
    ));
    if t.refused > 0 {
        out.push(format!("  {} entries were refused by the bus", t.refused));
    }
    out.extend(store_report(bus, db, t.dead)?);
    eprintln!("{}", out.join("\n"));
    Ok(())
}

/// What the store holds: calls by status, handle time, counters, dead letters, where it is.
pub fn store_report(bus: &EventBus, db: &str, dead_this_session: u64) -> Result<Vec<String>> {
    let conn = bus.connection();
    let mut out = Vec::new();
    let mut stmt = conn.prepare("SELECT status, COUNT(*) FROM calls GROUP BY status ORDER BY COUNT(*) DESC")?;
    let statuses: Vec<String> = stmt
        .query_map([], |r| Ok(format!("{} {}", r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<_, _>>()?;
    out.push(format!("  calls table:    {}", statuses.join(", ")));
    let (aht, transcripts): (Option<f64>, i64) = conn.query_row(
        "SELECT (SELECT AVG(duration_seconds) FROM calls WHERE status = 'completed'), (SELECT COUNT(*) FROM transcripts)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    out.push(format!(
        "  handle time:    {} s on average for completed calls; {transcripts} transcripts",
        aht.map_or("-".into(), |s| format!("{s:.0}"))
    ));
    for (scope, name, value) in bus.metrics()? {
        if matches!(
            name.as_str(),
            "TriggeredRules" | "Invocations" | "FailedInvocations" | "DeadLetterInvocations" | "Errors"
        ) {
            out.push(format!("  {name:<22}{value:>9}  {scope}"));
        }
    }
    for (scope, calls, p50, p99) in bus.durations()? {
        out.push(format!("  processor time  p50 < {p50} µs, p99 < {p99} µs over {calls} calls  {scope}"));
    }
    let mut stmt =
        conn.prepare("SELECT sentiment, COUNT(*) FROM call_analytics GROUP BY sentiment ORDER BY COUNT(*) DESC")?;
    let sentiments: Vec<String> = stmt
        .query_map([], |r| Ok(format!("{} {}", r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut stmt =
        conn.prepare("SELECT resolution, COUNT(*) FROM call_analytics GROUP BY resolution ORDER BY COUNT(*) DESC")?;
    let resolutions: Vec<String> = stmt
        .query_map([], |r| Ok(format!("{} {}", r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<_, _>>()?;
    let (escalated, profiles, messages, unsent): (i64, i64, i64, i64) = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM call_analytics WHERE escalated), (SELECT COUNT(*) FROM segment_profiles),
                (SELECT COUNT(*) FROM segment_outbox), (SELECT COUNT(*) FROM segment_outbox WHERE sent_at IS NULL)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    out.push(format!("  sentiment:      {}", sentiments.join(", ")));
    out.push(format!("  resolution:     {}; escalated {escalated}", resolutions.join(", ")));
    out.push(format!(
        "  segment:        {messages} messages for {profiles} profiles in the outbox ({unsent} unsent); \
         `callsynth segment export` writes them as /v1/batch bodies"
    ));
    let dlq: i64 = conn.query_row("SELECT COUNT(*) FROM dead_letters", [], |r| r.get(0))?;
    let pending = bus.pending()?;
    out.push(format!("  dead letters:   {dlq} ({dead_this_session} this session); deliveries waiting: {pending}"));
    if pending > 0 {
        out.push(
            "  (waiting deliveries are retries in backoff; running the same command again with --resume delivers them)"
                .into(),
        );
    }
    out.push(format!("  data:           {db} (tables calls, transcripts, call_analytics, segment_profiles, segment_outbox, events, deliveries, dead_letters, metrics)"));
    out.push("  try:".into());
    out.push(format!(
        "    sqlite3 {db} \"SELECT status, COUNT(*), ROUND(AVG(duration_seconds)) FROM calls GROUP BY status\""
    ));
    out.push(format!(
        "    sqlite3 {db} \"SELECT call_sid, word_count FROM transcripts ORDER BY word_count DESC LIMIT 5\""
    ));
    out.push(format!(
        "    sqlite3 {db} \"SELECT user_id, total_calls FROM segment_profiles ORDER BY total_calls DESC LIMIT 5\""
    ));
    Ok(out)
}
