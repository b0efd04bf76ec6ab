//! `callsynth serve`: the EventBridge API on the embedded bus, for the AWS CLI and SDKs, and the
//! Twilio Event Streams bridge.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use bus::{EventBus, Handler, Limits, Location};
use clap::Args;
use server::http::{ServeConfig, TwilioConfig, serve_on};

use crate::builtins::Builtins;
use crate::cmd_store;
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
  TWILIO_AUTH_TOKEN=… callsynth serve --init-guide --public-url https://example.ngrok.app
      Also receive a Twilio Event Streams webhook sink at POST /twilio/events (signature
      checked) and put its events on twilio-call-events in the guide's envelope.
  curl -s 127.0.0.1:4010/metrics";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free one; the banner on stderr names it).
    #[arg(long, default_value = "127.0.0.1:4010", value_name = "ADDR:PORT")]
    listen: String,
    /// The store (shared with `callsynth run`, `stats`, `dlq`).
    #[arg(long, default_value = "callsynth.db", value_name = "PATH")]
    db: PathBuf,
    /// Create the setup guide's bus, rules and targets (or callsynth.toml's) before serving.
    #[arg(long)]
    init_guide: bool,
    /// Most connections served at once (each has its own thread); one more is answered 503.
    #[arg(long, default_value_t = 512, value_name = "N")]
    max_connections: usize,
    /// Auth token that signs Twilio's deliveries to POST /twilio/events (also TWILIO_AUTH_TOKEN).
    /// Without one, every delivery is refused with 403.
    #[arg(long, value_name = "TOKEN")]
    twilio_auth_token: Option<String>,
    /// Accept Twilio deliveries without checking their signature (a warning on every request).
    /// Local experiments only.
    #[arg(long)]
    insecure_dev: bool,
    /// The bus Twilio's events go to.
    #[arg(long, default_value = "twilio-call-events", value_name = "BUS")]
    twilio_bus: String,
    /// Verify AWS SigV4 signatures on API requests and refuse everything else (needs
    /// --sigv4-key). Without it, any signature (or none) is accepted.
    #[arg(long)]
    require_sigv4: bool,
    /// An access key the API accepts, ID:SECRET; repeat for more (also CALLSYNTH_SIGV4_KEYS,
    /// comma-separated).
    #[arg(long = "sigv4-key", value_name = "ID:SECRET")]
    sigv4_keys: Vec<String>,
    /// Where to send the Segment outbox when SEGMENT_WRITE_KEY is set (also SEGMENT_ENDPOINT;
    /// default https://api.segment.io). The outbox is flushed from its own thread every
    /// couple of seconds, so a slow or dead Segment never holds the bus.
    #[arg(long, value_name = "URL")]
    segment_endpoint: Option<String>,
    /// Scheme and host as Twilio calls this server, when a proxy or tunnel sits in front
    /// (e.g. https://example.ngrok.app); the signature covers the URL Twilio used.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

/// How often the outbox is sent while serving.
const SEGMENT_FLUSH_SECONDS: u64 = 2;

/// Sends the Segment outbox from its own connection until `stop`, then once more.
fn segment_flusher(db: &std::path::Path, mut sender: segment::client::Sender, stop: &AtomicBool) {
    let conn = match rusqlite::Connection::open(db) {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("callsynth serve: the Segment flusher cannot open {}: {e}", db.display());
            return;
        }
    };
    let _ = conn.busy_timeout(std::time::Duration::from_secs(10));
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        match processors::outbox::unsent(&conn) {
            Ok(0) => {}
            Ok(_) => match cmd_store::flush(&conn, &mut sender) {
                Ok(report) if report.delivered > 0 || report.dead > 0 || report.stopped.is_some() => {
                    eprintln!("{}", cmd_store::describe_flush(&report));
                }
                Ok(_) => {}
                Err(e) => eprintln!("callsynth serve: Segment flush: {e:#}"),
            },
            Err(e) => eprintln!("callsynth serve: Segment outbox: {e}"),
        }
        if stopping {
            return;
        }
        for _ in 0..SEGMENT_FLUSH_SECONDS * 10 {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
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
    let auth_token = args
        .twilio_auth_token
        .clone()
        .or_else(|| std::env::var("TWILIO_AUTH_TOKEN").ok())
        .filter(|t| !t.trim().is_empty());
    if args.insecure_dev {
        eprintln!("callsynth serve: WARNING --insecure-dev: Twilio signatures are NOT checked");
    } else if auth_token.is_none() {
        eprintln!("callsynth serve: no Twilio auth token: POST /twilio/events answers 403 until one is set");
    }
    let mut key_texts = args.sigv4_keys.clone();
    if let Ok(env) = std::env::var("CALLSYNTH_SIGV4_KEYS") {
        key_texts.extend(env.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned));
    }
    let sigv4_keys = key_texts
        .iter()
        .map(|k| {
            server::sigv4::AccessKey::parse(k).with_context(|| {
                format!("--sigv4-key: expected ID:SECRET, got {:?}", k.split(':').next().unwrap_or(""))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if args.require_sigv4 && sigv4_keys.is_empty() {
        anyhow::bail!("--require-sigv4 needs at least one --sigv4-key ID:SECRET (or CALLSYNTH_SIGV4_KEYS)");
    }
    let config = ServeConfig {
        require_sigv4: args.require_sigv4,
        sigv4_keys,
        listen: args.listen.clone(),
        max_connections: args.max_connections.max(1),
        twilio: TwilioConfig {
            auth_token,
            insecure_dev: args.insecure_dev,
            bus: args.twilio_bus.clone(),
            public_url: args.public_url.clone(),
        },
        ..ServeConfig::default()
    };
    // Bound here, so that the address printed is the one in use (port 0 picks a free one).
    let listener = std::net::TcpListener::bind(&args.listen)
        .with_context(|| format!("--listen {}: cannot listen there", args.listen))?;
    let address = listener.local_addr().context("reading the listening address")?;
    eprintln!(
        "callsynth serve: EventBridge API on http://{address} (store {display}); /health, /metrics; Ctrl-C or SIGTERM stops"
    );
    let flusher = match cmd_store::segment_sender(args.segment_endpoint.as_deref())? {
        Some(_) if display == ":memory:" => {
            eprintln!(
                "callsynth serve: a :memory: store cannot be flushed to Segment from another thread; messages stay in the outbox"
            );
            None
        }
        Some(sender) => {
            eprintln!("callsynth serve: sending the Segment outbox every {} s", SEGMENT_FLUSH_SECONDS);
            let (db, stop) = (db.clone(), Arc::clone(&stop));
            Some(std::thread::spawn(move || segment_flusher(&db, sender, &stop)))
        }
        None => None,
    };
    let open = move || {
        let bus = EventBus::open(&db, Location::default(), Limits::default()).expect("the store opened a moment ago");
        (bus, Box::new(Builtins::default()) as Box<dyn Handler>)
    };
    let counters = serve_on(listener, &config, open, Arc::clone(&stop))?;
    // The flusher makes a last pass once the bus has stopped.
    stop.store(true, Ordering::Relaxed);
    if let Some(flusher) = flusher {
        let _ = flusher.join();
    }
    eprintln!(
        "callsynth serve: stopped after {} requests ({} errors); pending deliveries stay in {display}",
        counters.requests.load(Ordering::Relaxed),
        counters.errors.load(Ordering::Relaxed)
    );
    Ok(ExitCode::SUCCESS)
}
