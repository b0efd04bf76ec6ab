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
  callsynth generate --format cloudevents --schema twilio --calls 20 \
      --to-webhook http://127.0.0.1:4010/twilio/events --twilio-auth-token T
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

    /// POST each webhook delivery (needs --format cloudevents) to this URL, signed exactly as
    /// Twilio signs Event Streams deliveries (`bodySHA256` query parameter and
    /// `X-Twilio-Signature`), e.g. http://127.0.0.1:4010/twilio/events on `callsynth serve`.
    #[arg(long, value_name = "URL")]
    to_webhook: Option<String>,

    /// The auth token that signs --to-webhook deliveries (also TWILIO_AUTH_TOKEN).
    #[arg(long, value_name = "TOKEN")]
    twilio_auth_token: Option<String>,

    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(mut args: GenerateArgs) -> Result<ExitCode> {
    // --to-webhook: generate into a file (--out, or a temporary one), then deliver its lines.
    let webhook = match args.to_webhook.take() {
        None => None,
        Some(url) => {
            if args.format != Format::CloudEvents {
                anyhow::bail!("--to-webhook sends webhook deliveries: add --format cloudevents");
            }
            let token = args
                .twilio_auth_token
                .clone()
                .or_else(|| std::env::var("TWILIO_AUTH_TOKEN").ok())
                .filter(|t| !t.trim().is_empty())
                .context("--to-webhook signs deliveries: give --twilio-auth-token or set TWILIO_AUTH_TOKEN")?;
            let scratch = tempfile::tempdir().context("a temporary directory for --to-webhook")?;
            if args.out.is_none() {
                args.out = Some(scratch.path().join("deliveries.ndjson"));
            }
            Some((url, token, scratch))
        }
    };
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
    if let Some((url, token, _scratch)) = webhook {
        let path = args.out.as_ref().expect("set above");
        return deliver_to_webhook(path, &url, &token, args.quiet);
    }
    Ok(ExitCode::SUCCESS)
}

/// POSTs each line of `path` (a JSON array of CloudEvents) to `url`, signed as Twilio signs Event
/// Streams deliveries. 5xx and connection failures are retried three times; the exit status
/// says whether every delivery was accepted.
fn deliver_to_webhook(path: &std::path::Path, url: &str, token: &str, quiet: bool) -> Result<ExitCode> {
    use std::io::BufRead;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let file = std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let (mut sent, mut failed) = (0u64, 0u64);
    for line in std::io::BufReader::new(file).lines() {
        let body = line.context("reading the deliveries")?;
        let (signed_url, signature) = server::twilio_signature::sign_json(token, url, body.as_bytes());
        let mut outcome = String::new();
        let ok = (0..4).any(|attempt| {
            if attempt > 0 {
                std::thread::sleep(std::time::Duration::from_millis(500 * attempt));
            }
            let response = agent
                .post(&signed_url)
                .header("Content-Type", "application/json")
                .header("X-Twilio-Signature", &signature)
                .header("User-Agent", "TwilioProxy/1.1 (callsynth)")
                .send(body.as_str());
            match response {
                Ok(r) if r.status().is_success() => true,
                Ok(r) => {
                    outcome = format!("{url} answered {}", r.status());
                    // 4xx will not change on retry.
                    if r.status().is_client_error() {
                        return true;
                    }
                    false
                }
                Err(e) => {
                    outcome = format!("{url}: {e}");
                    false
                }
            }
        });
        if ok && outcome.is_empty() {
            sent += 1;
        } else {
            failed += 1;
            eprintln!("delivery {} failed: {outcome}", sent + failed);
        }
    }
    if !quiet {
        eprintln!("  webhook:  {sent} deliveries accepted by {url}, {failed} failed");
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
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
