//! Phrase catalogues come from users: any text must give a catalogue or an error. A catalogue
//! that loads must resolve every step it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synth::catalog::{Catalog, Step, Tone};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(catalog) = Catalog::parse("fuzz.toml", text) {
            for c in 0..catalog.categories.len() {
                for step in Step::ALL {
                    let _ = catalog.lines(c, *step, Tone::Any);
                }
            }
            let _ = catalog.categorize(text);
        }
    }
});
