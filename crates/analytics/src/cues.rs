//! Phrase cues read clause by clause, with negation: what a turn *does* (demands a manager,
//! announces a transfer, commits to a fix, accepts or refuses it), as opposed to the words it
//! happens to contain.
//!
//! Text is lower-cased, curly apostrophes straightened, split into clauses at punctuation and at
//! "but", and each clause into words. A cue is a short word sequence (`*` matches any one word);
//! it is negated when a negator stands in the same clause within a few words before it, so "I
//! don't need a manager" is not a request for one. Common speech-recognition splits ("super
//! visor", "manage her") are joined back first, so noisy transcripts read the same.

/// One clause's words (stored in one string, so a clause costs two allocations, not one per
/// word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    text: String,
    spans: Vec<(u32, u32)>,
    /// The clause ended in a question mark.
    pub question: bool,
}

/// Words that negate a cue that follows them in the same clause.
const NEGATORS: [&str; 22] = [
    "not",
    "no",
    "never",
    "don't",
    "dont",
    "doesn't",
    "didn't",
    "won't",
    "wouldn't",
    "without",
    "nor",
    "neither",
    "isn't",
    "aren't",
    "needn't",
    "shouldn't",
    "can't",
    "cannot",
    "couldn't",
    "nothing",
    "nobody",
    "wasn't",
];

/// Words that open a condition, whose negation stays inside it.
const CONDITIONS: [&str; 3] = ["if", "unless", "until"];
/// Subjects that open the main clause after a condition.
const SUBJECTS: [&str; 8] = ["i", "i'm", "i'll", "i'd", "i've", "we", "we're", "we'll"];
/// How many words before a cue a negator still applies to it ("I don't need to speak to a
/// manager": seven).
const NEGATION_REACH: usize = 8;

/// Hesitations that carry no meaning; dropped with the comma that usually follows them, so
/// "I'd like to speak, uh, with a supervisor" stays one clause.
const FILLERS: [&str; 6] = ["um", "uh", "er", "erm", "uhm", "hmm"];

/// Short words speech recognisers insert on noise.
const INSERTIONS: [&str; 9] = ["the", "a", "and", "uh", "it", "that", "in", "of", "so"];

/// Speech-recognition splits joined back before matching.
const REPAIRS: [(&str, &str, &str); 5] = [
    ("super", "visor", "supervisor"),
    ("manage", "her", "manager"),
    ("a", "count", "account"),
    ("re-fund", "", "refund"),
    ("broke", "in", "broken"),
];

impl Clause {
    /// How many words.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// No words (never true of a clause [`clauses`] returns).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Word `i`.
    pub fn word(&self, i: usize) -> &str {
        let (from, to) = self.spans[i];
        &self.text[from as usize..to as usize]
    }

    fn get(&self, i: usize) -> Option<&str> {
        (i < self.spans.len()).then(|| self.word(i))
    }

    /// The clause's words.
    pub fn words(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.word(i))
    }

    /// Where `cue` (words separated by spaces, `*` for any word) first starts, if it occurs.
    /// One short word that recognisers insert on noise ("someone higher *it* up") may stand
    /// between two of the cue's words.
    pub fn find(&self, cue: &str) -> Option<usize> {
        let cue: Vec<&str> = cue.split(' ').collect();
        (0..self.len()).find(|&i| self.matches_at(i, &cue))
    }

    fn matches_at(&self, start: usize, cue: &[&str]) -> bool {
        let word_is = |at: usize, c: &str| self.get(at).is_some_and(|w| c == "*" || w == c);
        let mut at = start;
        for (k, c) in cue.iter().enumerate() {
            if word_is(at, c) {
                at += 1;
            } else if k > 0 && self.get(at).is_some_and(|w| INSERTIONS.contains(&w)) && word_is(at + 1, c) {
                at += 2;
            } else {
                return false;
            }
        }
        true
    }

    /// Every position where one of `phrases` starts, in order.
    pub fn occurrences<'a>(&'a self, phrases: &'a Phrases) -> impl Iterator<Item = usize> + 'a {
        (0..self.len()).filter(move |&i| {
            phrases.by_first.get(self.word(i)).is_some_and(|cues| cues.iter().any(|c| self.matches_at(i, c)))
        })
    }

    /// Whether a negator stands within reach before position `at`. A negator inside a
    /// condition ("if this isn't fixed today I'm cancelling") reaches only to the main clause's
    /// subject, where the condition ends.
    pub fn negated_at(&self, at: usize) -> bool {
        let from = at.saturating_sub(NEGATION_REACH);
        let negator = (from..at).rev().find(|&i| {
            let w = self.word(i);
            NEGATORS.contains(&w) || w.ends_with("n't")
        });
        let Some(negator) = negator else { return false };
        let conditional = (0..negator).any(|i| CONDITIONS.contains(&self.word(i)));
        !(conditional && (negator + 1..at).any(|i| SUBJECTS.contains(&self.word(i))))
    }

    /// The first occurrence of one of `phrases` that is not negated.
    pub fn affirms(&self, phrases: &Phrases) -> Option<usize> {
        self.occurrences(phrases).find(|&at| !self.negated_at(at))
    }

    /// Whether one of `phrases` occurs negated ("I don't think that works").
    pub fn denies(&self, phrases: &Phrases) -> bool {
        self.occurrences(phrases).any(|at| self.negated_at(at))
    }

    /// Whether one of `phrases` occurs, negated or not.
    pub fn mentions(&self, phrases: &Phrases) -> bool {
        self.occurrences(phrases).next().is_some()
    }

    /// Whether any word is one of `words`.
    pub fn has_word(&self, words: &[&str]) -> bool {
        self.words().any(|w| words.contains(&w))
    }
}

