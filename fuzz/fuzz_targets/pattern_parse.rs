//! Patterns come from users and the network: any text gives a pattern or an AWS-worded error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match pattern::Pattern::parse(text) {
            Ok(p) => assert!(!p.branches.is_empty() && p.branches.len() <= pattern::pattern::MAX_OR_COMBINATIONS),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
