//! Load generator: PutEvents over HTTP, 10 entries per request, from several client threads, for
//! a fixed time; prints events/s and request latency percentiles.
//!
//! ```text
//! cargo bench -p server --bench put_events_load -- --endpoint http://127.0.0.1:4010 \
//!     [--seconds 10] [--clients 8] [--bus default]
//! ```
//!
//! `scripts/bench-serve` runs it against `callsynth serve` and moto's server in one session.

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
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (endpoint, body, stop) = (endpoint.clone(), body.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(30)))
                    .http_status_as_error(false)
                    .build()
                    .into();
                let (mut latencies, mut events, mut failures) = (Vec::new(), 0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let response = agent
                        .post(&endpoint)
                        .header("Content-Type", "application/x-amz-json-1.1")
                        .header("X-Amz-Target", "AWSEvents.PutEvents")
                        .header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260105/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0")
                        .send(body.as_str());
                    match response {
                        Ok(mut r) if r.status().as_u16() == 200 => {
                            let text = r.body_mut().read_to_string().unwrap_or_default();
                            if text.contains("\"FailedEntryCount\":0") || text.contains("\"FailedEntryCount\": 0") {
                                events += 10;
                            } else {
                                failures += 1;
                            }
                        }
                        _ => failures += 1,
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
