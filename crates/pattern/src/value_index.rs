//! Per-path indexes of the conditions patterns place on one field, so a value finds every
//! condition it satisfies with a few hash lookups, whatever the number of patterns.
//!
//! Exact strings, numbers and case-folded strings are hash keys; prefixes and suffixes are hash
//! keys grouped by length (a value probes one key per distinct length); booleans, `null` and
//! `exists: true` are lists. Only wildcards, numeric ranges, `cidr` and `anything-but` are
//! tested one by one — they are few per field in practice (EventBridge caps wildcard rules).

use rustc_hash::FxHashMap;

use crate::number::{Number, NumberKey};
use crate::pattern::{AnythingBut, Condition, Literal};
use crate::scan::Kind;

/// Which field condition (a slot of one `$or` branch) a value satisfies.
pub(crate) type SlotId = u32;

/// A hash key of bytes, stored in the table itself when short (most values are), so a probe
/// touches one cache line instead of chasing a pointer.
#[derive(Debug, Clone)]
enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

const INLINE: usize = 22;

impl Key {
    fn new(bytes: &[u8]) -> Key {
        if bytes.len() <= INLINE {
            let mut inline = [0u8; INLINE];
            inline[..bytes.len()].copy_from_slice(bytes);
            Key::Inline { len: bytes.len() as u8, bytes: inline }
        } else {
            Key::Heap(bytes.into())
        }
    }
}

impl std::borrow::Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Heap(b) => b,
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        std::borrow::Borrow::<[u8]>::borrow(self) == std::borrow::Borrow::<[u8]>::borrow(other)
    }
}

impl Eq for Key {}

impl std::hash::Hash for Key {
    // Must hash as the `[u8]` it borrows as.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::borrow::Borrow::<[u8]>::borrow(self).hash(state);
    }
}

/// The slots under one key: usually one, kept in line.
#[derive(Debug, Clone)]
enum Slots {
    One(SlotId),
    Many(Vec<SlotId>),
}

impl Slots {
    fn push(&mut self, slot: SlotId) {
        match self {
            Slots::One(first) => *self = Slots::Many(vec![*first, slot]),
            Slots::Many(all) => all.push(slot),
        }
    }

    #[inline]
    fn as_slice(&self) -> &[SlotId] {
        match self {
            Slots::One(one) => std::slice::from_ref(one),
            Slots::Many(all) => all,
        }
    }
}

/// A byte-keyed map of slots.
type KeyMap = FxHashMap<Key, Slots>;

fn add_to(map: &mut KeyMap, key: &[u8], slot: SlotId) {
    match map.get_mut(key) {
        Some(slots) => slots.push(slot),
        None => {
            map.insert(Key::new(key), Slots::One(slot));
        }
    }
}

/// Keys grouped by byte length, for prefix and suffix probes.
#[derive(Debug, Clone, Default)]
struct LengthKeyed {
    lengths: Vec<usize>,
    keys: KeyMap,
}

impl LengthKeyed {
    fn insert(&mut self, key: &[u8], slot: SlotId) {
        if let Err(at) = self.lengths.binary_search(&key.len()) {
            self.lengths.insert(at, key.len());
        }
        add_to(&mut self.keys, key, slot);
    }

    #[inline]
    fn prefixes_of(&self, value: &[u8], hit: &mut impl FnMut(SlotId)) {
        for &len in &self.lengths {
            if len > value.len() {
                break;
            }
            if let Some(slots) = self.keys.get(&value[..len]) {
                slots.as_slice().iter().copied().for_each(&mut *hit);
            }
        }
    }

