//! The HTTP server behind `callsynth serve`.
//!
//! Connection threads parse requests and hand them to one worker thread that owns the bus (the
//! store is one SQLite writer); the worker answers them in order and, whenever it is idle,
//! delivers what is due to the targets. A stop request (SIGTERM, Ctrl-C) closes the listener,
//! lets the worker answer what it was given, deliver what is due, and return.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use bus::{EventBus, Handler};

use crate::eventbridge::{self, ApiResponse};
use crate::{bridge, events_v1};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// `ADDR:PORT` to listen on.
    pub listen: String,
    /// Largest request body accepted (bytes); larger ones get 413 without being read further.
    pub max_body_bytes: usize,
    /// Connection threads.
    pub threads: usize,
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
            threads: 8,
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

/// Work for the bus thread.
enum Job {
    Api {
        target: Option<String>,
        body: Vec<u8>,
        reply: mpsc::Sender<ApiResponse>,
    },
    Metrics {
        reply: mpsc::Sender<String>,
    },
    Bridge {
        mapped: bridge::Mapped,
        reply: mpsc::Sender<(u16, String)>,
    },
    EventsV1 {
        method: String,
        path: String,
        params: Vec<(String, String)>,
        account_sid: String,
        reply: mpsc::Sender<(u16, String)>,
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
    let server = tiny_http::Server::http(&config.listen)
        .map_err(|e| ServeError::Listen { addr: config.listen.clone(), reason: e.to_string() })?;
    let server = Arc::new(server);
    let counters = Arc::new(ServerCounters::default());
    let (jobs, inbox) = mpsc::sync_channel::<Job>(1024);
    let delivery_batch = config.delivery_batch;
    let worker = std::thread::Builder::new()
        .name("callsynth-bus".into())
        .spawn(move || bus_thread(open, inbox, delivery_batch))
        .expect("spawning the bus thread");
    let mut threads = Vec::new();
    for i in 0..config.threads.max(1) {
        let (server, jobs, stop, counters) =
            (Arc::clone(&server), jobs.clone(), Arc::clone(&stop), Arc::clone(&counters));
        let max_body = config.max_body_bytes;
        let twilio = config.twilio.clone();
        let sigv4 = config.require_sigv4.then(|| config.sigv4_keys.clone());
        threads.push(
            std::thread::Builder::new()
                .name(format!("callsynth-http-{i}"))
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match server.recv_timeout(Duration::from_millis(100)) {
                            Ok(Some(request)) => {
                                respond(request, &jobs, max_body, &twilio, sigv4.as_deref(), &counters);
                            }
                            Ok(None) => {}
                            Err(_) => break,
                        }
                    }
                })
                .expect("spawning a connection thread"),
        );
    }
    for t in threads {
        let _ = t.join();
    }
    // Stop accepting; the bus thread drains its queue, delivers what is due, and returns.
    drop(server);
    drop(jobs);
    let _ = worker.join();
    Ok(counters)
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
            Ok(Job::Api { target, body, reply }) if target.as_deref() == Some("AWSEvents.PutEvents") => {
                // Group commit: the PutEvents requests already waiting go in one transaction.
                let mut group = Vec::new();
                let mut queue = vec![(body, reply)];
                while queue.len() < GROUP_COMMIT {
                    match inbox.try_recv() {
                        Ok(Job::Api { target, body, reply }) if target.as_deref() == Some("AWSEvents.PutEvents") => {
                            queue.push((body, reply));
                        }
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let mut replies = Vec::with_capacity(queue.len());
                for (body, reply) in queue {
                    match eventbridge::parse_put_events(&body) {
                        Ok(entries) => {
                            group.push(entries);
                            replies.push(reply);
                        }
                        Err(refusal) => {
                            let _ = reply.send(refusal);
                        }
                    }
                }
                if !group.is_empty() {
                    for (reply, answer) in replies.into_iter().zip(eventbridge::put_events_grouped(&mut bus, &group)) {
                        let _ = reply.send(answer);
                    }
                }
                since_delivery += group.len().max(1);
                if since_delivery < 256 {
                    continue;
                }
            }
            Ok(Job::Api { target, body, reply }) => {
                let _ = reply.send(eventbridge::handle(&mut bus, target.as_deref(), &body));
                since_delivery += 1;
                // Under sustained load, deliver now and then rather than never.
                if since_delivery < 256 {
                    continue;
                }
            }
            Ok(Job::Metrics { reply }) => {
                let _ = reply.send(prometheus(&bus));
                continue;
            }
            Ok(Job::EventsV1 { method, path, params, account_sid, reply }) => {
                let _ = reply.send(events_v1::handle(bus.connection(), &method, &path, &params, &account_sid));
                continue;
            }
            Ok(Job::Bridge { mapped, reply }) => {
                let answer = match bridge::put(&mut bus, mapped) {
                    Ok(report) => (200, report.json().to_string()),
                    // Not kept; Twilio retries a 5xx.
                    Err(e) => (500, serde_json::json!({"error": e.to_string()}).to_string()),
                };
                let _ = reply.send(answer);
                since_delivery += 1;
                if since_delivery < 256 {
                    continue;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                deliver(&mut bus, handler.as_mut(), delivery_batch);
                return;
            }
        }
        since_delivery = 0;
        deliver(&mut bus, handler.as_mut(), delivery_batch);
    }
}

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

