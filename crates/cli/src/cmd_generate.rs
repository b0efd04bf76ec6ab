//! `callsynth generate`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::{CallStatus, Outcome};
use synth::encode::{Format, Schema};
use synth::generator::{RunError, Summary};
use synth::sink::NdjsonSink;

use crate::generator_args::GeneratorArgs;
use crate::output::Output;

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
    #[command(flatten)]
    generator: GeneratorArgs,

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

    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: GenerateArgs) -> Result<ExitCode> {
    let (generator, encoder) = args.generator.build(args.format, args.schema)?;
    let events = Output::create(args.out.as_deref(), "--out")?;
    let records = args.calls_out.as_deref().map(|p| Output::create(Some(p), "--calls-out")).transpose()?;
    let with_records = records.is_some();
    let mut sink = NdjsonSink::new(args.format, events, records);

    let bar = if args.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(Some(args.generator.calls), ProgressDrawTarget::stderr_with_hz(8));
        bar.set_style(
            ProgressStyle::with_template("{spinner} generating [{bar:30}] {pos}/{len} calls  {per_sec}  eta {eta}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar
    };
    let threads = args.generator.threads();
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
