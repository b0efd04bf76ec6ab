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

fn sentiment() -> Result<ExitCode> {
    let vader = Vader::get();
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (n, line) in stdin.split(b'\n').enumerate() {
        let mut line = line.context("reading stdin")?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let text = std::str::from_utf8(&line).with_context(|| format!("stdin line {}: not UTF-8", n + 1))?;
        serde_json::to_writer(&mut out, &vader.polarity_scores(text))?;
        out.write_all(b"\n")?;
    }
    out.flush().context("writing stdout")?;
    Ok(ExitCode::SUCCESS)
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
    println!("{}", serde_json::to_string_pretty(&analysis)?);
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
