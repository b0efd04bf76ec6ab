//! `callsynth stats` and `callsynth dlq list|redrive`: reading and repairing a run's store.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use bus::{EventBus, Limits, Location};
use clap::{Args, Subcommand};

use crate::cmd_run;

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store a `callsynth run` wrote.
    #[arg(long, default_value = "callsynth.db", value_name = "PATH")]
    db: PathBuf,
}

impl StoreArgs {
    fn open(&self) -> Result<EventBus> {
        let db = self.db.display();
        if !self.db.exists() {
            anyhow::bail!("--db {db}: no such store (create one with `callsynth run`)");
        }
        let bus = EventBus::open(&self.db, Location::default(), Limits::default())
            .with_context(|| format!("--db {db}: cannot open the store"))?;
        processors::create_tables(bus.connection()).with_context(|| format!("--db {db}"))?;
        Ok(bus)
    }
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Lists dead letters: event, rule, target, attempts and the last error.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Show at most this many.
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: usize,
    },
    /// Puts dead letters back on the delivery queue with a fresh retry budget, and delivers.
    Redrive {
        #[command(flatten)]
        store: StoreArgs,
        /// Dead-letter ids (from `dlq list`); all of them with --all.
        #[arg(value_name = "ID", required_unless_present = "all")]
        ids: Vec<i64>,
        /// Redrive every dead letter.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Takes messages from a durable queue (a target ARN arn:aws:sqs:REGION:ACCOUNT:NAME),
    /// oldest first, and prints one per line (the event as the target received it).
    Receive {
        /// The queue's name (the ARN's last part).
        name: String,
        #[command(flatten)]
        store: StoreArgs,
        /// Take at most this many.
        #[arg(long, default_value_t = 10, value_name = "N")]
        max: usize,
    },
}

