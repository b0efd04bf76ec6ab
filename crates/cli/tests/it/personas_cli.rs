//! `callsynth personas list|validate`.

use crate::support::{assert_ok, callsynth, stderr, tempdir};

#[test]
fn validate_reports_every_problem_with_file_record_and_field() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("agents.json"),
        r#"{"AgentPrompts": [{"AgentName": "Kai", "ScriptedIntroduction": "Hi", "ResponseToIssue": "Prompt.",
            "CompetenceLevel": "Expert", "Attitude": "Kind.", "ProductKnowledge": "Good.", "Farewell": "Bye."}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("customers.json"),
        r#"{"CustomerPrompts": [{"ContactInformation": "x@example.com", "PhoneNumber": "555-0101", "Issue": "i",
            "DesiredResolution": "d", "Demeanor": "calm", "TechnicalProficiency": "Low", "EscalationTrigger": "t",
            "ConversationLengthPreference": "Short"}]}"#,
    )
    .unwrap();
    let out = callsynth(dir.path(), &["personas", "validate", "agents.json", "customers.json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("agents.json: record 1: CompetenceLevel must be Low, Medium, or High"), "{err}");
    assert!(err.contains("customers.json: record 1: CustomerName is required"), "{err}");
    assert!(err.contains("customers.json: record 1: PhoneNumber must be in E.164 format"), "{err}");
}

#[test]
fn validate_accepts_good_files_and_list_shows_scores() {
    let dir = tempdir();
    std::fs::write(dir.path().join("c.json"), synth::personas::BUILTIN_CUSTOMERS).unwrap();
    let out = callsynth(dir.path(), &["personas", "validate", "c.json"]);
    assert_ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "c.json: ok (22 customers)");
    let list = callsynth(dir.path(), &["personas", "list"]);
    assert_ok(&list);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("CUSTOMERS (22)") && text.contains("AGENTS (12)") && text.contains("[difficult]"));
}
