//! `callsynth eval`: transcript analytics scored against the generator's ground truth.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use analytics::analysis::{CallContext, analyze};
use analytics::eval::{Binary, Confusion, pearson};
use analytics::origin::keyword_analytics;
use analytics::scores::origin_scores;
use analytics::transcript::parse_labelled;
use analytics::{Resolution, Sentiment};
use anyhow::{Context, Result};
use clap::Args;
use model::{Outcome, SentimentLabel};
use serde::Deserialize;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A dataset written by `callsynth generate --calls-out FILE`.
    #[arg(long, value_name = "FILE")]
    calls: PathBuf,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// The parts of a call record eval reads.
#[derive(Deserialize)]
struct Record {
    transcription: Option<Text>,
    truth: Option<Truth>,
}

#[derive(Deserialize)]
struct Text {
    text: String,
}

#[derive(Deserialize)]
struct Truth {
    outcome: Outcome,
    escalated: bool,
    sentiment_label: SentimentLabel,
    csat: u8,
}

const RESOLUTION_LABELS: [&str; 4] = ["resolved", "partially_resolved", "unresolved", "unknown"];
const SENTIMENT_LABELS: [&str; 3] = ["positive", "neutral", "negative"];

/// Scores of one analyser over a dataset.
#[derive(Default)]
struct Score {
    escalation: Binary,
    resolution: Confusion<4>,
    sentiment: Confusion<3>,
    csat: Vec<(f64, f64)>,
}

impl Score {
    fn add(&mut self, truth: &Truth, escalated: bool, resolution: Resolution, sentiment: Sentiment, satisfaction: u8) {
        self.escalation.add(escalated, truth.escalated);
        self.resolution.add(truth_resolution(truth.outcome), resolution_index(resolution));
        self.sentiment.add(truth_sentiment(truth.sentiment_label), sentiment_index(sentiment));
        self.csat.push((f64::from(truth.csat), f64::from(satisfaction)));
    }

    /// Macro F1 over the three true classes (an `unknown` answer is a miss for its call).
    fn resolution_f1(&self) -> f64 {
        (0..3).map(|i| self.resolution.binary(i).f1()).sum::<f64>() / 3.0
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "escalation_precision": self.escalation.precision(),
            "escalation_recall": self.escalation.recall(),
            "escalation_f1": self.escalation.f1(),
            "resolution_f1": self.resolution_f1(),
            "resolution_confusion": self.resolution.counts,
            "sentiment_accuracy": self.sentiment.accuracy(),
            "sentiment_confusion": self.sentiment.counts,
            "csat_satisfaction_correlation": pearson(&self.csat),
        })
    }
}

fn truth_resolution(o: Outcome) -> usize {
    match o {
        Outcome::Resolved => 0,
        Outcome::PartiallyResolved => 1,
        Outcome::Unresolved | Outcome::Escalated | Outcome::Abandoned => 2,
    }
}

fn resolution_index(r: Resolution) -> usize {
    match r {
        Resolution::Resolved => 0,
        Resolution::PartiallyResolved => 1,
        Resolution::Unresolved => 2,
        Resolution::Unknown => 3,
    }
}

fn sentiment_index(s: Sentiment) -> usize {
    match s {
        Sentiment::Positive => 0,
        Sentiment::Neutral => 1,
        Sentiment::Negative => 2,
    }
}

fn truth_sentiment(s: SentimentLabel) -> usize {
    match s {
        SentimentLabel::Positive => 0,
        SentimentLabel::Neutral => 1,
        SentimentLabel::Negative => 2,
    }
}

pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    let file =
        std::fs::File::open(&args.calls).with_context(|| format!("--calls {}: cannot read", args.calls.display()))?;
    let mut ours = Score::default();
    let mut baseline = Score::default();
    let mut evaluated = 0u64;
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("--calls {}: read failed", args.calls.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&line).with_context(|| {
            format!(
                "--calls {}:{}: not a call record (write one with `generate --calls-out`)",
                args.calls.display(),
                n + 1
            )
        })?;
        let (Some(text), Some(truth)) = (record.transcription, record.truth) else { continue };
        evaluated += 1;
        let a = analyze(&parse_labelled(&text.text), CallContext::default());
        ours.add(&truth, a.escalation.is_some(), a.resolution, a.sentiment, a.scores.satisfaction_score);
        let k = keyword_analytics(&text.text);
        let scores = origin_scores(k.sentiment, k.resolution, k.escalation, k.word_count);
        baseline.add(&truth, k.escalation, k.resolution, k.sentiment, scores.satisfaction_score);
    }
    if evaluated == 0 {
        anyhow::bail!("--calls {}: no talked calls with ground truth to evaluate", args.calls.display());
    }
    let (ours, baseline) = (ours.json(), baseline.json());
    if args.json {
        // callsynth's own figures at the top level; both analysers side by side under `analyzers`.
        let mut out = serde_json::json!({"calls": evaluated});
        for key in ["escalation_f1", "resolution_f1", "sentiment_accuracy", "csat_satisfaction_correlation"] {
            out[key] = ours[key].clone();
        }
        out["analyzers"] = serde_json::json!({"callsynth": ours, "origin_keywords": baseline});
        outln!("{out}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let cell = |j: &serde_json::Value, key: &str| j[key].as_f64().map_or("-".into(), |v| format!("{:.3}", v));
    outln!("{evaluated} talked calls with ground truth\n")?;
    outln!("{:<34}{:>12}{:>18}", "", "callsynth", "origin keywords")?;
    for (label, key) in [
        ("escalation precision", "escalation_precision"),
        ("escalation recall", "escalation_recall"),
        ("escalation F1", "escalation_f1"),
        ("resolution F1 (macro, 3 classes)", "resolution_f1"),
        ("sentiment accuracy", "sentiment_accuracy"),
        ("CSAT ~ satisfaction_score (r)", "csat_satisfaction_correlation"),
    ] {
        outln!("{label:<34}{:>12}{:>18}", cell(&ours, key), cell(&baseline, key))?;
    }
    for (name, j) in [("callsynth", &ours), ("origin keywords", &baseline)] {
        outln!("\nresolution (rows: truth, columns: {name}'s answer)")?;
        outln!("{:<20}{}", "", RESOLUTION_LABELS.iter().map(|l| format!("{l:>20}")).collect::<String>())?;
        for (i, label) in RESOLUTION_LABELS.iter().take(3).enumerate() {
            outln!(
                "{label:<20}{}",
                (0..4)
                    .map(|k| format!("{:>20}", j["resolution_confusion"][i][k].as_u64().unwrap_or(0)))
                    .collect::<String>()
            )?;
        }
        outln!("\nsentiment (rows: truth, columns: {name}'s answer)")?;
        outln!("{:<20}{}", "", SENTIMENT_LABELS.iter().map(|l| format!("{l:>12}")).collect::<String>())?;
        for (i, label) in SENTIMENT_LABELS.iter().enumerate() {
            outln!(
                "{label:<20}{}",
                (0..3)
                    .map(|k| format!("{:>12}", j["sentiment_confusion"][i][k].as_u64().unwrap_or(0)))
                    .collect::<String>()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
