//! VADER sentiment (Hutto & Gilbert, 2014), reproducing the reference Python package
//! `vaderSentiment` 3.3.2 score for score, quirks included.
//!
//! Parity matters more than taste here: users compare our numbers with the Python package's, so
//! every rule follows its code path exactly — which tokens count, the order the modifiers apply
//! in, the `but` rule that rescales by *value* rather than by position, Python's whitespace and
//! `str.isupper` semantics, and Python's decimal rounding of the four scores. Where the reference
//! behaves oddly, the comment says so and we keep it.
//!
//! The lexicon and the emoji descriptions ship in `data/` (MIT, © C.J. Hutto; see
//! `data/LICENSE-VADER`), reduced to the columns the analyser reads.

use std::borrow::Cow;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde::Serialize;

/// Mean rise in intensity for a booster word ("very").
const B_INCR: f64 = 0.293;
/// Mean fall in intensity for a dampener word ("slightly").
const B_DECR: f64 = -0.293;
/// Rise for a word in ALL CAPS among words that are not.
const C_INCR: f64 = 0.733;
/// Scale applied by a negation.
const N_SCALAR: f64 = -0.74;

/// Negation words, as listed by the reference (any token containing "n't" also negates).
const NEGATE: [&str; 60] = [
    "n't",
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// Degree adverbs that raise the next sentiment word's intensity by [`B_INCR`].
const BOOSTERS: [&str; 60] = [
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

/// Degree adverbs that lower it by [`B_DECR`] (the two-word ones only ever match as bigrams).
const DAMPENERS: [&str; 24] = [
    "almost",
    "barely",
    "hardly",
    "just enough",
    "kind of",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sort of",
    "sorta",
    "sortof",
    "sort-of",
];

/// A booster's or dampener's scalar.
fn booster(word_lower: &str) -> Option<f64> {
    if BOOSTERS.contains(&word_lower) {
        Some(B_INCR)
    } else if DAMPENERS.contains(&word_lower) {
        Some(B_DECR)
    } else {
        None
    }
}

/// The four scores, rounded as the reference rounds them (3 decimals, compound 4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Polarity {
    /// Normalised sum of valences, −1 to 1.
    pub compound: f64,
    /// Share of positive intensity.
    pub pos: f64,
    /// Share of neutral tokens.
    pub neu: f64,
    /// Share of negative intensity.
    pub neg: f64,
}

/// The analyser: the lexicon and emoji descriptions, loaded once.
#[derive(Debug)]
pub struct Vader {
    /// Every word a rule reads, lower-cased: lexicon valence, booster scalar, negation.
    words: FxHashMap<&'static str, WordInfo>,
    emoji: FxHashMap<char, &'static str>,
}

/// What the rules know of one lower-cased word; one hash lookup per token answers all three.
#[derive(Debug, Clone, Copy, Default)]
struct WordInfo {
    valence: Option<f64>,
    booster: Option<f64>,
    negation: bool,
}

static LEXICON: &str = include_str!("../data/vader_lexicon.tsv");
static EMOJI: &str = include_str!("../data/vader_emoji.tsv");

impl Vader {
    /// The shared analyser with the reference lexicon (parsed on first use, ~1 ms).
    pub fn get() -> &'static Vader {
        static VADER: OnceLock<Vader> = OnceLock::new();
        VADER.get_or_init(|| Vader::with_additions(&[]))
    }

    /// An analyser whose lexicon is the reference's with `additions` added or replaced (the
    /// reference allows the same by updating its `lexicon` dict).
    pub fn with_additions(additions: &[(&'static str, f64)]) -> Vader {
        let mut words: FxHashMap<&'static str, WordInfo> = FxHashMap::default();
        let lexicon = LEXICON.lines().map(|line| {
            let (word, valence) = line.split_once('\t').expect("lexicon lines are word<TAB>valence");
            (word, valence.parse::<f64>().expect("lexicon valences are numbers"))
        });
        for (word, valence) in lexicon.chain(additions.iter().copied()) {
            words.entry(word).or_default().valence = Some(valence);
        }
        for word in BOOSTERS.iter().chain(&DAMPENERS) {
            words.entry(word).or_default().booster = booster(word);
        }
        for word in NEGATE {
            words.entry(word).or_default().negation = true;
        }
        let emoji = EMOJI
            .lines()
            .map(|line| {
                let (emoji, description) = line.split_once('\t').expect("emoji lines are emoji<TAB>text");
                let mut chars = emoji.chars();
                let c = chars.next().expect("non-empty emoji");
                debug_assert!(chars.next().is_none(), "only single code points can match");
                (c, description)
            })
            .collect();
        Vader { words, emoji }
    }

    /// Scores one text (best one sentence at a time, as the reference recommends).
    pub fn polarity_scores(&self, text: &str) -> Polarity {
        let text = self.describe_emoji(text);
        let text = text.trim_matches(is_py_space);
        SCRATCH.with_borrow_mut(|scratch| self.score(text, scratch))
    }

    fn score(&self, text: &str, scratch: &mut Scratch) -> Polarity {
        let Scratch { lower, tokens, sentiments } = scratch;
        // Everything the rules ask of a token, worked out once. ASCII text is lower-cased in
        // one go (offsets do not move); other text token by token, as Python would.
        lower.clear();
        tokens.clear();
        let ascii = text.is_ascii();
        if ascii {
            lower.push_str(text);
            lower.make_ascii_lowercase();
        }
        for raw in py_split(text).map(strip_punc_if_word) {
            let start = raw.as_ptr() as usize - text.as_ptr() as usize;
            let span = if ascii {
                start..start + raw.len()
            } else {
                let from = lower.len();
                lower.push_str(&py_lower(raw));
                from..lower.len()
            };
            let word = &lower[span.clone()];
            let info = self.words.get(word).copied().unwrap_or_default();
            tokens.push(Token {
                lower: span,
                valence: info.valence,
                booster: info.booster,
                negation: info.negation || word.as_bytes().windows(3).any(|w| w == b"n't"),
                upper: py_isupper(raw),
            });
        }
        let upper = tokens.iter().filter(|t| t.upper).count();
        let s = Sentence { lower, tokens, cap_diff: 0 < tokens.len() - upper && upper > 0 };
        sentiments.clear();
        for i in 0..tokens.len() {
            let skip =
                tokens[i].booster.is_some() || (i + 1 < tokens.len() && s.word(i) == "kind" && s.word(i + 1) == "of");
            sentiments.push(if skip { 0.0 } else { s.valence(i) });
        }
        but_check(&s, sentiments);
        score_valence(sentiments, text)
    }

    /// Replaces each emoji by its description, as the reference does before tokenising.
    fn describe_emoji<'t>(&self, text: &'t str) -> Cow<'t, str> {
        // Every emoji in the table is outside ASCII.
        if text.is_ascii() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len() + 32);
        let mut prev_space = true;
        for c in text.chars() {
            if let Some(description) = self.emoji.get(&c) {
                if !prev_space {
                    out.push(' ');
                }
                out.push_str(description);
                prev_space = false;
            } else {
                out.push(c);
                // Only U+0020 counts here, as in the reference.
                prev_space = c == ' ';
            }
        }
        Cow::Owned(out)
    }
}

