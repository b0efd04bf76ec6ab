//! VADER on any text: never panics, scores in range, and the shares of a non-empty text sum to
//! about 1 (the reference's rounding allows 0.002 either way).
#![no_main]

use analytics::vader::Vader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let p = Vader::get().polarity_scores(text);
    assert!((-1.0..=1.0).contains(&p.compound));
    for share in [p.pos, p.neu, p.neg] {
        assert!((0.0..=1.0).contains(&share));
    }
    let sum = p.pos + p.neu + p.neg;
    assert!(sum == 0.0 || (sum - 1.0).abs() <= 0.0021, "{p:?} for {text:?}");
});
