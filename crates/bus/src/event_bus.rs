//! [`EventBus`]: definitions, PutEvents (validate, match, log, enqueue — one transaction), and
//! asynchronous delivery with retries and a dead-letter queue.

use std::collections::HashMap;
use std::path::Path;

use pattern::{Matcher, Pattern, Scratch};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::entry::{Envelope, PutEventsEntry, PutEventsResultEntry, envelope_time};
use crate::model::{
    ArchiveInfo, BusInfo, Limits, Location, ReplayInfo, RetryPolicy, Rule, RuleState, Target, TargetInput, check_name,
};
use crate::store;
use crate::transform::{Context, JsonPath, Transformer};
use crate::{BusError, ReceiveError};

/// One delivery handed to a [`Handler`].
#[derive(Debug)]
pub struct Delivery<'a> {
    /// What the target receives (the envelope, or the target's constant `Input`).
    pub input: &'a str,
    /// The event's id.
    pub event_id: &'a str,
    /// The rule that matched.
    pub rule_arn: &'a str,
    /// The target.
    pub target: &'a Target,
    /// 0 on the first attempt.
    pub attempt: u32,
}

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    /// Short code (`HttpStatus500`, `NoSuchProcessor`, …).
    pub code: String,
    /// In words.
    pub message: String,
    /// Whether trying again could help; permanent failures go straight to the DLQ.
    pub retryable: bool,
}

/// Carries out deliveries. Built-in processors write through `store`, inside the delivery
/// batch's transaction: their writes are kept only if they succeed (a savepoint per delivery,
/// or the whole batch made again when one fails), and commit together with the delivery's
/// acknowledgement — a delivery takes effect exactly once, even across crashes.
pub trait Handler {
    /// Delivers one event.
    ///
    /// # Errors
    ///
    /// The failure; the bus retries or dead-letters per the target's policy.
    fn deliver(&mut self, delivery: &Delivery<'_>, store: &Connection) -> Result<(), DeliveryError>;

    /// The deliveries about to be handed to [`Handler::deliver`], as (target ARN, input) in
    /// order, before any is made: a handler may do pure work for them ahead, in parallel,
    /// outside the store's transaction. The default does nothing.
    fn prepare(&mut self, _batch: &[(&str, &str)]) {}

    /// Whether [`Handler::deliver`] has no effect outside `store` (it calls no service, writes
    /// no file). Such deliveries can share one transaction without a savepoint each: if one
    /// fails, the bus rolls the whole batch back and makes it again, a savepoint per delivery.
    /// The default, `false`, keeps a savepoint per delivery always.
    fn writes_only_to_store(&self) -> bool {
        false
    }
}

/// What one call to [`EventBus::deliver_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Deliveries that succeeded.
    pub delivered: u64,
    /// Failed attempts that will be retried.
    pub retried: u64,
    /// Deliveries moved to the dead-letter queue (or dropped, without one).
    pub dead_lettered: u64,
}

/// A compiled bus: its enabled rules' patterns, each rule's targets, and its archives.
#[derive(Debug, Default)]
struct Routes {
    matcher: Matcher,
    /// Per pattern id: the rule and its targets.
    rules: Vec<RouteRule>,
    /// Archives with a pattern (names as pattern names).
    archive_matcher: Matcher,
    /// Archives without a pattern: they keep every event.
    archive_all: Vec<String>,
}

/// A rule as routing sees it, with its counter scope made once.
#[derive(Debug, Clone)]
struct RouteRule {
    name: String,
    /// `bus/rule`.
    scope: String,
    targets: Vec<RouteTarget>,
}

/// A rule's target as routing sees it.
#[derive(Debug, Clone)]
struct RouteTarget {
    id: String,
    /// `bus/rule/target`.
    scope: String,
    /// A durable queue in this store that takes the event as it is: it is enqueued in the put's
    /// own transaction (delivered at once, exactly once) instead of going through the delivery
    /// queue.
    queue: Option<String>,
}

/// How an event enters routing.
#[derive(Debug, Clone, Copy)]
enum Arrival<'a> {
    /// Put (or forwarded from another bus): archived where archives want it.
    New { event_time: f64 },
    /// Replayed from an archive: never archived again; only these rules, when given.
    Replay { rules: Option<&'a [String]> },
}

/// An embedded EventBridge-style bus over one SQLite store.
pub struct EventBus {
    conn: Connection,
    location: Location,
    limits: Limits,
    routes: HashMap<String, Routes>,
    /// Targets by `bus/rule/id` (the scope their counters use), with their input shape compiled.
    targets: HashMap<String, LoadedTarget>,
    scratch: Scratch,
    http: crate::http::HttpClient,
    /// Copies the WAL back into the file in the background (file stores only).
    _checkpointer: Option<store::Checkpointer>,
    /// Whether the next delivery batch is tried whole, without a savepoint per delivery (see
    /// [`Handler::writes_only_to_store`]); off after a batch with a failure.
    optimistic: bool,
}

/// How a delivery batch keeps one delivery's failure from undoing the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// A savepoint per delivery: a failed delivery's writes are rolled back alone.
    PerDelivery,
    /// None: the first failure rolls the whole batch back (the caller then makes it again,
    /// [`Isolation::PerDelivery`]).
    Batch,
}

/// Seconds since the epoch, as a double (the store's time unit).
pub fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Delay before retry `attempt` (1-based): exponential from 1 s, capped at 5 minutes, with up
/// to 50 % jitter taken from `salt` so that retries of a burst spread out.
pub fn backoff_seconds(attempt: u32, salt: u64) -> f64 {
    let base = 2f64.powi(attempt.saturating_sub(1).min(16) as i32).min(300.0);
    let jitter = (salt.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) as f64 / (1u64 << 53) as f64;
    base * (0.5 + 0.5 * jitter)
}

impl EventBus {
    /// Opens the store at `path` (`:memory:` for a throw-away bus) and loads its definitions.
    ///
    /// # Errors
    ///
    /// The store cannot be opened, or holds a pattern that no longer parses.
    pub fn open(path: &Path, location: Location, limits: Limits) -> Result<EventBus, BusError> {
        let conn = store::open(path)?;
        let checkpointer = if path == Path::new(":memory:") { None } else { Some(store::Checkpointer::start(path)?) };
        let mut bus = EventBus {
            conn,
            location,
            limits,
            routes: HashMap::new(),
            targets: HashMap::new(),
            scratch: Scratch::new(),
            http: crate::http::HttpClient::default(),
            _checkpointer: checkpointer,
            optimistic: true,
        };
        bus.reload()?;
        Ok(bus)
    }

