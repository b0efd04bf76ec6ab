//! Events as the matcher sees them: the leaves of the paths some pattern uses, each with the
//! trail of array elements it sits in.

use std::collections::{HashMap, HashSet};

use crate::json::{self, Json};
use crate::number::Number;

/// Why an event cannot be matched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not JSON.
    #[error("event is not valid JSON: {0}")]
    Json(String),
    /// JSON, but not an object.
    #[error("event must be a JSON object")]
    NotObject,
}

/// A leaf value of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum LeafValue<'a> {
    /// A string.
    Str(&'a str),
    /// A number.
    Num(Number, &'a str),
    /// A boolean.
    Bool(bool),
    /// `null`.
    Null,
}

/// One leaf: which used path, its value, and its array trail.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf<'a> {
    /// Index of the path among the used paths.
    pub path: usize,
    /// The value.
    pub value: LeafValue<'a>,
    /// `(array id, element index)` of every array enclosing the leaf, outermost first.
    pub trail: Vec<(u32, u32)>,
}

impl Leaf<'_> {
    /// Whether two leaves can belong to one match: in every array both sit in, they sit in the
    /// same element.
    pub fn consistent_with(&self, other: &Leaf<'_>) -> bool {
        self.trail.iter().all(|(array, index)| other.trail.iter().all(|(a, i)| a != array || i == index))
    }
}

/// The paths patterns use, for flattening only what matters.
#[derive(Debug, Clone, Default)]
pub struct PathSet {
    index: HashMap<String, usize>,
    /// Every dot-boundary prefix of a used path, the path itself included.
    prefixes: HashSet<String>,
}

impl PathSet {
    /// Registers a path; returns its index.
    pub fn add(&mut self, path: &str) -> usize {
        if let Some(&i) = self.index.get(path) {
            return i;
        }
        let i = self.index.len();
        self.index.insert(path.to_string(), i);
        for (at, _) in path.match_indices('.') {
            self.prefixes.insert(path[..at].to_string());
        }
        self.prefixes.insert(path.to_string());
        i
    }

    /// The index of a path, if used.
    pub fn get(&self, path: &str) -> Option<usize> {
        self.index.get(path).copied()
    }

    /// Number of paths.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// No paths.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// Parses an event and collects the leaves of used paths.
///
/// # Errors
///
/// Malformed JSON, or JSON that is not an object.
pub fn parse_event(bytes: &[u8]) -> Result<Json, EventError> {
    let json = json::parse(bytes).map_err(|e| EventError::Json(e.to_string()))?;
    if !matches!(json, Json::Obj(_)) {
        return Err(EventError::NotObject);
    }
    Ok(json)
}

/// The leaves of `event` on `paths`.
pub fn flatten<'a>(event: &'a Json, paths: &PathSet) -> Vec<Leaf<'a>> {
    let mut out = Vec::new();
    let mut walker = Walker { paths, out: &mut out, trail: Vec::new(), next_array: 0 };
    if let Json::Obj(members) = event {
        for (k, v) in members {
            walker.visit(k.clone(), v);
        }
    }
    out
}

struct Walker<'p, 'a, 'o> {
    paths: &'p PathSet,
    out: &'o mut Vec<Leaf<'a>>,
    trail: Vec<(u32, u32)>,
    next_array: u32,
}

impl<'a> Walker<'_, 'a, '_> {
    fn visit(&mut self, path: String, value: &'a Json) {
        if !self.paths.prefixes.contains(&path) {
            return;
        }
        match value {
            Json::Obj(members) => {
                for (k, v) in members {
                    self.visit(format!("{path}.{k}"), v);
                }
            }
            Json::Arr(items) => {
                let id = self.next_array;
                self.next_array += 1;
                for (i, item) in items.iter().enumerate() {
                    self.trail.push((id, i as u32));
                    self.visit(path.clone(), item);
                    self.trail.pop();
                }
            }
            leaf => {
                if let Some(index) = self.paths.get(&path) {
                    let value = match leaf {
                        Json::Str(s) => LeafValue::Str(s),
                        Json::Num(t) => LeafValue::Num(Number::parse(t), t),
                        Json::Bool(b) => LeafValue::Bool(*b),
                        _ => LeafValue::Null,
                    };
                    self.out.push(Leaf { path: index, value, trail: self.trail.clone() });
                }
            }
        }
    }
}
