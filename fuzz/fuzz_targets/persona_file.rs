//! Persona files come from users: any bytes must give personas or errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(customers) = synth::persona_file::parse_customers("fuzz.json", text) {
            assert!(!customers.is_empty());
        }
        if let Err(errors) = synth::persona_file::parse_agents("fuzz.json", text) {
            assert!(!errors.0.is_empty());
        }
    }
});
