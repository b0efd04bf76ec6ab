//! The generator flags shared by `generate` and `run`.

use anyhow::Result;
use clap::Args;
use synth::encode::{EncodeOptions, Encoder, Format, Schema};
use synth::generator::{Generator, GeneratorConfig};
use synth::pairing::Strategy;
use synth::plan::PlanSettings;
use synth::status::StatusRates;

use crate::persona_source::PersonaArgs;

/// What calls to generate, and how their events are addressed.
#[derive(Debug, Args)]
pub struct GeneratorArgs {
    /// Number of calls to generate.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub calls: u64,

    /// Seed of every random choice; the same seed gives byte-identical output.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    /// Worker threads for rendering (default: all cores). Does not change the output.
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,

    /// Pairing: random, frustrated (difficult customers, High-competence agents), patient
    /// (patient customers, any agent), challenging (difficult customers, Low-competence agents).
    #[arg(long, default_value = "random", value_name = "STRATEGY")]
    pub strategy: Strategy,

    #[command(flatten)]
    pub personas: PersonaArgs,

    /// Start of the simulated window (RFC 3339).
    #[arg(long, default_value = "2026-01-05T08:00:00Z", value_name = "TIME")]
    pub start: String,

    /// Length of the simulated window: a number with s, m, h or d (e.g. 7d, 36h).
    #[arg(long, default_value = "7d", value_name = "DURATION")]
    pub window: String,

    /// Final-status mix, summing to 1 (statuses left out get 0).
    #[arg(
        long,
        value_name = "RATES",
        default_value = "completed=0.86,busy=0.03,no-answer=0.05,failed=0.02,canceled=0.04"
    )]
    pub status_rates: StatusRates,

    /// Probability that a caller whose problem was not fixed calls again later in the window.
    #[arg(long, default_value_t = 0.35, value_name = "P")]
    pub repeat_probability: f64,

    /// Simulated speech-recognition word error rate in transcription text (e.g. 0.08).
    #[arg(long, default_value_t = 0.0, value_name = "WER")]
    pub asr_wer: f64,

    /// EventBridge source of the events.
    #[arg(long, default_value = "aws.partner/twilio.com")]
    pub source: String,

    /// EventBridge account of the events (12 digits).
    #[arg(long, default_value = "123456789012")]
    pub account: String,

    /// EventBridge region of the events.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,

    /// EventBusName of PutEvents entries.
    #[arg(long, default_value = "twilio-call-events")]
    pub event_bus_name: String,
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

impl GeneratorArgs {
    /// Rendering threads: `--threads`, or every core.
    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// The generator and encoder these flags describe.
    ///
    /// # Errors
    ///
    /// A bad flag value or persona file, naming the flag or the file.
    pub fn build(&self, format: Format, schema: Schema) -> Result<(Generator, Encoder)> {
        if self.account.len() != 12 || !self.account.bytes().all(|b| b.is_ascii_digit()) {
            anyhow::bail!("--account {:?}: an AWS account id is 12 digits", self.account);
        }
        let start_ms = synth::clock::parse_rfc3339(&self.start).map_err(|e| anyhow::anyhow!("--start {e}"))?;
        let window_ms = parse_window(&self.window)?;
        let (catalog, pool) = self.personas.load(self.seed)?;
        let config = GeneratorConfig {
            seed: self.seed,
            calls: self.calls,
            start_ms,
            window_ms,
            strategy: self.strategy,
            plan: PlanSettings {
                status_rates: self.status_rates,
                repeat_probability: self.repeat_probability,
                ..PlanSettings::default()
            },
            asr_wer: self.asr_wer,
            ..GeneratorConfig::default()
        };
        let generator = Generator::new(config, catalog, pool)?;
        let encoder = Encoder::new(EncodeOptions {
            format,
            schema,
            source: self.source.clone(),
            account: self.account.clone(),
            region: self.region.clone(),
            event_bus_name: self.event_bus_name.clone(),
            ..EncodeOptions::default()
        });
        Ok((generator, encoder))
    }
}