/// A token and what the rules read of it.
/// Buffers reused from one text to the next, so scoring allocates nothing once warm.
#[derive(Default)]
struct Scratch {
    /// The lower-cased tokens (for ASCII text, the whole text lower-cased).
    lower: String,
    tokens: Vec<Token>,
    sentiments: Vec<f64>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

#[derive(Clone)]
struct Token {
    /// Where the lower-cased token is in [`Scratch::lower`], as the rules compare it.
    lower: std::ops::Range<usize>,
    /// Its lexicon valence.
    valence: Option<f64>,
    /// Its booster (or dampener) scalar.
    booster: Option<f64>,
    /// A negation word, or contains "n't".
    negation: bool,
    /// Python's `isupper()` of the token as written.
    upper: bool,
}

/// One tokenised text.
struct Sentence<'a> {
    lower: &'a str,
    tokens: &'a [Token],
    /// Some but not all tokens in ALL CAPS (the reference's `allcap_differential`).
    cap_diff: bool,
}

impl Sentence<'_> {
    fn in_lexicon(&self, i: usize) -> bool {
        self.tokens[i].valence.is_some()
    }

    fn word(&self, i: usize) -> &str {
        &self.lower[self.tokens[i].lower.clone()]
    }

    /// The reference's `sentiment_valence` for token `i`.
    fn valence(&self, i: usize) -> f64 {
        let Some(base) = self.tokens[i].valence else { return 0.0 };
        let mut valence = base;
        // "no" before a lexicon word negates it instead of counting on its own.
        if self.word(i) == "no" && i + 1 < self.tokens.len() && self.in_lexicon(i + 1) {
            valence = 0.0;
        }
        if (i > 0 && self.word(i - 1) == "no")
            || (i > 1 && self.word(i - 2) == "no")
            || (i > 2 && self.word(i - 3) == "no" && matches!(self.word(i - 1), "or" | "nor"))
        {
            valence = base * N_SCALAR;
        }
        if self.cap_diff && self.tokens[i].upper {
            // Zero counts as negative here, as in the reference.
            valence += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
        for start in 0..3 {
            if i > start && !self.in_lexicon(i - (start + 1)) {
                let mut scalar = self.scalar_inc_dec(i - (start + 1), valence);
                if start == 1 && scalar != 0.0 {
                    scalar *= 0.95;
                }
                if start == 2 && scalar != 0.0 {
                    scalar *= 0.9;
                }
                valence += scalar;
                valence = self.negation_check(valence, start, i);
                if start == 2 {
                    valence = self.special_idioms_check(valence, i);
                }
            }
        }
        self.least_check(valence, i)
    }

    fn scalar_inc_dec(&self, j: usize, valence: f64) -> f64 {
        let Some(mut scalar) = self.tokens[j].booster else { return 0.0 };
        if valence < 0.0 {
            scalar = -scalar;
        }
        if self.cap_diff && self.tokens[j].upper {
            scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
        scalar
    }

    fn negated(&self, j: usize) -> bool {
        self.tokens[j].negation
    }

    fn negation_check(&self, valence: f64, start: usize, i: usize) -> f64 {
        let w = |k: usize| self.word(i - k);
        match start {
            0 if self.negated(i - 1) => valence * N_SCALAR,
            1 if w(2) == "never" && matches!(w(1), "so" | "this") => valence * 1.25,
            1 if w(2) == "without" && w(1) == "doubt" => valence,
            1 if self.negated(i - 2) => valence * N_SCALAR,
            // The reference's operator precedence makes "so"/"this" just before the word enough.
            2 if (w(3) == "never" && matches!(w(2), "so" | "this")) || matches!(w(1), "so" | "this") => valence * 1.25,
            2 if w(3) == "without" && (w(2) == "doubt" || w(1) == "doubt") => valence,
            2 if self.negated(i - 3) => valence * N_SCALAR,
            _ => valence,
        }
    }

    fn special_idioms_check(&self, mut valence: f64, i: usize) -> f64 {
        let w = |k: usize| self.word(k);
        let before: [&[&str]; 5] = [
            &[w(i - 1), w(i)],
            &[w(i - 2), w(i - 1), w(i)],
            &[w(i - 2), w(i - 1)],
            &[w(i - 3), w(i - 2), w(i - 1)],
            &[w(i - 3), w(i - 2)],
        ];
        if let Some(v) = before.iter().find_map(|seq| special_case(seq)) {
            valence = v;
        }
        let n = self.tokens.len();
        if n - 1 > i
            && let Some(v) = special_case(&[w(i), w(i + 1)])
        {
            valence = v;
        }
        if n - 1 > i + 1
            && let Some(v) = special_case(&[w(i), w(i + 1), w(i + 2)])
        {
            valence = v;
        }
        // Two-word dampeners ("kind of", "sort of", "just enough") before the word.
        for seq in [before[3], before[4], before[2]] {
            if let [a, b] = seq
                && let Some(v) = two_word_booster(a, b)
            {
                valence += v;
            }
        }
        valence
    }

    fn least_check(&self, valence: f64, i: usize) -> f64 {
        if i > 0 && !self.in_lexicon(i - 1) && self.word(i - 1) == "least" {
            if i > 1 {
                if !matches!(self.word(i - 2), "at" | "very") {
                    return valence * N_SCALAR;
                }
            } else {
                return valence * N_SCALAR;
            }
        }
        valence
    }
}

/// Idioms whose valence replaces the word's own (the reference's `SPECIAL_CASES`).
fn special_case(words: &[&str]) -> Option<f64> {
    Some(match words {
        ["the", "shit"] | ["the", "bomb"] | ["to", "die", "for"] => 3.0,
        ["bad", "ass"] | ["badass"] => 1.5,
        ["bus", "stop"] => 0.0,
        ["yeah", "right"] => -2.0,
        ["kiss", "of", "death"] => -1.5,
        ["beating", "heart"] => 3.5,
        _ => return None,
    })
}

fn two_word_booster(a: &str, b: &str) -> Option<f64> {
    match (a, b) {
        ("just", "enough") | ("kind", "of") | ("sort", "of") => booster(&format!("{a} {b}")),
        _ => None,
    }
}

/// The reference's `but` rule. It looks each sentiment up by *value* (`list.index`), so a value
/// that repeats rescales its first occurrence again and again; kept for parity.
fn but_check(s: &Sentence<'_>, sentiments: &mut [f64]) {
    let Some(but) = (0..s.tokens.len()).position(|i| s.word(i) == "but") else { return };
    for k in 0..sentiments.len() {
        let value = sentiments[k];
        let first = sentiments.iter().position(|&x| x == value).expect("value is in the list");
        if first < but {
            sentiments[first] = value * 0.5;
        } else if first > but {
            sentiments[first] = value * 1.5;
        }
    }
}

fn score_valence(sentiments: &[f64], text: &str) -> Polarity {
    if sentiments.is_empty() {
        return Polarity { compound: 0.0, pos: 0.0, neu: 0.0, neg: 0.0 };
    }
    let mut sum: f64 = sentiments.iter().fold(0.0, |acc, s| acc + s);
    let emphasis = punctuation_emphasis(text);
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    let compound = normalize(sum);
    let (mut pos_sum, mut neg_sum, mut neutral) = (0.0f64, 0.0f64, 0u32);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neutral += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += emphasis;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= emphasis;
    }
    let total = pos_sum + neg_sum.abs() + f64::from(neutral);
    Polarity {
        compound: py_round(compound, 4),
        pos: py_round((pos_sum / total).abs(), 3),
        neu: py_round((f64::from(neutral) / total).abs(), 3),
        neg: py_round((neg_sum / total).abs(), 3),
    }
}

