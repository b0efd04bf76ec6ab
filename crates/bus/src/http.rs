//! HTTP targets, like EventBridge API destinations: the configured method and headers, a
//! per-target rate limit, a whole-call timeout. 2xx is success; 429, 5xx, timeouts and
//! connection failures are retried; other 4xx are permanent. Delivery is at-least-once: the
//! event id goes in an `Idempotency-Key` header so the receiver can drop repeats.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::event_bus::DeliveryError;
use crate::model::{HttpParameters, Target};

/// One agent (connection pool) for all HTTP targets, and when each target may next be called.
#[derive(Default)]
pub(crate) struct HttpClient {
    agents: HashMap<u64, ureq::Agent>,
    next_call: HashMap<String, Instant>,
    /// Calls that had to wait for their target's rate limit, since last taken.
    throttled: u64,
}

impl HttpClient {
    fn agent(&mut self, timeout: Duration) -> &ureq::Agent {
        self.agents.entry(timeout.as_millis() as u64).or_insert_with(|| {
            ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .user_agent("callsynth")
                .build()
                .into()
        })
    }

    /// How many calls waited for a rate limit since the last time this was asked.
    pub(crate) fn take_throttled(&mut self) -> u64 {
        std::mem::take(&mut self.throttled)
    }

    /// Calls `url` with `body`, waiting first if the target's rate limit requires.
    pub(crate) fn call(&mut self, url: &str, target: &Target, body: &str, event_id: &str) -> Result<(), DeliveryError> {
        let defaults = HttpParameters::default();
        let params = target.http.as_ref().unwrap_or(&defaults);
        if let Some(rate) = params.rate_limit_per_second.filter(|r| *r > 0.0) {
            let key = format!("{}/{}", target.id, url);
            let now = Instant::now();
            let at = self.next_call.get(&key).copied().unwrap_or(now).max(now);
            if at > now {
                self.throttled += 1;
                std::thread::sleep(at - now);
            }
            self.next_call.insert(key, at + Duration::from_secs_f64(1.0 / rate));
        }
        let agent = self.agent(Duration::from_secs_f64(params.timeout_seconds.clamp(0.001, 300.0)));
        let mut request = match params.method.as_str() {
            "PUT" => agent.put(url),
            "PATCH" => agent.patch(url),
            _ => agent.post(url),
        }
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", event_id);
        for (name, value) in &params.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match request.send(body) {
            Ok(response) => {
                let status = response.status().as_u16();
                if (200..300).contains(&status) {
                    return Ok(());
                }
                Err(DeliveryError {
                    code: format!("HttpStatus{status}"),
                    message: format!("{url} answered {status}"),
                    retryable: status == 429 || status >= 500,
                })
            }
            Err(ureq::Error::Timeout(_)) => Err(DeliveryError {
                code: "Timeout".into(),
                message: format!("{url}: no answer within {} s", params.timeout_seconds),
                retryable: true,
            }),
            Err(e) => {
                Err(DeliveryError { code: "ConnectionFailed".into(), message: format!("{url}: {e}"), retryable: true })
            }
        }
    }
}
