//! The generation pipeline: plan in order on one thread, render and encode in parallel, hand
//! batches to a sink on a writer thread.
//!
//! Memory stays flat whatever `--calls` is: at most three batches are alive at once (one being
//! rendered, one queued, one being written). Output is byte-identical for every thread count
//! because plans are made in order and each call's rendering depends only on its plan and its
//! own generator (see [`crate::rng`]).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use model::{CallStatus, Outcome, Sid, SidPrefix};
use rand::Rng;
use rayon::prelude::*;

use crate::catalog::Catalog;
use crate::dialogue::{self, RenderContext};
use crate::encode::Encoder;
use crate::pairing::{Pairing, PairingError, Strategy};
use crate::personas::PersonaPool;
use crate::plan::{CallPlan, PlanSettings, Planner};
use crate::rng::{Purpose, RngFactory};
use crate::sink::{CallSink, RenderedCall};

/// Default start of the simulated window: Monday 2026-01-05 08:00 UTC, fixed so output is
/// reproducible without flags.
pub const DEFAULT_START_MS: i64 = 1_767_600_000_000;
/// Default window length: one week.
pub const DEFAULT_WINDOW_MS: i64 = 7 * 24 * 3_600_000;
/// The contact centre's (fictional) number.
pub const DEFAULT_CENTRE_NUMBER: &str = "+18005550199";

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of calls.
    pub calls: u64,
    /// Start of the simulated window, Unix ms.
    pub start_ms: i64,
    /// Length of the window, ms.
    pub window_ms: i64,
    /// Pairing strategy.
    pub strategy: Strategy,
    /// Call-level model.
    pub plan: PlanSettings,
    /// Simulated ASR word error rate in transcription text.
    pub asr_wer: f64,
    /// The number customers call.
    pub centre_number: String,
}

impl Default for GeneratorConfig {
    fn default() -> GeneratorConfig {
        GeneratorConfig {
            seed: 1,
            calls: 1000,
            start_ms: DEFAULT_START_MS,
            window_ms: DEFAULT_WINDOW_MS,
            strategy: Strategy::Random,
            plan: PlanSettings::default(),
            asr_wer: 0.0,
            centre_number: DEFAULT_CENTRE_NUMBER.into(),
        }
    }
}