/// A set of cue phrases, indexed by first word so a clause is read once whatever the number
/// of phrases. Phrases are lower-case words separated by single spaces; the first word is
/// literal (no `*`).
#[derive(Debug)]
pub struct Phrases {
    by_first: rustc_hash::FxHashMap<&'static str, Vec<Vec<&'static str>>>,
}

impl Phrases {
    /// Indexes `list`.
    pub fn new(list: &[&'static str]) -> Phrases {
        let mut by_first: rustc_hash::FxHashMap<&'static str, Vec<Vec<&'static str>>> = Default::default();
        for phrase in list {
            let words: Vec<&'static str> = phrase.split(' ').collect();
            assert!(words[0] != "*", "{phrase:?}: a phrase starts with a literal word");
            by_first.entry(words[0]).or_default().push(words);
        }
        Phrases { by_first }
    }
}

/// The words of the clause being read, in one string.
#[derive(Default)]
struct Pending {
    text: String,
    spans: Vec<(u32, u32)>,
}

impl Pending {
    fn push(&mut self, word: &str) {
        let from = self.text.len() as u32;
        self.text.push_str(word);
        self.spans.push((from, self.text.len() as u32));
    }

    fn word(&self, i: usize) -> &str {
        let (from, to) = self.spans[i];
        &self.text[from as usize..to as usize]
    }

    fn pop_if(&mut self, word: &str) -> bool {
        let last = self.spans.len().checked_sub(1);
        if last.is_some_and(|i| self.word(i) == word) {
            let (from, _) = self.spans.pop().expect("checked");
            self.text.truncate(from as usize);
            true
        } else {
            false
        }
    }

