//! The HTTP server behind `callsynth serve`.
//!
//! Every connection has its own thread ([`http1`] reads its requests and writes the answers);
//! the requests go to one worker thread that owns the bus (the store is one SQLite writer),
//! which answers them in order, commits the PutEvents that wait together in one transaction
//! and, whenever it is idle, delivers what is due to the targets. A stop request (SIGTERM,
//! Ctrl-C) closes the listener; connections finish the request they are in and close, and the
//! worker answers what it was given, delivers what is due, and returns.

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bus::{EventBus, Handler};

use crate::http1::{self, BodyError, Head, HeadError, Patient};
use crate::{bridge, eventbridge, events_v1};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// `ADDR:PORT` to listen on.
    pub listen: String,
    /// Largest request body accepted (bytes); larger ones get 413 without being read further.
    pub max_body_bytes: usize,
    /// Most connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// How long a connection may wait between requests before it is closed.
    pub idle_timeout: Duration,
    /// How long a request (head and body) may take to arrive once it has begun; a client that
    /// trickles its bytes slower is disconnected.
    pub request_timeout: Duration,
    /// Once stopping (SIGTERM), how long a request that has begun may still take to arrive,
    /// counted from its start: a slow client cannot hold up the exit for `request_timeout`.
    pub stop_grace: Duration,
    /// Deliveries per idle round.
    pub delivery_batch: usize,
    /// The Twilio bridge (`POST /twilio/events`).
    pub twilio: TwilioConfig,
    /// Verify SigV4 on every API request and refuse the rest (with no keys, refuse everything).
    pub require_sigv4: bool,
    /// The access keys `require_sigv4` accepts.
    pub sigv4_keys: Vec<crate::sigv4::AccessKey>,
}

/// How `POST /twilio/events` checks and routes Twilio's deliveries.
#[derive(Clone, Default)]
pub struct TwilioConfig {
    /// The account's auth token; without one (and without `insecure_dev`) every delivery is
    /// refused with 403.
    pub auth_token: Option<String>,
    /// Skip the signature check, warning on every request. For local experiments only.
    pub insecure_dev: bool,
    /// The bus events go to.
    pub bus: String,
    /// Scheme and host as Twilio calls them (`https://example.ngrok.app`) when a proxy sits in
    /// front; otherwise `http://` + the Host header (or `X-Forwarded-Proto`).
    pub public_url: Option<String>,
}

impl std::fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("auth_token", &self.auth_token.as_ref().map(|_| "<redacted>"))
            .field("insecure_dev", &self.insecure_dev)
            .field("bus", &self.bus)
            .field("public_url", &self.public_url)
            .finish()
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: "127.0.0.1:4010".into(),
            max_body_bytes: 12 << 20,
            max_connections: 512,
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            stop_grace: Duration::from_secs(5),
            delivery_batch: 2_000,
            twilio: TwilioConfig { bus: "twilio-call-events".into(), ..TwilioConfig::default() },
            require_sigv4: false,
            sigv4_keys: Vec::new(),
        }
    }
}

/// Counters `/metrics` reports besides the bus's own.
#[derive(Debug, Default)]
pub struct ServerCounters {
    /// Requests answered, by any route.
    pub requests: AtomicU64,
    /// Requests answered with a 4xx or 5xx.
    pub errors: AtomicU64,
}

/// An answer to one request.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
    /// Close the connection after this answer (the request was not read whole, or cannot be
    /// trusted to have left the connection in step).
    close: bool,
}

impl Answer {
    fn new(status: u16, content_type: &'static str, body: String) -> Answer {
        Answer { status, content_type, body, close: false }
    }
}

/// What the bus thread sends back: status and body.
type Reply = (u16, String);

/// Work for the bus thread, with where to send the reply.
struct Job {
    work: Work,
    reply: mpsc::Sender<Reply>,
}

enum Work {
    /// A PutEvents request, parsed on its connection's thread (the bus thread only writes).
    PutEvents(Vec<bus::PutEventsEntry>),
    Api {
        target: Option<String>,
        body: Vec<u8>,
    },
    Metrics,
    Bridge(bridge::Mapped),
    EventsV1 {
        method: String,
        path: String,
        params: Vec<(String, String)>,
        account_sid: String,
    },
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
}

