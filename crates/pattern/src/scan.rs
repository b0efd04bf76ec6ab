//! The matcher's event reader: one pass over the raw bytes that validates the whole document
//! and records only the leaves of paths some pattern uses.
//!
//! Nothing is allocated per event: leaves, array trails and decoded strings go into a reusable
//! [`Scan`]. Strings without escapes are borrowed from the event; subtrees no pattern names are
//! checked for syntax but never materialised. The grammar is the same as [`crate::json`]'s, so
//! an event either reader rejects, the other rejects too (the `pattern_match` fuzz target holds
//! them to that).

use rustc_hash::FxHashMap;

use crate::event::EventError;
use crate::json::MAX_DEPTH;

/// Children lists longer than this are looked up through a hash map.
const LINEAR_CHILDREN: usize = 12;

/// The used paths as a trie of key segments (`detail.state` is `detail` → `state`), so an event
/// key `"a.b"` and nested keys `a` → `b` reach the same node.
#[derive(Debug, Clone)]
pub(crate) struct PathTrie {
    nodes: Vec<Node>,
    paths: FxHashMap<String, u32>,
}

#[derive(Debug, Clone, Default)]
struct Node {
    children: Vec<(Box<[u8]>, u32)>,
    index: FxHashMap<Box<[u8]>, u32>,
    /// The path id when a used path ends here.
    path: Option<u32>,
}

impl Default for PathTrie {
    fn default() -> Self {
        PathTrie { nodes: vec![Node::default()], paths: FxHashMap::default() }
    }
}

impl PathTrie {
    /// Registers a dot-joined path; returns its id (ids are dense, in order of first use).
    pub(crate) fn add(&mut self, path: &str) -> u32 {
        if let Some(&id) = self.paths.get(path) {
            return id;
        }
        let id = u32::try_from(self.paths.len()).expect("fewer than 2^32 paths");
        let mut node = 0;
        for segment in path.split('.') {
            node = match self.child(node, segment.as_bytes()) {
                Some(n) => n,
                None => {
                    let n = u32::try_from(self.nodes.len()).expect("fewer than 2^32 trie nodes");
                    self.nodes.push(Node::default());
                    let parent = &mut self.nodes[node as usize];
                    parent.children.push((segment.as_bytes().into(), n));
                    if parent.children.len() > LINEAR_CHILDREN {
                        parent.index.insert(segment.as_bytes().into(), n);
                        if parent.index.len() == 1 {
                            let all: Vec<_> = parent.children.iter().map(|(k, v)| (k.clone(), *v)).collect();
                            parent.index.extend(all);
                        }
                    }
                    n
                }
            };
        }
        self.nodes[node as usize].path = Some(id);
        self.paths.insert(path.to_string(), id);
        id
    }

    /// Number of registered paths.
    pub(crate) fn len(&self) -> usize {
        self.paths.len()
    }

    /// How many distinct top-level keys the paths start with.
    pub(crate) fn top_level_keys(&self) -> usize {
        self.nodes[0].children.len()
    }

    #[inline]
    fn child(&self, node: u32, segment: &[u8]) -> Option<u32> {
        let node = &self.nodes[node as usize];
        if node.children.len() > LINEAR_CHILDREN {
            return node.index.get(segment).copied();
        }
        node.children.iter().find(|(k, _)| **k == *segment).map(|(_, n)| *n)
    }

    /// The node an event key leads to from `node`; a key with dots walks one segment per part.
    #[inline]
    fn step(&self, node: u32, key: &[u8]) -> Option<u32> {
        let n = &self.nodes[node as usize];
        if n.children.len() > LINEAR_CHILDREN {
            if let Some(&child) = n.index.get(key) {
                return Some(child);
            }
            return if key.contains(&b'.') { self.walk_dotted(node, key) } else { None };
        }
        for (segment, child) in &n.children {
            if same_bytes(segment, key) {
                return Some(*child);
            }
            // A dotted key (`"a.b"`) can only lead somewhere through a child named by its
            // first segment.
            if key.len() > segment.len() && key[segment.len()] == b'.' && key.starts_with(segment) {
                return self.step(*child, &key[segment.len() + 1..]);
            }
        }
        None
    }

