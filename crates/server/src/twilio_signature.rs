//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + sorted params)).
//!
//! - Form posts: the URL Twilio requested, then every body parameter as `key` + `value` with
//!   keys in byte order (a repeated key: its values sorted, duplicates dropped).
//! - JSON posts (Event Streams webhook sinks): the URL carries `bodySHA256=<hex sha256 of the
//!   raw body>`; the signature covers the URL alone, and the body's hash must equal that value.
//! - Twilio is inconsistent about ports, so a signature is accepted for the URL as given, with
//!   its port removed, or with the scheme's default port added — as Twilio's own libraries do.
//!
//! Comparisons run in constant time. Nothing here logs or returns the token.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The signature Twilio sends for a request to `url` with form `params`.
pub fn signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut keys: Vec<&str> = params.iter().map(|(k, _)| *k).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for key in keys {
        let mut values: Vec<&str> = params.iter().filter(|(k, _)| *k == key).map(|(_, v)| *v).collect();
        values.sort_unstable();
        values.dedup();
        for value in values {
            mac.update(key.as_bytes());
            mac.update(value.as_bytes());
        }
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `header` is Twilio's signature of a form (or GET) request.
pub fn validate_form(token: &str, url: &str, params: &[(&str, &str)], header: &str) -> bool {
    url_variants(url).iter().any(|u| same(&signature(token, u, params), header))
}

/// Whether `header` is Twilio's signature of a JSON request with this raw `body`: the URL's
/// `bodySHA256` must be the body's hash and the signature must cover the URL.
pub fn validate_json(token: &str, url: &str, body: &[u8], header: &str) -> bool {
    let Some(claimed) = query_value(url, "bodySHA256") else { return false };
    let actual: String = Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect();
    same(&actual, claimed) && validate_form(token, url, &[], header)
}

/// Signs a JSON request as Twilio does: appends `bodySHA256=<hex sha256 of body>` to `url`'s
/// query and signs the resulting URL. Returns (URL to post to, `X-Twilio-Signature`).
pub fn sign_json(token: &str, url: &str, body: &[u8]) -> (String, String) {
    let hash: String = Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect();
    let separator = if url.contains('?') { '&' } else { '?' };
    let signed_url = format!("{url}{separator}bodySHA256={hash}");
    let sig = signature(token, &signed_url, &[]);
    (signed_url, sig)
}

/// Constant-time string equality (the length is not secret).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn query_value<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// The URL as given, without its port, and with the scheme's default port.
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    let Some((scheme, rest)) = url.split_once("://") else { return out };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // `user@host:port`: the port is what follows the last ':' after any '@' (IPv6 hosts are
    // bracketed, so a ':' inside brackets is not a port separator).
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = &authority[host_start..];
    let host = match host_port.rfind(':') {
        Some(i) if !host_port[i..].contains(']') => &host_port[..i],
        _ => host_port,
    };
    let prefix = &authority[..host_start];
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return out,
    };
    for variant in
        [format!("{scheme}://{prefix}{host}{tail}"), format!("{scheme}://{prefix}{host}:{default_port}{tail}")]
    {
        if !out.contains(&variant) {
            out.push(variant);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const PARAMS: [(&str, &str); 5] = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ];

    /// Twilio's documented worked example (vector 1).
    #[test]
    fn the_documented_example() {
        let params = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ];
        assert_eq!(signature("12345", URL, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(validate_form("12345", URL, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!validate_form("54321", URL, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!validate_form("12345", URL, &params[1..], "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    /// Vectors 2-5: keys sort by byte (`CallSid` before `Caller`), and ports are tried both ways.
    #[test]
    fn form_vectors_with_and_without_ports() {
        assert_eq!(signature("12345", URL, &PARAMS), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(validate_form("12345", URL, &PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(validate_form("12345", URL, &PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w="), "signed with :443");
        let http = "http://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(validate_form("12345", http, &PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4="), "signed with :80");
        let custom = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert!(validate_form("12345", custom, &PARAMS, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="), "signed with :1234");
        // An https URL with a port validates against the port-less signature.
        let with_port = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert!(validate_form("12345", with_port, &PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(!validate_form("12345", URL, &PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8"), "truncated");
    }

    /// Vector 6: a repeated key's values are sorted and deduplicated.
    #[test]
    fn repeated_keys() {
        let params =
            [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")];
        assert_eq!(signature("12345", URL, &params), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    /// Vector 7: a JSON body is covered by its hash in the URL.
    #[test]
    fn json_bodies() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        let body = br#"{"property": "value", "boolean": true}"#;
        assert!(validate_json("12345", url, body, "a9nBmqA0ju/hNViExpshrM61xv4="));
        assert!(!validate_json(
            "12345",
            url,
            br#"{"property": "value", "boolean": false}"#,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert!(!validate_json("12345", URL, body, "a9nBmqA0ju/hNViExpshrM61xv4="), "no bodySHA256");
        assert!(!validate_json("other", url, body, "a9nBmqA0ju/hNViExpshrM61xv4="));
    }

    #[test]
    fn url_variants_cover_ports() {
        assert_eq!(
            url_variants("https://a.example.com:8443/p?q=1"),
            ["https://a.example.com:8443/p?q=1", "https://a.example.com/p?q=1", "https://a.example.com:443/p?q=1"]
        );
        assert_eq!(url_variants("http://[::1]/x"), ["http://[::1]/x", "http://[::1]:80/x"]);
    }

    #[test]
    fn a_json_request_signed_here_validates_and_a_changed_body_does_not() {
        let (url, sig) = sign_json("12345", "https://example.com/twilio/events", br#"[{"id":"EZ1"}]"#);
        assert!(url.starts_with("https://example.com/twilio/events?bodySHA256="));
        assert!(validate_json("12345", &url, br#"[{"id":"EZ1"}]"#, &sig));
        assert!(!validate_json("12345", &url, br#"[{"id":"EZ2"}]"#, &sig));
        assert!(!validate_json("other", &url, br#"[{"id":"EZ1"}]"#, &sig));
        let (url, _) = sign_json("k", "http://h/p?x=1", b"{}");
        assert!(url.starts_with("http://h/p?x=1&bodySHA256="));
    }
}
