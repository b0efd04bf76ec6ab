//! Sending the Segment outbox. Messages are queued by [`crate::update_segment_profile`] inside
//! the bus delivery's transaction and sent from here, outside any transaction, in `seq` order:
//! a batch Segment accepts is marked `sent_at`; one it refuses for good (a 4xx other than
//! 408/410/429/460) is marked `dead_at` with Segment's answer as `last_error`; retryable
//! failures leave the batch unsent for the next flush, with `attempts` and `last_error` updated.
//! Nothing is ever deleted.

use rusqlite::{Connection, params};
use segment::client::{Outcome, Sender};

/// What one flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Messages Segment answered 2xx for.
    pub delivered: u64,
    /// Batches posted successfully.
    pub batches: u64,
    /// Messages Segment refused for good, now marked dead.
    pub dead: u64,
    /// Messages still waiting (retryable failures, an open circuit).
    pub waiting: u64,
    /// Why the flush stopped early, if it did.
    pub stopped: Option<String>,
}

/// Messages waiting to be sent.
///
/// # Errors
///
/// The store failed.
pub fn unsent(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM segment_outbox WHERE sent_at IS NULL AND dead_at IS NULL", [], |r| r.get(0))
}

/// Sends every unsent message, batch by batch, until none is left or Segment stops answering.
/// `now` stamps `sentAt` and the row times (RFC 3339).
///
/// # Errors
///
/// The store failed (Segment's failures are outcomes, not errors).
pub fn flush_outbox(conn: &Connection, sender: &mut Sender, now: &str) -> rusqlite::Result<FlushReport> {
    let mut report = FlushReport::default();
    let mut after = 0i64;
    'pages: loop {
        let page: Vec<(i64, String)> = conn
            .prepare_cached(
                "SELECT seq, body FROM segment_outbox WHERE sent_at IS NULL AND dead_at IS NULL AND seq > ?1
                 ORDER BY seq LIMIT 10000",
            )?
            .query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let Some(&(last, _)) = page.last() else { break };
        after = last;
        let bodies: Vec<&str> = page.iter().map(|(_, b)| b.as_str()).collect();
        for range in segment::plan_batches(bodies.iter().map(|b| b.len())) {
            let (first_seq, last_seq) = (page[range.start].0, page[range.end - 1].0);
            let n = range.len() as u64;
            let outcome = sender.send_batch(&segment::batch_body(&bodies[range], now));
            let rows = "seq BETWEEN ?1 AND ?2 AND sent_at IS NULL AND dead_at IS NULL";
            match outcome {
                Outcome::Delivered { attempts } => {
                    conn.prepare_cached(&format!(
                        "UPDATE segment_outbox SET sent_at = ?3, attempts = attempts + ?4 WHERE {rows}"
                    ))?
                    .execute(params![first_seq, last_seq, now, attempts])?;
                    report.delivered += n;
                    report.batches += 1;
                }
                Outcome::Rejected { reason, .. } => {
                    conn.prepare_cached(&format!(
                        "UPDATE segment_outbox SET dead_at = ?3, last_error = ?4, attempts = attempts + 1 WHERE {rows}"
                    ))?
                    .execute(params![first_seq, last_seq, now, reason])?;
                    report.dead += n;
                }
                Outcome::GaveUp { attempts, reason } => {
                    conn.prepare_cached(&format!(
                        "UPDATE segment_outbox SET last_error = ?3, attempts = attempts + ?4 WHERE {rows}"
                    ))?
                    .execute(params![first_seq, last_seq, reason, attempts])?;
                    report.stopped = Some(reason);
                    break 'pages;
                }
                Outcome::CircuitOpen => {
                    report.stopped = Some("Segment failed repeatedly; the circuit breaker is open".into());
                    break 'pages;
                }
            }
        }
    }
    report.waiting = unsent(conn)?;
    Ok(report)
}