    #[cold]
    fn walk_dotted(&self, node: u32, key: &[u8]) -> Option<u32> {
        key.split(|&b| b == b'.').try_fold(node, |n, segment| self.child(n, segment))
    }
}

/// Slice equality without a `memcmp` call: keys are short and usually differ in length.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// What kind of scalar a leaf is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string borrowed from the event (no escapes).
    Str,
    /// A string decoded into [`Scan::decoded`].
    Decoded,
    /// A number; the range is its text.
    Num,
    /// `true`.
    True,
    /// `false`.
    False,
    /// `null`.
    Null,
}

/// One recorded leaf.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leaf {
    pub(crate) path: u32,
    pub(crate) kind: Kind,
    start: u32,
    end: u32,
    trail_start: u32,
    trail_len: u32,
}

/// Reusable buffers for one event's leaves.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub(crate) leaves: Vec<Leaf>,
    trails: Vec<(u32, u32)>,
    decoded: Vec<u8>,
    key: Vec<u8>,
    stack: Vec<(u32, u32)>,
    next_array: u32,
}

impl Scan {
    /// The bytes of a string (its UTF-8, checked while reading) or a number (its text);
    /// empty for the other kinds.
    #[inline]
    pub(crate) fn bytes<'a>(&'a self, event: &'a [u8], leaf: &Leaf) -> &'a [u8] {
        let range = leaf.start as usize..leaf.end as usize;
        match leaf.kind {
            Kind::Decoded => &self.decoded[range],
            Kind::Str | Kind::Num => &event[range],
            _ => &[],
        }
    }

    /// The `(array, element)` trail of a leaf.
    #[inline]
    pub(crate) fn trail(&self, leaf: &Leaf) -> &[(u32, u32)] {
        &self.trails[leaf.trail_start as usize..(leaf.trail_start + leaf.trail_len) as usize]
    }

    /// Whether two leaves sit in the same element of every array they share.
    #[inline]
    pub(crate) fn consistent(&self, a: &Leaf, b: &Leaf) -> bool {
        let (ta, tb) = (self.trail(a), self.trail(b));
        ta.iter().all(|(array, index)| tb.iter().all(|(x, i)| x != array || i == index))
    }

    /// Whether any recorded leaf is inside an array.
    pub(crate) fn any_trail(&self) -> bool {
        !self.trails.is_empty()
    }
}

/// Reads `event`, recording the leaves of `paths` into `out` (cleared first).
///
/// # Errors
///
/// Malformed JSON (the same documents [`crate::json::parse`] rejects), or a non-object.
pub(crate) fn scan(paths: &PathTrie, event: &[u8], out: &mut Scan) -> Result<(), EventError> {
    scan_until(paths, event, out, usize::MAX)
}

/// [`scan`] of an event known to be valid JSON whose top-level keys are unique and free of
/// dots: it stops once every top-level key the paths start with has been read, leaving the
/// rest unread (and unchecked).
pub(crate) fn scan_trusted(paths: &PathTrie, event: &[u8], out: &mut Scan) -> Result<(), EventError> {
    scan_until(paths, event, out, paths.top_level_keys())
}

fn scan_until(paths: &PathTrie, event: &[u8], out: &mut Scan, stop_after: usize) -> Result<(), EventError> {
    out.leaves.clear();
    out.trails.clear();
    out.decoded.clear();
    out.stack.clear();
    out.next_array = 0;
    if stop_after == 0 && event.first() == Some(&b'{') {
        return Ok(());
    }
    let mut r = Reader { bytes: event, pos: 0, paths, out, failure: std::cell::Cell::new((0, "")), stop_after };
    r.ws();
    if r.peek() != Some(b'{') {
        // Distinguish "not JSON" from "JSON but not an object", as the tree reader does.
        r.value(None, 0).map_err(|_| r.failed())?;
        r.ws();
        if r.pos != event.len() {
            let _ = r.err("trailing characters after the JSON value");
            return Err(r.failed());
        }
        return Err(EventError::NotObject);
    }
    r.value(Some(0), 0).map_err(|_| r.failed())?;
    if r.stop_after == 0 {
        return Ok(());
    }
    r.ws();
    if r.pos != event.len() {
        let _ = r.err("trailing characters after the JSON value");
        return Err(r.failed());
    }
    Ok(())
}

