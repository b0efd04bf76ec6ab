//! Timestamp spellings used on the wire, from Unix milliseconds.
//!
//! EventBridge envelopes carry RFC 3339 with whole seconds and `Z`; CloudEvents carry RFC 3339
//! with milliseconds; Twilio's form callbacks carry RFC 2822.

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

const SECONDS: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const MILLIS: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
const RFC2822: &[BorrowedFormatItem<'static>] =
    format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000");

fn datetime(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).expect("generated times are in range")
}

/// `2025-10-07T12:00:00Z` (truncated to the second).
pub fn rfc3339_seconds(ms: i64) -> String {
    datetime(ms.div_euclid(1000) * 1000).format(SECONDS).expect("static format")
}

/// `2025-10-07T12:00:00.412Z`.
pub fn rfc3339_millis(ms: i64) -> String {
    datetime(ms).format(MILLIS).expect("static format")
}

/// `Tue, 07 Oct 2025 12:00:00 +0000`.
pub fn rfc2822(ms: i64) -> String {
    datetime(ms.div_euclid(1000) * 1000).format(RFC2822).expect("static format")
}

/// Parses an RFC 3339 timestamp into Unix milliseconds.
///
/// # Errors
///
/// The parser's message when the text is not RFC 3339.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{text:?} is not an RFC 3339 timestamp ({e}); expected e.g. 2026-01-05T08:00:00Z"))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_match_the_wire_formats() {
        let ms = 1_759_838_400_412; // 2025-10-07T12:00:00.412Z, a Tuesday
        assert_eq!(rfc3339_seconds(ms), "2025-10-07T12:00:00Z");
        assert_eq!(rfc3339_millis(ms), "2025-10-07T12:00:00.412Z");
        assert_eq!(rfc2822(ms), "Tue, 07 Oct 2025 12:00:00 +0000");
        assert_eq!(parse_rfc3339("2025-10-07T14:00:00.412+02:00"), Ok(ms));
        assert!(parse_rfc3339("yesterday").unwrap_err().contains("not an RFC 3339"));
    }
}
