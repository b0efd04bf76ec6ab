//! VADER throughput on the parity set's sentences, in process.
//!
//! `cargo bench -p analytics --bench vader [-- --passes N]`. The side-by-side comparison with the
//! Python package (same sentences, one run) is `scripts/vader-oracle --bench`.

use std::hint::black_box;
use std::time::Instant;

use analytics::vader::Vader;

fn main() {
    let passes: usize =
        std::env::args().skip_while(|a| a != "--passes").nth(1).map_or(5, |p| p.parse().expect("--passes N"));
    let sentences: Vec<String> = include_str!("../tests/data/vader_3.3.2.jsonl")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("valid line");
            v["text"].as_str().expect("text").to_string()
        })
        .collect();
    let vader = Vader::get();
    let reps = 400;
    let mut rates = Vec::new();
    for _ in 0..passes {
        let start = Instant::now();
        for _ in 0..reps {
            for s in &sentences {
                black_box(vader.polarity_scores(black_box(s)));
            }
        }
        rates.push((reps * sentences.len()) as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "vader polarity_scores: {} sentences, median {:.0} sentences/s, best {:.0}",
        sentences.len(),
        rates[rates.len() / 2],
        rates[rates.len() - 1]
    );
}
