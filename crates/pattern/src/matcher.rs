//! Many named patterns compiled together, matched against raw event bytes.

use rustc_hash::FxHashMap;

use crate::event::{EventError, Leaf, LeafValue};
use crate::pattern::{AnythingBut, Condition, Literal, Pattern, PatternError};
use crate::scan::{self, PathTrie, Scan};
use crate::value_index::{SlotId, ValueIndex};

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

/// One field of one `$or` branch: a value on `path` must pass one of its conditions — or, with
/// `absent_ok` (`exists: false` among them), the path may be missing altogether.
#[derive(Debug, Clone)]
struct Slot {
    branch: u32,
    path: u32,
    absent_ok: bool,
}

/// One `$or` branch of one pattern.
#[derive(Debug, Clone)]
struct Branch {
    pattern: u32,
    /// Slots that some value must satisfy.
    required: u32,
    slots: Vec<SlotId>,
}

/// Named patterns compiled into one matcher.
///
/// Compilation interns every path into a trie the event reader walks, and files every condition
/// in the `ValueIndex` of its path. Matching reads the event once, looks each used value up in
/// its path's index, and counts satisfied slots per branch; only branches whose count completes
/// are checked further (absent fields, array consistency). The work per event depends on the
/// event's used values and the matches, not on how many patterns there are.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    names: Vec<String>,
    name_ids: FxHashMap<String, u32>,
    paths: PathTrie,
    indexes: Vec<ValueIndex>,
    slots: Vec<Slot>,
    branches: Vec<Branch>,
    /// Branches with no required slot (only `exists: false` fields, or none): checked on every event.
    unconditional: Vec<u32>,
}

/// Reusable per-event state for [`Matcher::matches_with`]; one per thread.
///
/// Stamps instead of clearing: a slot or branch entry is current only when its stamp equals the
/// event's generation, so starting an event costs nothing however many patterns there are.
#[derive(Debug, Default)]
pub struct Scratch {
    scan: Scan,
    generation: u32,
    slot_stamp: Vec<u32>,
    branch_stamp: Vec<u32>,
    branch_count: Vec<u32>,
    path_stamp: Vec<u32>,
    pattern_stamp: Vec<u32>,
    hits: Vec<(SlotId, u32)>,
    ready: Vec<u32>,
    matched: Vec<u32>,
    folded: String,
    choices: Vec<Vec<u32>>,
    /// The satisfied slots of the branch being checked for consistency.
    hit_slots: Vec<SlotId>,
    /// The leaves picked so far while backtracking.
    chosen: Vec<u32>,
}

impl Scratch {
    /// Empty buffers; they grow to the matcher on first use.
    pub fn new() -> Scratch {
        Scratch::default()
    }

