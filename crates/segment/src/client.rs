//! Posting batch bodies to Segment's `/v1/batch`: HTTP Basic auth with the write key, gzip,
//! retries on the classes Segment's own library retries (408, 410, 429, 460, 5xx but 501 and
//! 505, connection failures) with exponential backoff and jitter, `Retry-After` honoured, and a
//! circuit breaker so a dead endpoint costs one short wait, not one per batch.
//!
//! A 200 is "received", not "accepted" (Segment answers 200 to most mistakes); the messages we
//! send are validated before they are queued, so 200 is recorded as delivered.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use base64::Engine as _;

/// Segment's US endpoint, the default.
pub const DEFAULT_ENDPOINT: &str = "https://api.segment.io";

/// A write key. Never printed: its `Debug` is redacted and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct WriteKey(String);

impl WriteKey {
    /// Wraps a key; `None` when it is empty or blank.
    pub fn new(key: impl Into<String>) -> Option<WriteKey> {
        let key = key.into();
        (!key.trim().is_empty()).then(|| WriteKey(key.trim().to_string()))
    }

    fn basic_auth(&self) -> String {
        // Username = the key, empty password; the colon stays.
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:", self.0)))
    }
}

impl std::fmt::Debug for WriteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteKey(<redacted>)")
    }
}

/// How the sender behaves.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Scheme and host, e.g. [`DEFAULT_ENDPOINT`] or `https://events.eu1.segmentapis.com`.
    pub endpoint: String,
    /// The source's write key.
    pub write_key: WriteKey,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retries per batch after the first attempt (Segment's library: 10).
    pub max_retries: u32,
    /// First backoff after the immediate retry; doubles up to `max_backoff`.
    pub base_backoff: Duration,
    /// Backoff cap (Segment's library: 60 s).
    pub max_backoff: Duration,
    /// `Retry-After` cap (Segment's library: 300 s).
    pub max_retry_after: Duration,
    /// Consecutive failed batches that open the circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit refuses to send.
    pub breaker_cooldown: Duration,
}

impl SenderConfig {
    /// Segment's library's retry policy against `endpoint`.
    pub fn new(endpoint: &str, write_key: WriteKey) -> SenderConfig {
        SenderConfig {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            write_key,
            timeout: Duration::from_secs(15),
            max_retries: 10,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(30),
        }
    }
}

/// What became of one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Segment answered 2xx.
    Delivered {
        /// Attempts it took.
        attempts: u32,
    },
    /// Segment refused it for good (400, 401, 403, 404, 413, 422 …): retrying cannot help.
    Rejected {
        /// The status.
        status: u16,
        /// Segment's response body (its `code` and `message`), for the dead-letter reason.
        reason: String,
    },
    /// Retryable failures until the retries ran out; send again later.
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        reason: String,
    },
    /// The circuit is open after repeated failures; nothing was sent.
    CircuitOpen,
}

/// One failed attempt.
enum Failure {
    Retry { reason: String, wait: Option<Duration> },
    Final { status: u16, reason: String },
}

/// Sends batch bodies; keeps the circuit breaker's state between batches.
#[derive(Debug)]
pub struct Sender {
    config: SenderConfig,
    agent: ureq::Agent,
    consecutive_failures: u32,
    open_until: Option<Instant>,
    jitter_state: u64,
}

impl Sender {
    /// A sender with `config`.
    pub fn new(config: SenderConfig) -> Sender {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("callsynth/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let seed = Instant::now().elapsed().as_nanos() as u64 ^ 0x9e37_79b9_7f4a_7c15;
        Sender { config, agent, consecutive_failures: 0, open_until: None, jitter_state: seed | 1 }
    }

    /// Whether the breaker currently refuses to send.
    pub fn circuit_open(&self) -> bool {
        self.open_until.is_some_and(|t| Instant::now() < t)
    }

    /// Posts one `/v1/batch` body, retrying as configured.
    pub fn send_batch(&mut self, body: &str) -> Outcome {
        if self.circuit_open() {
            return Outcome::CircuitOpen;
        }
        let gzipped = gzip(body.as_bytes());
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(&gzipped, attempts - 1) {
                Ok(()) => {
                    self.consecutive_failures = 0;
                    self.open_until = None;
                    return Outcome::Delivered { attempts };
                }
                Err(Failure::Final { status, reason }) => {
                    // The endpoint works; the batch is what is wrong.
                    self.consecutive_failures = 0;
                    return Outcome::Rejected { status, reason };
                }
                Err(Failure::Retry { reason, wait }) => {
                    if attempts > self.config.max_retries {
                        self.consecutive_failures += 1;
                        if self.consecutive_failures >= self.config.breaker_threshold {
                            self.open_until = Some(Instant::now() + self.config.breaker_cooldown);
                        }
                        return Outcome::GaveUp { attempts, reason };
                    }
                    std::thread::sleep(wait.unwrap_or_else(|| self.backoff(attempts)));
                }
            }
        }
    }