/// A failed read. Zero-sized so that `Result<()>` travels in a register through the recursive
/// reader; where and why it failed is kept in [`Reader::failure`].
struct ScanError;

type Result<T, E = ScanError> = std::result::Result<T, E>;

struct Reader<'p, 'e, 'o> {
    bytes: &'e [u8],
    pos: usize,
    paths: &'p PathTrie,
    out: &'o mut Scan,
    failure: std::cell::Cell<(usize, &'static str)>,
    /// Top-level keys of the paths still to read before stopping ([`scan_trusted`]);
    /// `usize::MAX` reads everything.
    stop_after: usize,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Eight bytes from `at`, little-endian (the first byte lowest), if there are eight.
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> Option<u64> {
    bytes.get(at..at + 8).map(|w| u64::from_le_bytes(w.try_into().expect("eight bytes")))
}

/// The high bit of every byte of `x` that is zero. Exact per byte: no carry crosses bytes.
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    !(((x & !HIGH).wrapping_add(!HIGH)) | x) & HIGH
}

/// The high bit of every byte below `n` (`n` ≤ 0x80); bytes ≥ 0x80 may be flagged as well.
#[inline(always)]
fn bytes_below(x: u64, n: u8) -> u64 {
    // With every high bit forced on, subtracting `n` borrows within no byte.
    !((x | HIGH).wrapping_sub(ONES * u64::from(n))) & HIGH
}

/// A non-zero byte for every byte that is not an ASCII digit (`0x30..=0x39`): either its high
/// nibble is not 3, or its low nibble plus 6 carries into bit 4.
#[inline(always)]
fn non_digits(x: u64) -> u64 {
    let high_nibble_not_3 = (x & (ONES * 0xf0)) ^ (ONES * 0x30);
    let low_nibble_over_9 = ((x & (ONES * 0x0f)) + ONES * 0x06) & (ONES * 0x10);
    high_nibble_not_3 | low_nibble_over_9
}

/// The high bit of every byte that ends a plain string run: `"`, `\\`, a control character, or
/// the first byte of a multi-byte character (which then gets its UTF-8 checked).
#[inline(always)]
fn string_stops(x: u64) -> u64 {
    // Flipping bit 1 maps `"` (0x22) to 0x20 and keeps control characters below 0x20, so one
    // comparison finds both.
    bytes_below(x ^ (ONES * 0x02), 0x21) | zero_bytes(x ^ (ONES * u64::from(b'\\'))) | (x & HIGH)
}

/// Index of the first non-zero byte of a mask from the helpers above.
#[inline(always)]
fn first_flagged(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// The index of the first non-whitespace byte at or after `at`.
#[inline(always)]
fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    // Most calls find a token at once, or after one space.
    while let Some(&b) = bytes.get(at) {
        if b > b' ' || !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            break;
        }
        at += 1;
    }
    at
}

