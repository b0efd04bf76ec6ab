//! Load generator: PutEvents over HTTP, 10 entries per request, from several client threads, for
//! a fixed time; prints events/s and request latency percentiles.
//!
//! ```text
//! cargo bench -p server --bench put_events_load -- --endpoint http://127.0.0.1:4010 \
//!     [--seconds 10] [--clients 8] [--bus default]
//! ```
//!
//! `scripts/bench-serve` runs it against `callsynth serve` and moto's server in one session.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn main() {
    let endpoint = arg("--endpoint").expect("--endpoint URL");
    let seconds: f64 = arg("--seconds").map_or(10.0, |s| s.parse().expect("--seconds N"));
    let clients: usize = arg("--clients").map_or(8, |s| s.parse().expect("--clients N"));
    let bus = arg("--bus").unwrap_or_else(|| "default".into());
    let entry = serde_json::json!({
        "Source": "aws.partner/twilio.com",
        "DetailType": "com.twilio.voice.call.completed",
        "Detail": serde_json::json!({
            "call_sid": "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "from": "+15125550100", "to": "+18005550199", "call_status": "completed", "call_duration": "93",
            "direction": "inbound", "timestamp": "2026-01-05T10:00:00Z"
        }).to_string(),
        "EventBusName": bus,
    });
    let body = serde_json::json!({"Entries": vec![entry; 10]}).to_string();
    let address = endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
    // One request, built once: the client's own cost stays small (as with wrk), so the two cores
    // go to the server under test.
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AWSEvents.PutEvents\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260105/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let request = Arc::new(request);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (address, request, stop) = (address.clone(), Arc::clone(&request), Arc::clone(&stop));
            std::thread::spawn(move || {
                let (mut latencies, mut events, mut failures) = (Vec::new(), 0u64, 0u64);
                let mut connection: Option<BufReader<TcpStream>> = None;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    match exchange(&mut connection, &address, &request) {
                        Ok((200, body)) if contains(&body, b"\"FailedEntryCount\":") => {
                            let ok = contains(&body, b"\"FailedEntryCount\":0")
                                || contains(&body, b"\"FailedEntryCount\": 0");
                            if ok { events += 10 } else { failures += 1 }
                        }
                        _ => {
                            failures += 1;
                            connection = None;
                        }
                    }
                    latencies.push(t.elapsed());
                }
                (latencies, events, failures)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let (mut latencies, mut events, mut failures) = (Vec::new(), 0, 0);
    for w in workers {
        let (l, e, f) = w.join().expect("client thread");
        latencies.extend(l);
        events += e;
        failures += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)));
    println!(
        "{endpoint}: {clients} clients, {:.1} s: {} requests, {events} events accepted ({:.0} events/s), {failures} failed requests; latency p50 {:?}, p99 {:?}",
        elapsed,
        latencies.len(),
        events as f64 / elapsed,
        pct(0.50).copied().unwrap_or_default(),
        pct(0.99).copied().unwrap_or_default()
    );
}

/// One request and its response on a kept-alive connection (opened when there is none, dropped
/// when the server closes it): the status and the body.
fn exchange(
    connection: &mut Option<BufReader<TcpStream>>,
    address: &str,
    request: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    if connection.is_none() {
        let stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        *connection = Some(BufReader::with_capacity(64 << 10, stream));
    }
    let reader = connection.as_mut().expect("connected above");
    reader.get_mut().write_all(request)?;
    let mut line = String::new();
    let (mut status, mut length, mut close) = (0u16, None, false);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let text = line.trim_end();
        if text.is_empty() {
            if status == 100 {
                status = 0;
                continue;
            }
            break;
        }
        if status == 0 {
            status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            close = text.starts_with("HTTP/1.0");
        } else if let Some((name, value)) = text.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<u64>().ok();
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
    }
    let mut body = Vec::new();
    match length {
        Some(n) => {
            reader.take(n).read_to_end(&mut body)?;
        }
        None => {
            reader.read_to_end(&mut body)?;
            close = true;
        }
    }
    if close {
        *connection = None;
    }
    Ok((status, body))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
