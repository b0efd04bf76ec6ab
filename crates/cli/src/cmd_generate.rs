//! `callsynth generate`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::{CallStatus, Outcome};
use synth::encode::{EncodeOptions, Encoder, Format, Schema};
use synth::generator::{Generator, GeneratorConfig, RunError, Summary};
use synth::pairing::Strategy;
use synth::plan::PlanSettings;
use synth::sink::NdjsonSink;
use synth::status::StatusRates;

use crate::output::Output;
use crate::persona_source::PersonaArgs;

pub const EXAMPLES: &str = "\
Examples:
  callsynth generate --calls 1000 --out events.ndjson
      1,000 calls as EventBridge envelopes (the setup guide's schema).
  callsynth generate --calls 200 --calls-out calls.ndjson --out /dev/null
      The analyst's dataset: personas, turns with timings, ground truth.
  callsynth generate --format putevents --calls 50 | head -1
      AWS PutEvents request bodies, 10 entries each.
  callsynth generate --format cloudevents --schema twilio --calls 5
      What a Twilio Event Streams webhook sink would POST.
  callsynth generate --strategy challenging --asr-wer 0.1 --customers 5000 --calls 100000

Output is byte-identical for the same --seed whatever --threads is.";

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of calls to generate.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    calls: u64,

    /// Seed of every random choice; the same seed gives byte-identical output.
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,

    /// Worker threads for rendering (default: all cores). Does not change the output.
    #[arg(long, value_name = "T")]
    threads: Option<usize>,

    /// Write events here (default: standard output). Written to a temporary file and renamed,
    /// so a failed run leaves no partial file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Line format: eventbridge (one envelope per line), cloudevents (one Twilio webhook
    /// delivery, a JSON array, per line) or putevents (one PutEvents body of up to 10 entries
    /// per line).
    #[arg(long, default_value = "eventbridge", value_name = "FORMAT")]
    format: Format,

    /// Event vocabulary: seed (the setup guide's detail-types and snake_case details) or twilio
    /// (Twilio's Event Streams status-callback types with Voice.WebhookEvent data).
    #[arg(long, default_value = "seed", value_name = "SCHEMA")]
    schema: Schema,

    /// Also write the full call records (personas, turns with timings, ground truth) as NDJSON.
    #[arg(long, value_name = "FILE")]
    calls_out: Option<PathBuf>,

    /// Pairing: random, frustrated (difficult customers, High-competence agents), patient
    /// (patient customers, any agent), challenging (difficult customers, Low-competence agents).
    #[arg(long, default_value = "random", value_name = "STRATEGY")]
    strategy: Strategy,

    #[command(flatten)]
    personas: PersonaArgs,

    /// Start of the simulated window (RFC 3339).
    #[arg(long, default_value = "2026-01-05T08:00:00Z", value_name = "TIME")]
    start: String,

    /// Length of the simulated window: a number with s, m, h or d (e.g. 7d, 36h).
    #[arg(long, default_value = "7d", value_name = "DURATION")]
    window: String,

    /// Final-status mix, summing to 1 (statuses left out get 0).
    #[arg(
        long,
        value_name = "RATES",
        default_value = "completed=0.86,busy=0.03,no-answer=0.05,failed=0.02,canceled=0.04"
    )]
    status_rates: StatusRates,

    /// Probability that a caller whose problem was not fixed calls again later in the window.
    #[arg(long, default_value_t = 0.35, value_name = "P")]
    repeat_probability: f64,

    /// Simulated speech-recognition word error rate in transcription text (e.g. 0.08).
    #[arg(long, default_value_t = 0.0, value_name = "WER")]
    asr_wer: f64,

    /// EventBridge source of the events.
    #[arg(long, default_value = "aws.partner/twilio.com")]
    source: String,

    /// EventBridge account of the events (12 digits).
    #[arg(long, default_value = "123456789012")]
    account: String,

    /// EventBridge region of the events.
    #[arg(long, default_value = "us-east-1")]
    region: String,

    /// EventBusName of PutEvents entries.
    #[arg(long, default_value = "twilio-call-events")]
    event_bus_name: String,

    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
}

