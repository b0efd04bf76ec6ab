//! URLs, bodies and signature headers come from the network: checking them never panics, and a
//! request signed with the right token always validates.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\u{1f}');
    let (url, header, body) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let _ = server::twilio_signature::validate_json("token", url, body.as_bytes(), header);
    let params = [("Body", body), ("From", header)];
    let _ = server::twilio_signature::validate_form("token", url, &params, header);
    let signed = server::twilio_signature::signature("token", url, &params);
    assert!(server::twilio_signature::validate_form("token", url, &params, &signed));
});
