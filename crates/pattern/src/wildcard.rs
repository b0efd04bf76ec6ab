//! `wildcard` patterns: `*` matches any run of characters; `\*` is a literal star and `\\` a
//! literal backslash.
//!
//! EventBridge rejects consecutive stars and patterns whose matching could keep too many
//! partial matches alive at once ("Rule is too complex"). [`Glob::complexity`] measures that:
//! the largest number of pattern positions one input can occupy simultaneously, found by
//! exploring the subset automaton.

use std::collections::{BTreeSet, HashSet, VecDeque};

/// One element of a compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    Star,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    tokens: Vec<Token>,
    /// The literal runs between stars, as UTF-8 (`a*b*` is `["a", "b", ""]`).
    runs: Vec<Vec<u8>>,
    /// The pattern as written.
    pub source: String,
}

/// Largest [`Glob::complexity`] accepted. EventBridge does not publish its limit; 8 accepts
/// and rejects the AWS-recorded cases as AWS did (`/Users/*/dir/dir/dir/dir/dir/doc.txt`, 7,
/// accepted; `*:*:*:*:*:event-bus/*`, 10, rejected).
pub const MAX_COMPLEXITY: usize = 8;

impl Glob {
    /// Compiles a pattern.
    ///
    /// # Errors
    ///
    /// AWS's reason text for consecutive stars or a bad escape.
    pub fn parse(source: &str) -> Result<Glob, String> {
        let mut tokens = Vec::new();
        let mut chars = source.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '*' => {
                    if tokens.last() == Some(&Token::Star) {
                        return Err(format!("Consecutive wildcard characters at pos {i}"));
                    }
                    tokens.push(Token::Star);
                }
                '\\' => match chars.next() {
                    Some((_, '*')) => tokens.push(Token::Char('*')),
                    Some((_, '\\')) => tokens.push(Token::Char('\\')),
                    _ => return Err(format!("Invalid escape character at pos {i}")),
                },
                c => tokens.push(Token::Char(c)),
            }
        }
        let mut runs = vec![Vec::new()];
        for token in &tokens {
            match token {
                Token::Star => runs.push(Vec::new()),
                Token::Char(c) => runs.last_mut().expect("starts non-empty").extend(c.to_string().bytes()),
            }
        }
        Ok(Glob { tokens, runs, source: source.to_string() })
    }

    /// Whether `text` matches the whole pattern.
    ///
    /// Works on UTF-8 bytes: a literal run starts with a character's first byte, so it can only
    /// line up on character boundaries and byte matching equals character matching. The first
    /// and last runs are anchored; the runs between stars are found leftmost-first, which is
    /// enough for `*` (any later placement leaves less room for what follows).
    pub fn matches(&self, text: &str) -> bool {
        let runs = &self.runs;
        let mut rest = text.as_bytes();
        let Some((first, more)) = runs.split_first() else { return rest.is_empty() };
        if !rest.starts_with(first) {
            return false;
        }
        rest = &rest[first.len()..];
        let Some((last, middle)) = more.split_last() else { return rest.is_empty() };
        for run in middle {
            match memchr::memmem::find(rest, run) {
                Some(at) => rest = &rest[at + run.len()..],
                None => return false,
            }
        }
        rest.ends_with(last)
    }

    /// Number of stars.
    pub fn stars(&self) -> usize {
        self.tokens.iter().filter(|t| **t == Token::Star).count()
    }

    /// The most prefixes of this pattern that one input can match at once — the measure of
    /// wildcard complexity EventBridge limits (`*aa` scores 3 on `aa`: `*`, `*a`, `*aa`).
    pub fn complexity(&self) -> usize {
        let p = &self.tokens;
        let n = p.len();
        // State: the set of prefix lengths k (0..=n) such that p[..k] matches the input so far.
        let closure = |set: &mut BTreeSet<usize>| {
            let mut stack: Vec<usize> = set.iter().copied().collect();
            while let Some(k) = stack.pop() {
                if p.get(k) == Some(&Token::Star) && set.insert(k + 1) {
                    stack.push(k + 1);
                }
            }
        };
        let mut alphabet: Vec<Option<char>> = p
            .iter()
            .filter_map(|t| if let Token::Char(c) = t { Some(Some(*c)) } else { None })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        alphabet.push(None); // any character the pattern does not mention
        let mut start = BTreeSet::from([0usize]);
        closure(&mut start);
        let mut seen = HashSet::from([start.clone()]);
        let mut queue = VecDeque::from([start]);
        let mut best = 0;
        while let Some(set) = queue.pop_front() {
            if best > MAX_COMPLEXITY || seen.len() > 4096 {
                break;
            }
            for c in &alphabet {
                let mut next = BTreeSet::new();
                for &k in &set {
                    if k < n && matches!(p[k], Token::Char(x) if Some(x) == *c) {
                        next.insert(k + 1);
                    }
                    if k >= 1 && p[k - 1] == Token::Star {
                        next.insert(k);
                    }
                }
                closure(&mut next);
                best = best.max(next.iter().filter(|&&k| k > 0).count());
                if !next.is_empty() && seen.insert(next.clone()) {
                    queue.push_back(next);
                }
            }
        }
        best.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_follows_glob_rules_and_escapes() {
        let g = |p: &str| Glob::parse(p).unwrap();
        assert!(g("*/dir/*").matches("a/dir/b"));
        assert!(g("*/dir/*").matches("/dir/"));
        assert!(!g("*/dir/*").matches("dir/post/dir"));
        assert!(g("").matches(""));
        assert!(!g("").matches("x"));
        assert!(g("a*b*c").matches("abc") && g("a*b*c").matches("aXbYbZc") && !g("a*b*c").matches("acb"));
        assert!(g("lit\\*eral").matches("lit*eral") && !g("lit\\*eral").matches("litXeral"));
        assert!(g("back\\\\slash").matches("back\\slash"));
        assert_eq!(Glob::parse("a**b").unwrap_err(), "Consecutive wildcard characters at pos 2");
        assert!(Glob::parse("a\\b").is_err());
    }

    #[test]
    fn complexity_separates_awss_recorded_cases() {
        let c = |p: &str| Glob::parse(p).unwrap().complexity();
        assert!(c("*:*:*:*:*:event-bus/*") > MAX_COMPLEXITY);
        assert!(c("/Users/*/dir/dir/dir/dir/dir/doc.txt") <= MAX_COMPLEXITY);
        assert!(c("arn:aws:events:us-east-1:*:event-bus/*") <= MAX_COMPLEXITY);
        assert_eq!(c("plain"), 1);
    }

    /// Scores from aws/event-ruler's MachineComplexityEvaluatorTest (single-pattern cases).
    #[test]
    fn complexity_agrees_with_event_ruler() {
        let c = |p: &str| Glob::parse(p).unwrap().complexity();
        for (pattern, score) in [
            ("*", 1),
            ("*ab", 2),
            ("*aa", 3),
            ("a*b", 2),
            ("aa*", 2),
            ("a*bc", 2),
            ("a*bb", 3),
            ("a*bcb", 3),
            ("a*bbb", 4),
            ("*ab*ad", 4),
            ("*ab*d", 3),
            ("*aba*", 4),
            ("a*b*bb", 5),
            ("a*b*cb", 4),
            ("a*b*cd", 3),
            ("a*b*b", 4),
            ("a*bb*", 4),
            ("ab*b*", 3),
            ("*ab*b*b*", 7),
        ] {
            assert_eq!(c(pattern), score.min(MAX_COMPLEXITY + 1), "{pattern}");
        }
        assert!(c("*a*a*a*a*a*a*a*a*") > MAX_COMPLEXITY);
    }
}
