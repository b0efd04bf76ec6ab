//! `callsynth serve`: the EventBridge API on the embedded bus, for the AWS CLI and SDKs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use bus::{EventBus, Handler, Limits, Location};
use clap::Args;
use server::http::{ServeConfig, serve};

use crate::builtins::Builtins;
use crate::config::Config;

pub const EXAMPLES: &str = "\
Examples:
  callsynth serve
      The EventBridge API on 127.0.0.1:4010, state in callsynth.db. A fresh store holds only
      the `default` bus, as a fresh AWS account does, so the setup guide's commands work as
      written with --endpoint-url:
  aws events create-event-bus --name twilio-call-events --endpoint-url http://127.0.0.1:4010
  aws events put-events --entries file://entries.json --endpoint-url http://127.0.0.1:4010
  callsynth serve --init-guide --db /tmp/guide.db
      Pre-create the guide's bus, rules and targets instead.
  curl -s 127.0.0.1:4010/metrics";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:4010", value_name = "ADDR:PORT")]
    listen: String,
    /// The store (shared with `callsynth run`, `stats`, `dlq`).
    #[arg(long, default_value = "callsynth.db", value_name = "PATH")]
    db: PathBuf,
    /// Create the setup guide's bus, rules and targets (or callsynth.toml's) before serving.
    #[arg(long)]
    init_guide: bool,
    /// Connection threads.
    #[arg(long, default_value_t = 8, value_name = "N")]
    threads: usize,
}

pub fn run(args: &ServeArgs) -> Result<ExitCode> {
    let db = args.db.clone();
    let display = db.display().to_string();
    // Open once here so a bad store or config fails before anything listens.
    let mut bus = EventBus::open(&db, Location::default(), Limits::default())
        .with_context(|| format!("--db {display}: cannot open the store"))?;
    processors::create_tables(bus.connection()).with_context(|| format!("--db {display}"))?;
    if !bus.has_bus("default") {
        bus.create_bus("default", None).context("creating the default bus")?;
    }
    if args.init_guide {
        let config = if std::path::Path::new("callsynth.toml").exists() {
            Config::load(std::path::Path::new("callsynth.toml"))?
        } else {
            Config::guide()
        };
        config.apply(&mut bus)?;
    }
    drop(bus);

    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).context("installing the SIGTERM handler")?;
    let config = ServeConfig { listen: args.listen.clone(), threads: args.threads.max(1), ..ServeConfig::default() };
    eprintln!(
        "callsynth serve: EventBridge API on http://{} (store {display}); /health, /metrics; Ctrl-C or SIGTERM stops",
        args.listen
    );
    let open = move || {
        let bus = EventBus::open(&db, Location::default(), Limits::default()).expect("the store opened a moment ago");
        (bus, Box::new(Builtins) as Box<dyn Handler>)
    };
    let counters = serve(&config, open, stop)?;
    eprintln!(
        "callsynth serve: stopped after {} requests ({} errors); pending deliveries stay in {display}",
        counters.requests.load(Ordering::Relaxed),
        counters.errors.load(Ordering::Relaxed)
    );
    Ok(ExitCode::SUCCESS)
}
