//! Many named patterns compiled together, matched against raw event bytes.

use crate::event::{self, EventError, Leaf, LeafValue, PathSet};
use crate::pattern::{AnythingBut, Condition, Literal, Pattern, PatternError};

impl Condition {
    /// Whether one leaf value passes this condition (`exists` is decided per field, not here).
    pub fn accepts(&self, value: &LeafValue<'_>) -> bool {
        let lower = |s: &str| s.to_lowercase();
        match (self, value) {
            (Condition::Exact(Literal::Str(p)), LeafValue::Str(s)) => p == s,
            (Condition::Exact(Literal::Num(p, _)), LeafValue::Num(n, _)) => p.key == n.key,
            (Condition::Exact(Literal::Bool(p)), LeafValue::Bool(b)) => p == b,
            (Condition::Exact(Literal::Null), LeafValue::Null) => true,
            (Condition::Exact(_), _) => false,
            (Condition::Prefix(p, false), LeafValue::Str(s)) => s.starts_with(p.as_str()),
            (Condition::Prefix(p, true), LeafValue::Str(s)) => lower(s).starts_with(&lower(p)),
            (Condition::Suffix(p, false), LeafValue::Str(s)) => s.ends_with(p.as_str()),
            (Condition::Suffix(p, true), LeafValue::Str(s)) => lower(s).ends_with(&lower(p)),
            (Condition::EqualsIgnoreCase(p), LeafValue::Str(s)) => lower(s) == lower(p),
            (Condition::Wildcard(g), LeafValue::Str(s)) => g.matches(s),
            (Condition::Numeric(lo, hi), LeafValue::Num(n, _)) => {
                let v = n.value;
                n.is_comparable()
                    && lo.is_none_or(|b| if b.inclusive { v >= b.value } else { v > b.value })
                    && hi.is_none_or(|b| if b.inclusive { v <= b.value } else { v < b.value })
            }
            (Condition::Cidr(net, _), LeafValue::Str(s)) => net.contains(s),
            (Condition::Exists(present), _) => *present,
            (Condition::AnythingBut(a), v) => match (a, v) {
                (AnythingBut::Strings(list), LeafValue::Str(s)) => !list.iter().any(|x| x == s),
                (AnythingBut::Numbers(list), LeafValue::Num(n, _)) => !list.iter().any(|x| x.key == n.key),
                (AnythingBut::Prefixes(list), LeafValue::Str(s)) => !list.iter().any(|x| s.starts_with(x.as_str())),
                (AnythingBut::Suffixes(list), LeafValue::Str(s)) => !list.iter().any(|x| s.ends_with(x.as_str())),
                (AnythingBut::Wildcards(list), LeafValue::Str(s)) => !list.iter().any(|g| g.matches(s)),
                (AnythingBut::IgnoreCase(list), LeafValue::Str(s)) => !list.iter().any(|x| lower(x) == lower(s)),
                // A value of another type is never among the excluded ones.
                _ => true,
            },
            _ => false,
        }
    }
}

/// How one field of a branch fares against an event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldOutcome {
    /// Satisfied by these leaves (indices into the event's leaves).
    Leaves(Vec<usize>),
    /// Satisfied because the field is absent (`exists: false`).
    Absent,
    /// Not satisfied: the field is missing.
    Missing,
    /// Not satisfied: the field is present but no value passes.
    Rejected(Vec<usize>),
    /// Not satisfied: the field is present but the pattern wants it absent.
    Present(Vec<usize>),
}