    fn begin(&mut self, m: &Matcher) {
        let grow = |v: &mut Vec<u32>, n: usize| {
            if v.len() < n {
                v.resize(n, 0);
            }
        };
        grow(&mut self.slot_stamp, m.slots.len());
        grow(&mut self.branch_stamp, m.branches.len());
        grow(&mut self.branch_count, m.branches.len());
        grow(&mut self.path_stamp, m.paths.len());
        grow(&mut self.pattern_stamp, m.names.len());
        if self.generation == u32::MAX {
            for v in [&mut self.slot_stamp, &mut self.branch_stamp, &mut self.path_stamp, &mut self.pattern_stamp] {
                v.fill(0);
            }
            self.generation = 0;
        }
        self.generation += 1;
        self.hits.clear();
        self.ready.clear();
        self.matched.clear();
    }
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
        let pattern_id = match self.name_ids.get(name) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(self.names.len()).expect("fewer than 2^32 patterns");
                self.names.push(name.to_string());
                self.name_ids.insert(name.to_string(), id);
                id
            }
        };
        for fields in &pattern.branches {
            let branch_id = u32::try_from(self.branches.len()).expect("fewer than 2^32 branches");
            let mut branch = Branch { pattern: pattern_id, required: 0, slots: Vec::with_capacity(fields.len()) };
            for field in fields {
                let path = self.paths.add(&field.path);
                if path as usize == self.indexes.len() {
                    self.indexes.push(ValueIndex::default());
                }
                let slot_id = u32::try_from(self.slots.len()).expect("fewer than 2^32 slots");
                let absent_ok = field.conditions.contains(&Condition::Exists(false));
                for condition in field.conditions.iter().filter(|c| **c != Condition::Exists(false)) {
                    self.indexes[path as usize].insert(condition, slot_id);
                }
                self.slots.push(Slot { branch: branch_id, path, absent_ok });
                branch.required += u32::from(!absent_ok);
                branch.slots.push(slot_id);
            }
            if branch.required == 0 {
                self.unconditional.push(branch_id);
            }
            self.branches.push(branch);
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

    /// The name of pattern `id` (as returned by [`Matcher::matches_with`]).
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// Conditions compiled, over all paths (a size measure for reports).
    pub fn condition_count(&self) -> usize {
        self.indexes.iter().map(|i| i.conditions).sum()
    }

    /// The names of every pattern the event matches, in the order they were first added.
    ///
    /// Allocates per call; hot loops use [`Matcher::matches_with`].
    ///
    /// # Errors
    ///
    /// The event is not valid JSON, or not an object.
    pub fn matches(&self, event: &[u8]) -> Result<Vec<&str>, EventError> {
        let mut scratch = Scratch::new();
        let ids = self.matches_with(event, &mut scratch)?;
        Ok(ids.iter().map(|&id| self.name(id)).collect())
    }

    /// The ids of every pattern the event matches, ascending (ids follow the order names were
    /// first added). Allocation-free once `scratch` has warmed up.
    ///
    /// # Errors
    ///
    /// The event is not valid JSON, or not an object.
    pub fn matches_with<'s>(&self, event: &[u8], scratch: &'s mut Scratch) -> Result<&'s [u32], EventError> {
        scratch.begin(self);
        scan::scan(&self.paths, event, &mut scratch.scan)?;
        Ok(self.decide(event, scratch))
    }

    /// [`Matcher::matches_with`] for an event its caller built: valid JSON whose top-level keys
    /// are unique and contain no dots, such as the envelope a bus writes around a validated
    /// `detail`. Reading stops once every top-level field the patterns name has been read, so
    /// a large field no pattern names (a transcript in `detail`, when the rules look only at
    /// `source` and `detail-type`) is not read at all. On any other event the answer may be
    /// wrong.
    ///
    /// # Errors
    ///
    /// The part of the event that was read is not valid JSON.
    pub fn matches_trusted_with<'s>(&self, event: &[u8], scratch: &'s mut Scratch) -> Result<&'s [u32], EventError> {
        scratch.begin(self);
        scan::scan_trusted(&self.paths, event, &mut scratch.scan)?;
        Ok(self.decide(event, scratch))
    }

    /// The patterns the scanned leaves satisfy.
    fn decide<'s>(&self, event: &[u8], scratch: &'s mut Scratch) -> &'s [u32] {
        let generation = scratch.generation;
        let Scratch { scan, slot_stamp, branch_stamp, branch_count, path_stamp, hits, ready, folded, .. } =
            &mut *scratch;
        for (leaf_id, leaf) in scan.leaves.iter().enumerate() {
            path_stamp[leaf.path as usize] = generation;
            let value = scan.bytes(event, leaf);
            self.indexes[leaf.path as usize].lookup(leaf.kind, value, folded, |slot_id| {
                hits.push((slot_id, leaf_id as u32));
                let stamp = &mut slot_stamp[slot_id as usize];
                if *stamp == generation {
                    return;
                }
                *stamp = generation;
                let slot = &self.slots[slot_id as usize];
                if slot.absent_ok {
                    return;
                }
                let b = slot.branch as usize;
                if branch_stamp[b] != generation {
                    branch_stamp[b] = generation;
                    branch_count[b] = 0;
                }
                branch_count[b] += 1;
                if branch_count[b] == self.branches[b].required {
                    ready.push(slot.branch);
                }
            });
        }
        ready.extend_from_slice(&self.unconditional);
        for i in 0..scratch.ready.len() {
            let branch = &self.branches[scratch.ready[i] as usize];
            if scratch.pattern_stamp[branch.pattern as usize] == generation || !self.branch_holds(branch, scratch) {
                continue;
            }
            scratch.pattern_stamp[branch.pattern as usize] = generation;
            scratch.matched.push(branch.pattern);
        }
        scratch.matched.sort_unstable();
        &scratch.matched
    }

    /// A branch whose required slots are all satisfied: do its `exists: false` slots hold, and
    /// can one value per satisfied slot be chosen from consistent array elements?
    fn branch_holds(&self, branch: &Branch, scratch: &mut Scratch) -> bool {
        let generation = scratch.generation;
        let mut satisfied = 0;
        for &slot_id in &branch.slots {
            let slot = &self.slots[slot_id as usize];
            let hit = scratch.slot_stamp[slot_id as usize] == generation;
            let present = scratch.path_stamp[slot.path as usize] == generation;
            if slot.absent_ok && !hit && present {
                return false;
            }
            satisfied += usize::from(hit);
        }
        if satisfied < 2 || !scratch.scan.any_trail() {
            return true;
        }
        // Collect, per satisfied slot, the leaves that satisfy it.
        let Scratch { scan, hits, choices, slot_stamp, hit_slots: lists, chosen, .. } = scratch;
        lists.clear();
        lists.extend(branch.slots.iter().copied().filter(|&s| slot_stamp[s as usize] == generation));
        if choices.len() < lists.len() {
            choices.resize_with(lists.len(), Vec::new);
        }
        let choices = &mut choices[..lists.len()];
        choices.iter_mut().for_each(Vec::clear);
        for &(slot, leaf) in hits.iter() {
            if let Some(k) = lists.iter().position(|&s| s == slot) {
                choices[k].push(leaf);
            }
        }
        choices.sort_by_key(Vec::len);
        consistent_choice(choices, scan, chosen)
    }
}