/// The length of the valid JSON number at `at`, or `None` if there is none.
#[inline(always)]
fn number_len(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at + usize::from(b.get(at) == Some(&b'-'));
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += 1 + digit_run(b, i + 1),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let n = digit_run(b, i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let n = digit_run(b, i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    Some(i - at)
}

/// How many ASCII digits `bytes` has from `at` on.
#[inline(always)]
fn digit_run(bytes: &[u8], at: usize) -> usize {
    let mut i = at;
    while let Some(x) = word(bytes, i) {
        let stops = non_digits(x);
        if stops != 0 {
            return i + first_flagged(stops) - at;
        }
        i += 8;
    }
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i - at
}

/// Whether a byte ends a plain string run (the byte-at-a-time form of [`string_stops`]).
#[inline(always)]
fn is_string_stop(b: u8) -> bool {
    b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b)
}

impl Reader<'_, '_, '_> {
    #[cold]
    fn err(&self, message: &'static str) -> ScanError {
        self.failure.set((self.pos, message));
        ScanError
    }

    fn failed(&self) -> EventError {
        let (offset, message) = self.failure.get();
        EventError::Json(format!("{message} at byte {offset}"))
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace. Most calls find none or one space, so those cases come first.
    #[inline(always)]
    fn ws(&mut self) {
        match self.bytes.get(self.pos) {
            Some(&b) if b > b' ' => {}
            Some(b' ') if self.bytes.get(self.pos + 1).is_some_and(|&b| b > b' ') => self.pos += 1,
            _ => self.ws_run(),
        }
    }

    fn ws_run(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn leaf(&mut self, node: Option<u32>, kind: Kind, start: usize, end: usize) {
        let Some(path) = node.and_then(|n| self.paths.nodes[n as usize].path) else { return };
        let out = &mut *self.out;
        let trail_start = out.trails.len() as u32;
        out.trails.extend_from_slice(&out.stack);
        out.leaves.push(Leaf {
            path,
            kind,
            start: start as u32,
            end: end as u32,
            trail_start,
            trail_len: out.stack.len() as u32,
        });
    }

    /// One value at `node` (`None`: no pattern looks here).
    fn value(&mut self, node: Option<u32>, depth: usize) -> Result<()> {
        let Some(node) = node else { return self.skip_value(depth) };
        let node = Some(node);
        if depth >= MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => match node {
                // A node with no children has nothing to find inside an object.
                Some(n) if !self.paths.nodes[n as usize].children.is_empty() => self.object(n, depth),
                _ => self.skip_object(depth),
            },
            Some(b'[') => self.array(node, depth),
            Some(b'"') => {
                let wanted = node.is_some_and(|n| self.paths.nodes[n as usize].path.is_some());
                if wanted {
                    let (kind, start, end) = self.string_value()?;
                    self.leaf(node, kind, start, end);
                } else {
                    self.skip_string()?;
                }
                Ok(())
            }
            Some(b't') => self.literal(node, b"true", Kind::True),
            Some(b'f') => self.literal(node, b"false", Kind::False),
            Some(b'n') => self.literal(node, b"null", Kind::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                self.number()?;
                self.leaf(node, Kind::Num, start, self.pos);
                Ok(())
            }
            Some(_) => Err(self.err("expected a JSON value")),
        }
    }

    /// One value no pattern looks into: checked, not recorded.
    fn skip_value(&mut self, depth: usize) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.skip_object(depth),
            Some(b'[') => self.skip_array(depth),
            Some(b'"') => self.skip_string(),
            Some(b't') => self.literal(None, b"true", Kind::True),
            Some(b'f') => self.literal(None, b"false", Kind::False),
            Some(b'n') => self.literal(None, b"null", Kind::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a JSON value")),
        }
    }

    /// An array no pattern looks into. Numbers, the common element, are measured by a pure
    /// function over a local index, so the loop runs in registers.
    fn skip_array(&mut self, depth: usize) -> Result<()> {
        let Some(mut i) = self.open(b']') else { return Ok(()) };
        loop {
            i = self.skip_element(i, depth)?;
            match self.next_member(i, b']', "expected ',' or ']'")? {
                Some(next) => i = next,
                None => return Ok(()),
            }
        }
    }

    /// Skips one unused value starting at `i` (numbers and strings in line, anything else
    /// through [`Reader::skip_value`]); returns the index after it.
    #[inline(always)]
    fn skip_element(&mut self, i: usize, depth: usize) -> Result<usize> {
        let b = self.bytes;
        match b.get(i) {
            Some(b'"') => {
                self.pos = i;
                self.skip_string()?;
                Ok(self.pos)
            }
            Some(b'-' | b'0'..=b'9') if depth + 1 < MAX_DEPTH => match number_len(b, i) {
                Some(n) => Ok(i + n),
                None => {
                    self.pos = i;
                    self.number().map(|()| self.pos)
                }
            },
            _ => {
                self.pos = i;
                self.skip_value(depth + 1)?;
                Ok(self.pos)
            }
        }
    }

    /// Just after an opening bracket at `pos`: `None` (with `pos` past it) when `close` follows
    /// at once, otherwise the index of the first member or element.
    #[inline(always)]
    fn open(&mut self, close: u8) -> Option<usize> {
        let i = skip_ws(self.bytes, self.pos + 1);
        if self.bytes.get(i) == Some(&close) {
            self.pos = i + 1;
            return None;
        }
        Some(i)
    }

    /// Checks that an object key starts at `i`, leaving `pos` there.
    #[inline(always)]
    fn expect_key(&mut self, i: usize) -> Result<()> {
        self.pos = i;
        if self.bytes.get(i) == Some(&b'"') { Ok(()) } else { Err(self.err("expected a string key")) }
    }

    /// After a key ending at `pos`: the colon, and the index of the value after it.
    #[inline(always)]
    fn after_colon(&mut self) -> Result<usize> {
        let i = skip_ws(self.bytes, self.pos);
        if self.bytes.get(i) != Some(&b':') {
            self.pos = i;
            return Err(self.err("expected ':'"));
        }
        Ok(skip_ws(self.bytes, i + 1))
    }

    /// After a member or element at `i`: `Some(index of the next one)` after a comma, `None`
    /// after the `close` byte (with `pos` past it), an error otherwise.
    #[inline(always)]
    fn next_member(&mut self, i: usize, close: u8, message: &'static str) -> Result<Option<usize>> {
        let b = self.bytes;
        let i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => Ok(Some(skip_ws(b, i + 1))),
            Some(&c) if c == close => {
                self.pos = i + 1;
                Ok(None)
            }
            _ => {
                self.pos = i;
                Err(self.err(message))
            }
        }
    }

    /// An object no pattern looks into, on a local index like [`Reader::skip_array`].
    fn skip_object(&mut self, depth: usize) -> Result<()> {
        let Some(mut i) = self.open(b'}') else { return Ok(()) };
        loop {
            self.expect_key(i)?;
            self.skip_string()?;
            i = self.after_colon()?;
            i = self.skip_element(i, depth)?;
            match self.next_member(i, b'}', "expected ',' or '}'")? {
                Some(next) => i = next,
                None => return Ok(()),
            }
        }
    }

    fn object(&mut self, node: u32, depth: usize) -> Result<()> {
        let b = self.bytes;
        let Some(mut i) = self.open(b'}') else { return Ok(()) };
        loop {
            self.expect_key(i)?;
            let (kind, start, end) = self.string_value_into_key()?;
            let key: &[u8] = if kind == Kind::Decoded { &self.out.key } else { &b[start..end] };
            let child = self.paths.step(node, key);
            i = self.after_colon()?;
            i = match child {
                None => self.skip_element(i, depth)?,
                Some(_) => {
                    self.pos = i;
                    self.value(child, depth + 1)?;
                    if node == 0 && self.stop_after != usize::MAX {
                        self.stop_after -= 1;
                        if self.stop_after == 0 {
                            return Ok(());
                        }
                    }
                    self.pos
                }
            };
            match self.next_member(i, b'}', "expected ',' or '}'")? {
                Some(next) => i = next,
                None => return Ok(()),
            }
        }
    }

    fn array(&mut self, node: Option<u32>, depth: usize) -> Result<()> {
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let id = node.map(|_| {
            let id = self.out.next_array;
            self.out.next_array += 1;
            id
        });
        let mut index = 0u32;
        loop {
            self.ws();
            if let Some(id) = id {
                self.out.stack.push((id, index));
                self.value(node, depth + 1)?;
                self.out.stack.pop();
            } else {
                self.value(None, depth + 1)?;
            }
            index += 1;
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn literal(&mut self, node: Option<u32>, word: &[u8], kind: Kind) -> Result<()> {
        if !self.bytes[self.pos..].starts_with(word) {
            return Err(self.err("invalid literal"));
        }
        self.pos += word.len();
        self.leaf(node, kind, 0, 0);
        Ok(())
    }

    /// A JSON number at `pos`, checked against the grammar.
    #[inline]
    fn number(&mut self) -> Result<()> {
        let b = &self.bytes[self.pos..];
        let mut i = usize::from(b.first() == Some(&b'-'));
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i += 1 + digit_run(b, i + 1),
            _ => return Err(self.err("invalid number")),
        }
        if b.get(i) == Some(&b'.') {
            let n = digit_run(b, i + 1);
            if n == 0 {
                self.pos += i + 1;
                return Err(self.err("invalid number: digits expected after '.'"));
            }
            i += 1 + n;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let n = digit_run(b, i);
            if n == 0 {
                self.pos += i;
                return Err(self.err("invalid number: digits expected in exponent"));
            }
            i += n;
        }
        self.pos += i;
        Ok(())
    }

    /// Advances over plain string bytes (checking the UTF-8 of any non-ASCII character);
    /// returns the byte that stopped the run — `"`, `\\` or a control character — if any.
    #[inline(always)]
    fn plain_run(&mut self) -> Result<Option<u8>> {
        loop {
            let stop = match word(self.bytes, self.pos) {
                Some(x) => {
                    let stops = string_stops(x);
                    if stops == 0 {
                        self.pos += 8;
                        continue;
                    }
                    let at = first_flagged(stops);
                    self.pos += at;
                    // The stop byte is already in the register: no dependent load.
                    Some((x >> (8 * at)) as u8)
                }
                None => {
                    while self.bytes.get(self.pos).is_some_and(|&b| !is_string_stop(b)) {
                        self.pos += 1;
                    }
                    self.peek()
                }
            };
            match stop {
                Some(b) if b >= 0x80 => self.utf8_char()?,
                other => return Ok(other),
            }
        }
    }

    /// One multi-byte UTF-8 character at `pos`.
    #[cold]
    fn utf8_char(&mut self) -> Result<()> {
        let width = match self.bytes[self.pos] {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => return Err(self.err("invalid UTF-8 in string")),
        };
        let end = (self.pos + width).min(self.bytes.len());
        if std::str::from_utf8(&self.bytes[self.pos..end]).is_err() {
            return Err(self.err("invalid UTF-8 in string"));
        }
        self.pos = end;
        Ok(())
    }

    /// A string no pattern looks at. Plain strings take the fast path on a local index.
    fn skip_string(&mut self) -> Result<()> {
        let b = self.bytes;
        let mut i = self.pos + 1;
        let stop = loop {
            match word(b, i) {
                Some(x) => {
                    let stops = string_stops(x);
                    if stops == 0 {
                        i += 8;
                        continue;
                    }
                    let at = first_flagged(stops);
                    i += at;
                    break Some((x >> (8 * at)) as u8);
                }
                None => {
                    while b.get(i).is_some_and(|&c| !is_string_stop(c)) {
                        i += 1;
                    }
                    break b.get(i).copied();
                }
            }
        };
        self.pos = i;
        if stop == Some(b'"') {
            self.pos += 1;
            return Ok(());
        }
        self.skip_string_rest()
    }

    /// The rest of a string from a byte that stopped a plain run.
    fn skip_string_rest(&mut self) -> Result<()> {
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => self.escape(None)?,
                Some(b) if b >= 0x80 => self.utf8_char()?,
                Some(_) => return Err(self.err("control character in string")),
            }
            self.plain_run()?;
        }
    }

    /// A string at `pos`: `Kind::Str` with its range in the event when it has no escapes,
    /// otherwise `Kind::Decoded` with its range in the buffer `into` picks (which it appends to).
    #[inline(always)]
    fn read_string(&mut self, into: impl Fn(&mut Scan) -> &mut Vec<u8>) -> Result<(Kind, usize, usize)> {
        let start = self.pos + 1;
        self.pos = start;
        match self.plain_run()? {
            Some(b'"') => {
                let end = self.pos;
                self.pos += 1;
                return Ok((Kind::Str, start, end));
            }
            None => return Err(self.err("unterminated string")),
            Some(b'\\') => {}
            Some(_) => return Err(self.err("control character in string")),
        }
        let mut buf = std::mem::take(into(self.out));
        let result = self.read_escaped(start, &mut buf);
        *into(self.out) = buf;
        result
    }

    /// The rest of [`Reader::read_string`] for a string with escapes, kept out of line.
    #[cold]
    fn read_escaped(&mut self, start: usize, buf: &mut Vec<u8>) -> Result<(Kind, usize, usize)> {
        let from = buf.len();
        self.decode_rest(start, buf)?;
        Ok((Kind::Decoded, from, buf.len()))
    }

    /// A string leaf, decoded (when it must be) after the event's other decoded strings.
    fn string_value(&mut self) -> Result<(Kind, usize, usize)> {
        self.read_string(|scan| &mut scan.decoded)
    }

    /// An object key, decoded (when it must be) into the key buffer, which holds one key.
    fn string_value_into_key(&mut self) -> Result<(Kind, usize, usize)> {
        self.out.key.clear();
        self.read_string(|scan| &mut scan.key)
    }

    /// Decodes from `start` (the string's first byte) up to the closing quote; `pos` is at the
    /// first backslash.
    fn decode_rest(&mut self, start: usize, buf: &mut Vec<u8>) -> Result<()> {
        buf.extend_from_slice(&self.bytes[start..self.pos]);
        loop {
            match self.peek() {
                Some(b'\\') => self.escape(Some(buf))?,
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => return Err(self.err("unterminated string")),
                Some(_) => return Err(self.err("control character in string")),
            }
            let run = self.pos;
            self.plain_run()?;
            buf.extend_from_slice(&self.bytes[run..self.pos]);
        }
    }

    /// One escape sequence at `pos` (a backslash), written to `buf` when given.
    fn escape(&mut self, buf: Option<&mut Vec<u8>>) -> Result<()> {
        let (c, next) = match crate::json::escape_at(self.bytes, self.pos + 1) {
            Ok(decoded) => decoded,
            Err((at, message)) => {
                self.pos = at;
                return Err(self.err(message));
            }
        };
        self.pos = next;
        if let Some(buf) = buf {
            let mut utf8 = [0u8; 4];
            buf.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value in every lane: the word-at-a-time classifiers flag exactly the bytes
    /// the byte-at-a-time predicates do (at least up to the first flagged lane, which is all
    /// the readers use).
    #[test]
    fn word_classifiers_agree_with_byte_predicates() {
        for lane in 0..8 {
            for byte in 0..=255u8 {
                for filler in [b'5', b'a', b' '] {
                    let mut bytes = [filler; 8];
                    bytes[lane] = byte;
                    let x = u64::from_le_bytes(bytes);
                    let first = |pred: &dyn Fn(u8) -> bool| bytes.iter().position(|&b| pred(b)).unwrap_or(8);
                    let flagged = |mask: u64| if mask == 0 { 8 } else { first_flagged(mask) };
                    assert_eq!(flagged(non_digits(x)), first(&|b| !b.is_ascii_digit()), "digits {bytes:?}");
                    assert_eq!(flagged(string_stops(x)), first(&is_string_stop), "string {bytes:?}");
                }
            }
        }
    }

    fn leaves(paths: &[&str], event: &str) -> Vec<(u32, String)> {
        let mut trie = PathTrie::default();
        for p in paths {
            trie.add(p);
        }
        let mut out = Scan::default();
        scan(&trie, event.as_bytes(), &mut out).unwrap();
        out.leaves
            .iter()
            .map(|l| (l.path, String::from_utf8(out.bytes(event.as_bytes(), l).to_vec()).unwrap()))
            .collect()
    }

    #[test]
    fn dotted_and_escaped_keys_reach_the_same_path() {
        let want = vec![(0, "v".to_string())];
        assert_eq!(leaves(&["a.b"], r#"{"a": {"b": "v"}}"#), want);
        assert_eq!(leaves(&["a.b"], r#"{"a.b": "v"}"#), want);
        assert_eq!(leaves(&["a.b"], r#"{"\u0061": {"\u0062": "v"}}"#), want);
        assert_eq!(leaves(&["a.b.c"], r#"{"a": {"b.c": "v"}}"#), want);
        assert_eq!(leaves(&["a.b"], r#"{"ab": "x", "a.bc": "y", "a": {"c": "z"}}"#), vec![]);
        assert_eq!(leaves(&["s"], r#"{"s": "caf\u00e9 \ud83d\ude00 \"q\""}"#), vec![(0, "café 😀 \"q\"".to_string())]);
    }

    #[test]
    fn invalid_utf8_and_grammar_errors_are_reported_in_skipped_parts_too() {
        let trie = PathTrie::default();
        let mut out = Scan::default();
        for bad in [
            &b"{\"x\": \"\xff\"}"[..],
            b"{\"x\": \"\xe2\x82\"}",
            b"{\"x\": \"\xc0\xaf\"}",
            b"{\"x\": [1, 2,]}",
            b"{\"x\": [01]}",
            b"{\"x\": {\"y\" 1}}",
            b"{\"x\": \"\\ud800\"}",
            b"{\"x\": tru}",
            b"{\"x\": 1} 2",
            b"{\"x\": \"a\x01\"}",
        ] {
            assert!(scan(&trie, bad, &mut out).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