/// How often a waiting connection looks at the stop flag and its limits.
const TICK: Duration = Duration::from_millis(200);
/// How long writing an answer may take before the connection is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// After refusing a body unread, how long (and how much of it) to read and discard before
/// closing, so that the client, still sending, gets to read the refusal instead of a reset.
const LINGER: Duration = Duration::from_secs(5);
const LINGER_BYTES: u64 = 64 << 20;

/// What every connection thread shares.
struct Shared {
    jobs: mpsc::SyncSender<Job>,
    stop: Arc<AtomicBool>,
    counters: Arc<ServerCounters>,
    max_body: usize,
    waits: http1::Waits,
    twilio: TwilioConfig,
    sigv4: Option<Vec<crate::sigv4::AccessKey>>,
}

/// Serves until `stop` is set. `open` runs on the bus thread and builds the bus and the
/// handler that delivers to targets.
///
/// # Errors
///
/// The address cannot be bound.
pub fn serve<F>(config: &ServeConfig, open: F, stop: Arc<AtomicBool>) -> Result<Arc<ServerCounters>, ServeError>
where
    F: FnOnce() -> (EventBus, Box<dyn Handler>) + Send + 'static,
{
    let listener = TcpListener::bind(&config.listen)
        .map_err(|e| ServeError::Listen { addr: config.listen.clone(), reason: e.to_string() })?;
    serve_on(listener, config, open, stop)
}

/// [`serve`] on a listener already bound (say to port 0, whose number the caller reads first);
/// `config.listen` is not used.
///
/// # Errors
///
/// The listener's address cannot be read.
pub fn serve_on<F>(
    listener: TcpListener,
    config: &ServeConfig,
    open: F,
    stop: Arc<AtomicBool>,
) -> Result<Arc<ServerCounters>, ServeError>
where
    F: FnOnce() -> (EventBus, Box<dyn Handler>) + Send + 'static,
{
    let local =
        listener.local_addr().map_err(|e| ServeError::Listen { addr: config.listen.clone(), reason: e.to_string() })?;
    let counters = Arc::new(ServerCounters::default());
    let (jobs, inbox) = mpsc::sync_channel::<Job>(1024);
    let delivery_batch = config.delivery_batch;
    let worker = std::thread::Builder::new()
        .name("callsynth-bus".into())
        .spawn(move || bus_thread(open, inbox, delivery_batch))
        .expect("spawning the bus thread");
    let shared = Arc::new(Shared {
        jobs,
        stop: Arc::clone(&stop),
        counters: Arc::clone(&counters),
        max_body: config.max_body_bytes,
        waits: http1::Waits {
            idle: config.idle_timeout,
            request: config.request_timeout,
            after_stop: config.stop_grace,
        },
        twilio: config.twilio.clone(),
        sigv4: config.require_sigv4.then(|| config.sigv4_keys.clone()),
    });
    // `accept` does not watch the stop flag: a watcher wakes it with a connection of its own.
    let waker = {
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("callsynth-stop".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = TcpStream::connect_timeout(&wake_address(local), Duration::from_secs(1));
            })
            .expect("spawning the stop watcher")
    };
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    for stream in listener.incoming() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let mut stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                // Out of descriptors or the like: wait for connections to close.
                eprintln!("callsynth serve: accepting a connection: {e}");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        connections.retain(|c| !c.is_finished());
        if connections.len() >= config.max_connections.max(1) {
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            let refusal =
                http1::response_bytes(503, "text/plain", &[("Retry-After", "1")], b"too many connections\n", true);
            let _ = stream.write_all(&refusal);
            shared.counters.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let shared = Arc::clone(&shared);
        match std::thread::Builder::new()
            .name("callsynth-conn".into())
            .stack_size(256 << 10)
            .spawn(move || connection(stream, &shared))
        {
            Ok(handle) => connections.push(handle),
            Err(e) => eprintln!("callsynth serve: no thread for a connection: {e}"),
        }
    }
    // Stop accepting; connections answer the request they are in; the bus thread drains its
    // queue, delivers what is due, and returns.
    drop(listener);
    for c in connections {
        let _ = c.join();
    }
    drop(shared);
    let _ = worker.join();
    let _ = waker.join();
    Ok(counters)
}