/// Above this many combinations, [`consistent_choice`] groups by array element instead of
/// trying combinations.
const BACKTRACK_LIMIT: usize = 256;

/// Whether one leaf per list can be chosen with every pair array-consistent.
///
/// Few combinations: plain backtracking. Many (large arrays): grouping by array element, which
/// is linear in the leaves — trying combinations would be quadratic or worse on events with
/// thousands of elements that each satisfy only part of a branch.
fn consistent_choice(choices: &[Vec<u32>], scan: &Scan, chosen: &mut Vec<u32>) -> bool {
    let combinations =
        choices.iter().try_fold(1usize, |product, list| product.checked_mul(list.len())).unwrap_or(usize::MAX);
    if combinations <= BACKTRACK_LIMIT {
        chosen.clear();
        return pick_consistent(0, choices, scan, chosen);
    }
    let lists: Vec<&[u32]> = choices.iter().map(Vec::as_slice).collect();
    grouped_choice(&lists, 0, scan)
}

/// [`consistent_choice`] by structure. All leaves share their trails' first `depth` entries.
///
/// Two leaves conflict only in an array both sit in, at different elements; arrays entered at
/// the same depth from the same element are either the same array or unrelated. So: a list
/// with a leaf whose trail ends here is satisfied by it (it conflicts with nothing below).
/// Every other list must go into some array at this depth; lists placed in the same array must
/// agree on one element, inside which the problem repeats one level deeper. Lists are tried
/// against each array they reach (almost always exactly one).
fn grouped_choice(lists: &[&[u32]], depth: usize, scan: &Scan) -> bool {
    let open: Vec<&[u32]> = lists
        .iter()
        .copied()
        .filter(|list| !list.iter().any(|&leaf| scan.trail(&scan.leaves[leaf as usize]).len() == depth))
        .collect();
    if open.is_empty() {
        return true;
    }
    // Per open list: its leaves by (array, element) at this depth.
    let buckets: Vec<FxHashMap<(u32, u32), Vec<u32>>> = open
        .iter()
        .map(|list| {
            let mut by_element: FxHashMap<(u32, u32), Vec<u32>> = FxHashMap::default();
            for &leaf in *list {
                let step = scan.trail(&scan.leaves[leaf as usize])[depth];
                by_element.entry(step).or_default().push(leaf);
            }
            by_element
        })
        .collect();
    let arrays: Vec<Vec<u32>> = buckets
        .iter()
        .map(|b| {
            let mut ids: Vec<u32> = b.keys().map(|&(array, _)| array).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        })
        .collect();
    let mut placement = vec![0u32; open.len()];
    place(0, &arrays, &buckets, &mut placement, depth, scan)
}