/// A configuration that cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `--calls 0`.
    #[error("--calls must be at least 1")]
    NoCalls,
    /// Out-of-range word error rate.
    #[error("--asr-wer must be between 0 and 0.5, found {0}")]
    AsrWer(f64),
    /// Out-of-range repeat probability.
    #[error("--repeat-probability must be between 0 and 1, found {0}")]
    RepeatProbability(f64),
    /// Non-positive window.
    #[error("--window must be longer than zero")]
    Window,
    /// The pairing strategy has no candidates.
    #[error(transparent)]
    Pairing(#[from] PairingError),
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Calls generated.
    pub calls: u64,
    /// Events generated.
    pub events: u64,
    /// Calls per final status, in [`CallStatus::ALL`] order.
    pub by_status: [u64; 5],
    /// Talked calls per outcome, in [`Outcome::ALL`] order.
    pub by_outcome: [u64; 5],
    /// Talked calls with an escalation.
    pub escalated: u64,
    /// Calls that were a customer's repeat contact.
    pub repeat_contacts: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl Summary {
    fn add(&mut self, call: &RenderedCall) {
        self.calls += 1;
        self.events += call.event_ends.len() as u64;
        let s = CallStatus::ALL.iter().position(|s| *s == call.call.status).expect("listed");
        self.by_status[s] += 1;
        if let Some(truth) = &call.call.truth {
            self.by_outcome[Outcome::ALL.iter().position(|o| *o == truth.outcome).expect("listed")] += 1;
            self.escalated += u64::from(truth.escalated);
        }
        self.repeat_contacts += u64::from(call.call.journey.previous_call_sid.is_some());
    }
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError<E> {
    /// The sink failed.
    #[error("writing output failed")]
    Sink(E),
    /// The worker pool could not be built.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads {
        /// Threads requested.
        threads: usize,
        /// The pool builder's message.
        message: String,
    },
}

/// A ready-to-run generator.
#[derive(Debug)]
pub struct Generator {
    config: GeneratorConfig,
    catalog: Catalog,
    pool: PersonaPool,
    pairing: Pairing,
    factory: RngFactory,
    account_sid: Sid,
}

/// Calls per parallel batch: large enough to amortise scheduling, small enough to keep memory
/// flat (a batch of rendered calls with records is a few megabytes).
pub const BATCH: usize = 1024;

impl Generator {
    /// Validates the configuration against the personas.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the flag at fault.
    pub fn new(config: GeneratorConfig, catalog: Catalog, pool: PersonaPool) -> Result<Generator, ConfigError> {
        if config.calls == 0 {
            return Err(ConfigError::NoCalls);
        }
        if !(0.0..=0.5).contains(&config.asr_wer) {
            return Err(ConfigError::AsrWer(config.asr_wer));
        }
        if !(0.0..=1.0).contains(&config.plan.repeat_probability) {
            return Err(ConfigError::RepeatProbability(config.plan.repeat_probability));
        }
        if config.window_ms <= 0 {
            return Err(ConfigError::Window);
        }
        let pairing = Pairing::new(config.strategy, &pool)?;
        let factory = RngFactory::new(config.seed);
        let mut bytes = [0u8; 16];
        factory.rng(Purpose::Plan, u64::MAX).fill(&mut bytes);
        let account_sid = Sid::from_bytes(SidPrefix::Account, bytes);
        Ok(Generator { config, catalog, pool, pairing, factory, account_sid })
    }

    /// The configuration.
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// The personas.
    pub fn pool(&self) -> &PersonaPool {
        &self.pool
    }

    /// The simulated Twilio account.
    pub fn account_sid(&self) -> Sid {
        self.account_sid
    }

    /// The call plans, in order.
    pub fn plans(&self) -> Planner<'_> {
        Planner::new(
            &self.factory,
            &self.pool,
            &self.pairing,
            self.config.plan,
            self.config.start_ms,
            self.config.window_ms,
            self.config.calls,
        )
    }

    fn context(&self) -> RenderContext<'_> {
        RenderContext {
            catalog: &self.catalog,
            pool: &self.pool,
            factory: &self.factory,
            account_sid: self.account_sid,
            centre_number: &self.config.centre_number,
            asr_wer: self.config.asr_wer,
        }
    }

    /// Renders one planned call.
    pub fn render(&self, plan: &CallPlan) -> model::Call {
        dialogue::render(plan, &self.context())
    }

    /// Generates every call into `sink`, calling `progress` with the number of calls done after
    /// each batch.
    ///
    /// # Errors
    ///
    /// The sink's first error, after which nothing more is generated; or a thread-pool failure.
    pub fn run<S: CallSink>(
        &self,
        threads: usize,
        encoder: &Encoder,
        with_records: bool,
        sink: &mut S,
        mut progress: impl FnMut(u64),
    ) -> Result<Summary, RunError<S::Error>> {
        let started = Instant::now();
        let workers = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("callsynth-render-{i}"))
            .build()
            .map_err(|e| RunError::Threads { threads, message: e.to_string() })?;
        let ctx = self.context();
        let render = |plan: &CallPlan| {
            let call = dialogue::render(plan, &ctx);
            let mut events = Vec::with_capacity(3072);
            let mut event_ends = Vec::with_capacity(4);
            encoder.encode_call(&call, &mut events, &mut event_ends);
            let record = with_records.then(|| serde_json::to_vec(&call).expect("calls serialise"));
            RenderedCall { call, events, event_ends, record }
        };
        let mut summary = Summary::default();
        let outcome = std::thread::scope(|scope| {
            let (tx, rx) = mpsc::sync_channel::<Vec<RenderedCall>>(1);
            let writer = scope.spawn(move || {
                for batch in rx {
                    sink.accept(&batch)?;
                }
                sink.finish()
            });
            let mut plans = self.plans();
            loop {
                let chunk: Vec<CallPlan> = plans.by_ref().take(BATCH).collect();
                if chunk.is_empty() {
                    break;
                }
                let batch: Vec<RenderedCall> = workers.install(|| chunk.par_iter().map(render).collect());
                for call in &batch {
                    summary.add(call);
                }
                if tx.send(batch).is_err() {
                    break; // The writer stopped on an error; it is reported below.
                }
                progress(summary.calls);
            }
            drop(tx);
            writer.join().expect("the writer thread does not panic")
        });
        outcome.map_err(RunError::Sink)?;
        summary.elapsed = started.elapsed();
        Ok(summary)
    }
}