/// Where to connect to reach a listener bound to `local` (an unspecified address listens on
/// loopback too).
fn wake_address(local: SocketAddr) -> SocketAddr {
    let mut address = local;
    if address.ip().is_unspecified() {
        address.set_ip(match local {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    address
}

/// One connection: requests in, answers out, until the client closes, idles past the limit,
/// sends something that cannot be answered in step, or the server stops.
fn connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(TICK));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let Ok(read_half) = stream.try_clone() else { return };
    let mut writer = stream;
    let mut reader = Patient::new(BufReader::with_capacity(16 << 10, read_half), &shared.stop, shared.waits);
    let (reply, replies) = mpsc::channel();
    loop {
        reader.await_request();
        let head = match http1::read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(HeadError::Io(_)) => {
                if reader.started() {
                    // The client went away or stalled mid-request.
                    shared.counters.errors.fetch_add(1, Ordering::Relaxed);
                }
                return;
            }
            Err(e) => {
                let status = if matches!(e, HeadError::TooLarge) { 431 } else { 400 };
                let mut answer = Answer::new(status, "text/plain", format!("{e}\n"));
                answer.close = true;
                finish(&mut writer, &mut reader, &answer, shared, 0);
                return;
            }
        };
        let face = Face::of(&head);
        let body = match http1::read_body(&head, &mut reader, &mut writer, shared.max_body) {
            Ok(body) => body,
            Err(BodyError::Io(_)) => {
                shared.counters.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(e) => {
                let status = if matches!(e, BodyError::TooLarge(_)) { 413 } else { 400 };
                let message = match e {
                    BodyError::TooLarge(max) => format!("The request body is larger than {max} bytes."),
                    other => other.to_string(),
                };
                let mut answer = face.error(status, &message);
                answer.close = true;
                let unread = match head.framing {
                    http1::Framing::Length(n) => n,
                    _ => LINGER_BYTES,
                };
                finish(&mut writer, &mut reader, &answer, shared, unread);
                return;
            }
        };
        let mut answer = route(face, &head, body, shared, &reply, &replies);
        answer.close |= !head.keep_alive || shared.stop.load(Ordering::Relaxed);
        if !finish(&mut writer, &mut reader, &answer, shared, 0) || answer.close {
            return;
        }
    }
}

/// Writes `answer`, counts it, and when it closes the connection with `unread` request bytes
/// still coming, reads and discards them (up to a limit) first. Whether the write succeeded.
fn finish<R: Read>(writer: &mut TcpStream, reader: &mut R, answer: &Answer, shared: &Shared, unread: u64) -> bool {
    shared.counters.requests.fetch_add(1, Ordering::Relaxed);
    if answer.status >= 400 {
        shared.counters.errors.fetch_add(1, Ordering::Relaxed);
    }
    let request_id = request_id();
    let bytes = http1::response_bytes(
        answer.status,
        answer.content_type,
        &[("x-amzn-RequestId", &request_id)],
        answer.body.as_bytes(),
        answer.close,
    );
    let written = writer.write_all(&bytes).is_ok();
    if written && answer.close && unread > 0 {
        let _ = writer.shutdown(std::net::Shutdown::Write);
        let started = Instant::now();
        let mut sink = [0u8; 16 << 10];
        let mut left = unread.min(LINGER_BYTES);
        while left > 0 && started.elapsed() < LINGER {
            match reader.read(&mut sink) {
                Ok(0) => break,
                Ok(n) => left = left.saturating_sub(n as u64),
                Err(_) => break,
            }
        }
    }
    written
}

/// Which API a path belongs to: it decides how errors are shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    /// `POST /`: the EventBridge JSON API.
    Aws,
    /// `/twilio/...`: the Twilio bridge.
    Bridge,
    /// `/v1/...`: Twilio's Events API.
    TwilioApi,
    /// Everything else.
    Plain,
}