/// Tries every placement of lists into arrays (list `i` into one of `arrays[i]`), then checks
/// each array's lists for a common element that works one level deeper.
fn place(
    i: usize,
    arrays: &[Vec<u32>],
    buckets: &[FxHashMap<(u32, u32), Vec<u32>>],
    placement: &mut [u32],
    depth: usize,
    scan: &Scan,
) -> bool {
    if i < arrays.len() {
        for &array in &arrays[i] {
            placement[i] = array;
            if place(i + 1, arrays, buckets, placement, depth, scan) {
                return true;
            }
        }
        return false;
    }
    let mut groups: Vec<u32> = placement.to_vec();
    groups.sort_unstable();
    groups.dedup();
    groups.iter().all(|&array| {
        let members: Vec<usize> = (0..placement.len()).filter(|&k| placement[k] == array).collect();
        // Elements the first member reaches in this array, in order; each must be reached by all.
        let mut elements: Vec<u32> =
            buckets[members[0]].keys().filter(|&&(a, _)| a == array).map(|&(_, e)| e).collect();
        elements.sort_unstable();
        elements.iter().any(|&element| {
            let sub: Option<Vec<&[u32]>> =
                members.iter().map(|&k| buckets[k].get(&(array, element)).map(Vec::as_slice)).collect();
            sub.is_some_and(|sub| grouped_choice(&sub, depth + 1, scan))
        })
    })
}

/// Backtracking choice of one leaf per list, pairwise array-consistent.
fn pick_consistent(i: usize, choices: &[Vec<u32>], scan: &Scan, chosen: &mut Vec<u32>) -> bool {
    let Some(list) = choices.get(i) else { return true };
    for &leaf in list {
        let l = &scan.leaves[leaf as usize];
        if chosen.iter().all(|&c| scan.consistent(&scan.leaves[c as usize], l)) {
            chosen.push(leaf);
            if pick_consistent(i + 1, choices, scan, chosen) {
                return true;
            }
            chosen.pop();
        }
    }
    false
}

/// Checks that `bytes` is one JSON object (the grammar, UTF-8 and nesting limit events are held
/// to), at the event reader's speed, with no pattern involved.
///
/// # Errors
///
/// Malformed JSON, or JSON that is not an object.
pub fn validate_object(bytes: &[u8], scratch: &mut Scratch) -> Result<(), EventError> {
    static NO_PATHS: std::sync::LazyLock<PathTrie> = std::sync::LazyLock::new(PathTrie::default);
    scan::scan(&NO_PATHS, bytes, &mut scratch.scan)
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

/// Either input of [`test()`] was bad.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestError {
    /// The pattern.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// The event.
    #[error(transparent)]
    Event(#[from] EventError),
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// Objects with keys `x`/`y` and arrays, nested, so leaves of a few paths sit at every mix
    /// of array depths and elements.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![Just(json!(1)), Just(json!("s"))];
        leaf.prop_recursive(5, 96, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(prop::sample::select(vec!["x", "y"]), inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
        /// The linear grouping agrees with trying every combination.
        #[test]
        fn grouping_agrees_with_backtracking(
            x in value(),
            y in value(),
            picks in prop::collection::vec(any::<u8>(), 2..4),
        ) {
            const PATHS: [&str; 7] = ["x", "y", "x.x", "x.y", "y.x", "y.y", "x.x.y"];
            let mut trie = PathTrie::default();
            for p in PATHS {
                trie.add(p);
            }
            let text = json!({"x": x, "y": y}).to_string();
            let mut scan = Scan::default();
            scan::scan(&trie, text.as_bytes(), &mut scan).unwrap();
            let of_path = |p: u32| -> Vec<u32> {
                (0..scan.leaves.len() as u32).filter(|&l| scan.leaves[l as usize].path == p).collect()
            };
            let present: Vec<u32> = (0..PATHS.len() as u32).filter(|&p| !of_path(p).is_empty()).collect();
            prop_assume!(!present.is_empty());
            let paths: Vec<u32> = picks.iter().map(|&b| present[usize::from(b) % present.len()]).collect();
            let choices: Vec<Vec<u32>> = paths.iter().map(|&p| of_path(p)).collect();
            let mut chosen = Vec::new();
            let expected = pick_consistent(0, &choices, &scan, &mut chosen);
            let lists: Vec<&[u32]> = choices.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(grouped_choice(&lists, 0, &scan), expected, "{} paths {:?}", text, paths);
        }
    }
}
