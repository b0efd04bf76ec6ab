//! Pattern-matcher benchmark: the recipe's synthetic city-lots events and five-rule sets, rule
//! count scaling, and pattern-add rate. One thread, raw JSON bytes in, matched ids out.
//!
//! ```text
//! cargo bench -p pattern --bench matcher -- [--events N] [--passes P] [--only SET] [--dump N] [--timing-only] [--floors]
//! ```
//!
//! Every rule set first passes a correctness gate: its match counts over all events must equal
//! the counts of an independent path (the tree reader plus [`pattern::explain`]); a mismatch
//! aborts the run before anything is timed.

#[path = "support/citylots.rs"]
mod citylots;

use std::time::Instant;

use pattern::{Matcher, Pattern, Scratch};

/// The recipe's five-rule sets: (name, rules).
fn rule_sets() -> Vec<(&'static str, Vec<String>)> {
    let on = |field: &str, conds: &[&str]| -> Vec<String> {
        conds.iter().map(|c| format!(r#"{{"properties": {{"{field}": [{c}]}}}}"#)).collect()
    };
    let geometry = |c: &str| format!(r#"{{"geometry": {{"coordinates": [{c}]}}}}"#);
    vec![
        ("exact", on("MAPBLKLOT", &[r#""0967234""#, r#""3052030""#, r#""4799106""#, r#""3780186""#, r#""3062020""#])),
        (
            "prefix",
            on(
                "STREET",
                &[
                    r#"{"prefix": "AC"}"#,
                    r#"{"prefix": "BL"}"#,
                    r#"{"prefix": "DR"}"#,
                    r#"{"prefix": "FU"}"#,
                    r#"{"prefix": "RH"}"#,
                ],
            ),
        ),
        (
            "suffix",
            on(
                "STREET",
                &[
                    r#"{"suffix": "ON"}"#,
                    r#"{"suffix": "KE"}"#,
                    r#"{"suffix": "MM"}"#,
                    r#"{"suffix": "ING"}"#,
                    r#"{"suffix": "GO"}"#,
                ],
            ),
        ),
        ("equals-ignore-case", {
            let mut rules = on(
                "STREET",
                &[
                    r#"{"equals-ignore-case": "jefferson"}"#,
                    r#"{"equals-ignore-case": "bEaCh"}"#,
                    r#"{"equals-ignore-case": "HyDe"}"#,
                    r#"{"equals-ignore-case": "CHESTNUT"}"#,
                ],
            );
            rules.extend(on("ST_TYPE", &[r#"{"equals-ignore-case": "st"}"#]));
            rules
        }),
        (
            "wildcard",
            on(
                "MAPBLKLOT",
                &[
                    r#"{"wildcard": "143*"}"#,
                    r#"{"wildcard": "2*0*1*7"}"#,
                    r#"{"wildcard": "*218"}"#,
                    r#"{"wildcard": "3*5*2"}"#,
                    r#"{"wildcard": "VA*IL"}"#,
                ],
            ),
        ),
        ("anything-but", {
            let mut rules = on("STREET", &[r#"{"anything-but": "FULTON"}"#, r#"{"anything-but": "MASON"}"#]);
            rules.extend(on("ST_TYPE", &[r#"{"anything-but": "ST"}"#]));
            rules.push(r#"{"geometry": {"type": [{"anything-but": "Polygon"}]}}"#.to_string());
            rules.extend(on("FROM_ST", &[r#"{"anything-but": "441"}"#]));
            rules
        }),
        (
            "numeric",
            vec![
                r#"{"geometry": {"type": ["Polygon"], "coordinates": [{"numeric": ["<", -122.45]}]}}"#.to_string(),
                geometry(r#"{"numeric": [">", 37.75, "<", 37.76]}"#),
                geometry(r#"{"numeric": ["=", 0]}"#),
                geometry(r#"{"numeric": [">", -122.42]}"#),
                geometry(r#"{"numeric": [">", -122.46, "<", -122.40]}"#),
            ],
        ),
    ]
}

struct Options {
    events: usize,
    passes: usize,
    only: Option<String>,
    dump: Option<usize>,
    /// Only the timed passes (for profilers): no gate, no latency pass.
    timing_only: bool,
    /// Only the reading floors.
    floors: bool,
}

fn options() -> Options {
    let mut o =
        Options { events: citylots::FEATURES, passes: 7, only: None, dump: None, timing_only: false, floors: false };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--events" => o.events = value().parse().expect("--events N"),
            "--passes" => o.passes = value().parse().expect("--passes N"),
            "--only" => o.only = Some(value()),
            "--dump" => o.dump = Some(value().parse().expect("--dump N")),
            "--timing-only" => o.timing_only = true,
            "--floors" => o.floors = true,
            "--bench" => {}
            other => panic!("unknown argument {other}; see the file's doc comment"),
        }
    }
    o
}

/// Events as one buffer of newline-free lines, the way a reader hands them over.
struct Events {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Events {
    fn new(lines: &[String]) -> Events {
        let mut bytes = Vec::new();
        let mut ends = Vec::with_capacity(lines.len());
        for l in lines {
            bytes.extend_from_slice(l.as_bytes());
            ends.push(bytes.len());
        }
        Events { bytes, ends }
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let e = &self.bytes[start..end];
            start = end;
            e
        })
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

fn compile(rules: &[String]) -> Matcher {
    let mut m = Matcher::new();
    for (i, r) in rules.iter().enumerate() {
        m.add(&format!("r{}", i + 1), r).unwrap_or_else(|e| panic!("rule {r}: {e}"));
    }
    m
}

/// Match counts per rule, through the compiled matcher.
fn counts(m: &Matcher, events: &Events, scratch: &mut Scratch) -> Vec<u64> {
    let mut counts = vec![0u64; m.len()];
    for e in events.iter() {
        for &id in m.matches_with(e, scratch).expect("valid event") {
            counts[id as usize] += 1;
        }
    }
    counts
}

/// Match counts per rule, through the tree reader and `explain` (no shared matching code).
fn oracle_counts(rules: &[String], events: &Events) -> Vec<u64> {
    let parsed: Vec<Pattern> = rules.iter().map(|r| Pattern::parse(r).expect("valid")).collect();
    let mut counts = vec![0u64; rules.len()];
    for e in events.iter() {
        for (i, p) in parsed.iter().enumerate() {
            if pattern::explain(p, e).expect("valid event").is_none() {
                counts[i] += 1;
            }
        }
    }
    counts
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Median events/s over `passes` timed passes after one warm-up pass.
fn throughput(m: &Matcher, events: &Events, passes: usize) -> f64 {
    rates(m, events, passes).0
}

/// (median, best) events/s over `passes` timed passes after one warm-up pass. On a shared
/// machine the best pass is the one least disturbed by neighbours.
fn rates(m: &Matcher, events: &Events, passes: usize) -> (f64, f64) {
    let mut scratch = Scratch::new();
    counts(m, events, &mut scratch);
    let rates: Vec<f64> = (0..passes)
        .map(|_| {
            let t = Instant::now();
            let c = counts(m, events, &mut scratch);
            std::hint::black_box(c);
            events.len() as f64 / t.elapsed().as_secs_f64()
        })
        .collect();
    let best = rates.iter().copied().fold(0.0, f64::max);
    (median(rates), best)
}

/// p50 and p99 nanoseconds per event (each event timed alone, so includes the clock's cost).
fn latency(m: &Matcher, events: &Events) -> (u128, u128) {
    let mut scratch = Scratch::new();
    let mut ns: Vec<u128> = events
        .iter()
        .map(|e| {
            let t = Instant::now();
            std::hint::black_box(m.matches_with(e, &mut scratch).expect("valid").len());
            t.elapsed().as_nanos()
        })
        .collect();
    ns.sort_unstable();
    (ns[ns.len() / 2], ns[ns.len() * 99 / 100])
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn field_values(lines: &[String], field: &str) -> Vec<String> {
    let key = format!("\"{field}\": \"");
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for l in lines {
        if let Some(at) = l.find(&key) {
            let rest = &l[at + key.len()..];
            let v = rest[..rest.find('"').expect("closing quote")].to_string();
            if seen.insert(v.clone()) {
                out.push(v);
            }
        }
    }
    out
}

/// What reading alone costs: validating every event with no pattern (the matcher's floor), and
/// serde_json validating into `IgnoredAny` as a well-known yardstick.
fn floors(events: &Events, passes: usize) {
    println!("| reader | events/s |\n|---|---|");
    println!("| callsynth scan, no patterns (validate only) | {:.0} |", throughput(&Matcher::new(), events, passes));
    let serde = median(
        (0..passes)
            .map(|_| {
                let t = Instant::now();
                let ok = events.iter().filter(|e| serde_json::from_slice::<serde::de::IgnoredAny>(e).is_ok()).count();
                assert_eq!(ok, events.len());
                events.len() as f64 / t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    println!("| serde_json to IgnoredAny (validate only) | {serde:.0} |");
}

/// N exact patterns on one field, then spread over ten. Values come from the data for the
/// fields with many distinct values; the low-cardinality fields get values that never occur, so
/// the number of matches per event stays small and the figure measures the rule count, not the
/// size of the answer.
fn scaling(lines: &[String], events: &Events, passes: usize) {
    println!("\n## scaling: N exact patterns\n");
    println!(
        "| patterns | over | events/s median | best pass | slower than N=1 (best passes) | matches/event |\n|---|---|---|---|---|---|"
    );
    const FROM_DATA: [&str; 6] = ["MAPBLKLOT", "BLKLOT", "BLOCK_NUM", "LOT_NUM", "FROM_ST", "TO_ST"];
    const SYNTHETIC: [&str; 4] = ["STREET", "ST_TYPE", "ODD_EVEN", "NEIGHBORHOOD"];
    let values: Vec<Vec<String>> = FROM_DATA.iter().map(|f| field_values(lines, f)).collect();
    for spread in [1usize, 10] {
        let mut base = None;
        for n in [1usize, 10, 100, 1_000, 10_000] {
            let mut m = Matcher::new();
            for i in 0..n {
                let slot = i % spread;
                let (field, value) = match slot {
                    0..6 => (FROM_DATA[slot], values[slot][(i / spread * 7919) % values[slot].len()].clone()),
                    _ => (SYNTHETIC[slot - 6], format!("value-{i}")),
                };
                m.add(&format!("p{i}"), &format!(r#"{{"properties": {{"{field}": ["{value}"]}}}}"#)).expect("valid");
            }
            let matched: u64 = counts(&m, events, &mut Scratch::new()).iter().sum();
            let (rate, best) = rates(&m, events, passes);
            let ratio = *base.get_or_insert(best) / best;
            let over = if spread == 1 { "1 field".to_string() } else { format!("{spread} fields") };
            let per_event = matched as f64 / events.len() as f64;
            println!("| {n} | {over} | {rate:.0} | {best:.0} | {ratio:.2}x | {per_event:.2} |");
        }
    }
}

fn add_rate() {
    println!("\n## adding patterns");
    const N: usize = 100_000;
    let texts: Vec<String> =
        (0..N).map(|i| format!(r#"{{"source": ["app.{i}"], "detail": {{"state": ["s{}"]}}}}"#, i % 100)).collect();
    let before = rss_kib();
    let t = Instant::now();
    let mut m = Matcher::new();
    for (i, text) in texts.iter().enumerate() {
        m.add(&format!("rule-{i}"), text).expect("valid");
    }
    let secs = t.elapsed().as_secs_f64();
    let after = rss_kib();
    println!(
        "{N} two-field patterns (parse + compile): {:.0} patterns/s; RSS +{} KiB = {:.0} bytes/pattern",
        N as f64 / secs,
        after.saturating_sub(before),
        (after.saturating_sub(before) * 1024) as f64 / N as f64,
    );
    std::hint::black_box(&m);
}

/// Worst cases from event-ruler's performance scenarios: thousands of array elements that each
/// satisfy only part of a branch (quadratic for a matcher that tries combinations), and one
/// large event. Times one match of one event.
fn large_events() {
    println!("\n## large events (one event, one pattern; median of 5)\n");
    println!("| shape | elements | bytes | matches | µs |\n|---|---|---|---|---|");
    let time = |rule: &str, event: &str| {
        let mut m = Matcher::new();
        m.add("r", rule).expect("valid");
        let mut scratch = Scratch::new();
        let matched = m.matches_with(event.as_bytes(), &mut scratch).expect("valid").len();
        let micros = median(
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(m.matches_with(event.as_bytes(), &mut scratch).expect("valid").len());
                    t.elapsed().as_secs_f64() * 1e6
                })
                .collect(),
        );
        (matched, micros)
    };
    for n in [1_000usize, 10_000, 50_000] {
        let shapes: [(&str, &str, String); 3] = [
            (
                "objects each with one of two fields (no match)",
                r#"{"d": {"a": [{"exists": true}], "b": [{"exists": true}]}}"#,
                (0..n).map(|i| if i % 2 == 0 { r#"{"a": 1}"# } else { r#"{"b": 2}"# }).collect::<Vec<_>>().join(","),
            ),
            (
                "three fields, every pair in some element (no match)",
                r#"{"d": {"a": [{"exists": true}], "b": [{"exists": true}], "c": [{"exists": true}]}}"#,
                (0..n)
                    .map(|i| [r#"{"a": 1, "b": 2}"#, r#"{"b": 1, "c": 2}"#, r#"{"a": 1, "c": 2}"#][i % 3])
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "only the last element has both fields",
                r#"{"d": {"a": [{"exists": true}], "b": [{"exists": true}]}}"#,
                (0..n)
                    .map(|i| {
                        if i + 1 == n {
                            r#"{"a": 1, "b": 2}"#
                        } else if i % 2 == 0 {
                            r#"{"a": 1}"#
                        } else {
                            r#"{"b": 2}"#
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ];
        for (shape, rule, elements) in shapes {
            let event = format!(r#"{{"d": [{elements}]}}"#);
            let (matched, micros) = time(rule, &event);
            println!("| {shape} | {n} | {} | {matched} | {micros:.0} |", event.len());
        }
    }
    // One large envelope-shaped event (about 250 KB) with the field of interest at the end.
    let filler: Vec<String> = (0..2_500).map(|i| format!(r#""field{i}": "value number {i} of the filler""#)).collect();
    let event = format!(r#"{{"source": "app", "detail": {{{}, "state": "done"}}}}"#, filler.join(", "));
    let (matched, micros) = time(r#"{"detail": {"state": ["done"]}}"#, &event);
    println!("| 2,500-field detail, match on the last field | 1 | {} | {matched} | {micros:.0} |", event.len());
}

fn main() {
    let o = options();
    let started = Instant::now();
    let lines = citylots::features(o.events);
    if let Some(n) = o.dump {
        for l in lines.iter().take(n) {
            println!("{l}");
        }
        return;
    }
    let events = Events::new(&lines);
    println!(
        "# city-lots: {} events, {} MB, generated in {:.1} s; {} timed passes, median",
        events.len(),
        events.bytes.len() / 1_000_000,
        started.elapsed().as_secs_f64(),
        o.passes
    );
    if o.floors {
        floors(&events, o.passes);
        return;
    }
    println!(
        "\n| rule set | match counts (gate: equal to the tree reader + explain) | events/s median | best pass | p50 ns | p99 ns |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, rules) in rule_sets() {
        if o.only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let m = compile(&rules);
        if o.timing_only {
            let (median, best) = rates(&m, &events, o.passes);
            println!("| {name} | - | {median:.0} | {best:.0} | - | - |");
            continue;
        }
        let got = counts(&m, &events, &mut Scratch::new());
        let want = oracle_counts(&rules, &events);
        assert_eq!(got, want, "{name}: compiled matcher and oracle disagree");
        let (median, best) = rates(&m, &events, o.passes);
        let (p50, p99) = latency(&m, &events);
        println!("| {name} | {got:?} | {median:.0} | {best:.0} | {p50} | {p99} |");
    }
    if o.only.is_none() {
        scaling(&lines, &events, o.passes.min(3));
        add_rate();
        large_events();
    }
}