impl Face {
    fn of(head: &Head) -> Face {
        match head.path() {
            "/" => Face::Aws,
            p if p.starts_with("/twilio/") => Face::Bridge,
            p if p.starts_with("/v1/") => Face::TwilioApi,
            _ => Face::Plain,
        }
    }

    fn error(self, status: u16, message: &str) -> Answer {
        match self {
            Face::Aws => {
                let code = if status == 503 { "ServiceUnavailableException" } else { "ValidationException" };
                let body = serde_json::json!({"__type": code, "message": message}).to_string();
                Answer::new(status, "application/x-amz-json-1.1", body)
            }
            Face::Bridge => Answer::new(status, "application/json", serde_json::json!({"error": message}).to_string()),
            Face::TwilioApi => {
                let code = match status {
                    401 => 20003,
                    503 => 20503,
                    _ => 20001,
                };
                let (status, body) = events_v1::error(status, code, message);
                Answer::new(status, "application/json", body)
            }
            Face::Plain => Answer::new(status, "text/plain", format!("{message}\n")),
        }
    }
}

/// Hands `work` to the bus thread and waits for its reply (`None`: the server is stopping).
fn ask(shared: &Shared, work: Work, reply: &mpsc::Sender<Reply>, replies: &mpsc::Receiver<Reply>) -> Option<Reply> {
    shared.jobs.send(Job { work, reply: reply.clone() }).ok()?;
    replies.recv().ok()
}

fn route(
    face: Face,
    head: &Head,
    body: Vec<u8>,
    shared: &Shared,
    reply: &mpsc::Sender<Reply>,
    replies: &mpsc::Receiver<Reply>,
) -> Answer {
    let shutting_down = || face.error(503, "shutting down");
    match (head.method.as_str(), face) {
        ("GET", Face::Plain) if head.path() == "/health" => Answer::new(200, "text/plain", "ok\n".into()),
        ("GET", Face::Plain) if head.path() == "/metrics" => match ask(shared, Work::Metrics, reply, replies) {
            Some((_, text)) => Answer::new(200, "text/plain; version=0.0.4", text),
            None => shutting_down(),
        },
        ("POST", Face::Aws) => {
            if let Some(keys) = &shared.sigv4 {
                let signed = crate::sigv4::SignedRequest {
                    method: "POST",
                    path: head.path(),
                    query: head.query(),
                    headers: &head.headers,
                    body: &body,
                };
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                if let Err(e) = crate::sigv4::verify(keys, &signed, now) {
                    let body = serde_json::json!({"__type": e.code, "message": e.message}).to_string();
                    return Answer::new(403, "application/x-amz-json-1.1", body);
                }
            }
            let target = head.header("x-amz-target").map(str::to_owned);
            let work = if target.as_deref() == Some("AWSEvents.PutEvents") {
                match eventbridge::parse_put_events(&body) {
                    Ok(entries) => Work::PutEvents(entries),
                    Err(refusal) => return Answer::new(refusal.status, "application/x-amz-json-1.1", refusal.body),
                }
            } else {
                Work::Api { target, body }
            };
            match ask(shared, work, reply, replies) {
                Some((status, body)) => Answer::new(status, "application/x-amz-json-1.1", body),
                None => shutting_down(),
            }
        }
        ("POST", Face::Bridge) => match bridge_work(head, &body, &shared.twilio) {
            Ok(mapped) => match ask(shared, Work::Bridge(mapped), reply, replies) {
                Some((status, body)) => Answer::new(status, "application/json", body),
                None => shutting_down(),
            },
            Err(answer) => answer,
        },
        ("GET" | "POST" | "DELETE", Face::TwilioApi) => match events_v1_work(head, body, &shared.twilio) {
            Ok(work) => match ask(shared, work, reply, replies) {
                Some((status, body)) => Answer::new(status, "application/json", body),
                None => shutting_down(),
            },
            Err(answer) => answer,
        },
        _ => Answer::new(404, "text/plain", format!("no route for {} {}\n", head.method, head.path())),
    }
}