/// A request header's value (the first, by case-insensitive name).
fn header(request: &tiny_http::Request, name: &str) -> Option<String> {
    request.headers().iter().find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name)).map(|h| h.value.to_string())
}

/// Reads a body up to `max_body` bytes: `Ok(None)` when it is larger, `Err` when the client
/// went away or stalled.
fn read_body(request: &mut tiny_http::Request, max_body: usize) -> std::io::Result<Option<Vec<u8>>> {
    if request.body_length().is_some_and(|n| n > max_body) {
        return Ok(None);
    }
    let mut body = Vec::with_capacity(request.body_length().unwrap_or(0).min(max_body));
    request.as_reader().take(max_body as u64 + 1).read_to_end(&mut body)?;
    Ok((body.len() <= max_body).then_some(body))
}

/// Checks `X-Twilio-Signature`: `valid(token, url, signature)` does the algorithm for the
/// request's kind (JSON or form). `Err` is the 403 reason.
fn check_twilio(
    request: &tiny_http::Request,
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
    let Some(signature) = header(request, "x-twilio-signature") else { return Err("missing X-Twilio-Signature") };
    let base = match &twilio.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let scheme = header(request, "x-forwarded-proto").unwrap_or_else(|| "http".into());
            format!("{scheme}://{}", header(request, "host").unwrap_or_default())
        }
    };
    if valid(token, &format!("{base}{}", request.url()), &signature) {
        Ok(())
    } else {
        Err("X-Twilio-Signature does not match this URL and body")
    }
}

/// Twilio's Events API v1: HTTP Basic with the account SID and the auth token, form bodies.
fn events_v1_request(
    request: &mut tiny_http::Request,
    path: &str,
    jobs: &mpsc::SyncSender<Job>,
    max_body: usize,
    twilio: &TwilioConfig,
) -> Option<(u16, String)> {
    let twilio_error = |status: u16, code: u32, message: &str| {
        Some((
            status,
            serde_json::json!({"code": code, "message": message, "status": status,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}")})
            .to_string(),
        ))
    };
    let authorization = header(request, "authorization");
    let credentials = authorization
        .as_deref()
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
            return twilio_error(401, 20003, "Authenticate: no Twilio auth token is configured on this server");
        };
        let same = token.len() == password.len()
            && token.bytes().zip(password.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same {
            return twilio_error(401, 20003, "Authenticate");
        }
    }
    let body = match read_body(request, max_body) {
        Err(_) => return None,
        Ok(None) => return twilio_error(413, 20001, "body too large"),
        Ok(Some(body)) => body,
    };
    let query = request.url().split_once('?').map_or("", |(_, q)| q).to_string();
    let source = if request.method() == &tiny_http::Method::Get { query.as_bytes().to_vec() } else { body };
    let params: Vec<(String, String)> =
        form_urlencoded::parse(&source).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let (reply, answer) = mpsc::channel();
    let job =
        Job::EventsV1 { method: request.method().to_string(), path: path.to_string(), params, account_sid, reply };
    match jobs.send(job).ok().and_then(|()| answer.recv().ok()) {
        Some(answer) => Some(answer),
        None => twilio_error(503, 20503, "shutting down"),
    }
}

/// Verifies, maps and hands a Twilio delivery to the bus thread.
fn bridge_request(
    request: &mut tiny_http::Request,
    path: &str,
    jobs: &mpsc::SyncSender<Job>,
    max_body: usize,
    twilio: &TwilioConfig,
) -> Option<(u16, String)> {
    let error = |status: u16, why: &str| Some((status, serde_json::json!({"error": why}).to_string()));
    let body = match read_body(request, max_body) {
        Err(_) => return None,
        Ok(None) => return error(413, "body too large"),
        Ok(Some(body)) => body,
    };
    let mapped = if path == "/twilio/events" {
        if let Err(why) = check_twilio(request, twilio, |token, url, sig| {
            crate::twilio_signature::validate_json(token, url, &body, sig)
        }) {
            return error(403, why);
        }
        bridge::map_cloudevents(&body, &twilio.bus)
    } else {
        let callback = bridge::Callback::from_path(path)?;
        let params: Vec<(String, String)> =
            form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if let Err(why) = check_twilio(request, twilio, |token, url, sig| {
            crate::twilio_signature::validate_form(token, url, &pairs, sig)
        }) {
            return error(403, why);
        }
        bridge::map_form(callback, &params, &twilio.bus)
    };
    let mapped = match mapped {
        Ok(mapped) => mapped,
        Err(why) => return error(400, &why),
    };
    let (reply, answer) = mpsc::channel();
    match jobs.send(Job::Bridge { mapped, reply }).ok().and_then(|()| answer.recv().ok()) {
        Some(answer) => Some(answer),
        None => error(503, "shutting down"),
    }
}

