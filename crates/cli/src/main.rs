//! `callsynth`: synthetic Twilio call data, offline and deterministic.
//!
//! This binary only parses flags, calls the library crates and prints; every behaviour worth
//! testing lives in a library or is reachable through the integration tests in `tests/it`.

/// `println!` that hands back the write's error instead of panicking: `callsynth … | head`
/// then ends quietly (see `output::is_broken_pipe`) rather than with a panic.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)
    }};
}

/// mimalloc: the analytics and the store's row building allocate many small strings per call;
/// glibc's allocator spent about an eighth of `callsynth run` on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod builtins;
mod cmd_analyze;
mod cmd_eval;
mod cmd_generate;
mod cmd_pattern;
mod cmd_personas;
mod cmd_run;
mod cmd_serve;
mod cmd_store;
mod config;
mod generator_args;
mod output;
mod persona_source;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Synthetic contact-centre calls with the exact Twilio events they produce.
#[derive(Debug, Parser)]
#[command(name = "callsynth", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The setup guide, offline: generate calls, put their events on an embedded EventBridge-style
    /// bus, route them with the guide's two rules and deliver them to the built-in processors.
    #[command(after_long_help = cmd_run::EXAMPLES)]
    Run(Box<cmd_run::RunArgs>),
    /// Serve the EventBridge API (AWS JSON 1.1) on the embedded bus, for the AWS CLI and SDKs, and
    /// a Twilio Event Streams webhook sink that bridges onto it.
    #[command(after_long_help = cmd_serve::EXAMPLES)]
    Serve(cmd_serve::ServeArgs),
    /// Write callsynth.toml: the setup guide's bus, rules and targets, commented, for `run`.
    Init {
        /// Where to write it.
        #[arg(long, default_value = "callsynth.toml", value_name = "FILE")]
        out: std::path::PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// What a run's store holds: calls by status, handle time, per-rule and per-target counters,
    /// dead letters.
    Stats(cmd_store::StoreArgs),
    /// Archives of a bus's events, for replay.
    #[command(subcommand)]
    Archive(cmd_store::ArchiveCommand),
    /// Replays a window of an archive's events onto its bus and delivers them.
    Replay(cmd_store::ReplayArgs),
    /// Durable queues that rules deliver to.
    #[command(subcommand)]
    Queue(cmd_store::QueueCommand),
    /// The Segment outbox: identify and track messages the update-segment-profile processor queued.
    #[command(subcommand)]
    Segment(cmd_store::SegmentCommand),
    /// Dead letters: deliveries that ran out of retries.
    #[command(subcommand)]
    Dlq(cmd_store::DlqCommand),
    /// Generate calls: transcripts, ground truth and their Twilio events as NDJSON.
    #[command(after_long_help = cmd_generate::EXAMPLES)]
    Generate(Box<cmd_generate::GenerateArgs>),
    /// Score transcript analytics against a dataset's ground truth: callsynth's analyser and the
    /// origin template's keyword analyser (the baseline), side by side.
    Eval(cmd_eval::EvalArgs),
    /// Sentiment of text (VADER) and full analytics of a transcription.
    #[command(subcommand, after_long_help = cmd_analyze::EXAMPLES)]
    Analyze(cmd_analyze::AnalyzeCommand),
    /// List or validate customer and agent personas.
    #[command(subcommand)]
    Personas(cmd_personas::PersonasCommand),
    /// Test, check and run EventBridge event patterns.
    #[command(subcommand)]
    Pattern(cmd_pattern::PatternCommand),
}

/// `callsynth init`.
fn init(out: &std::path::Path, force: bool) -> anyhow::Result<ExitCode> {
    if out.exists() && !force {
        anyhow::bail!("{} exists; add --force to replace it", out.display());
    }
    std::fs::write(out, config::GUIDE).map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", out.display()))?;
    eprintln!("wrote {}: the setup guide's bus, rules and targets; `callsynth run` reads it", out.display());
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd_run::run(*args),
        Command::Stats(args) => cmd_store::stats(&args),
        Command::Serve(args) => cmd_serve::run(&args),
        Command::Analyze(cmd) => cmd_analyze::run(cmd),
        Command::Init { out, force } => init(&out, force),
        Command::Dlq(cmd) => cmd_store::dlq(cmd),
        Command::Segment(cmd) => cmd_store::segment(cmd),
        Command::Queue(cmd) => cmd_store::queue(cmd),
        Command::Archive(cmd) => cmd_store::archive(cmd),
        Command::Replay(args) => cmd_store::replay(args),
        Command::Generate(args) => cmd_generate::run(*args),
        Command::Personas(cmd) => cmd_personas::run(cmd),
        Command::Eval(args) => cmd_eval::run(&args),
        Command::Pattern(cmd) => cmd_pattern::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) if output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