/// Most PutEvents requests committed together.
const GROUP_COMMIT: usize = 64;

fn bus_thread<F>(open: F, inbox: mpsc::Receiver<Job>, delivery_batch: usize)
where
    F: FnOnce() -> (EventBus, Box<dyn Handler>),
{
    let (mut bus, mut handler) = open();
    if let Err(e) = bridge::create_tables(bus.connection()).and_then(|()| events_v1::create_tables(bus.connection())) {
        eprintln!("callsynth serve: the Twilio tables: {e}");
    }
    let mut since_delivery = 0usize;
    let mut next: Option<Job> = None;
    loop {
        let job = match next.take() {
            Some(job) => Ok(job),
            None => inbox.recv_timeout(Duration::from_millis(20)),
        };
        match job {
            Ok(Job { work: Work::PutEvents(entries), reply }) => {
                // Group commit: the PutEvents requests already waiting go in one transaction.
                let mut group = vec![entries];
                let mut replies = vec![reply];
                while group.len() < GROUP_COMMIT {
                    match inbox.try_recv() {
                        Ok(Job { work: Work::PutEvents(entries), reply }) => {
                            group.push(entries);
                            replies.push(reply);
                        }
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                for (reply, answer) in replies.into_iter().zip(eventbridge::put_events_grouped(&mut bus, &group)) {
                    let _ = reply.send((answer.status, answer.body));
                }
                since_delivery += group.len();
            }
            Ok(Job { work, reply }) => {
                let answer = match work {
                    // Taken with the group above; answered alone all the same.
                    Work::PutEvents(entries) => {
                        let answer = eventbridge::put_events_grouped(&mut bus, &[entries]).remove(0);
                        (answer.status, answer.body)
                    }
                    Work::Api { target, body } => {
                        let answer = eventbridge::handle(&mut bus, target.as_deref(), &body);
                        (answer.status, answer.body)
                    }
                    Work::Metrics => (200, prometheus(&bus)),
                    Work::EventsV1 { method, path, params, account_sid } => {
                        events_v1::handle(bus.connection(), &method, &path, &params, &account_sid)
                    }
                    Work::Bridge(mapped) => match bridge::put(&mut bus, mapped) {
                        Ok(report) => (200, report.json().to_string()),
                        // Not kept; Twilio retries a 5xx.
                        Err(e) => (500, serde_json::json!({"error": e.to_string()}).to_string()),
                    },
                };
                let _ = reply.send(answer);
                since_delivery += 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => since_delivery = DELIVER_EVERY,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                deliver(&mut bus, handler.as_mut(), delivery_batch);
                return;
            }
        }
        // Deliver when idle, and under sustained load now and then rather than never.
        if since_delivery >= DELIVER_EVERY {
            since_delivery = 0;
            deliver(&mut bus, handler.as_mut(), delivery_batch);
        }
    }
}

/// Requests answered between delivery rounds under sustained load.
const DELIVER_EVERY: usize = 256;

fn deliver(bus: &mut EventBus, handler: &mut dyn Handler, batch: usize) {
    if let Err(e) = bus.deliver_due(handler, bus::now(), batch) {
        eprintln!("callsynth serve: delivery failed (will retry): {e}");
    }
}

/// The bus's counters in Prometheus text format.
fn prometheus(bus: &EventBus) -> String {
    let mut out = String::from("# TYPE callsynth_events counter\n");
    match bus.metrics() {
        Ok(metrics) => {
            for (scope, name, value) in metrics {
                let labels: Vec<&str> = scope.split('/').collect();
                let (bus_name, rule, target) = match labels.as_slice() {
                    [b] => (*b, "", ""),
                    [b, r] => (*b, *r, ""),
                    [b, r, t, ..] => (*b, *r, *t),
                    [] => ("", "", ""),
                };
                out.push_str(&format!(
                    "callsynth_events{{metric=\"{name}\",event_bus=\"{bus_name}\",rule=\"{rule}\",target=\"{target}\"}} {value}\n"
                ));
            }
        }
        Err(e) => out.push_str(&format!("# metrics unavailable: {e}\n")),
    }
    if let Ok(pending) = bus.pending() {
        out.push_str(&format!("# TYPE callsynth_deliveries_pending gauge\ncallsynth_deliveries_pending {pending}\n"));
    }
    out
}

/// Checks `X-Twilio-Signature`: `valid(token, url, signature)` does the algorithm for the
/// request's kind (JSON or form). `Err` is the 403 reason.
fn check_twilio(
    head: &Head,
    twilio: &TwilioConfig,
    valid: impl Fn(&str, &str, &str) -> bool,
) -> Result<(), &'static str> {
    if twilio.insecure_dev {
        eprintln!(
            "callsynth serve: WARNING --insecure-dev: accepting a Twilio delivery without checking its signature"
        );
        return Ok(());
    }
    let Some(token) = &twilio.auth_token else {
        return Err("no Twilio auth token is configured (TWILIO_AUTH_TOKEN or --twilio-auth-token)");
    };
    let Some(signature) = head.header("x-twilio-signature") else { return Err("missing X-Twilio-Signature") };
    let base = match &twilio.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let scheme = head.header("x-forwarded-proto").unwrap_or("http");
            format!("{scheme}://{}", head.header("host").unwrap_or_default())
        }
    };
    if valid(token, &format!("{base}{}", head.target), signature) {
        Ok(())
    } else {
        Err("X-Twilio-Signature does not match this URL and body")
    }
}