/// `callsynth queue …`.
pub fn queue(cmd: QueueCommand) -> Result<ExitCode> {
    match cmd {
        QueueCommand::Receive { name, store, max } => {
            let mut bus = store.open()?;
            // A message leaves the queue only once its line is written: if the reader goes
            // away (`| head`), the rest stay queued.
            let mut out = std::io::stdout().lock();
            match bus.receive_with(&name, max, |_, body| writeln!(out, "{body}").and_then(|()| out.flush())) {
                Ok(0) => eprintln!("queue {name:?} is empty"),
                Ok(_) => {}
                Err(bus::ReceiveError::Consumer(e)) => return Err(e).context("writing the messages"),
                Err(bus::ReceiveError::Bus(e)) => return Err(e.into()),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Starts archiving a bus's events (all, or those a pattern matches) for `callsynth replay`.
    Create {
        /// Archive name (1–48 of letters, digits, '.', '-', '_').
        name: String,
        /// The bus to archive.
        #[arg(long, default_value = "twilio-call-events")]
        bus: String,
        /// Keep only events this EventBridge pattern matches (JSON, or @FILE).
        #[arg(long, value_name = "JSON|@FILE")]
        pattern: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A name for this replay (replayed events carry it as "replay-name").
    name: String,
    /// The archive to replay from.
    #[arg(long)]
    archive: String,
    /// Start of the event-time window (RFC 3339, inclusive); default: the beginning.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// End of the event-time window (RFC 3339, exclusive); default: now.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Replay only to these rules (repeatable); default: every rule of the bus.
    #[arg(long = "rule", value_name = "RULE")]
    rules: Vec<String>,
    #[command(flatten)]
    store: StoreArgs,
}

/// `callsynth archive …`.
pub fn archive(cmd: ArchiveCommand) -> Result<ExitCode> {
    match cmd {
        ArchiveCommand::Create { name, bus: bus_name, pattern, store } => {
            let pattern = match pattern {
                Some(p) => Some(match p.strip_prefix('@') {
                    Some(path) => {
                        std::fs::read_to_string(path).with_context(|| format!("--pattern {p}: cannot read"))?
                    }
                    None => p,
                }),
                None => None,
            };
            let mut bus = store.open()?;
            let arn = bus.create_archive(&name, &bus_name, pattern.as_deref())?;
            outln!("{arn}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `callsynth replay`.
pub fn replay(args: ReplayArgs) -> Result<ExitCode> {
    let time = |flag: &str, text: &Option<String>, default: f64| -> Result<f64> {
        match text {
            None => Ok(default),
            Some(t) => {
                synth::clock::parse_rfc3339(t).map(|ms| ms as f64 / 1000.0).map_err(|e| anyhow::anyhow!("{flag} {e}"))
            }
        }
    };
    let (from, to) = (time("--from", &args.from, f64::MIN)?, time("--to", &args.to, bus::now())?);
    let mut bus = args.store.open()?;
    let rules = (!args.rules.is_empty()).then_some(args.rules.as_slice());
    let replayed = bus.replay(&args.name, &args.archive, from, to, rules)?;
    let (delivered, dead) = cmd_run::deliver_all(&mut bus, false)?;
    outln!("replayed {replayed} events: {delivered} deliveries, {dead} dead-lettered")?;
    Ok(ExitCode::SUCCESS)
}

/// `callsynth stats`.
pub fn stats(args: &StoreArgs) -> Result<ExitCode> {
    let bus = args.open()?;
    outln!("{}", cmd_run::store_report(&bus, &args.db.display().to_string(), 0)?.join("\n"))?;
    let metrics = bus.metrics()?;
    if !metrics.is_empty() {
        outln!("  all counters:")?;
        for (scope, name, value) in metrics.into_iter().filter(|(_, n, _)| !n.starts_with(bus::DURATION_BUCKET)) {
            outln!("    {name:<26}{value:>10}  {scope}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `callsynth dlq …`.
pub fn dlq(cmd: DlqCommand) -> Result<ExitCode> {
    match cmd {
        DlqCommand::List { store, limit } => {
            let bus = store.open()?;
            let letters = bus.dead_letters(limit)?;
            if letters.is_empty() {
                outln!("no dead letters in {}", store.db.display())?;
            }
            for d in letters {
                outln!(
                    "{}\tevent {}\tattempts {}\t{}: {}\n\trule {}\n\ttarget {}{}",
                    d.id,
                    d.event_id,
                    d.attempts,
                    d.error_code,
                    d.error_message,
                    d.rule_arn,
                    d.target_arn,
                    d.queue_arn.map(|q| format!("\n\tqueue {q}")).unwrap_or_default()
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        DlqCommand::Redrive { store, ids, all } => {
            let mut bus = store.open()?;
            let moved = bus.redrive(if all { None } else { Some(&ids) })?;
            if !all && (moved as usize) < ids.len() {
                eprintln!("warning: {} of the {} ids were not dead letters", ids.len() - moved as usize, ids.len());
            }
            let (delivered, dead) = cmd_run::deliver_all(&mut bus, false)?;
            outln!("redrove {moved}: {delivered} delivered, {dead} dead-lettered again")?;
            Ok(if dead > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SegmentCommand {
    /// Writes the outbox's messages as the exact `/v1/batch` bodies that would be posted to
    /// Segment (one JSON body per line; at most 2,500 messages and 500 KB each).
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Where to write; `-` is stdout.
        #[arg(long, default_value = "-", value_name = "FILE")]
        out: PathBuf,
        /// Include messages already marked sent.
        #[arg(long)]
        all: bool,
    },
    /// Sends unsent outbox messages to Segment's /v1/batch with the write key in
    /// SEGMENT_WRITE_KEY. Refused batches are kept, marked dead with Segment's answer; retryable
    /// failures stay unsent for the next flush.
    Flush {
        #[command(flatten)]
        store: StoreArgs,
        /// Scheme and host (also SEGMENT_ENDPOINT). Default https://api.segment.io.
        #[arg(long, value_name = "URL")]
        segment_endpoint: Option<String>,
    },
}

/// A Segment sender when SEGMENT_WRITE_KEY is set; the endpoint from the flag, then
/// SEGMENT_ENDPOINT, then Segment's US API.
pub fn segment_sender(endpoint_flag: Option<&str>) -> Result<Option<segment::client::Sender>> {
    let Some(key) = std::env::var("SEGMENT_WRITE_KEY").ok().and_then(segment::client::WriteKey::new) else {
        return Ok(None);
    };
    let endpoint = endpoint_flag
        .map(str::to_owned)
        .or_else(|| std::env::var("SEGMENT_ENDPOINT").ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| segment::client::DEFAULT_ENDPOINT.to_string());
    if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
        anyhow::bail!("Segment endpoint {endpoint:?}: give a URL such as https://api.segment.io");
    }
    Ok(Some(segment::client::Sender::new(segment::client::SenderConfig::new(&endpoint, key))))
}

/// Flushes the outbox now.
pub fn flush(conn: &rusqlite::Connection, sender: &mut segment::client::Sender) -> Result<processors::FlushReport> {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .context("formatting the time")?;
    processors::flush_outbox(conn, sender, &now).context("the Segment outbox")
}

/// One summary line for a flush.
pub fn describe_flush(r: &processors::FlushReport) -> String {
    let mut line = format!(
        "  segment sent:   {} messages in {} batches; {} refused (kept, marked dead); {} waiting",
        r.delivered, r.batches, r.dead, r.waiting
    );
    if let Some(why) = &r.stopped {
        line.push_str(&format!("\n  segment stopped: {why} (run `callsynth segment flush` later)"));
    }
    line
}

pub fn segment(cmd: SegmentCommand) -> Result<ExitCode> {
    let (store, out, all) = match cmd {
        SegmentCommand::Export { store, out, all } => (store, out, all),
        SegmentCommand::Flush { store, segment_endpoint } => {
            let Some(mut sender) = segment_sender(segment_endpoint.as_deref())? else {
                anyhow::bail!(
                    "SEGMENT_WRITE_KEY is not set: set it to your source's write key, or write the batches with \
                     `callsynth segment export`"
                );
            };
            let bus = store.open()?;
            let report = flush(bus.connection(), &mut sender)?;
            eprintln!("{}", describe_flush(&report));
            return Ok(if report.stopped.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS });
        }
    };
    let bus = store.open()?;
    let conn = bus.connection();
    let sql = if all {
        "SELECT body FROM segment_outbox ORDER BY seq"
    } else {
        "SELECT body FROM segment_outbox WHERE sent_at IS NULL ORDER BY seq"
    };
    let mut stmt = conn.prepare(sql)?;
    let bodies: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let sent_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .context("formatting the time")?;
    let batches = segment::batch_bodies(bodies.iter().map(String::as_str), &sent_at);
    let mut text = String::new();
    for b in &batches {
        text.push_str(b);
        text.push('\n');
    }
    if out.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout().write_all(text.as_bytes()).context("writing stdout")?;
    } else {
        std::fs::write(&out, text).with_context(|| format!("--out {}: cannot write", out.display()))?;
    }
    eprintln!("{} messages in {} batch bodies", bodies.len(), batches.len());
    Ok(ExitCode::SUCCESS)
}