    /// The finished clause, recognition splits joined; `self` is emptied for the next.
    fn finish(&mut self, question: bool) -> Option<Clause> {
        if self.spans.is_empty() {
            return None;
        }
        let mut out =
            Pending { text: String::with_capacity(self.text.len()), spans: Vec::with_capacity(self.spans.len()) };
        let n = self.spans.len();
        let mut i = 0;
        while i < n {
            let word = self.word(i);
            let next = (i + 1 < n).then(|| self.word(i + 1));
            let repaired = REPAIRS.iter().find_map(|&(a, b, joined)| {
                if word != a {
                    return None;
                }
                if b.is_empty() {
                    return Some((joined, 1));
                }
                (next == Some(b)).then_some((joined, 2))
            });
            let after_determiner =
                out.spans.len().checked_sub(1).is_some_and(|k| matches!(out.word(k), "a" | "your" | "the" | "my"));
            match repaired {
                // "manage her" is only a split "manager" after a determiner ("a", "your", "the").
                Some(("manager", _)) if !after_determiner => {
                    out.push(word);
                    i += 1;
                }
                Some((joined, step)) => {
                    out.push(joined);
                    i += step;
                }
                None => {
                    out.push(word);
                    i += 1;
                }
            }
        }
        self.text.clear();
        self.spans.clear();
        Some(Clause { text: out.text, spans: out.spans, question })
    }
}

/// Splits a turn's text into clauses.
pub fn clauses(text: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut pending = Pending::default();
    let mut word = String::new();
    // Returns whether the word was a filler, so the punctuation after it is ignored too.
    let flush_word = |word: &mut String, pending: &mut Pending| -> bool {
        let w = word.trim_matches(|c: char| c == '\'' || c == '-');
        let filler = FILLERS.contains(&w);
        // A restart ("I- I think") is said again in full next.
        let restart = word.ends_with('-');
        if !w.is_empty() && !filler && !restart {
            pending.push(w);
        }
        word.clear();
        filler
    };
    for c in text.chars() {
        match c {
            '.' | ',' | ';' | '!' | '?' | ':' | '(' | ')' | '"' => {
                // Decimal points and thousands separators stay inside numbers.
                if matches!(c, '.' | ',') && word.as_bytes().last().is_some_and(u8::is_ascii_digit) {
                    word.push(c);
                    continue;
                }
                if flush_word(&mut word, &mut pending) && c == ',' {
                    continue;
                }
                out.extend(pending.finish(c == '?'));
            }
            '\u{2019}' | '\u{2018}' => word.push('\''),
            c if c.is_whitespace() => {
                let _ = flush_word(&mut word, &mut pending);
                if pending.pop_if("but") {
                    out.extend(pending.finish(false));
                }
            }
            c if c.is_ascii() => word.push(c.to_ascii_lowercase()),
            c => word.extend(c.to_lowercase()),
        }
    }
    let _ = flush_word(&mut word, &mut pending);
    out.extend(pending.finish(false));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Vec<String>> {
        clauses(text).into_iter().map(|c| c.words().map(str::to_owned).collect()).collect()
    }

    #[test]
    fn clauses_split_at_punctuation_and_but_and_keep_numbers_whole() {
        assert_eq!(
            words("Okay, but I'm still not happy. It was $12.50!"),
            [vec!["okay"], vec!["i'm", "still", "not", "happy"], vec!["it", "was", "$12.50"]]
        );
        assert!(clauses("Can I talk to your manager?")[0].question);
        assert_eq!(words("I don\u{2019}t know"), [vec!["i", "don't", "know"]]);
        assert_eq!(
            words("I'd like to speak uh, with a- a supervisor"),
            [vec!["i'd", "like", "to", "speak", "with", "a", "supervisor"]]
        );
        assert_eq!(words("Um, no"), [vec!["no"]]);
    }

    #[test]
    fn negation_reaches_a_few_words_back_within_the_clause() {
        let manager = Phrases::new(&["manager"]);
        let c = &clauses("I don't even need a manager")[0];
        let at = c.find("manager").expect("present");
        assert!(c.negated_at(at));
        assert_eq!(c.affirms(&manager), None);
        assert!(c.denies(&manager) && c.mentions(&manager));
        // A negator in an earlier clause does not reach.
        let cs = clauses("No. Get me a manager");
        assert_eq!(cs[1].affirms(&manager), Some(3));
        // Every occurrence counts: the second, affirmed one is found.
        let c = &clauses("not a manager thing i want a manager now I said")[0];
        assert_eq!(c.affirms(&manager), None, "both within reach of 'not'");
        let c = &clauses("no refund for this one item ever again so now get a manager")[0];
        assert_eq!(c.affirms(&manager), Some(12));
        assert_eq!(clauses("put your supervisor on")[0].find("put * supervisor"), Some(0));
        assert_eq!(clauses("someone higher it up")[0].find("someone higher up"), Some(0), "one inserted word");
        let c = &clauses("if this isn't fixed today i'm a my account and taking my business")[0];
        assert!(!c.negated_at(c.find("taking my business").unwrap()), "the condition's negation ends at 'i'm'");
        let c = &clauses("if it's not sorted i'd like your manager")[0];
        assert!(!c.negated_at(c.find("manager").unwrap()), "the request after the condition stands");
        let c = &clauses("i don't think i need a manager")[0];
        assert!(c.negated_at(c.find("manager").unwrap()), "outside a condition, negation reaches past a subject");
        assert_eq!(clauses("someone higher it the up")[0].find("someone higher up"), None, "two are too many");
        assert_eq!(clauses("someone higher very up")[0].find("someone higher up"), None, "only short noise words");
    }

    #[test]
    fn recognition_splits_are_joined() {
        assert_eq!(words("get me a super visor"), [vec!["get", "me", "a", "supervisor"]]);
        assert_eq!(words("talk to your manage her now"), [vec!["talk", "to", "your", "manager", "now"]]);
        assert_eq!(words("I manage her schedule"), [vec!["i", "manage", "her", "schedule"]]);
    }
}
