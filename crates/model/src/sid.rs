//! Twilio resource identifiers ("SIDs").
//!
//! A SID is two uppercase ASCII letters naming the resource type followed by 32 hex digits: 34
//! characters in all. Twilio's OpenAPI patterns accept either hex case, but every SID Twilio
//! issues is lowercase, so [`Sid::from_bytes`] writes lowercase and [`Sid::parse`] accepts both
//! (normalising nothing: the text is kept as given).

use std::fmt;
use std::str::FromStr;

/// The resource types whose SIDs callsynth mints.
///
/// Prefixes are Twilio's own (`twilio_api_v2010.json`, `twilio_events_v1.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SidPrefix {
    /// `AC`: an account.
    Account,
    /// `CA`: a call.
    Call,
    /// `RE`: a call recording.
    Recording,
    /// `TR`: a transcription (legacy `<Record transcribe>` resource).
    Transcription,
    /// `CF`: a conference (a supervisor joining a call).
    Conference,
    /// `DG`: an Event Streams sink.
    Sink,
    /// `DF`: an Event Streams subscription.
    Subscription,
    /// `EZ`: the id Twilio gives a CloudEvent (seen on messaging and insights events).
    CloudEvent,
    /// `VW`: the `eventSid` of a `Voice.WebhookEvent`.
    VoiceWebhookEvent,
}

impl SidPrefix {
    /// The two letters that start a SID of this type.
    pub const fn as_str(self) -> &'static str {
        match self {
            SidPrefix::Account => "AC",
            SidPrefix::Call => "CA",
            SidPrefix::Recording => "RE",
            SidPrefix::Transcription => "TR",
            SidPrefix::Conference => "CF",
            SidPrefix::Sink => "DG",
            SidPrefix::Subscription => "DF",
            SidPrefix::CloudEvent => "EZ",
            SidPrefix::VoiceWebhookEvent => "VW",
        }
    }
}

/// Why a string is not a SID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SidError {
    /// Wrong total length.
    #[error("a Twilio SID is 34 characters (2 letters + 32 hex digits), found {0}")]
    Length(usize),
    /// The first two characters are not uppercase ASCII letters.
    #[error("a Twilio SID starts with two uppercase letters, found {0:?}")]
    Prefix(String),
    /// A character after the prefix is not a hex digit.
    #[error("a Twilio SID has 32 hex digits after its prefix; character {index} is {found:?}")]
    Digit {
        /// Zero-based position of the bad character in the whole SID.
        index: usize,
        /// The character found there.
        found: char,
    },
    /// The prefix is valid but not the one the caller expected.
    #[error("expected a SID starting with {expected}, found {found:?}")]
    WrongPrefix {
        /// The prefix the caller asked for.
        expected: &'static str,
        /// The SID that was given.
        found: String,
    },
}

/// A Twilio SID, stored inline (34 ASCII bytes, `Copy`) so minting one never allocates.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid([u8; Sid::LEN]);

impl Sid {
    /// Length of every SID in bytes.
    pub const LEN: usize = 34;

    /// Mints a SID from 16 random bytes, written as 32 lowercase hex digits.
    pub fn from_bytes(prefix: SidPrefix, bytes: [u8; 16]) -> Sid {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; Sid::LEN];
        out[..2].copy_from_slice(prefix.as_str().as_bytes());
        for (i, b) in bytes.iter().enumerate() {
            out[2 + 2 * i] = HEX[usize::from(b >> 4)];
            out[3 + 2 * i] = HEX[usize::from(b & 0x0f)];
        }
        Sid(out)
    }

    /// Parses any well-formed SID (`^[A-Z]{2}[0-9a-fA-F]{32}$`).
    ///
    /// # Errors
    ///
    /// [`SidError`] says which rule the text breaks.
    pub fn parse(text: &str) -> Result<Sid, SidError> {
        let bytes = text.as_bytes();
        if bytes.len() != Sid::LEN {
            return Err(SidError::Length(text.chars().count()));
        }
        if !bytes[..2].iter().all(u8::is_ascii_uppercase) {
            return Err(SidError::Prefix(text.chars().take(2).collect()));
        }
        if let Some(index) = bytes[2..].iter().position(|b| !b.is_ascii_hexdigit()) {
            let found = text[2..].chars().nth(index).unwrap_or('?');
            return Err(SidError::Digit { index: index + 2, found });
        }
        let mut out = [0u8; Sid::LEN];
        out.copy_from_slice(bytes);
        Ok(Sid(out))
    }

    /// Parses a SID and checks that it is of the expected type.
    ///
    /// # Errors
    ///
    /// As [`Sid::parse`], plus [`SidError::WrongPrefix`].
    pub fn parse_with_prefix(text: &str, prefix: SidPrefix) -> Result<Sid, SidError> {
        let sid = Sid::parse(text)?;
        if sid.prefix() != prefix.as_str() {
            return Err(SidError::WrongPrefix { expected: prefix.as_str(), found: text.into() });
        }
        Ok(sid)
    }

    /// The SID's text.
    pub fn as_str(&self) -> &str {
        // Constructors only ever store ASCII.
        std::str::from_utf8(&self.0).expect("SIDs are ASCII")
    }

    /// The two-letter type prefix.
    pub fn prefix(&self) -> &str {
        &self.as_str()[..2]
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sid {
    type Err = SidError;
    fn from_str(s: &str) -> Result<Sid, SidError> {
        Sid::parse(s)
    }
}

impl serde::Serialize for Sid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Sid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Sid, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Sid::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_each_malformation_with_its_reason() {
        assert_eq!(Sid::parse("CA123"), Err(SidError::Length(5)));
        assert!(matches!(Sid::parse(&format!("ca{}", "0".repeat(32))), Err(SidError::Prefix(_))));
        let bad = format!("CA{}g", "0".repeat(31));
        assert_eq!(Sid::parse(&bad), Err(SidError::Digit { index: 33, found: 'g' }));
        let upper = format!("CA{}", "ABCDEF0123456789".repeat(2));
        assert_eq!(Sid::parse(&upper).unwrap().as_str(), upper);
        let re = format!("RE{}", "0".repeat(32));
        assert!(matches!(
            Sid::parse_with_prefix(&re, SidPrefix::Call),
            Err(SidError::WrongPrefix { expected: "CA", .. })
        ));
    }

    #[test]
    fn multibyte_input_is_an_error_not_a_panic() {
        let text = format!("CA{}é", "0".repeat(30));
        assert_eq!(text.len(), 34);
        assert!(matches!(Sid::parse(&text), Err(SidError::Digit { index: 32, .. })));
    }

    proptest! {
        #[test]
        fn minted_sids_are_lowercase_hex_and_round_trip(bytes in any::<[u8; 16]>()) {
            let sid = Sid::from_bytes(SidPrefix::Transcription, bytes);
            let text = sid.as_str();
            prop_assert!(text.starts_with("TR"));
            prop_assert!(text[2..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            prop_assert_eq!(Sid::parse(text).unwrap(), sid);
            let json = serde_json::to_string(&sid).unwrap();
            prop_assert_eq!(serde_json::from_str::<Sid>(&json).unwrap(), sid);
        }

        #[test]
        fn parse_never_panics(text in ".{0,40}") {
            let _ = Sid::parse(&text);
        }
    }
}
