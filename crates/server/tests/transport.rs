//! `serve`'s HTTP/1.1 transport over real sockets: keep-alive and pipelining, chunked bodies,
//! `100 Continue`, refusals that keep the server serving, slow and idle clients, the connection
//! limit, and stopping.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bus::{Delivery, DeliveryError, EventBus, Handler, Limits, Location};
use server::http::{ServeConfig, ServerCounters, serve_on};

struct Acknowledge;

impl Handler for Acknowledge {
    fn deliver(&mut self, _: &Delivery<'_>, _: &rusqlite::Connection) -> Result<(), DeliveryError> {
        Ok(())
    }
}

struct Server {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Arc<ServerCounters>>>,
}

impl Server {
    fn start(config: ServeConfig) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let open = || {
                let mut bus = EventBus::open(":memory:".as_ref(), Location::default(), Limits::default()).unwrap();
                bus.create_bus("default", None).unwrap();
                (bus, Box::new(Acknowledge) as Box<dyn Handler>)
            };
            serve_on(listener, &config, open, flag).unwrap()
        });
        Server { address, stop, thread: Some(thread) }
    }

    fn connect(&self) -> BufReader<TcpStream> {
        let stream = TcpStream::connect(self.address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        BufReader::new(stream)
    }

    fn stop(&mut self) -> Arc<ServerCounters> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop();
        }
    }
}

/// A response: status, headers (lower-cased names), body.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