fn punctuation_emphasis(text: &str) -> f64 {
    let (mut exclamations, mut questions) = (0usize, 0usize);
    for b in text.bytes() {
        exclamations += usize::from(b == b'!');
        questions += usize::from(b == b'?');
    }
    let ep = exclamations.min(4) as f64 * 0.292;
    let qm = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    ep + qm
}

fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

/// Python's `round(x, digits)`: the decimal nearest the exact binary value, ties to even.
fn py_round(x: f64, digits: usize) -> f64 {
    let scale = [1.0, 10.0, 100.0, 1_000.0, 10_000.0][digits];
    let scaled = x * scale;
    // Away from a tie the product's rounding error cannot change the answer; a quotient of two
    // exact integers is correctly rounded, as Python's result is. (Scores are within ±1e4, so
    // the integer conversion is exact.)
    let whole = scaled as i64;
    let frac = scaled - whole as f64;
    if (frac.abs() - 0.5).abs() > 1e-6 {
        let rounded = whole + i64::from(frac > 0.5) - i64::from(frac < -0.5);
        return rounded as f64 / scale;
    }
    // Near a tie, decide on the exact value, as formatting does.
    format!("{x:.digits$}").parse().expect("formatted float parses")
}

/// Python's `str.split()`: runs of [`is_py_space`] separate words. Byte-wise on ASCII text.
fn py_split(text: &str) -> impl Iterator<Item = &str> {
    let ascii = text.is_ascii();
    let mut rest = text;
    std::iter::from_fn(move || {
        if ascii {
            let bytes = rest.as_bytes();
            let is_space = |b: &u8| matches!(b, b' ' | b'\t'..=b'\r' | 0x1c..=0x1f);
            let start = bytes.iter().position(|b| !is_space(b))?;
            let len = bytes[start..].iter().position(is_space).unwrap_or(bytes.len() - start);
            let word = &rest[start..start + len];
            rest = &rest[start + len..];
            Some(word)
        } else {
            let trimmed = rest.trim_start_matches(is_py_space);
            if trimmed.is_empty() {
                return None;
            }
            let end = trimmed.find(is_py_space).unwrap_or(trimmed.len());
            let (word, tail) = trimmed.split_at(end);
            rest = tail;
            Some(word)
        }
    })
}

