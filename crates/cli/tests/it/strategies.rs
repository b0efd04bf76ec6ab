//! Each pairing strategy holds over generated calls, and persona-driven behaviour shows in the
//! statistics.

use model::Level;

use crate::support::{assert_ok, callsynth, ndjson, tempdir};

#[test]
fn each_strategy_constrains_the_generated_pairs() {
    let dir = tempdir();
    // Difficulty and competence of every built-in persona, as `personas list --json` reports.
    let listed = callsynth(dir.path(), &["personas", "list", "--json"]);
    assert_ok(&listed);
    let personas: Vec<serde_json::Value> =
        String::from_utf8(listed.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let difficulty = |name: &str| personas.iter().find(|p| p["name"] == name).unwrap()["difficulty"].as_f64().unwrap();

    let mut resolved_rate = Vec::new();
    for strategy in ["random", "frustrated", "patient", "challenging"] {
        let out = callsynth(
            dir.path(),
            &[
                "generate",
                "--calls",
                "1500",
                "--strategy",
                strategy,
                "--out",
                "/dev/null",
                "--calls-out",
                "c.ndjson",
                "-q",
            ],
        );
        assert_ok(&out);
        let calls = ndjson(&dir.path().join("c.ndjson"));
        let mut customers = std::collections::HashSet::new();
        let mut resolved = (0, 0);
        for c in &calls {
            let d = difficulty(c["customer"]["CustomerName"].as_str().unwrap());
            let level = c["agent"]["CompetenceLevel"].as_str().unwrap();
            customers.insert(c["customer"]["CustomerName"].as_str().unwrap().to_string());
            match strategy {
                "frustrated" => assert!(d >= 0.55 && level == Level::High.as_str(), "{strategy}: {d} {level}"),
                "patient" => assert!(d <= 0.35, "{strategy}: {d}"),
                "challenging" => assert!(d >= 0.55 && level == Level::Low.as_str(), "{strategy}: {d} {level}"),
                _ => {}
            }
            if let Some(outcome) = c["truth"]["outcome"].as_str() {
                resolved.0 += usize::from(outcome == "resolved");
                resolved.1 += 1;
            }
        }
        if strategy == "random" {
            assert_eq!(customers.len(), 22, "random draws every built-in customer");
        }
        resolved_rate.push(resolved.0 as f64 / resolved.1 as f64);
    }
    // patient > random > challenging, and frustrated (skilled agents) beats challenging.
    let [random, frustrated, patient, challenging] = resolved_rate[..] else { unreachable!() };
    assert!(patient > random && random > challenging && frustrated > challenging, "{resolved_rate:?}");
}