    /// The wait before retry number `retry` (1-based): the first is immediate, then
    /// `base_backoff` doubling to `max_backoff`, each with up to 10 % jitter.
    fn backoff(&mut self, retry: u32) -> Duration {
        if retry <= 1 {
            return Duration::ZERO;
        }
        let base = self.config.base_backoff.saturating_mul(1 << (retry - 2).min(20)).min(self.config.max_backoff);
        // xorshift64: jitter needs no cryptographic quality.
        self.jitter_state ^= self.jitter_state << 13;
        self.jitter_state ^= self.jitter_state >> 7;
        self.jitter_state ^= self.jitter_state << 17;
        let fraction = (self.jitter_state % 1000) as f64 / 10_000.0;
        base.mul_f64(1.0 + fraction)
    }

    fn attempt(&self, gzipped: &[u8], retry_count: u32) -> Result<(), Failure> {
        let url = format!("{}/v1/batch", self.config.endpoint);
        let mut request = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Content-Encoding", "gzip")
            .header("Authorization", self.config.write_key.basic_auth());
        if retry_count > 0 {
            request = request.header("X-Retry-Count", retry_count.to_string());
        }
        match request.send(gzipped) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                if (200..300).contains(&status) {
                    return Ok(());
                }
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(|s| Duration::from_secs_f64(s).min(self.config.max_retry_after));
                let mut body = String::new();
                let _ = response.body_mut().as_reader().take(4096).read_to_string(&mut body);
                let reason = format!("{url} answered {status}: {}", body.trim());
                if retryable_status(status) {
                    Err(Failure::Retry { reason, wait: retry_after })
                } else {
                    Err(Failure::Final { status, reason })
                }
            }
            Err(ureq::Error::Timeout(_)) => {
                Err(Failure::Retry { reason: format!("{url}: no answer within {:?}", self.config.timeout), wait: None })
            }
            Err(e) => Err(Failure::Retry { reason: format!("{url}: {e}"), wait: None }),
        }
    }
}

/// The statuses Segment's own library retries.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 410 | 429 | 460) || (status >= 500 && !matches!(status, 501 | 505))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), flate2::Compression::fast());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_classes_are_segments() {
        for s in [408, 410, 429, 460, 500, 502, 503, 504, 511] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 413, 422, 501, 505] {
            assert!(!retryable_status(s), "{s}");
        }
    }

    #[test]
    fn the_write_key_is_never_printed_and_basic_auth_keeps_the_colon() {
        let key = WriteKey::new("abc123").expect("a key");
        assert_eq!(format!("{key:?}"), "WriteKey(<redacted>)");
        assert_eq!(key.basic_auth(), "Basic YWJjMTIzOg==");
        assert!(WriteKey::new("  ").is_none());
        let config = SenderConfig::new("https://example.invalid/", key);
        assert!(!format!("{config:?}").contains("abc123"));
        assert_eq!(config.endpoint, "https://example.invalid");
    }

    #[test]
    fn backoff_is_immediate_then_doubles_to_the_cap_with_at_most_ten_percent_jitter() {
        let mut config = SenderConfig::new(DEFAULT_ENDPOINT, WriteKey::new("k").unwrap());
        config.base_backoff = Duration::from_millis(500);
        config.max_backoff = Duration::from_secs(4);
        let mut s = Sender::new(config);
        assert_eq!(s.backoff(1), Duration::ZERO);
        for (retry, base_ms) in [(2, 500u64), (3, 1000), (4, 2000), (5, 4000), (9, 4000)] {
            let d = s.backoff(retry);
            let base = Duration::from_millis(base_ms);
            assert!(d >= base && d <= base.mul_f64(1.1), "retry {retry}: {d:?}");
        }
    }
}
