//! Numbers compared the way EventBridge compares them.
//!
//! `300`, `300.0` and `3e2` are the same number. A number whose decimal text a double holds
//! exactly (it survives the round trip text → f64 → shortest text) is compared by value; any
//! other (`9007199254740993`, `1e400`) is compared by its normalised decimal text, so it matches
//! only spellings of itself.

/// A normalised decimal: `±0.DIGITS × 10^exponent`, no leading or trailing zeros in `DIGITS`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Decimal {
    /// Parses JSON number text (already validated by the JSON reader).
    pub fn parse(text: &str) -> Decimal {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().unwrap_or(0)),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all: String = int.chars().chain(frac.chars()).collect();
        let leading = all.len() - all.trim_start_matches('0').len();
        let digits = all.trim_start_matches('0').trim_end_matches('0').to_string();
        if digits.is_empty() {
            return Decimal { negative: false, digits, exponent: 0 };
        }
        let exponent = int.len() as i64 - leading as i64 + exp;
        Decimal { negative, digits, exponent }
    }
}

/// What a number is compared by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NumberKey {
    /// Exactly representable: the double's bits (with -0 folded into 0).
    Exact(u64),
    /// Not representable: the normalised decimal.
    Text(Decimal),
}

/// A JSON number with what matching needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// Its value as a double (possibly rounded, possibly infinite).
    pub value: f64,
    /// How equality is decided.
    pub key: NumberKey,
}

impl Number {
    /// Reads JSON number text.
    pub fn parse(text: &str) -> Number {
        let value: f64 = text.parse().unwrap_or(f64::NAN);
        let decimal = Decimal::parse(text);
        let exact = value.is_finite() && Decimal::parse(&format!("{value:e}")) == decimal;
        let key = if exact {
            NumberKey::Exact(if value == 0.0 { 0 } else { value.to_bits() })
        } else {
            NumberKey::Text(decimal)
        };
        Number { value, key }
    }

    /// Usable in numeric ranges (finite).
    pub fn is_comparable(&self) -> bool {
        self.value.is_finite()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_number_share_a_key() {
        let key = |t: &str| Number::parse(t).key;
        assert_eq!(key("300"), key("300.0"));
        assert_eq!(key("300"), key("3e2"));
        assert_eq!(key("300"), key("3.00E+2"));
        assert_eq!(key("0"), key("-0.0"));
        assert_eq!(key("0.1"), key("1e-1"));
        assert_ne!(key("300"), key("301"));
        assert_ne!(key("0.1"), key("0.10000000000000001"));
    }

    #[test]
    fn numbers_a_double_cannot_hold_match_only_themselves() {
        let big = Number::parse("9007199254740993");
        assert!(matches!(big.key, NumberKey::Text(_)));
        assert_ne!(big.key, Number::parse("9007199254740992").key);
        assert_eq!(big.key, Number::parse("9007199254740993.0").key);
        assert!(matches!(Number::parse("1e400").key, NumberKey::Text(_)));
        assert!(!Number::parse("1e400").is_comparable());
    }
}
