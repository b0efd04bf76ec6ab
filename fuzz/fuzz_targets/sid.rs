//! SIDs arrive in events from the network: parsing never panics and round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(sid) = model::Sid::parse(text) {
            assert_eq!(sid.as_str(), text);
        }
    }
});
