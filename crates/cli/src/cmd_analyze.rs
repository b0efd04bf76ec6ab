//! `callsynth analyze`: VADER sentiment of lines of text, and the full analytics of one
//! transcription.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use analytics::analysis::{CallContext, analyze};
use analytics::transcript::{Speaker, Turn, parse_labelled};
use analytics::vader::Vader;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde::Deserialize;

pub const EXAMPLES: &str = "Examples:
  echo 'The agent was GREAT, thanks!!' | callsynth analyze sentiment
  callsynth analyze sentiment < sentences.txt > scores.ndjson
  callsynth analyze transcript call.txt
  callsynth generate --calls 1 --calls-out /dev/stdout --out /dev/null | callsynth analyze transcript -";

#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// VADER sentiment of each line of stdin: one JSON object per line with `compound`, `pos`,
    /// `neu`, `neg` — the same numbers as the Python package vaderSentiment 3.3.2.
    Sentiment,
    /// Full analytics of one transcription, as JSON: per-turn sentiment, the customer's mood,
    /// escalation, resolution, talk metrics and scores.
    ///
    /// Reads speaker-labelled text (`Customer: …` / `Agent: …`, one turn per line), a JSON array of
    /// turns (`speaker`, `text`, optional `start`/`end` in seconds), or a call record from
    /// `generate --calls-out` (its timed turns are used).
    Transcript {
        /// The transcription; `-` reads stdin.
        #[arg(value_name = "FILE|-")]
        file: PathBuf,
        /// Earlier contacts from the same customer (feeds the improved scores).
        #[arg(long, default_value_t = 0, value_name = "N")]
        previous_contacts: u32,
    },
}

pub fn run(cmd: AnalyzeCommand) -> Result<ExitCode> {
    match cmd {
        AnalyzeCommand::Sentiment => sentiment(),
        AnalyzeCommand::Transcript { file, previous_contacts } => transcript(&file, previous_contacts),
    }
}

/// Lines read per round: enough to keep both cores busy, few enough to stream.
const SENTIMENT_CHUNK: usize = 16_384;
/// Lines per parallel task.
const SENTIMENT_TASK: usize = 512;

fn sentiment() -> Result<ExitCode> {
    use rayon::prelude::*;
    let vader = Vader::get();
    let mut stdin = std::io::stdin().lock();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut buf: Vec<u8> = Vec::new();
    let mut lines: Vec<(usize, usize)> = Vec::with_capacity(SENTIMENT_CHUNK);
    let mut line_no = 0usize;
    loop {
        buf.clear();
        lines.clear();
        while lines.len() < SENTIMENT_CHUNK {
            let start = buf.len();
            if stdin.read_until(b'\n', &mut buf).context("reading stdin")? == 0 {
                break;
            }
            let mut end = buf.len();
            if buf[end - 1] == b'\n' {
                end -= 1;
            }
            if end > start && buf[end - 1] == b'\r' {
                end -= 1;
            }
            lines.push((start, end));
        }
        if lines.is_empty() {
            break;
        }
        // Scored in parallel, written in input order.
        let scored: Vec<Result<String, usize>> = lines
            .par_chunks(SENTIMENT_TASK)
            .enumerate()
            .map(|(task, spans)| {
                let mut text_out = String::with_capacity(spans.len() * 64);
                for (i, &(start, end)) in spans.iter().enumerate() {
                    let text =
                        std::str::from_utf8(&buf[start..end]).map_err(|_| line_no + task * SENTIMENT_TASK + i + 1)?;
                    write_polarity(&mut text_out, &vader.polarity_scores(text));
                }
                Ok(text_out)
            })
            .collect();
        for part in scored {
            let part = part.map_err(|n| anyhow::anyhow!("stdin line {n}: not UTF-8"))?;
            out.write_all(part.as_bytes()).context("writing stdout")?;
        }
        line_no += lines.len();
    }
    out.flush().context("writing stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// One output line, `{"compound":…,"pos":…,"neu":…,"neg":…}`, numbers printed shortest-exact
/// as Python prints them.
fn write_polarity(out: &mut String, p: &analytics::vader::Polarity) {
    let mut number = ryu::Buffer::new();
    for (key, value) in
        [("{\"compound\":", p.compound), (",\"pos\":", p.pos), (",\"neu\":", p.neu), (",\"neg\":", p.neg)]
    {
        out.push_str(key);
        out.push_str(number.format_finite(value));
    }
    out.push_str("}\n");
}

/// A turn as JSON: the generator's and the common transcript-export shapes.
#[derive(Deserialize)]
struct JsonTurn {
    speaker: String,
    text: String,
    start: Option<f64>,
    end: Option<f64>,
}

#[derive(Deserialize)]
struct JsonCall {
    #[serde(default)]
    turns: Vec<JsonTurn>,
    transcription: Option<JsonText>,
}

#[derive(Deserialize)]
struct JsonText {
    text: String,
}

fn transcript(file: &PathBuf, previous_contacts: u32) -> Result<ExitCode> {
    let name = file.display().to_string();
    let mut input = String::new();
    if name == "-" {
        std::io::stdin().read_to_string(&mut input).context("reading stdin")?;
    } else {
        input = std::fs::read_to_string(file).with_context(|| format!("{name}: cannot read"))?;
    }
    let turns = read_turns(&input).with_context(|| format!("{name}: not a transcription"))?;
    if turns.is_empty() {
        bail!("{name}: the transcription is empty");
    }
    let analysis = analyze(&turns, CallContext { previous_contacts });
    outln!("{}", serde_json::to_string_pretty(&analysis)?)?;
    Ok(ExitCode::SUCCESS)
}

fn read_turns(input: &str) -> Result<Vec<Turn>> {
    let from_json = |turns: Vec<JsonTurn>| {
        turns
            .into_iter()
            .map(|t| Turn { speaker: Speaker::from_label(&t.speaker), text: t.text, start: t.start, end: t.end })
            .collect()
    };
    match input.trim_start().as_bytes().first() {
        Some(b'[') => Ok(from_json(serde_json::from_str(input).context("a JSON array of turns")?)),
        Some(b'{') => {
            // The first JSON value: a `--calls-out` file may hold many calls, one per line.
            let call: JsonCall = serde_json::Deserializer::from_str(input)
                .into_iter()
                .next()
                .context("empty input")?
                .context("a call record with `turns` or `transcription.text`")?;
            if !call.turns.is_empty() {
                Ok(from_json(call.turns))
            } else if let Some(t) = call.transcription {
                Ok(parse_labelled(&t.text))
            } else {
                bail!("the call record has neither turns nor a transcription (a call that was not answered?)")
            }
        }
        _ => Ok(parse_labelled(input)),
    }
}