pub(crate) fn field_outcome(conditions: &[Condition], path: usize, leaves: &[Leaf<'_>]) -> FieldOutcome {
    let at: Vec<usize> = (0..leaves.len()).filter(|&i| leaves[i].path == path).collect();
    let wants_absent = conditions.contains(&Condition::Exists(false));
    if at.is_empty() {
        return if wants_absent { FieldOutcome::Absent } else { FieldOutcome::Missing };
    }
    let passing: Vec<usize> = at
        .iter()
        .copied()
        .filter(|&i| conditions.iter().any(|c| *c != Condition::Exists(false) && c.accepts(&leaves[i].value)))
        .collect();
    if !passing.is_empty() {
        FieldOutcome::Leaves(passing)
    } else if wants_absent && conditions.iter().all(|c| *c == Condition::Exists(false)) {
        FieldOutcome::Present(at)
    } else {
        FieldOutcome::Rejected(at)
    }
}

/// Whether one leaf can be chosen per candidate list with all choices array-consistent.
pub(crate) fn consistent(candidates: &mut [Vec<usize>], leaves: &[Leaf<'_>]) -> bool {
    candidates.sort_by_key(Vec::len);
    let mut chosen = Vec::with_capacity(candidates.len());
    fn search(i: usize, candidates: &[Vec<usize>], leaves: &[Leaf<'_>], chosen: &mut Vec<usize>) -> bool {
        if i == candidates.len() {
            return true;
        }
        for &leaf in &candidates[i] {
            if chosen.iter().all(|&c| leaves[c].consistent_with(&leaves[leaf])) {
                chosen.push(leaf);
                if search(i + 1, candidates, leaves, chosen) {
                    return true;
                }
                chosen.pop();
            }
        }
        false
    }
    search(0, candidates, leaves, &mut chosen)
}

/// A compiled branch: path indices resolved.
#[derive(Debug, Clone)]
struct Branch {
    fields: Vec<(usize, Vec<Condition>)>,
}

/// Named patterns compiled into one matcher.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    names: Vec<String>,
    branches: Vec<(usize, Branch)>,
    paths: PathSet,
}

impl Matcher {
    /// An empty matcher.
    pub fn new() -> Matcher {
        Matcher::default()
    }

    /// Adds a pattern under `name` (names may repeat: a name matches if any of its patterns do).
    ///
    /// # Errors
    ///
    /// The pattern's validation error.
    pub fn add(&mut self, name: &str, pattern_text: &str) -> Result<(), PatternError> {
        let pattern = Pattern::parse(pattern_text)?;
        self.add_parsed(name, &pattern);
        Ok(())
    }

    /// Adds an already parsed pattern.
    pub fn add_parsed(&mut self, name: &str, pattern: &Pattern) {
        let id = match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        };
        for branch in &pattern.branches {
            let fields = branch.iter().map(|f| (self.paths.add(&f.path), f.conditions.clone())).collect();
            self.branches.push((id, Branch { fields }));
        }
    }

    /// Number of distinct names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// No patterns.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The names of every pattern the event matches, in the order they were first added.
    ///
    /// # Errors
    ///
    /// The event is not a JSON object.
    pub fn matches(&self, event: &[u8]) -> Result<Vec<&str>, EventError> {
        let json = event::parse_event(event)?;
        let leaves = event::flatten(&json, &self.paths);
        let mut hit = vec![false; self.names.len()];
        for (id, branch) in &self.branches {
            if hit[*id] {
                continue;
            }
            if branch_matches(&branch.fields, &leaves) {
                hit[*id] = true;
            }
        }
        Ok(self.names.iter().zip(hit).filter(|(_, h)| *h).map(|(n, _)| n.as_str()).collect())
    }
}

fn branch_matches(fields: &[(usize, Vec<Condition>)], leaves: &[Leaf<'_>]) -> bool {
    let mut candidates = Vec::new();
    for (path, conditions) in fields {
        match field_outcome(conditions, *path, leaves) {
            FieldOutcome::Leaves(l) => candidates.push(l),
            FieldOutcome::Absent => {}
            _ => return false,
        }
    }
    candidates.len() < 2 || consistent(&mut candidates, leaves)
}

/// Whether `event` matches `pattern_text`: `TestEventPattern` in one call.
///
/// # Errors
///
/// An invalid pattern, or an event that is not a JSON object.
pub fn test(pattern_text: &str, event: &[u8]) -> Result<bool, TestError> {
    let mut m = Matcher::new();
    m.add("pattern", pattern_text)?;
    Ok(!m.matches(event)?.is_empty())
}

/// Either input of [`test`] was bad.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestError {
    /// The pattern.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// The event.
    #[error(transparent)]
    Event(#[from] EventError),
}
