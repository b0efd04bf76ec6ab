//! Request heads and bodies come straight off the socket: reading them never panics, a body is
//! never longer than the limit, and a head that was read says how its body is framed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::http1::{BodyError, Framing, read_body, read_head};

const MAX_BODY: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let mut reader = data;
    // Pipelined requests: keep reading until the bytes run out or one is refused.
    for _ in 0..64 {
        let head = match read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) | Err(_) => return,
        };
        assert!(!head.method.is_empty());
        assert!(!(head.framing == Framing::Chunked && head.header("content-length").is_some()));
        let mut interim = Vec::new();
        match read_body(&head, &mut reader, &mut interim, MAX_BODY) {
            Ok(body) => {
                assert!(body.len() <= MAX_BODY);
                if let Framing::Length(n) = head.framing {
                    assert_eq!(body.len() as u64, n);
                }
                assert!(interim.is_empty() || head.expect_continue);
            }
            Err(BodyError::TooLarge(max)) => assert_eq!(max, MAX_BODY),
            Err(_) => return,
        }
    }
});