fn read_response(reader: &mut BufReader<TcpStream>) -> Response {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let text = line.trim_end();
        if text.is_empty() {
            break;
        }
        let (name, value) = text.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: u64 = headers.iter().find(|(n, _)| n == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = String::new();
    reader.by_ref().take(length).read_to_string(&mut body).unwrap();
    Response { status, headers, body }
}

fn api(target: &str, body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSEvents.{target}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const ONE_EVENT: &str = r#"{"Entries": [{"Source": "s", "DetailType": "t", "Detail": "{\"a\": 1}"}]}"#;

/// The connection was closed by the server: reading gives end of file (or a reset).
fn closed(reader: &mut BufReader<TcpStream>) -> bool {
    let mut byte = [0u8; 1];
    matches!(reader.read(&mut byte), Ok(0) | Err(_))
}

#[test]
fn pipelined_requests_on_one_connection_are_answered_in_order() {
    let server = Server::start(ServeConfig::default());
    let mut c = server.connect();
    let mut batch = api("ListEventBuses", "{}");
    batch.extend_from_slice(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    batch.extend(api("PutEvents", ONE_EVENT));
    c.get_mut().write_all(&batch).unwrap();
    let first = read_response(&mut c);
    assert_eq!(first.status, 200);
    assert!(first.body.contains(r#""Name":"default""#), "{}", first.body);
    assert_eq!(first.header("content-type"), Some("application/x-amz-json-1.1"));
    assert_eq!(first.header("x-amzn-requestid").map(str::len), Some(32));
    let second = read_response(&mut c);
    assert_eq!((second.status, second.body.as_str()), (200, "ok\n"));
    let third = read_response(&mut c);
    assert!(third.body.contains(r#""FailedEntryCount":0"#), "{}", third.body);
    assert_eq!(third.header("connection"), None, "the connection stays open");
}

#[test]
fn chunked_bodies_and_expect_continue_are_read_whole() {
    let server = Server::start(ServeConfig::default());
    let mut c = server.connect();
    let (a, b) = ONE_EVENT.split_at(20);
    let chunked = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSEvents.PutEvents\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    c.get_mut().write_all(chunked.as_bytes()).unwrap();
    let answer = read_response(&mut c);
    assert!(answer.body.contains(r#""FailedEntryCount":0"#), "{answer:?}");

    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSEvents.PutEvents\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        ONE_EVENT.len()
    );
    c.get_mut().write_all(head.as_bytes()).unwrap();
    let interim = read_response(&mut c);
    assert_eq!(interim.status, 100, "the server asks for the body");
    c.get_mut().write_all(ONE_EVENT.as_bytes()).unwrap();
    let answer = read_response(&mut c);
    assert!(answer.body.contains(r#""FailedEntryCount":0"#), "{answer:?}");
}

#[test]
fn refusals_close_their_connection_and_the_server_keeps_serving() {
    let config = ServeConfig { max_body_bytes: 1000, ..ServeConfig::default() };
    let server = Server::start(config);
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"this is not http\r\n\r\n".to_vec(), 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd".to_vec(), 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(), 400),
        (format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(70_000)).into_bytes(), 431),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nnot-hex\r\n".to_vec(), 400),
    ];
    for (request, status) in cases {
        let mut c = server.connect();
        c.get_mut().write_all(&request).unwrap();
        let answer = read_response(&mut c);
        assert_eq!(answer.status, status, "{}", String::from_utf8_lossy(&request[..40.min(request.len())]));
        assert_eq!(answer.header("connection"), Some("close"));
        assert!(closed(&mut c), "the connection is closed after a refusal");
    }
    // A declared body over the limit is refused unread, as the AWS API shapes it, while the
    // client is still sending it.
    let mut c = server.connect();
    let big = format!(r#"{{"Entries": [{{"Detail": "{}"}}]}}"#, "x".repeat(200_000));
    let request = api("PutEvents", &big);
    let writer = {
        let mut stream = c.get_ref().try_clone().unwrap();
        std::thread::spawn(move || {
            let _ = stream.write_all(&request);
        })
    };
    let answer = read_response(&mut c);
    writer.join().unwrap();
    assert_eq!(answer.status, 413);
    assert!(answer.body.contains(r#""__type":"ValidationException""#), "{}", answer.body);
    // A chunked body found too large while reading.
    let mut c = server.connect();
    let chunk = "y".repeat(800);
    let chunked = format!(
        "POST / HTTP/1.1\r\nX-Amz-Target: AWSEvents.PutEvents\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n{chunk}\r\n320\r\n{chunk}\r\n0\r\n\r\n"
    );
    c.get_mut().write_all(chunked.as_bytes()).unwrap();
    assert_eq!(read_response(&mut c).status, 413);

    let mut c = server.connect();
    c.get_mut().write_all(b"GET /health HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c).body, "ok\n", "still serving");
}

#[test]
fn slow_clients_hold_only_their_own_connection_and_are_cut_off_at_the_deadline() {
    let config = ServeConfig { request_timeout: Duration::from_millis(1200), ..ServeConfig::default() };
    let server = Server::start(config);
    // Twenty clients arriving in the same instant, each stuck mid-head or mid-body.
    let mut slow: Vec<BufReader<TcpStream>> = (0..20).map(|_| server.connect()).collect();
    for (i, c) in slow.iter_mut().enumerate() {
        let partial: &[u8] = if i % 2 == 0 {
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le"
        } else {
            b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"Na"
        };
        c.get_mut().write_all(partial).unwrap();
    }
    let started = Instant::now();
    let mut c = server.connect();
    c.get_mut().write_all(&api("ListEventBuses", "{}")).unwrap();
    assert_eq!(read_response(&mut c).status, 200);
    assert!(started.elapsed() < Duration::from_secs(1), "served while the slow clients wait: {:?}", started.elapsed());
    for c in &mut slow {
        assert!(closed(c), "a client that does not finish its request in time is disconnected");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn past_the_connection_limit_a_client_gets_503_and_the_others_are_served() {
    let config = ServeConfig { max_connections: 2, ..ServeConfig::default() };
    let server = Server::start(config);
    let mut held: Vec<BufReader<TcpStream>> = (0..2).map(|_| server.connect()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = server.connect();
    let refusal = read_response(&mut extra);
    assert_eq!(refusal.status, 503);
    assert_eq!(refusal.header("retry-after"), Some("1"));
    for c in &mut held {
        c.get_mut().write_all(b"GET /health HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(read_response(c).status, 200);
    }
    drop(held);
    std::thread::sleep(Duration::from_millis(400));
    let mut later = server.connect();
    later.get_mut().write_all(b"GET /health HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut later).status, 200, "a slot frees when a connection closes");
}

#[test]
fn stopping_closes_idle_connections_and_returns_promptly() {
    let mut server = Server::start(ServeConfig::default());
    let mut idle = server.connect();
    idle.get_mut().write_all(&api("PutEvents", ONE_EVENT)).unwrap();
    assert_eq!(read_response(&mut idle).status, 200);
    let started = Instant::now();
    let counters = server.stop();
    assert!(started.elapsed() < Duration::from_secs(2), "stopped in {:?}", started.elapsed());
    assert!(closed(&mut idle));
    assert_eq!(counters.requests.load(Ordering::Relaxed), 1);
    assert_eq!(counters.errors.load(Ordering::Relaxed), 0);
    assert!(TcpStream::connect_timeout(&server.address, Duration::from_millis(500)).is_err(), "no longer listening");
}

#[test]
fn stopping_waits_for_a_trickling_request_only_as_long_as_the_grace() {
    let config = ServeConfig { stop_grace: Duration::from_millis(400), ..ServeConfig::default() };
    let mut server = Server::start(config);
    let mut slow = server.connect();
    slow.get_mut().write_all(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"Na").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    server.stop();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "a 30 s request deadline did not hold up the stop: {took:?}");
    assert!(closed(&mut slow));
}
