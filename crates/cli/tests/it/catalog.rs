//! A user-supplied phrase catalogue adds a domain as data.

use crate::support::{assert_ok, callsynth, ndjson, stderr, tempdir};

#[test]
fn a_custom_catalogue_adds_a_domain_and_its_categories() {
    let dir = tempdir();
    let telecom = synth::catalog::BUILTIN_RETAIL.replace("name = \"retail\"", "name = \"telecom\"").replace(
        "[[categories]]\nid = \"billing\"",
        r#"[[categories]]
id = "roaming"
keywords = ["roaming", "abroad"]
department = "roaming"
issues = ["Roaming charges from a trip abroad look wrong."]
desired = ["The roaming charges reversed."]

[categories.lines.state_issue]
any = ["My roaming bill from my trip abroad is {amount} and that can't be right."]

[categories.lines.diagnose]
any = ["I see roaming data sessions on your line from {date}."]

[[categories]]
id = "billing""#,
    );
    std::fs::write(dir.path().join("telecom.toml"), telecom).unwrap();
    let out = callsynth(
        dir.path(),
        &[
            "generate",
            "--calls",
            "300",
            "--catalog",
            "telecom.toml",
            "--customers",
            "50",
            "--out",
            "/dev/null",
            "--calls-out",
            "c.ndjson",
            "-q",
        ],
    );
    assert_ok(&out);
    let calls = ndjson(&dir.path().join("c.ndjson"));
    let roaming: Vec<_> = calls.iter().filter(|c| c["truth"]["issue_category"] == "roaming").collect();
    assert!(!roaming.is_empty(), "procedural customers draw the new category");
    for c in roaming {
        let text = c["transcription"]["text"].as_str().unwrap();
        // Words, not whole sentences: disfluencies may sit between them.
        for word in ["roaming", "bill", "abroad", "sessions"] {
            assert!(text.contains(word), "{word:?} missing from {text}");
        }
    }
}

#[test]
fn a_broken_catalogue_is_rejected_before_any_output() {
    let dir = tempdir();
    let broken = synth::catalog::BUILTIN_RETAIL.replace("{order_id}", "{order}");
    std::fs::write(dir.path().join("broken.toml"), broken).unwrap();
    let out = callsynth(dir.path(), &["generate", "--catalog", "broken.toml", "--out", "e.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "phrase catalogue broken.toml: lines.diagnose.any: unknown slot {order} in \"I can see order {order} placed"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("e.ndjson").exists());
}