    #[inline]
    fn suffixes_of(&self, value: &[u8], hit: &mut impl FnMut(SlotId)) {
        for &len in &self.lengths {
            if len > value.len() {
                break;
            }
            if let Some(slots) = self.keys.get(&value[value.len() - len..]) {
                slots.as_slice().iter().copied().for_each(&mut *hit);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }
}

/// Exact byte keys: a short list compared in line while small (no hashing for the common
/// field with a handful of values), a hash map beyond that.
#[derive(Debug, Clone, Default)]
struct ExactKeys {
    few: Vec<(Box<[u8]>, Slots)>,
    many: KeyMap,
}

/// Above this many keys, [`ExactKeys`] hashes.
const FEW_KEYS: usize = 8;

impl ExactKeys {
    fn insert(&mut self, key: &[u8], slot: SlotId) {
        if !self.many.is_empty() {
            add_to(&mut self.many, key, slot);
        } else if let Some((_, slots)) = self.few.iter_mut().find(|(k, _)| **k == *key) {
            slots.push(slot);
        } else if self.few.len() < FEW_KEYS {
            self.few.push((key.into(), Slots::One(slot)));
        } else {
            self.many.extend(self.few.drain(..).map(|(k, v)| (Key::new(&k), v)));
            add_to(&mut self.many, key, slot);
        }
    }

    #[inline]
    fn get(&self, key: &[u8]) -> Option<&[SlotId]> {
        if self.many.is_empty() {
            self.few
                .iter()
                .find(|(k, _)| k.len() == key.len() && k.iter().zip(key).all(|(a, b)| a == b))
                .map(|(_, slots)| slots.as_slice())
        } else {
            self.many.get(key).map(Slots::as_slice)
        }
    }
}

/// Every condition on one path.
#[derive(Debug, Clone, Default)]
pub(crate) struct ValueIndex {
    strings: ExactKeys,
    numbers: FxHashMap<NumberKey, Vec<SlotId>>,
    trues: Vec<SlotId>,
    falses: Vec<SlotId>,
    nulls: Vec<SlotId>,
    prefixes: LengthKeyed,
    suffixes: LengthKeyed,
    folded: KeyMap,
    folded_prefixes: LengthKeyed,
    folded_suffixes: LengthKeyed,
    /// `exists: true`: any value.
    any: Vec<SlotId>,
    /// Tested one by one.
    scanned: Vec<(Condition, SlotId)>,
    /// Number of conditions, for sizing reports.
    pub(crate) conditions: usize,
}

/// Unicode lower case, as EventBridge folds for `equals-ignore-case`.
fn fold(text: &str) -> String {
    text.to_lowercase()
}

impl ValueIndex {
    /// Files `condition` under `slot`. `exists: false` is not a value test and never reaches here.
    pub(crate) fn insert(&mut self, condition: &Condition, slot: SlotId) {
        self.conditions += 1;
        match condition {
            Condition::Exact(Literal::Str(s)) => self.strings.insert(s.as_bytes(), slot),
            Condition::Exact(Literal::Num(n, _)) => self.numbers.entry(n.key.clone()).or_default().push(slot),
            Condition::Exact(Literal::Bool(true)) => self.trues.push(slot),
            Condition::Exact(Literal::Bool(false)) => self.falses.push(slot),
            Condition::Exact(Literal::Null) => self.nulls.push(slot),
            Condition::Prefix(p, false) => self.prefixes.insert(p.as_bytes(), slot),
            Condition::Suffix(p, false) => self.suffixes.insert(p.as_bytes(), slot),
            Condition::Prefix(p, true) => self.folded_prefixes.insert(fold(p).as_bytes(), slot),
            Condition::Suffix(p, true) => self.folded_suffixes.insert(fold(p).as_bytes(), slot),
            Condition::EqualsIgnoreCase(p) => add_to(&mut self.folded, fold(p).as_bytes(), slot),
            Condition::Exists(true) => self.any.push(slot),
            Condition::Exists(false) => unreachable!("exists:false is decided by absence"),
            other => self.scanned.push((other.clone(), slot)),
        }
    }

    fn needs_fold(&self) -> bool {
        !self.folded.is_empty() || !self.folded_prefixes.is_empty() || !self.folded_suffixes.is_empty()
    }

    /// Calls `hit` for every slot one value satisfies (a slot may come more than once).
    /// `value` is the string's UTF-8 or the number's text; `folded` is a reusable buffer for
    /// the value's lower case.
    #[inline]
    pub(crate) fn lookup(&self, kind: Kind, value: &[u8], folded: &mut String, mut hit: impl FnMut(SlotId)) {
        // The reader checked strings' UTF-8 and numbers are ASCII; the `&str` view is only
        // needed by the conditions that work on characters.
        let text = || std::str::from_utf8(value).unwrap_or_default();
        let mut number: Option<Number> = None;
        match kind {
            Kind::Str | Kind::Decoded => {
                if let Some(slots) = self.strings.get(value) {
                    slots.iter().copied().for_each(&mut hit);
                }
                self.prefixes.prefixes_of(value, &mut hit);
                self.suffixes.suffixes_of(value, &mut hit);
                if self.needs_fold() {
                    folded.clear();
                    if value.is_ascii() {
                        folded.extend(value.iter().map(|b| char::from(b.to_ascii_lowercase())));
                    } else {
                        folded.push_str(&fold(text()));
                    }
                    let bytes = folded.as_bytes();
                    if let Some(slots) = self.folded.get(bytes) {
                        slots.as_slice().iter().copied().for_each(&mut hit);
                    }
                    self.folded_prefixes.prefixes_of(bytes, &mut hit);
                    self.folded_suffixes.suffixes_of(bytes, &mut hit);
                }
            }
            Kind::Num => {
                if !self.numbers.is_empty() {
                    let n = Number::parse(text());
                    if let Some(slots) = self.numbers.get(&n.key) {
                        slots.iter().copied().for_each(&mut hit);
                    }
                    number = Some(n);
                }
            }
            Kind::True => self.trues.iter().copied().for_each(&mut hit),
            Kind::False => self.falses.iter().copied().for_each(&mut hit),
            Kind::Null => self.nulls.iter().copied().for_each(&mut hit),
        }
        self.any.iter().copied().for_each(&mut hit);
        if !self.scanned.is_empty() {
            let text = text();
            for (condition, slot) in &self.scanned {
                if scanned_accepts(condition, kind, text, &mut number) {
                    hit(*slot);
                }
            }
        }
    }
}

/// The one-by-one conditions. Numbers are parsed only as far as a condition needs: a range
/// needs the double, `anything-but` a list of numbers needs the exact key.
#[inline]
fn scanned_accepts(condition: &Condition, kind: Kind, text: &str, number: &mut Option<Number>) -> bool {
    let is_string = matches!(kind, Kind::Str | Kind::Decoded);
    match condition {
        Condition::Numeric(lo, hi) => {
            if kind != Kind::Num {
                return false;
            }
            let v: f64 = match number {
                Some(n) => n.value,
                None => text.parse().unwrap_or(f64::NAN),
            };
            v.is_finite()
                && lo.is_none_or(|b| if b.inclusive { v >= b.value } else { v > b.value })
                && hi.is_none_or(|b| if b.inclusive { v <= b.value } else { v < b.value })
        }
        Condition::Wildcard(g) => is_string && g.matches(text),
        Condition::Cidr(net, _) => is_string && net.contains(text),
        Condition::AnythingBut(AnythingBut::Numbers(list)) => {
            if kind != Kind::Num {
                return true;
            }
            let n = number.get_or_insert_with(|| Number::parse(text));
            !list.iter().any(|x| x.key == n.key)
        }
        Condition::AnythingBut(a) => {
            if !is_string {
                // A value of another type is never among the excluded strings.
                return true;
            }
            match a {
                AnythingBut::Strings(list) => !list.iter().any(|x| x == text),
                AnythingBut::Prefixes(list) => !list.iter().any(|x| text.starts_with(x.as_str())),
                AnythingBut::Suffixes(list) => !list.iter().any(|x| text.ends_with(x.as_str())),
                AnythingBut::Wildcards(list) => !list.iter().any(|g| g.matches(text)),
                AnythingBut::IgnoreCase(list) => {
                    let value = fold(text);
                    !list.iter().any(|x| fold(x) == value)
                }
                AnythingBut::Numbers(_) => unreachable!("handled above"),
            }
        }
        other => unreachable!("{other:?} is indexed, not scanned"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(index: &ValueIndex, kind: Kind, value: &str) -> Vec<SlotId> {
        let mut out = Vec::new();
        index.lookup(kind, value.as_bytes(), &mut String::new(), |s| out.push(s));
        out.sort_unstable();
        out
    }

    /// Past the in-line list, short and long keys, and keys shared by several slots, all find
    /// exactly their slots.
    #[test]
    fn exact_keys_find_their_slots_at_every_size() {
        let long = |i: u32| format!("a value longer than twenty-two bytes, number {i}");
        let mut index = ValueIndex::default();
        for i in 0..100u32 {
            index.insert(&Condition::Exact(Literal::Str(format!("v{i}"))), i);
            index.insert(&Condition::Exact(Literal::Str(long(i))), 1000 + i);
        }
        index.insert(&Condition::Exact(Literal::Str("v7".into())), 5000);
        index.insert(&Condition::Prefix("v".into(), false), 6000);
        index.insert(&Condition::Prefix("v".into(), false), 6001);
        index.insert(&Condition::Suffix("9".into(), false), 7000);
        index.insert(&Condition::EqualsIgnoreCase("V42".into()), 8000);
        assert_eq!(hits(&index, Kind::Str, "v7"), [7, 5000, 6000, 6001]);
        assert_eq!(hits(&index, Kind::Str, "v99"), [99, 6000, 6001, 7000]);
        assert_eq!(hits(&index, Kind::Str, "v42"), [42, 6000, 6001, 8000]);
        assert_eq!(hits(&index, Kind::Str, &long(63)), [1063]);
        assert_eq!(hits(&index, Kind::Str, "w"), Vec::<SlotId>::new());
        assert_eq!(hits(&index, Kind::Num, "7"), Vec::<SlotId>::new());
    }
}