/// Python's `str.split()`/`str.strip()` whitespace: Unicode White_Space plus U+001C–U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Strips ASCII punctuation from both ends unless that leaves two characters or fewer (then
/// the token was probably an emoticon such as `:)` and is kept whole).
fn strip_punc_if_word(token: &str) -> &str {
    let bytes = token.as_bytes();
    // Punctuation is ASCII, so byte offsets are character boundaries.
    let start = bytes.iter().position(|b| !b.is_ascii_punctuation()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_punctuation()).map_or(start, |i| i + 1);
    let stripped = &token[start..end];
    if stripped.chars().nth(2).is_none() { token } else { stripped }
}

fn py_lower(token: &str) -> Cow<'_, str> {
    if token.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(token)
    } else {
        Cow::Owned(token.to_lowercase())
    }
}

/// Python's `str.isupper`: some cased character, and none lowercase or titlecase.
fn py_isupper(token: &str) -> bool {
    if token.is_ascii() {
        let bytes = token.as_bytes();
        return !bytes.iter().any(u8::is_ascii_lowercase) && bytes.iter().any(u8::is_ascii_uppercase);
    }
    let mut cased = false;
    for c in token.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// The 31 characters of Unicode category Lt.
fn is_titlecase(c: char) -> bool {
    matches!(c,
        '\u{1C5}' | '\u{1C8}' | '\u{1CB}' | '\u{1F2}' | '\u{1F88}'..='\u{1F8F}' | '\u{1F98}'..='\u{1F9F}'
        | '\u{1FA8}'..='\u{1FAF}' | '\u{1FBC}' | '\u{1FCC}' | '\u{1FFC}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(text: &str) -> (f64, f64, f64, f64) {
        let p = Vader::get().polarity_scores(text);
        (p.compound, p.pos, p.neu, p.neg)
    }

    #[test]
    fn readme_examples_match_the_reference_package() {
        // Values printed by vaderSentiment 3.3.2 for the examples in its own source.
        assert_eq!(scores("VADER is smart, handsome, and funny."), (0.8316, 0.746, 0.254, 0.0));
        assert_eq!(scores("VADER is smart, handsome, and funny!"), (0.8439, 0.752, 0.248, 0.0));
        assert_eq!(scores("VADER is very smart, handsome, and funny."), (0.8545, 0.701, 0.299, 0.0));
        assert_eq!(scores("VADER is VERY SMART, handsome, and FUNNY."), (0.9227, 0.754, 0.246, 0.0));
        assert_eq!(scores("VADER is not smart, handsome, nor funny."), (-0.7424, 0.0, 0.354, 0.646));
        assert_eq!(scores("At least it isn't a horrible book."), (0.431, 0.322, 0.678, 0.0));
        assert_eq!(scores("Today only kinda sux! But I'll get by, lol"), (0.5249, 0.317, 0.556, 0.127));
        assert_eq!(scores("Make sure you :) or :D today!"), (0.8633, 0.706, 0.294, 0.0));
        assert_eq!(scores("Not bad at all"), (0.431, 0.487, 0.513, 0.0));
        assert_eq!(scores(""), (0.0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn python_rounding_is_ties_to_even_on_the_exact_value() {
        assert_eq!(py_round(0.0625, 3), 0.062);
        assert_eq!(py_round(0.125, 2), 0.12);
        assert_eq!(py_round(2.675, 2), 2.67, "2.675 is stored just below the tie");
        assert_eq!(py_round(0.0005, 3), 0.001, "0.0005 is stored just above the tie");
        assert_eq!(py_round(-0.12345, 4), -0.1235);
        assert_eq!((py_round(0.4567, 3), py_round(-0.4567, 3), py_round(0.0004, 3)), (0.457, -0.457, 0.0));
        assert_eq!((py_round(0.99995, 4), py_round(-1.0, 4), py_round(0.0, 3)), (1.0, -1.0, 0.0));
    }

    #[test]
    fn python_string_predicates() {
        let split = |t| py_split(t).collect::<Vec<_>>();
        assert_eq!(split("  a\tb\x1fc\u{a0}d  "), ["a", "b", "c", "d"]);
        assert_eq!(split("a\x1fb"), ["a", "b"], "U+001F separates, as in Python");
        assert_eq!(split(" \n "), Vec::<&str>::new());
        assert!(py_isupper("SUX!") && py_isupper("A1") && !py_isupper("123") && !py_isupper("ǅA"));
        assert!(is_py_space('\u{1f}') && is_py_space('\u{a0}') && !is_py_space('\u{200b}'));
        assert_eq!(strip_punc_if_word("'hello!'"), "hello");
        assert_eq!(strip_punc_if_word(":)"), ":)");
        assert_eq!(strip_punc_if_word("(ok)"), "(ok)", "two letters left: kept whole");
    }
}