    /// The connection, for reading the store (and for processors' own tables).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The account and region in ARNs and envelopes.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Rebuilds the compiled routes from the store.
    fn reload(&mut self) -> Result<(), BusError> {
        let mut routes: HashMap<String, Routes> = HashMap::new();
        let mut targets = HashMap::new();
        {
            let mut buses = self.conn.prepare("SELECT name FROM buses")?;
            for name in buses.query_map([], |r| r.get::<_, String>(0))? {
                routes.insert(name?, Routes::default());
            }
            let mut stmt = self.conn.prepare(
                "SELECT bus, rule, id, arn, input, max_retry_attempts, max_event_age_seconds, dead_letter_arn, http
                 FROM targets",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    Target {
                        id: r.get(2)?,
                        arn: r.get(3)?,
                        // Written by `put_targets` from the same type.
                        input: r
                            .get::<_, Option<String>>(4)?
                            .and_then(|text| serde_json::from_str(&text).ok())
                            .unwrap_or_default(),
                        retry: RetryPolicy { maximum_retry_attempts: r.get(5)?, maximum_event_age_seconds: r.get(6)? },
                        dead_letter_arn: r.get(7)?,
                        // Written by `put_targets` from the same type.
                        http: r.get::<_, Option<String>>(8)?.and_then(|text| serde_json::from_str(&text).ok()),
                    },
                ))
            })?;
            for row in rows {
                let ((bus, rule), target) = row?;
                let shape = Shape::of(&target.input)?;
                targets.insert(format!("{bus}/{rule}/{}", target.id), LoadedTarget { bus, rule, target, shape });
            }
            let mut stmt =
                self.conn.prepare("SELECT bus, name, pattern FROM rules WHERE state = 'ENABLED' ORDER BY bus, name")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
            for row in rows {
                let (bus, rule, text) = row?;
                let compiled = routes.entry(bus.clone()).or_default();
                compiled.matcher.add(&rule, &text)?;
                let mut ids: Vec<RouteTarget> = targets
                    .values()
                    .filter(|t: &&LoadedTarget| t.bus == bus && t.rule == rule)
                    .map(|t| RouteTarget {
                        id: t.target.id.clone(),
                        scope: format!("{bus}/{rule}/{}", t.target.id),
                        queue: match (LocalTarget::of(&t.target.arn, &self.location), &t.shape) {
                            (Some(LocalTarget::Queue(queue)), Shape::Whole) => Some(queue.to_string()),
                            _ => None,
                        },
                    })
                    .collect();
                ids.sort_by(|a, b| a.id.cmp(&b.id));
                compiled.rules.push(RouteRule { scope: format!("{bus}/{rule}"), name: rule, targets: ids });
            }
        }
        {
            let mut stmt = self.conn.prepare("SELECT bus, name, pattern FROM archives ORDER BY name")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
            })?;
            for row in rows {
                let (bus, name, pattern) = row?;
                let compiled = routes.entry(bus).or_default();
                match pattern {
                    Some(text) => compiled.archive_matcher.add(&name, &text)?,
                    None => compiled.archive_all.push(name),
                }
            }
        }
        self.routes = routes;
        self.targets = targets;
        Ok(())
    }

    /// Creates a bus (names may contain `/`, as partner buses do).
    ///
    /// # Errors
    ///
    /// An invalid name, or `ResourceAlreadyExistsException`.
    pub fn create_bus(&mut self, name: &str, description: Option<&str>) -> Result<String, BusError> {
        check_name("name", name, 256, true)?;
        let arn = self.location.bus_arn(name);
        let inserted = self.conn.execute(
            "INSERT OR IGNORE INTO buses (name, arn, description, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, arn, description, now()],
        )?;
        if inserted == 0 {
            return Err(BusError::AlreadyExists(format!("Event bus {name} already exists.")));
        }
        self.reload()?;
        Ok(arn)
    }

    /// Whether a bus exists.
    pub fn has_bus(&self, name: &str) -> bool {
        self.routes.contains_key(name)
    }

    /// Creates or replaces a rule (PutRule).
    ///
    /// # Errors
    ///
    /// A missing bus, an invalid name or pattern (AWS's message), or the per-bus rule limit.
    pub fn put_rule(&mut self, rule: &Rule) -> Result<String, BusError> {
        check_name("name", &rule.name, 64, false)?;
        if !self.has_bus(&rule.bus) {
            return Err(BusError::NotFound(format!("Event bus {} does not exist.", rule.bus)));
        }
        Pattern::parse(&rule.pattern)?;
        let existing: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM rules WHERE bus = ?1 AND name <> ?2",
            params![rule.bus, rule.name],
            |r| r.get(0),
        )?;
        if existing as usize >= self.limits.rules_per_bus {
            return Err(BusError::LimitExceeded(format!(
                "The requested resource exceeds the maximum number allowed: {} rules on event bus {}.",
                self.limits.rules_per_bus, rule.bus
            )));
        }
        let arn = self.location.rule_arn(&rule.bus, &rule.name);
        self.conn.execute(
            "INSERT INTO rules (bus, name, arn, pattern, state, description) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (bus, name) DO UPDATE SET pattern = excluded.pattern, state = excluded.state,
                 description = excluded.description",
            params![rule.bus, rule.name, arn, rule.pattern, rule.state.as_str(), rule.description],
        )?;
        self.reload()?;
        Ok(arn)
    }

    /// The rules of a bus, by name.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    pub fn rules(&self, bus: &str) -> Result<Vec<Rule>, BusError> {
        let mut stmt =
            self.conn.prepare("SELECT name, pattern, state, description FROM rules WHERE bus = ?1 ORDER BY name")?;
        let rows = stmt.query_map([bus], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
        })?;
        rows.map(|row| {
            let (name, pattern, state, description) = row?;
            Ok(Rule { bus: bus.to_string(), name, pattern, state: RuleState::parse(&state)?, description })
        })
        .collect()
    }

    /// Every bus: name, ARN, description, creation time (epoch seconds), by name.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    pub fn buses(&self) -> Result<Vec<BusInfo>, BusError> {
        let mut stmt = self.conn.prepare("SELECT name, arn, description, created_at FROM buses ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(BusInfo { name: r.get(0)?, arn: r.get(1)?, description: r.get(2)?, created_at: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes a bus without rules (DeleteEventBus). `default` cannot be deleted; a bus that does
    /// not exist is not an error, as on AWS.
    ///
    /// # Errors
    ///
    /// `default`, or a bus that still has rules.
    pub fn delete_bus(&mut self, name: &str) -> Result<(), BusError> {
        if name == "default" {
            return Err(BusError::Validation("Cannot delete event bus default.".into()));
        }
        let rules: i64 = self.conn.query_row("SELECT COUNT(*) FROM rules WHERE bus = ?1", [name], |r| r.get(0))?;
        if rules > 0 {
            return Err(BusError::Validation(format!("Event bus {name} still has {rules} rules; delete them first.")));
        }
        self.conn.execute("DELETE FROM buses WHERE name = ?1", [name])?;
        self.reload()
    }

    /// Deletes a rule without targets (DeleteRule). A rule that does not exist is not an error.
    ///
    /// # Errors
    ///
    /// A missing bus, or a rule that still has targets.
    pub fn delete_rule(&mut self, bus: &str, rule: &str) -> Result<(), BusError> {
        if !self.has_bus(bus) {
            return Err(BusError::NotFound(format!("Event bus {bus} does not exist.")));
        }
        let targets: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM targets WHERE bus = ?1 AND rule = ?2",
            params![bus, rule],
            |r| r.get(0),
        )?;
        if targets > 0 {
            return Err(BusError::Validation("Rule can't be deleted since it has targets.".into()));
        }
        self.conn.execute("DELETE FROM rules WHERE bus = ?1 AND name = ?2", params![bus, rule])?;
        self.reload()
    }

    /// A rule's targets, by id (ListTargetsByRule).
    ///
    /// # Errors
    ///
    /// A missing rule.
    pub fn targets(&self, bus: &str, rule: &str) -> Result<Vec<Target>, BusError> {
        self.require_rule(bus, rule)?;
        let mut found: Vec<Target> =
            self.targets.values().filter(|t| t.bus == bus && t.rule == rule).map(|t| t.target.clone()).collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found)
    }

    /// Removes targets by id (RemoveTargets); returns the ids that were not there.
    ///
    /// # Errors
    ///
    /// A missing rule.
    pub fn remove_targets(&mut self, bus: &str, rule: &str, ids: &[String]) -> Result<Vec<String>, BusError> {
        self.require_rule(bus, rule)?;
        let mut missing = Vec::new();
        let tx = self.conn.transaction()?;
        for id in ids {
            let removed =
                tx.execute("DELETE FROM targets WHERE bus = ?1 AND rule = ?2 AND id = ?3", params![bus, rule, id])?;
            if removed == 0 {
                missing.push(id.clone());
            }
        }
        tx.commit()?;
        self.reload()?;
        Ok(missing)
    }

    /// Names of the rules on `bus` with a target whose ARN is `arn` (ListRuleNamesByTarget).
    ///
    /// # Errors
    ///
    /// A missing bus.
    pub fn rule_names_by_target(&self, bus: &str, arn: &str) -> Result<Vec<String>, BusError> {
        if !self.has_bus(bus) {
            return Err(BusError::NotFound(format!("Event bus {bus} does not exist.")));
        }
        let mut names: Vec<String> =
            self.targets.values().filter(|t| t.bus == bus && t.target.arn == arn).map(|t| t.rule.clone()).collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn require_rule(&self, bus: &str, rule: &str) -> Result<(), BusError> {
        let exists: Option<String> = self
            .conn
            .query_row("SELECT name FROM rules WHERE bus = ?1 AND name = ?2", params![bus, rule], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            return Err(BusError::NotFound(format!("Rule {rule} does not exist on EventBus {bus}.")));
        }
        Ok(())
    }

    /// Adds or replaces targets of a rule (PutTargets).
    ///
    /// # Errors
    ///
    /// A missing rule, invalid ids or retry policies, or more targets than the rule may have.
    pub fn put_targets(&mut self, bus: &str, rule: &str, targets: &[Target]) -> Result<(), BusError> {
        self.require_rule(bus, rule)?;
        for t in targets {
            check_name("targets.member.id", &t.id, 64, false)?;
            t.retry.validate()?;
            match &t.input {
                TargetInput::Event => {}
                TargetInput::Constant(text) => {
                    if serde_json::from_str::<serde_json::Value>(text).is_err() {
                        return Err(BusError::Validation(format!("Target {}: Input is not valid JSON text.", t.id)));
                    }
                }
                TargetInput::Path(path) => {
                    JsonPath::parse(path)?;
                }
                TargetInput::Transformer { paths, template } => {
                    Transformer::new(paths, template)?;
                }
            }
        }
        let tx = self.conn.transaction()?;
        for t in targets {
            let input = (t.input != TargetInput::Event)
                .then(|| serde_json::to_string(&t.input).expect("target inputs serialise"));
            tx.execute(
                "INSERT INTO targets (bus, rule, id, arn, input, max_retry_attempts, max_event_age_seconds, dead_letter_arn,
                                      http)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (bus, rule, id) DO UPDATE SET arn = excluded.arn, input = excluded.input,
                     max_retry_attempts = excluded.max_retry_attempts,
                     max_event_age_seconds = excluded.max_event_age_seconds,
                     dead_letter_arn = excluded.dead_letter_arn, http = excluded.http",
                params![
                    bus,
                    rule,
                    t.id,
                    t.arn,
                    input,
                    t.retry.maximum_retry_attempts,
                    t.retry.maximum_event_age_seconds,
                    t.dead_letter_arn,
                    t.http.as_ref().map(|h| serde_json::to_string(h).expect("parameters serialise"))
                ],
            )?;
        }
        let count: i64 =
            tx.query_row("SELECT COUNT(*) FROM targets WHERE bus = ?1 AND rule = ?2", params![bus, rule], |r| {
                r.get(0)
            })?;
        if count as usize > self.limits.targets_per_rule {
            // Dropping `tx` rolls the additions back.
            return Err(BusError::LimitExceeded(format!(
                "The requested resource exceeds the maximum number allowed: {} targets on rule {rule}.",
                self.limits.targets_per_rule
            )));
        }
        tx.commit()?;
        self.reload()
    }

    /// PutEvents: 1–10 entries. Accepted entries are logged and their deliveries enqueued in one
    /// transaction, committed before this returns; nothing waits on a target.
    ///
    /// # Errors
    ///
    /// A request-level `ValidationException` (no entries, more than 10), or a store failure.
    pub fn put_events(&mut self, entries: &[PutEventsEntry]) -> Result<Vec<PutEventsResultEntry>, BusError> {
        check_entry_count(entries)?;
        let tx = self.conn.transaction()?;
        let results = put_in(&tx, &self.routes, &self.location, &self.limits, &mut self.scratch, entries, now())?;
        tx.commit()?;
        Ok(results)
    }

    /// Many PutEvents requests (each of 1–10 entries) in one transaction: the embedded fast path
    /// for a local producer. Same checks and effects as calling [`EventBus::put_events`] per
    /// request, with one commit. `checkpoint` (key, value), if given, is written in the same
    /// transaction, so a producer can record how far it got exactly when its events became
    /// durable.
    ///
    /// # Errors
    ///
    /// As [`EventBus::put_events`]; on error nothing of the batch is kept.
    pub fn put_event_batches(
        &mut self,
        requests: &[Vec<PutEventsEntry>],
        checkpoint: Option<(&str, &str)>,
    ) -> Result<Vec<Vec<PutEventsResultEntry>>, BusError> {
        let tx = self.conn.transaction()?;
        let now = now();
        let mut all = Vec::with_capacity(requests.len());
        for entries in requests {
            check_entry_count(entries)?;
            all.push(put_in(&tx, &self.routes, &self.location, &self.limits, &mut self.scratch, entries, now)?);
        }
        if let Some((key, value)) = checkpoint {
            tx.execute(
                "INSERT INTO checkpoints (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
        }
        tx.commit()?;
        Ok(all)
    }

    /// A checkpoint written by [`EventBus::put_event_batches`] or [`EventBus::set_checkpoint`].
    ///
    /// # Errors
    ///
    /// The store could not be read.
    pub fn checkpoint(&self, key: &str) -> Result<Option<String>, BusError> {
        Ok(self.conn.query_row("SELECT value FROM checkpoints WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Writes a checkpoint on its own.
    ///
    /// # Errors
    ///
    /// The store refused the write.
    pub fn set_checkpoint(&self, key: &str, value: &str) -> Result<(), BusError> {
        self.conn.execute(
            "INSERT INTO checkpoints (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Deliveries waiting (due now or later).
    ///
    /// # Errors
    ///
    /// The store could not be read.
    pub fn pending(&self) -> Result<u64, BusError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM deliveries", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// When the next waiting delivery is due, if any.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    pub fn next_due(&self) -> Result<Option<f64>, BusError> {
        Ok(self.conn.query_row("SELECT MIN(due_at) FROM deliveries", [], |r| r.get::<_, Option<f64>>(0))?)
    }

    /// Delivers up to `limit` deliveries due at `now`, in queue order, through `handler`. Each
    /// delivery's effects and its acknowledgement commit together; the batch commits once.
    ///
    /// # Errors
    ///
    /// A store failure (the batch is rolled back and will be delivered again).
    pub fn deliver_due(
        &mut self,
        handler: &mut dyn Handler,
        now: f64,
        limit: usize,
    ) -> Result<DeliveryReport, BusError> {
        if self.optimistic && handler.writes_only_to_store() {
            match self.deliver_batch(handler, now, limit, Isolation::Batch)? {
                Some(report) => return Ok(report),
                // A delivery failed and the batch was rolled back; until a batch succeeds
                // whole again, batches are made a savepoint per delivery.
                None => self.optimistic = false,
            }
        }
        let report = self.deliver_batch(handler, now, limit, Isolation::PerDelivery)?.expect("never rolled back");
        self.optimistic = report.retried == 0 && report.dead_lettered == 0;
        Ok(report)
    }

    /// One batch of [`EventBus::deliver_due`]. With [`Isolation::Batch`], returns `None`
    /// (after rolling everything back) as soon as a delivery fails; a batch with a target whose
    /// effects are outside the store (a file, HTTP) is made a savepoint per delivery anyway.
    fn deliver_batch(
        &mut self,
        handler: &mut dyn Handler,
        now: f64,
        limit: usize,
        isolation: Isolation,
    ) -> Result<Option<DeliveryReport>, BusError> {
        let mut report = DeliveryReport::default();
        let tx = self.conn.transaction()?;
        let due: Vec<DueDelivery> = {
            let mut stmt = tx.prepare_cached(
                "SELECT d.id, d.event_seq, d.bus, d.rule, d.target, d.attempts, e.event_id, e.envelope, e.ingested_at
                 FROM deliveries d JOIN events e ON e.seq = d.event_seq
                 WHERE d.due_at <= ?1 ORDER BY d.due_at, d.id LIMIT ?2",
            )?;
            stmt.query_map(params![now, limit as i64], |r| {
                let (bus, rule, target_id): (String, String, String) = (r.get(2)?, r.get(3)?, r.get(4)?);
                Ok(DueDelivery {
                    id: r.get(0)?,
                    seq: r.get(1)?,
                    scope: format!("{bus}/{rule}/{target_id}"),
                    bus,
                    rule,
                    target_id,
                    attempts: r.get(5)?,
                    event_id: r.get(6)?,
                    envelope: r.get(7)?,
                    ingested_at: r.get(8)?,
                })
            })?
            .collect::<Result<_, _>>()?
        };
        let external = |d: &DueDelivery| {
            self.targets.get(&d.scope).is_some_and(|loaded| {
                matches!(
                    LocalTarget::of(&loaded.target.arn, &self.location),
                    Some(LocalTarget::File(_) | LocalTarget::Http(_))
                )
            })
        };
        // A rollback cannot take back a file's line or an HTTP call: such a batch keeps its
        // savepoints.
        let isolate = isolation == Isolation::PerDelivery || due.iter().any(external);
        // Let the handler look at its whole share of the batch first (see `Handler::prepare`).
        let ahead: Vec<(&str, &str)> = due
            .iter()
            .filter_map(|d| {
                let loaded = self.targets.get(&d.scope)?;
                let to_handler = matches!(loaded.shape, Shape::Whole)
                    && LocalTarget::of(&loaded.target.arn, &self.location).is_none();
                to_handler.then_some((loaded.target.arn.as_str(), d.envelope.as_str()))
            })
            .collect();
        if !ahead.is_empty() {
            handler.prepare(&ahead);
        }
        drop(ahead);
        let mut counters = Counters::default();
        for d in due {
            let DueDelivery { id, bus, rule, scope, attempts, event_id, envelope, ingested_at, .. } = &d;
            let (id, attempts, ingested_at) = (*id, *attempts, *ingested_at);
            let rule_arn = self.location.rule_arn(bus, rule);
            let Some(LoadedTarget { target, shape, .. }) = self.targets.get(scope) else {
                // The target was removed after the event was accepted.
                let why = ("TargetNotFound", "The target no longer exists.");
                dead_letter(&tx, &d, None, &rule_arn, "", attempts, why, now)?;
                counters.add(scope, "DeadLetterInvocations", 1);
                report.dead_lettered += 1;
                continue;
            };
            let transformed;
            let input = match (shape, &target.input) {
                (Shape::Whole, _) => envelope.as_str(),
                (Shape::Constant, TargetInput::Constant(text)) => text.as_str(),
                _ => {
                    transformed = shape.apply(envelope, &rule_arn, rule, ingested_at);
                    transformed.as_str()
                }
            };
            let delivery = Delivery { input, event_id, rule_arn: &rule_arn, target, attempt: attempts };
            // A savepoint is a nested transaction: the handler's writes are kept only on success.
            // Its statements are cached (rusqlite's `Savepoint` would parse them every time).
            // A batch made whole needs none: a failure there undoes the whole batch.
            if isolate {
                tx.prepare_cached("SAVEPOINT delivery")?.execute([])?;
            }
            let started = std::time::Instant::now();
            let outcome = match LocalTarget::of(&target.arn, &self.location) {
                Some(LocalTarget::Queue(queue)) => enqueue(&tx, queue, event_id, input, now),
                Some(LocalTarget::Bus(other)) => match self.routes.get(other) {
                    // The event goes on as it is, routed by the other bus's rules.
                    Some(compiled) => {
                        let arrival = Arrival::New { event_time: now };
                        let scratch = &mut self.scratch;
                        RouteStatements::new(&tx)
                            .and_then(|mut st| {
                                log_and_route(
                                    &tx,
                                    &mut st,
                                    other,
                                    compiled,
                                    event_id,
                                    envelope,
                                    now,
                                    arrival,
                                    scratch,
                                    &mut counters,
                                )
                            })
                            .map_err(|e| DeliveryError {
                                code: "InternalFailure".into(),
                                message: e.to_string(),
                                retryable: true,
                            })
                    }
                    None => Err(DeliveryError {
                        code: "ResourceNotFoundException".into(),
                        message: format!("Event bus {other} does not exist."),
                        retryable: false,
                    }),
                },
                Some(LocalTarget::File(path)) => append_line(path, input),
                Some(LocalTarget::Http(url)) => {
                    let outcome = self.http.call(url, target, input, event_id);
                    // CloudWatch counts a rule as throttled when its target had to wait.
                    let waited = self.http.take_throttled();
                    if waited > 0 {
                        counters.add(&format!("{bus}/{rule}"), "ThrottledRules", waited as i64);
                    }
                    outcome
                }
                None => handler.deliver(&delivery, &tx),
            };
            counters.add_duration(scope, started.elapsed());
            if !isolate {
                if outcome.is_err() {
                    // Dropping the transaction rolls it back.
                    return Ok(None);
                }
            } else {
                if outcome.is_err() {
                    tx.prepare_cached("ROLLBACK TO delivery")?.execute([])?;
                    counters.add(scope, "Errors", 1);
                }
                tx.prepare_cached("RELEASE delivery")?.execute([])?;
            }
            match outcome {
                Ok(()) => {
                    tx.prepare_cached("DELETE FROM deliveries WHERE id = ?1")?.execute([id])?;
                    counters.add(scope, "Invocations", 1);
                    report.delivered += 1;
                }
                Err(e) => {
                    let attempts = attempts + 1;
                    let age = now - ingested_at;
                    let exhausted = !e.retryable
                        || attempts > target.retry.maximum_retry_attempts
                        || age >= f64::from(target.retry.maximum_event_age_seconds);
                    if exhausted {
                        dead_letter(
                            &tx,
                            &d,
                            target.dead_letter_arn.as_deref(),
                            &rule_arn,
                            &target.arn,
                            attempts,
                            (&e.code, &e.message),
                            now,
                        )?;
                        if target.dead_letter_arn.is_some() {
                            counters.add(scope, "DeadLetterInvocations", 1);
                        } else {
                            counters.add(scope, "FailedInvocations", 1);
                        }
                        report.dead_lettered += 1;
                    } else {
                        let due = now + backoff_seconds(attempts, id as u64 ^ u64::from(attempts));
                        tx.prepare_cached("UPDATE deliveries SET attempts = ?2, due_at = ?3 WHERE id = ?1")?
                            .execute(params![id, attempts, due])?;
                        counters.add(scope, "RetryInvocationAttempts", 1);
                        report.retried += 1;
                    }
                }
            }
        }
        counters.flush(&tx)?;
        tx.commit()?;
        Ok(Some(report))
    }

    /// Creates an archive of a bus (CreateArchive): from now on, events put on the bus that
    /// match `pattern` (all of them without one) are kept for replay. Replayed events are never
    /// archived. Returns the archive's ARN.
    ///
    /// # Errors
    ///
    /// A bad name (1–48 of `[.\-_A-Za-z0-9]`), a missing bus, an invalid pattern, or
    /// `ResourceAlreadyExistsException`.
    pub fn create_archive(&mut self, name: &str, bus: &str, pattern: Option<&str>) -> Result<String, BusError> {
        check_name("archiveName", name, 48, false)?;
        if !self.has_bus(bus) {
            return Err(BusError::NotFound(format!("Event bus {bus} does not exist.")));
        }
        if let Some(text) = pattern {
            Pattern::parse(text)?;
        }
        let arn = self.location.archive_arn(name);
        let inserted = self.conn.execute(
            "INSERT OR IGNORE INTO archives (name, bus, pattern, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, bus, pattern, now()],
        )?;
        if inserted == 0 {
            return Err(BusError::AlreadyExists(format!("Archive {name} already exists.")));
        }
        self.reload()?;
        Ok(arn)
    }

    /// Replays an archive's events whose event time is in `[start, end)` onto the archive's bus
    /// (StartReplay; cross-bus replay is not permitted), to every rule or only to `rules`. Each
    /// replayed event carries `"replay-name"`. The replay is recorded for [`EventBus::replays`].
    /// Returns how many events were replayed.
    ///
    /// # Errors
    ///
    /// A missing archive, a replay name already used (`ResourceAlreadyExistsException`), or a
    /// store failure (then nothing is replayed).
    pub fn replay(
        &mut self,
        name: &str,
        archive: &str,
        start: f64,
        end: f64,
        rules: Option<&[String]>,
    ) -> Result<u64, BusError> {
        check_name("replayName", name, 64, false)?;
        let bus: String = self
            .conn
            .query_row("SELECT bus FROM archives WHERE name = ?1", [archive], |r| r.get(0))
            .optional()?
            .ok_or_else(|| BusError::NotFound(format!("Archive {archive} does not exist.")))?;
        let started_at = now();
        let tx = self.conn.transaction()?;
        let taken: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM replays WHERE name = ?1)", [name], |r| r.get(0))?;
        if taken {
            return Err(BusError::AlreadyExists(format!("Replay {name} already exists.")));
        }
        let events: Vec<(String, String, f64)> = {
            let mut stmt = tx.prepare(
                "SELECT e.event_id, e.envelope, a.event_time FROM archive_events a JOIN events e ON e.seq = a.event_seq
                 WHERE a.archive = ?1 AND a.event_time >= ?2 AND a.event_time < ?3 ORDER BY a.event_time, a.event_seq",
            )?;
            stmt.query_map(params![archive, start, end], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?
        };
        let compiled =
            self.routes.get(&bus).ok_or_else(|| BusError::NotFound(format!("Event bus {bus} does not exist.")))?;
        let mut counters = Counters::default();
        let marker = format!(",\"replay-name\":{}}}", serde_json::to_string(name).expect("strings serialise"));
        let mut statements = RouteStatements::new(&tx)?;
        for (id, envelope, _) in &events {
            // The envelope is a JSON object written by this bus: add the member before its end.
            let replayed = format!("{}{marker}", envelope.trim_end().strip_suffix('}').unwrap_or(envelope));
            let arrival = Arrival::Replay { rules };
            let scratch = &mut self.scratch;
            log_and_route(
                &tx,
                &mut statements,
                &bus,
                compiled,
                id,
                &replayed,
                started_at,
                arrival,
                scratch,
                &mut counters,
            )?;
        }
        drop(statements);
        counters.flush(&tx)?;
        let last_replayed = events.iter().map(|(_, _, t)| *t).reduce(f64::max);
        let rules_json = rules.map(|r| serde_json::to_string(r).expect("strings serialise"));
        tx.execute(
            "INSERT INTO replays (name, archive, bus, rules, event_start, event_end, last_replayed, started_at, ended_at, events)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![name, archive, bus, rules_json, start, end, last_replayed, started_at, now(), events.len() as i64],
        )?;
        tx.commit()?;
        Ok(events.len() as u64)
    }

    /// Every archive, by name, with how many events it keeps and their size.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    pub fn archives(&self) -> Result<Vec<ArchiveInfo>, BusError> {
        let mut stmt = self.conn.prepare(
            "SELECT a.name, a.bus, a.pattern, a.created_at,
                    (SELECT COUNT(*) FROM archive_events x WHERE x.archive = a.name),
                    (SELECT COALESCE(SUM(LENGTH(e.envelope)), 0) FROM archive_events x JOIN events e ON e.seq = x.event_seq
                     WHERE x.archive = a.name)
             FROM archives a ORDER BY a.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ArchiveInfo {
                name: r.get(0)?,
                bus: r.get(1)?,
                pattern: r.get(2)?,
                created_at: r.get(3)?,
                event_count: r.get::<_, i64>(4)? as u64,
                size_bytes: r.get::<_, i64>(5)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes an archive and what it kept (DeleteArchive); the events stay in the event log.
    ///
    /// # Errors
    ///
    /// `ResourceNotFoundException` for an archive that does not exist.
    pub fn delete_archive(&mut self, name: &str) -> Result<(), BusError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM archive_events WHERE archive = ?1", [name])?;
        if tx.execute("DELETE FROM archives WHERE name = ?1", [name])? == 0 {
            return Err(BusError::NotFound(format!("Archive {name} does not exist.")));
        }
        tx.commit()?;
        self.reload()
    }

    /// Every replay run, by name.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    pub fn replays(&self) -> Result<Vec<ReplayInfo>, BusError> {
        let mut stmt = self.conn.prepare(
            "SELECT name, archive, bus, rules, event_start, event_end, last_replayed, started_at, ended_at, events
             FROM replays ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            let rules: Option<String> = r.get(3)?;
            Ok(ReplayInfo {
                name: r.get(0)?,
                archive: r.get(1)?,
                bus: r.get(2)?,
                rules: rules.and_then(|text| serde_json::from_str(&text).ok()),
                event_start: r.get(4)?,
                event_end: r.get(5)?,
                last_replayed: r.get(6)?,
                started_at: r.get(7)?,
                ended_at: r.get(8)?,
                events: r.get::<_, i64>(9)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Takes up to `max` messages from a durable queue, oldest first: (event id, body).
    ///
    /// # Errors
    ///
    /// The store could not be read or written.
    pub fn receive(&mut self, queue: &str, max: usize) -> Result<Vec<(String, String)>, BusError> {
        let mut taken = Vec::new();
        self.receive_with(queue, max, |event_id, body| {
            taken.push((event_id.to_string(), body.to_string()));
            Ok::<(), std::convert::Infallible>(())
        })
        .map_err(|e| match e {
            ReceiveError::Bus(e) => e,
            ReceiveError::Consumer(never) => match never {},
        })?;
        Ok(taken)
    }

    /// Hands up to `max` messages of a durable queue to `consume`, oldest first, and removes
    /// those it accepted, in one transaction: when `consume` fails (say its reader went away),
    /// that message and the ones after it stay queued. Returns how many were taken.
    ///
    /// # Errors
    ///
    /// The store failed, or `consume` did (what it accepted before is taken).
    pub fn receive_with<E>(
        &mut self,
        queue: &str,
        max: usize,
        mut consume: impl FnMut(&str, &str) -> Result<(), E>,
    ) -> Result<usize, ReceiveError<E>> {
        let tx =
            self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(BusError::from)?;
        let messages: Vec<(i64, String, String)> = {
            let mut stmt = tx
                .prepare("SELECT id, event_id, body FROM queue_messages WHERE queue = ?1 ORDER BY id LIMIT ?2")
                .map_err(BusError::from)?;
            stmt.query_map(params![queue, max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(|rows| rows.collect::<Result<_, _>>())
                .map_err(BusError::from)?
        };
        let mut failure = None;
        let mut taken = 0;
        for (id, event_id, body) in &messages {
            if let Err(e) = consume(event_id, body) {
                failure = Some(e);
                break;
            }
            tx.execute("DELETE FROM queue_messages WHERE id = ?1", [id]).map_err(BusError::from)?;
            taken += 1;
        }
        tx.commit().map_err(BusError::from)?;
        match failure {
            Some(e) => Err(ReceiveError::Consumer(e)),
            None => Ok(taken),
        }
    }

    /// Dead letters, oldest first, at most `limit`.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    pub fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        let mut stmt = self.conn.prepare(
            "SELECT d.id, e.event_id, d.rule_arn, d.target_arn, d.queue_arn, d.attempts, d.error_code, d.error_message,
                    d.failed_at
             FROM dead_letters d JOIN events e ON e.seq = d.event_seq ORDER BY d.id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(DeadLetter {
                id: r.get(0)?,
                event_id: r.get(1)?,
                rule_arn: r.get(2)?,
                target_arn: r.get(3)?,
                queue_arn: r.get(4)?,
                attempts: r.get(5)?,
                error_code: r.get(6)?,
                error_message: r.get(7)?,
                failed_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Puts dead letters back on the delivery queue (all of them, or those with these ids), due
    /// now with a fresh retry budget. Returns how many were redriven.
    ///
    /// # Errors
    ///
    /// The store refused the change (nothing is moved then).
    pub fn redrive(&mut self, ids: Option<&[i64]>) -> Result<u64, BusError> {
        let tx = self.conn.transaction()?;
        let moved = match ids {
            None => {
                let n = tx.execute(
                    "INSERT INTO deliveries (event_seq, bus, rule, target, due_at)
                     SELECT event_seq, bus, rule, target, ?1 FROM dead_letters ORDER BY id",
                    [now()],
                )?;
                tx.execute("DELETE FROM dead_letters", [])?;
                n
            }
            Some(ids) => {
                let mut n = 0;
                for id in ids {
                    n += tx.execute(
                        "INSERT INTO deliveries (event_seq, bus, rule, target, due_at)
                         SELECT event_seq, bus, rule, target, ?2 FROM dead_letters WHERE id = ?1",
                        params![id, now()],
                    )?;
                    tx.execute("DELETE FROM dead_letters WHERE id = ?1", [id])?;
                }
                n
            }
        };
        tx.commit()?;
        Ok(moved as u64)
    }

    /// Handler durations per target scope from the histogram counters: (scope, calls, p50 µs,
    /// p99 µs), each percentile as the upper bound of its power-of-two bucket.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    pub fn durations(&self) -> Result<Vec<(String, i64, u64, u64)>, BusError> {
        let mut by_scope: std::collections::BTreeMap<String, Vec<(u64, i64)>> = Default::default();
        for (scope, name, value) in self.metrics()? {
            if let Some(bound) = name.strip_prefix(DURATION_BUCKET).and_then(|b| b.parse::<u64>().ok()) {
                by_scope.entry(scope).or_default().push((bound, value));
            }
        }
        Ok(by_scope
            .into_iter()
            .map(|(scope, mut buckets)| {
                buckets.sort_unstable();
                let total: i64 = buckets.iter().map(|(_, n)| n).sum();
                let at = |q: f64| {
                    let want = (total as f64 * q).ceil().max(1.0) as i64;
                    let mut seen = 0;
                    buckets
                        .iter()
                        .find(|(_, n)| {
                            seen += n;
                            seen >= want
                        })
                        .map_or(0, |(b, _)| *b)
                };
                (scope, total, at(0.5), at(0.99))
            })
            .collect())
    }

    /// Every counter, as (scope, name, value), sorted.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    pub fn metrics(&self) -> Result<Vec<(String, String, i64)>, BusError> {
        let mut stmt = self.conn.prepare("SELECT scope, name, value FROM metrics ORDER BY scope, name")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Moves a delivery to the dead-letter table with what EventBridge attaches to a dead letter.
#[allow(clippy::too_many_arguments)] // one row of the dead-letter table
fn dead_letter(
    tx: &Transaction<'_>,
    d: &DueDelivery,
    queue_arn: Option<&str>,
    rule_arn: &str,
    target_arn: &str,
    attempts: u32,
    error: (&str, &str),
    now: f64,
) -> Result<(), BusError> {
    tx.prepare_cached(
        "INSERT INTO dead_letters (event_seq, bus, rule, target, queue_arn, rule_arn, target_arn, attempts, error_code,
                                   error_message, failed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        d.seq,
        d.bus,
        d.rule,
        d.target_id,
        queue_arn,
        rule_arn,
        target_arn,
        attempts,
        error.0,
        error.1,
        now
    ])?;
    tx.prepare_cached("DELETE FROM deliveries WHERE id = ?1")?.execute([d.id])?;
    Ok(())
}

/// One dead letter, as `callsynth dlq list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Row id (what `redrive` takes).
    pub id: i64,
    /// The event's id.
    pub event_id: String,
    /// Rule ARN.
    pub rule_arn: String,
    /// Target ARN.
    pub target_arn: String,
    /// The target's `DeadLetterConfig` queue, if it had one.
    pub queue_arn: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// Last error code.
    pub error_code: String,
    /// Last error message.
    pub error_message: String,
    /// When it gave up (epoch seconds).
    pub failed_at: f64,
}

/// A target as delivery uses it: where it hangs, and its input shape compiled once.
struct LoadedTarget {
    bus: String,
    rule: String,
    target: Target,
    shape: Shape,
}

/// What a target receives, compiled from its [`TargetInput`].
enum Shape {
    Whole,
    Constant,
    Path(JsonPath),
    Transformer(Transformer),
}

impl Shape {
    fn of(input: &TargetInput) -> Result<Shape, BusError> {
        Ok(match input {
            TargetInput::Event => Shape::Whole,
            TargetInput::Constant(_) => Shape::Constant,
            TargetInput::Path(path) => Shape::Path(JsonPath::parse(path)?),
            TargetInput::Transformer { paths, template } => Shape::Transformer(Transformer::new(paths, template)?),
        })
    }

    /// The input of an `InputPath` or `InputTransformer` target for one envelope.
    fn apply(&self, envelope: &str, rule_arn: &str, rule: &str, ingested_at: f64) -> String {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(envelope) else { return envelope.to_string() };
        match self {
            Shape::Path(path) => path.select(&event).map_or_else(|| "null".to_string(), |v| v.to_string()),
            Shape::Transformer(t) => {
                t.apply(&event, Context { rule_arn, rule_name: rule, ingestion_time: &envelope_time(ingested_at) })
            }
            Shape::Whole | Shape::Constant => envelope.to_string(),
        }
    }
}

/// Targets the bus delivers to itself, inside the delivery's transaction.
enum LocalTarget<'a> {
    /// A durable named queue in the store (an SQS queue ARN of this account and region).
    Queue(&'a str),
    /// Another bus of this store (an event-bus ARN of this account and region).
    Bus(&'a str),
    /// An NDJSON file (`file:PATH`); at-least-once: a crash after the append and before the
    /// commit writes the line again (the event id lets readers drop the repeat).
    File(&'a str),
    /// An HTTP endpoint (`http://…`), like an API destination; at-least-once, with the event id
    /// in an `Idempotency-Key` header.
    Http(&'a str),
}

impl<'a> LocalTarget<'a> {
    fn of(arn: &'a str, location: &Location) -> Option<LocalTarget<'a>> {
        if let Some(path) = arn.strip_prefix("file:") {
            return Some(LocalTarget::File(path));
        }
        if arn.starts_with("http://") || arn.starts_with("https://") {
            return Some(LocalTarget::Http(arn));
        }
        let prefix = format!("arn:aws:sqs:{}:{}:", location.region, location.account);
        if let Some(queue) = arn.strip_prefix(&prefix) {
            return Some(LocalTarget::Queue(queue));
        }
        let prefix = format!("arn:aws:events:{}:{}:event-bus/", location.region, location.account);
        arn.strip_prefix(&prefix).map(LocalTarget::Bus)
    }
}

fn enqueue(tx: &Transaction<'_>, queue: &str, event_id: &str, body: &str, now: f64) -> Result<(), DeliveryError> {
    tx.prepare_cached("INSERT INTO queue_messages (queue, event_id, body, enqueued_at) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut stmt| stmt.execute(params![queue, event_id, body, now]))
        .map(drop)
        .map_err(|e| DeliveryError { code: "InternalFailure".into(), message: e.to_string(), retryable: true })
}

fn append_line(path: &str, body: &str) -> Result<(), DeliveryError> {
    use std::io::Write;
    let failed = |e: std::io::Error| DeliveryError {
        code: "FileWriteFailed".into(),
        message: format!("{path}: {e}"),
        retryable: true,
    };
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(failed)?;
    let mut line = Vec::with_capacity(body.len() + 1);
    line.extend_from_slice(body.as_bytes());
    line.push(b'\n');
    file.write_all(&line).map_err(failed)
}

/// One queued delivery with its event, as read for delivery.
struct DueDelivery {
    id: i64,
    seq: i64,
    bus: String,
    rule: String,
    target_id: String,
    /// `bus/rule/target`: the key of [`EventBus::targets`] and the target's counter scope.
    scope: String,
    attempts: u32,
    event_id: String,
    envelope: String,
    ingested_at: f64,
}

/// Counter increments gathered in memory and written once per transaction.
#[derive(Default)]
struct Counters(HashMap<String, HashMap<&'static str, i64>>);

/// Prefix of the handler-duration histogram counters: `DurationUs<2^k>` counts calls that took
/// under 2^k µs (and at least 2^(k-1)).
pub const DURATION_BUCKET: &str = "DurationUs";

/// The histogram's counter names, `DurationUs2` … `DurationUs2^63`, made once.
static BUCKET_NAMES: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| (0..64).map(|k| format!("{DURATION_BUCKET}{}", 1u64 << k)).collect());

impl Counters {
    /// Adds to a counter; allocates only the first time a scope is seen in this batch.
    fn add(&mut self, scope: &str, name: &'static str, by: i64) {
        let names = match self.0.get_mut(scope) {
            Some(names) => names,
            None => self.0.entry(scope.to_string()).or_default(),
        };
        *names.entry(name).or_default() += by;
    }

    /// One handler call's duration into its power-of-two microsecond bucket.
    fn add_duration(&mut self, scope: &str, took: std::time::Duration) {
        let micros = took.as_micros().clamp(1, 1 << 62) as u64;
        // The smallest power of two above `micros` (at least 2).
        let k = (64 - micros.leading_zeros()).max(1) as usize;
        let names: &'static Vec<String> = &BUCKET_NAMES;
        self.add(scope, names[k].as_str(), 1);
    }

    fn flush(self, tx: &Transaction<'_>) -> Result<(), BusError> {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO metrics (scope, name, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (scope, name) DO UPDATE SET value = value + excluded.value",
        )?;
        for (scope, names) in self.0 {
            for (name, value) in names {
                stmt.execute(params![scope, name, value])?;
            }
        }
        Ok(())
    }
}

/// PutEvents takes 1 to 10 entries; anything else fails the whole request.
pub fn check_entry_count(entries: &[PutEventsEntry]) -> Result<(), BusError> {
    if entries.is_empty() || entries.len() > 10 {
        return Err(BusError::Validation(format!(
            "1 validation error detected: Value '[{} entries]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1",
            entries.len()
        )));
    }
    Ok(())
}

/// The body of PutEvents inside an open transaction.
fn put_in(
    tx: &Transaction<'_>,
    routes: &HashMap<String, Routes>,
    location: &Location,
    limits: &Limits,
    scratch: &mut Scratch,
    entries: &[PutEventsEntry],
    now: f64,
) -> Result<Vec<PutEventsResultEntry>, BusError> {
    let mut counters = Counters::default();
    let mut statements = RouteStatements::new(tx)?;
    let mut results = Vec::with_capacity(entries.len());
    for entry in entries {
        let (Some(source), Some(detail_type), Some(detail)) = (&entry.source, &entry.detail_type, &entry.detail) else {
            let missing = [
                ("Source", entry.source.is_none()),
                ("DetailType", entry.detail_type.is_none()),
                ("Detail", entry.detail.is_none()),
            ]
            .iter()
            .filter(|(_, m)| *m)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ");
            results.push(PutEventsResultEntry::refused(
                "InvalidArgument",
                format!("Parameter(s) {missing} must be specified."),
            ));
            continue;
        };
        let bus = entry.bus_name();
        let Some(compiled) = routes.get(bus) else {
            results.push(PutEventsResultEntry::refused("InvalidArgument", format!("Event bus {bus} does not exist.")));
            continue;
        };
        if entry.size() > limits.entry_bytes {
            results.push(PutEventsResultEntry::refused(
                "InvalidArgument",
                format!("Event size {} exceeds the limit of {} bytes.", entry.size(), limits.entry_bytes),
            ));
            continue;
        }
        if pattern::validate_object(detail.as_bytes(), scratch).is_err() {
            results.push(PutEventsResultEntry::refused("MalformedDetail", "Detail is malformed."));
            continue;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let time = envelope_time(entry.time.unwrap_or(now));
        let envelope = Envelope {
            id: &id,
            detail_type,
            source,
            account: &location.account,
            time: &time,
            region: &location.region,
            resources: entry.resources.as_deref().unwrap_or_default(),
            detail,
        }
        .to_json();
        let arrival = Arrival::New { event_time: entry.time.unwrap_or(now) };
        log_and_route(tx, &mut statements, bus, compiled, &id, &envelope, now, arrival, scratch, &mut counters)?;
        results.push(PutEventsResultEntry::accepted(id));
    }
    counters.flush(tx)?;
    Ok(results)
}

/// The statements routing runs for every event, prepared once per batch.
struct RouteStatements<'t> {
    event: rusqlite::CachedStatement<'t>,
    delivery: rusqlite::CachedStatement<'t>,
    archive: rusqlite::CachedStatement<'t>,
}

impl<'t> RouteStatements<'t> {
    fn new(tx: &'t Transaction<'_>) -> Result<RouteStatements<'t>, BusError> {
        Ok(RouteStatements {
            event: tx
                .prepare_cached("INSERT INTO events (event_id, bus, ingested_at, envelope) VALUES (?1, ?2, ?3, ?4)")?,
            delivery: tx.prepare_cached(
                "INSERT INTO deliveries (event_seq, bus, rule, target, due_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            archive: tx
                .prepare_cached("INSERT INTO archive_events (archive, event_seq, event_time) VALUES (?1, ?2, ?3)")?,
        })
    }
}

/// Writes one envelope to the event log of `bus`, enqueues a delivery for every target of
/// every rule it matches, and files it in the archives that want it.
#[allow(clippy::too_many_arguments)] // the pieces of one routing step, all borrowed
fn log_and_route(
    tx: &Transaction<'_>,
    statements: &mut RouteStatements<'_>,
    bus: &str,
    compiled: &Routes,
    id: &str,
    envelope: &str,
    now: f64,
    arrival: Arrival<'_>,
    scratch: &mut Scratch,
    counters: &mut Counters,
) -> Result<(), BusError> {
    statements.event.execute(params![id, bus, now, envelope])?;
    let seq = tx.last_insert_rowid();
    // The envelope is ours: unique, dot-free top-level keys around a validated detail.
    let matched = compiled.matcher.matches_trusted_with(envelope.as_bytes(), scratch)?;
    let mut any = false;
    for &rule_index in matched {
        let RouteRule { name: rule, scope: rule_scope, targets: target_ids } = &compiled.rules[rule_index as usize];
        if let Arrival::Replay { rules: Some(only) } = arrival
            && !only.contains(rule)
        {
            continue;
        }
        any = true;
        counters.add(rule_scope, "TriggeredRules", 1);
        for target in target_ids {
            match &target.queue {
                Some(queue) => {
                    tx.prepare_cached(
                        "INSERT INTO queue_messages (queue, event_id, body, enqueued_at) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![queue, id, envelope, now])?;
                    counters.add(&target.scope, "Invocations", 1);
                }
                None => {
                    statements.delivery.execute(params![seq, bus, rule, target.id, now])?;
                }
            }
        }
    }
    if any {
        counters.add(bus, "MatchedEvents", 1);
    }
    if let Arrival::New { event_time } = arrival {
        for name in &compiled.archive_all {
            statements.archive.execute(params![name, seq, event_time])?;
        }
        if !compiled.archive_matcher.is_empty() {
            for &a in compiled.archive_matcher.matches_trusted_with(envelope.as_bytes(), scratch)? {
                statements.archive.execute(params![compiled.archive_matcher.name(a), seq, event_time])?;
            }
        }
    }
    Ok(())
}
