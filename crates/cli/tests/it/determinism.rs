//! Same seed, same bytes — whatever the thread count.

use crate::support::{assert_ok, callsynth, tempdir};

#[test]
fn threads_one_and_four_are_byte_identical() {
    let dir = tempdir();
    for threads in ["1", "4"] {
        let out = callsynth(
            dir.path(),
            &[
                "generate",
                "--calls",
                "5000",
                "--seed",
                "42",
                "--threads",
                threads,
                "--asr-wer",
                "0.05",
                "--out",
                &format!("e{threads}"),
                "--calls-out",
                &format!("c{threads}"),
                "-q",
            ],
        );
        assert_ok(&out);
    }
    let read = |n: &str| std::fs::read(dir.path().join(n)).unwrap();
    assert!(read("e1") == read("e4"), "events differ between --threads 1 and 4");
    assert!(read("c1") == read("c4"), "call records differ between --threads 1 and 4");
    assert!(read("e1").len() > 1_000_000);
}

#[test]
fn a_different_seed_gives_different_calls() {
    let dir = tempdir();
    let a = callsynth(dir.path(), &["generate", "--calls", "50", "--seed", "1", "-q"]);
    let b = callsynth(dir.path(), &["generate", "--calls", "50", "--seed", "2", "-q"]);
    let c = callsynth(dir.path(), &["generate", "--calls", "50", "--seed", "1", "-q"]);
    assert_ok(&a);
    assert_ne!(a.stdout, b.stdout);
    assert_eq!(a.stdout, c.stdout);
}