fn respond(
    mut request: tiny_http::Request,
    jobs: &mpsc::SyncSender<Job>,
    max_body: usize,
    twilio: &TwilioConfig,
    sigv4: Option<&[crate::sigv4::AccessKey]>,
    counters: &ServerCounters,
) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let (status, content_type, body) = match (request.method(), path.as_str()) {
        (tiny_http::Method::Get, "/health") => (200, "text/plain", "ok\n".to_string()),
        (tiny_http::Method::Get, "/metrics") => {
            let (reply, answer) = mpsc::channel();
            let text = jobs.send(Job::Metrics { reply }).ok().and_then(|()| answer.recv().ok());
            match text {
                Some(text) => (200, "text/plain; version=0.0.4", text),
                None => (503, "text/plain", "shutting down\n".into()),
            }
        }
        (tiny_http::Method::Post, "/") => {
            let target = header(&request, "x-amz-target");
            let declared = request.body_length();
            if declared.is_some_and(|n| n > max_body) {
                let e = eventbridge::ApiError {
                    code: "ValidationException",
                    message: format!("The request body is larger than {max_body} bytes."),
                };
                let r = e.response();
                (413, "application/x-amz-json-1.1", r.body)
            } else {
                let mut body = Vec::with_capacity(declared.unwrap_or(0).min(max_body));
                let read = request.as_reader().take(max_body as u64 + 1).read_to_end(&mut body);
                if read.is_err() {
                    // The client went away or stalled past the socket timeout.
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                let refused = sigv4.and_then(|keys| {
                    let headers: Vec<(String, String)> = request
                        .headers()
                        .iter()
                        .map(|h| (h.field.as_str().as_str().to_string(), h.value.to_string()))
                        .collect();
                    let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
                    let signed =
                        crate::sigv4::SignedRequest { method: "POST", path, query, headers: &headers, body: &body };
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as i64);
                    crate::sigv4::verify(keys, &signed, now).err()
                });
                if body.len() > max_body {
                    let e = eventbridge::ApiError {
                        code: "ValidationException",
                        message: format!("The request body is larger than {max_body} bytes."),
                    };
                    (413, "application/x-amz-json-1.1", e.response().body)
                } else if let Some(e) = refused {
                    let body = serde_json::json!({"__type": e.code, "message": e.message}).to_string();
                    (403, "application/x-amz-json-1.1", body)
                } else {
                    let (reply, answer) = mpsc::channel();
                    match jobs.send(Job::Api { target, body, reply }).ok().and_then(|()| answer.recv().ok()) {
                        Some(r) => (r.status, "application/x-amz-json-1.1", r.body),
                        None => (
                            503,
                            "application/x-amz-json-1.1",
                            r#"{"__type":"ServiceUnavailableException","message":"shutting down"}"#.into(),
                        ),
                    }
                }
            }
        }
        (
            tiny_http::Method::Post,
            "/twilio/events" | "/twilio/call-status" | "/twilio/recording-status" | "/twilio/transcription",
        ) => {
            match bridge_request(&mut request, &path, jobs, max_body, twilio) {
                Some((status, body)) => (status, "application/json", body),
                None => {
                    // The client went away or stalled past the socket timeout.
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        (tiny_http::Method::Get | tiny_http::Method::Post | tiny_http::Method::Delete, p) if p.starts_with("/v1/") => {
            match events_v1_request(&mut request, &path, jobs, max_body, twilio) {
                Some((status, body)) => (status, "application/json", body),
                None => {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        _ => (404, "text/plain", format!("no route for {} {path}\n", request.method())),
    };
    counters.requests.fetch_add(1, Ordering::Relaxed);
    if status >= 400 {
        counters.errors.fetch_add(1, Ordering::Relaxed);
    }
    let request_id = request_id();
    let response = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(tiny_http::Header::from_bytes("Content-Type", content_type).expect("valid header"))
        .with_header(tiny_http::Header::from_bytes("x-amzn-RequestId", request_id).expect("valid header"));
    let _ = request.respond(response);
}

/// A request id: 32 hex digits from a process-wide counter and the clock.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    format!("{t:016x}{n:016x}")
}