/// Parses `7d`, `36h`, `90m`, `3600s` into milliseconds.
fn parse_window(text: &str) -> Result<i64> {
    let bad = || anyhow::anyhow!("--window {text:?}: expected a positive number followed by s, m, h or d (e.g. 7d)");
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit {
        "s" => 1e3,
        "m" => 60e3,
        "h" => 3600e3,
        "d" => 86_400e3,
        _ => return Err(bad()),
    };
    let ms = n * scale;
    if !(1.0..3.2e12).contains(&ms) {
        return Err(bad());
    }
    Ok(ms as i64)
}

pub fn run(args: GenerateArgs) -> Result<ExitCode> {
    if args.account.len() != 12 || !args.account.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("--account {:?}: an AWS account id is 12 digits", args.account);
    }
    let start_ms = synth::clock::parse_rfc3339(&args.start).map_err(|e| anyhow::anyhow!("--start {e}"))?;
    let window_ms = parse_window(&args.window)?;
    let (catalog, pool) = args.personas.load(args.seed)?;
    let config = GeneratorConfig {
        seed: args.seed,
        calls: args.calls,
        start_ms,
        window_ms,
        strategy: args.strategy,
        plan: PlanSettings {
            status_rates: args.status_rates,
            repeat_probability: args.repeat_probability,
            ..PlanSettings::default()
        },
        asr_wer: args.asr_wer,
        ..GeneratorConfig::default()
    };
    let generator = Generator::new(config, catalog, pool)?;
    let encoder = Encoder::new(EncodeOptions {
        format: args.format,
        schema: args.schema,
        source: args.source,
        account: args.account,
        region: args.region,
        event_bus_name: args.event_bus_name,
        ..EncodeOptions::default()
    });
    let events = Output::create(args.out.as_deref(), "--out")?;
    let records = args.calls_out.as_deref().map(|p| Output::create(Some(p), "--calls-out")).transpose()?;
    let with_records = records.is_some();
    let mut sink = NdjsonSink::new(args.format, events, records);

    let bar = if args.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(Some(args.calls), ProgressDrawTarget::stderr_with_hz(8));
        bar.set_style(
            ProgressStyle::with_template("{spinner} generating [{bar:30}] {pos}/{len} calls  {per_sec}  eta {eta}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar
    };
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let summary = generator.run(threads, &encoder, with_records, &mut sink, |done| bar.set_position(done)).map_err(
        |e| match e {
            RunError::Sink(io) => anyhow::Error::new(io).context("writing output failed"),
            other => anyhow::anyhow!("{other}"),
        },
    )?;
    bar.finish_and_clear();
    let (event_bytes, record_bytes) = (sink.event_bytes, sink.record_bytes);
    let (events, records) = sink.into_inner();
    events.commit()?;
    if let Some(records) = records {
        records.commit().context("--calls-out")?;
    }
    if !args.quiet {
        print_summary(&summary, event_bytes, record_bytes, args.out.as_ref(), args.calls_out.as_ref());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(s: &Summary, event_bytes: u64, record_bytes: u64, out: Option<&PathBuf>, calls_out: Option<&PathBuf>) {
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let mb = (event_bytes + record_bytes) as f64 / 1e6;
    let mut lines = vec![format!(
        "generated {} calls, {} events in {:.2}s ({:.0} calls/s, {:.1} MB/s)",
        s.calls,
        s.events,
        secs,
        s.calls as f64 / secs,
        mb / secs
    )];
    let statuses: Vec<String> = CallStatus::ALL
        .iter()
        .zip(s.by_status)
        .filter(|(_, n)| *n > 0)
        .map(|(st, n)| format!("{} {n}", st.as_str()))
        .collect();
    lines.push(format!("  status:   {}", statuses.join(", ")));
    let outcomes: Vec<String> =
        Outcome::ALL.iter().zip(s.by_outcome).map(|(o, n)| format!("{} {n}", o.as_str())).collect();
    lines.push(format!("  outcome:  {}", outcomes.join(", ")));
    lines.push(format!("  escalated {}, repeat contacts {}", s.escalated, s.repeat_contacts));
    let place = |p: Option<&PathBuf>| p.map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    lines.push(format!("  events:   {} ({:.1} MB)", place(out), event_bytes as f64 / 1e6));
    if calls_out.is_some() {
        lines.push(format!("  calls:    {} ({:.1} MB)", place(calls_out), record_bytes as f64 / 1e6));
    }
    eprintln!("{}", lines.join("\n"));
}
