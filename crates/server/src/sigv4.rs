//! AWS Signature Version 4, verified as AWS verifies the `Authorization` header the AWS CLI and
//! SDKs send: canonical request, string to sign, derived signing key, constant-time compare,
//! and a 15-minute clock-skew window.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Why a request was refused, with AWS's error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigError {
    /// `MissingAuthenticationTokenException`, `IncompleteSignatureException`,
    /// `UnrecognizedClientException`, `InvalidSignatureException`.
    pub code: &'static str,
    /// The message.
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> SigError {
    SigError { code, message: message.into() }
}

/// One access key and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// `AKIA…` or any id.
    pub id: String,
    /// The secret.
    pub secret: String,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccessKey({}, <redacted>)", self.id)
    }
}

impl AccessKey {
    /// Parses `ID:SECRET`.
    pub fn parse(text: &str) -> Option<AccessKey> {
        let (id, secret) = text.split_once(':')?;
        (!id.is_empty() && !secret.is_empty()).then(|| AccessKey { id: id.into(), secret: secret.into() })
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The request as signed.
#[derive(Debug, Clone)]
pub struct SignedRequest<'a> {
    /// `POST`.
    pub method: &'a str,
    /// The path, e.g. `/`.
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// Every header (name, value) as received.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

/// The signature of `request` with `key`, for `date` (YYYYMMDD), `region`, `service`,
/// `amz_date` (YYYYMMDD'T'HHMMSS'Z') and the `signed` header names (lower case, sorted).
pub fn signature(
    key: &AccessKey,
    request: &SignedRequest<'_>,
    amz_date: &str,
    scope: (&str, &str, &str),
    signed: &[&str],
) -> String {
    let (date, region, service) = scope;
    let header_value = |name: &str| {
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        values.join(",")
    };
    let mut canonical_headers = String::new();
    for name in signed {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&header_value(name));
        canonical_headers.push('\n');
    }
    let payload_hash = request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-content-sha256"))
        .map_or_else(|| hex(&Sha256::digest(request.body)), |(_, v)| v.clone());
    let mut query: Vec<(&str, &str)> =
        request.query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
    query.sort();
    let canonical_query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        if request.path.is_empty() { "/" } else { request.path },
        canonical_query.join("&"),
        canonical_headers,
        signed.join(";"),
        payload_hash
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let k_date = hmac(format!("AWS4{}", key.secret).as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hex(&hmac(&k_signing, to_sign.as_bytes()))
}

/// Verifies the request's `Authorization` header against `keys`; `now` is epoch seconds.
///
/// # Errors
///
/// No or malformed authorization, an unknown key, a stale date, or a signature that does not
/// match — each with AWS's code.
pub fn verify(keys: &[AccessKey], request: &SignedRequest<'_>, now: i64) -> Result<(), SigError> {
    let header =
        |name: &str| request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let Some(auth) = header("authorization") else {
        return Err(refuse("MissingAuthenticationTokenException", "Missing Authentication Token"));
    };
    let Some(fields) = auth.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Err(refuse("IncompleteSignatureException", "Only AWS4-HMAC-SHA256 signatures are accepted."));
    };
    let field = |name: &str| {
        fields.split(',').map(str::trim).find_map(|f| f.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    let (Some(credential), Some(signed), Some(given)) =
        (field("Credential"), field("SignedHeaders"), field("Signature"))
    else {
        return Err(refuse(
            "IncompleteSignatureException",
            "Authorization header requires Credential, SignedHeaders and Signature.",
        ));
    };
    let parts: Vec<&str> = credential.split('/').collect();
    let [id, date, region, service, "aws4_request"] = parts.as_slice() else {
        return Err(refuse("IncompleteSignatureException", format!("Credential is malformed: {credential}")));
    };
    let Some(key) = keys.iter().find(|k| k.id == *id) else {
        return Err(refuse("UnrecognizedClientException", "The security token included in the request is invalid."));
    };
    let Some(amz_date) = header("x-amz-date") else {
        return Err(refuse("IncompleteSignatureException", "X-Amz-Date is required."));
    };
    let parsed = time::PrimitiveDateTime::parse(
        amz_date,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map_err(|_| refuse("IncompleteSignatureException", format!("X-Amz-Date {amz_date} is malformed.")))?;
    if !amz_date.starts_with(date) {
        return Err(refuse("InvalidSignatureException", "The credential date does not match X-Amz-Date."));
    }
    if (parsed.assume_utc().unix_timestamp() - now).abs() > 15 * 60 {
        return Err(refuse(
            "InvalidSignatureException",
            "Signature expired: the request time is more than 15 minutes away.",
        ));
    }
    let signed: Vec<&str> = signed.split(';').collect();
    if !signed.contains(&"host") {
        return Err(refuse("InvalidSignatureException", "The host header must be signed."));
    }
    let expected = signature(key, request, amz_date, (date, region, service), &signed);
    let same = expected.len() == given.len()
        && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same {
        Ok(())
    } else {
        Err(refuse(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_key() -> AccessKey {
        AccessKey { id: "AKIDEXAMPLE".into(), secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into() }
    }

    /// AWS's SigV4 test suite, `get-vanilla`.
    #[test]
    fn the_published_get_vanilla_vector() {
        let headers = vec![
            ("Host".to_string(), "example.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
        ];
        let req = SignedRequest { method: "GET", path: "/", query: "", headers: &headers, body: b"" };
        let sig = signature(
            &example_key(),
            &req,
            "20150830T123600Z",
            ("20150830", "us-east-1", "service"),
            &["host", "x-amz-date"],
        );
        assert_eq!(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    }

    #[test]
    fn verify_accepts_the_right_signature_only() {
        let body = br#"{"Name":"x"}"#;
        let mut headers = vec![
            ("Host".to_string(), "127.0.0.1:4010".to_string()),
            ("X-Amz-Date".to_string(), "20260105T120000Z".to_string()),
            ("X-Amz-Target".to_string(), "AWSEvents.DescribeEventBus".to_string()),
        ];
        let req = SignedRequest { method: "POST", path: "/", query: "", headers: &headers, body };
        let scope = ("20260105", "us-east-1", "events");
        let sig = signature(&example_key(), &req, "20260105T120000Z", scope, &["host", "x-amz-date", "x-amz-target"]);
        headers.push((
            "Authorization".into(),
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260105/us-east-1/events/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature={sig}"),
        ));
        let now = 1_767_614_400; // 2026-01-05T12:00:00Z
        let keys = [example_key()];
        let ok = SignedRequest { method: "POST", path: "/", query: "", headers: &headers, body };
        assert_eq!(verify(&keys, &ok, now), Ok(()));
        let tampered = SignedRequest { body: br#"{"Name":"y"}"#, ..ok.clone() };
        assert_eq!(verify(&keys, &tampered, now).unwrap_err().code, "InvalidSignatureException");
        assert_eq!(verify(&keys, &ok, now + 3600).unwrap_err().code, "InvalidSignatureException", "stale");
        let other = [AccessKey { id: "AKIDOTHER".into(), secret: "s".into() }];
        assert_eq!(verify(&other, &ok, now).unwrap_err().code, "UnrecognizedClientException");
        let bare = SignedRequest { headers: &headers[..3], ..ok.clone() };
        assert_eq!(verify(&keys, &bare, now).unwrap_err().code, "MissingAuthenticationTokenException");
        assert_eq!(format!("{:?}", example_key()), "AccessKey(AKIDEXAMPLE, <redacted>)");
    }
}
