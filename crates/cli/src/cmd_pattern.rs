//! `callsynth pattern test|check|match`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Subcommand;
use pattern::{Matcher, Pattern, Scratch, explain};

#[derive(Debug, Subcommand)]
pub enum PatternCommand {
    /// Does an event match a pattern? Prints `match` (exit 0) or `no match` (exit 1); an invalid
    /// pattern or event exits 2 with the reason on stderr (EventBridge's wording for patterns).
    #[command(after_long_help = "Examples:
  callsynth pattern test --pattern '{\"detail-type\": [\"com.twilio.voice.call.completed\"]}' --event @event.json
  callsynth pattern test --pattern @rule.json --event @event.json --explain")]
    Test {
        /// The pattern as JSON text, or @FILE to read it from a file.
        #[arg(long, value_name = "JSON|@FILE")]
        pattern: String,
        /// The event as JSON text, or @FILE.
        #[arg(long, value_name = "JSON|@FILE")]
        event: String,
        /// On no match, say which field fails and why.
        #[arg(long)]
        explain: bool,
    },
    /// Validate pattern files; prints each file's verdict, exits 1 if any is invalid.
    Check {
        /// Files holding one pattern each.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Count matches of named patterns over NDJSON events; events/s on stderr.
    Match {
        /// A JSON object {"name": pattern, ...}.
        #[arg(long, value_name = "FILE")]
        patterns: PathBuf,
        /// Events, one JSON object per line.
        #[arg(long, value_name = "FILE")]
        events: PathBuf,
    },
}

fn text_or_file(arg: &str, flag: &str) -> Result<String> {
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("{flag} @{path}: cannot read")),
        None => Ok(arg.to_string()),
    }
}

pub fn run(cmd: PatternCommand) -> Result<ExitCode> {
    match cmd {
        PatternCommand::Test { pattern, event, explain: want_explain } => {
            let pattern_text = text_or_file(&pattern, "--pattern")?;
            let event_text = text_or_file(&event, "--event")?;
            let parsed = match Pattern::parse(&pattern_text) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let mut m = Matcher::new();
            m.add_parsed("pattern", &parsed);
            match m.matches(event_text.as_bytes()) {
                Err(e) => {
                    eprintln!("invalid --event: {e}");
                    Ok(ExitCode::from(2))
                }
                Ok(hits) if !hits.is_empty() => {
                    outln!("match")?;
                    Ok(ExitCode::SUCCESS)
                }
                Ok(_) => {
                    outln!("no match")?;
                    if want_explain && let Some(why) = explain(&parsed, event_text.as_bytes())? {
                        outln!("{why}")?;
                    }
                    Ok(ExitCode::from(1))
                }
            }
        }
        PatternCommand::Check { files } => {
            let mut bad = false;
            for file in &files {
                let text = std::fs::read_to_string(file).with_context(|| format!("{}: cannot read", file.display()))?;
                match Pattern::parse(&text) {
                    Ok(p) => outln!(
                        "{}: ok ({} branch{})",
                        file.display(),
                        p.branches.len(),
                        if p.branches.len() == 1 { "" } else { "es" }
                    )?,
                    Err(e) => {
                        bad = true;
                        eprintln!("{}: {e}", file.display());
                    }
                }
            }
            Ok(if bad { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        PatternCommand::Match { patterns, events } => {
            let text = std::fs::read_to_string(&patterns)
                .with_context(|| format!("--patterns {}: cannot read", patterns.display()))?;
            // Raw pattern texts, so numbers keep their spelling (a double would round them).
            let object: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
                serde_json::from_str(&text).with_context(|| {
                    format!("--patterns {}: expected a JSON object {{\"name\": pattern, ...}}", patterns.display())
                })?;
            let mut m = Matcher::new();
            let mut names = Vec::new();
            for (name, p) in &object {
                m.add(name, p.get()).with_context(|| format!("--patterns {}: pattern {name:?}", patterns.display()))?;
                names.push(name.clone());
            }
            let file =
                std::fs::File::open(&events).with_context(|| format!("--events {}: cannot read", events.display()))?;
            let mut reader = BufReader::with_capacity(1 << 20, file);
            let mut counts = vec![0u64; names.len()];
            let (mut total, mut invalid) = (0u64, 0u64);
            let mut scratch = Scratch::new();
            let mut line = Vec::new();
            let started = Instant::now();
            for n in 1.. {
                line.clear();
                if reader
                    .read_until(b'\n', &mut line)
                    .with_context(|| format!("--events {}: read failed", events.display()))?
                    == 0
                {
                    break;
                }
                if line.trim_ascii().is_empty() {
                    continue;
                }
                total += 1;
                match m.matches_with(line.trim_ascii_end(), &mut scratch) {
                    Ok(ids) => ids.iter().for_each(|&id| counts[id as usize] += 1),
                    Err(e) => {
                        invalid += 1;
                        if invalid <= 5 {
                            eprintln!("{}:{n}: {e}", events.display());
                        }
                    }
                }
            }
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            let mut out = std::io::stdout().lock();
            for (name, c) in names.iter().zip(&counts) {
                writeln!(out, "{name}\t{c}")?;
            }
            eprintln!("{total} events ({invalid} invalid) in {secs:.3}s: {:.0} events/s", total as f64 / secs);
            Ok(if invalid > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}