/// Twilio's Events API v1: HTTP Basic with the account SID and the auth token, form bodies.
fn events_v1_work(head: &Head, body: Vec<u8>, twilio: &TwilioConfig) -> Result<Work, Answer> {
    let credentials = head
        .header("authorization")
        .and_then(|a| a.strip_prefix("Basic "))
        .and_then(|b| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    let (user, password) = credentials.as_deref().and_then(|c| c.split_once(':')).unwrap_or(("", ""));
    let account_sid =
        if user.starts_with("AC") { user.to_string() } else { "AC00000000000000000000000000000000".into() };
    if twilio.insecure_dev {
        eprintln!("callsynth serve: WARNING --insecure-dev: Events API request accepted without credentials");
    } else {
        let Some(token) = &twilio.auth_token else {
            return Err(Face::TwilioApi.error(401, "Authenticate: no Twilio auth token is configured on this server"));
        };
        let same = token.len() == password.len()
            && token.bytes().zip(password.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same {
            return Err(Face::TwilioApi.error(401, "Authenticate"));
        }
    }
    let source = if head.method == "GET" { head.query().as_bytes() } else { &body };
    let params = form_urlencoded::parse(source).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    Ok(Work::EventsV1 { method: head.method.clone(), path: head.path().to_string(), params, account_sid })
}

/// Verifies and maps a Twilio delivery (Event Streams CloudEvents or a classic callback).
fn bridge_work(head: &Head, body: &[u8], twilio: &TwilioConfig) -> Result<bridge::Mapped, Answer> {
    let path = head.path();
    let mapped = if path == "/twilio/events" {
        check_twilio(head, twilio, |token, url, sig| crate::twilio_signature::validate_json(token, url, body, sig))
            .map_err(|why| Face::Bridge.error(403, why))?;
        bridge::map_cloudevents(body, &twilio.bus)
    } else {
        let Some(callback) = bridge::Callback::from_path(path) else {
            return Err(Answer::new(404, "text/plain", format!("no route for {} {path}\n", head.method)));
        };
        let params: Vec<(String, String)> =
            form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        check_twilio(head, twilio, |token, url, sig| crate::twilio_signature::validate_form(token, url, &pairs, sig))
            .map_err(|why| Face::Bridge.error(403, why))?;
        bridge::map_form(callback, &params, &twilio.bus)
    };
    mapped.map_err(|why| Face::Bridge.error(400, &why))
}

/// A request id: 32 hex digits from a process-wide counter and the clock.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    format!("{t:016x}{n:016x}")
}
