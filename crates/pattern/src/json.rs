//! A small JSON reader that keeps what EventBridge semantics need and `serde_json` would lose:
//! the exact text of numbers, object members in document order (duplicates included), and a
//! nesting limit checked before recursion can overflow the stack.

use std::fmt;

/// Deepest nesting accepted, as PutEvents documents for events.
pub const MAX_DEPTH: usize = 1000;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, with its source text.
    Num(String),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, members in document order.
    Obj(Vec<(String, Json)>),
}

/// Why text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

/// Decodes the escape whose letter is at `at` (just after a backslash): the character and the
/// index after the escape, or where and why it is invalid. `\uXXXX` takes exactly four hex
/// digits, and a high surrogate must be followed by an escaped low one. Shared by both readers.
pub(crate) fn escape_at(bytes: &[u8], at: usize) -> Result<(char, usize), (usize, &'static str)> {
    let Some(&letter) = bytes.get(at) else { return Err((at, "unterminated escape")) };
    let simple = match letter {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let hex4 = |from: usize| -> Result<u32, (usize, &'static str)> {
                let digits = bytes.get(from..from + 4).ok_or((from, "truncated \\u escape"))?;
                digits.iter().try_fold(0u32, |v, &d| {
                    char::from(d).to_digit(16).map(|n| v * 16 + n).ok_or((from, "invalid \\u escape"))
                })
            };
            let hi = hex4(at + 1)?;
            let mut end = at + 5;
            let c = if (0xd800..0xdc00).contains(&hi) {
                if bytes.get(end..end + 2) != Some(b"\\u") {
                    return Err((end, "lone surrogate in \\u escape"));
                }
                let lo = hex4(end + 2)?;
                if !(0xdc00..0xe000).contains(&lo) {
                    return Err((end + 2, "invalid surrogate pair"));
                }
                end += 6;
                char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
            } else {
                char::from_u32(hi)
            };
            return c.map(|c| (c, end)).ok_or((at, "invalid \\u escape"));
        }
        _ => return Err((at, "invalid escape")),
    };
    Ok((simple, at + 1))
}

/// Parses one JSON document (surrounding whitespace allowed).
///
/// # Errors
///
/// Syntax errors, invalid UTF-8, lone surrogates, nesting deeper than [`MAX_DEPTH`].
pub fn parse(bytes: &[u8]) -> Result<Json, JsonError> {
    let mut r = Reader { bytes, pos: 0 };
    r.ws();
    let v = r.value(0)?;
    r.ws();
    if r.pos != bytes.len() {
        return Err(r.err("trailing characters after the JSON value"));
    }
    Ok(v)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn err(&self, message: &str) -> JsonError {
        JsonError { offset: self.pos, message: message.into() }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth >= MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        match self.bytes.get(self.pos) {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => {
                self.pos += 1;
                let mut members = Vec::new();
                self.ws();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Json::Obj(members));
                }
                loop {
                    self.ws();
                    if self.bytes.get(self.pos) != Some(&b'"') {
                        return Err(self.err("expected a string key"));
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.bytes.get(self.pos) != Some(&b':') {
                        return Err(self.err("expected ':'"));
                    }
                    self.pos += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    members.push((key, v));
                    self.ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Obj(members));
                        }
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Arr(items));
                        }
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a JSON value")),
        }
    }

    fn literal(&mut self, word: &[u8], value: Json) -> Result<Json, JsonError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        let b = self.bytes;
        if b.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match b.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while b.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    self.pos += 1;
                }
            }
            _ => return Err(self.err("invalid number")),
        }
        if b.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !b.get(self.pos).is_some_and(u8::is_ascii_digit) {
                return Err(self.err("invalid number: digits expected after '.'"));
            }
            while b.get(self.pos).is_some_and(u8::is_ascii_digit) {
                self.pos += 1;
            }
        }
        if let Some(b'e' | b'E') = b.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = b.get(self.pos) {
                self.pos += 1;
            }
            if !b.get(self.pos).is_some_and(u8::is_ascii_digit) {
                return Err(self.err("invalid number: digits expected in exponent"));
            }
            while b.get(self.pos).is_some_and(u8::is_ascii_digit) {
                self.pos += 1;
            }
        }
        // ASCII by construction.
        Ok(Json::Num(String::from_utf8_lossy(&b[start..self.pos]).into_owned()))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(&c) = self.bytes.get(self.pos) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            let chunk =
                std::str::from_utf8(&self.bytes[start..self.pos]).map_err(|_| self.err("invalid UTF-8 in string"))?;
            out.push_str(chunk);
            match self.bytes.get(self.pos) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let (c, next) = escape_at(self.bytes, self.pos + 1)
                        .map_err(|(at, m)| JsonError { offset: at, message: m.into() })?;
                    out.push(c);
                    self.pos = next;
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_number_text_member_order_and_duplicates() {
        let v = parse(br#" {"b": 3e2, "a": [1.50, "x\u00e9\ud83d\ude00"], "b": null} "#).unwrap();
        assert_eq!(
            v,
            Json::Obj(vec![
                ("b".into(), Json::Num("3e2".into())),
                ("a".into(), Json::Arr(vec![Json::Num("1.50".into()), Json::Str("xé😀".into())])),
                ("b".into(), Json::Null),
            ])
        );
    }

    #[test]
    fn rejects_malformed_input_without_panicking() {
        for bad in [&b"{"[..], b"[1,]", b"01", b"1.", b"\"\\ud800\"", b"\"\xff\"", b"tru", b"{} x", b"-", b"\"a"] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(deep.as_bytes()).unwrap_err().message, "JSON nested too deeply");
        let ok = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        assert!(parse(ok.as_bytes()).is_ok());
    }
}
