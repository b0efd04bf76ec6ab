//! The synthetic city-lots data set of the pattern-matcher benchmark recipe, reproduced byte for
//! byte in Rust.
//!
//! The recipe (shared with the quamina / event-ruler comparison figures) is a small Python
//! program seeded with `random.Random(20240601)`; to get the same events we reimplement the parts
//! of CPython's `random` it uses: the MT19937 generator seeded by `init_by_array`, `random()`
//! (53 bits from two draws), and `randint`/`choice` (rejection sampling on `getrandbits`). Floats
//! are rounded to 14 decimals as Python's `round` does and printed shortest-round-trip as
//! `json.dumps` does. The recipe names the `MAPBLKLOT` of five lines; the test suite checks them.

/// CPython's Mersenne Twister (`_randommodule.c`).
pub struct PyRandom {
    state: [u32; 624],
    index: usize,
}

impl PyRandom {
    /// `random.Random(seed)` for a seed below 2^32.
    pub fn new(seed: u32) -> PyRandom {
        let mut mt = [0u32; 624];
        mt[0] = 19_650_218;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        // init_by_array with the one-word key [seed].
        // With a one-word key the key index is always 0, so `init_key[j] + j` is just the seed.
        let mut i = 1usize;
        for _ in 0..624 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_664_525)).wrapping_add(seed);
            i += 1;
            if i >= 624 {
                mt[0] = mt[623];
                i = 1;
            }
        }
        for _ in 0..623 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= 624 {
                mt[0] = mt[623];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        PyRandom { state: mt, index: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            let mt = &mut self.state;
            for k in 0..624 {
                let y = (mt[k] & 0x8000_0000) | (mt[(k + 1) % 624] & 0x7fff_ffff);
                let mut v = mt[(k + 397) % 624] ^ (y >> 1);
                if y & 1 != 0 {
                    v ^= 0x9908_b0df;
                }
                mt[k] = v;
            }
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random.random()`.
    pub fn random(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `_randbelow(n)` for `0 < n < 2^32`.
    fn below(&mut self, n: u32) -> u32 {
        let bits = 32 - n.leading_zeros();
        loop {
            let r = self.next_u32() >> (32 - bits);
            if r < n {
                return r;
            }
        }
    }

    /// `random.randint(lo, hi)`.
    pub fn randint(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }

    /// `random.choice(items)`.
    pub fn choice<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }
}

/// The recipe's seed.
pub const SEED: u32 = 20_240_601;
/// The recipe's default number of features.
pub const FEATURES: usize = 213_068;

const STREETS: [&str; 40] = [
    "FULTON",
    "MASON",
    "BEACH",
    "HYDE",
    "CHESTNUT",
    "JEFFERSON",
    "GREENWICH",
    "TURK",
    "CRANLEIGH",
    "17TH",
    "MISSION",
    "VALENCIA",
    "ACTON",
    "BLAKE",
    "DRUMM",
    "RHODE ISLAND",
    "FOLSOM",
    "HARRISON",
    "BRYANT",
    "GEARY",
    "POST",
    "SUTTER",
    "BUSH",
    "PINE",
    "CALIFORNIA",
    "SACRAMENTO",
    "CLAY",
    "WASHINGTON",
    "JACKSON",
    "PACIFIC",
    "BROADWAY",
    "VALLEJO",
    "UNION",
    "FILBERT",
    "LOMBARD",
    "BAY",
    "NORTH POINT",
    "KING",
    "BERRY",
    "CHANNEL",
];
const TYPES: [&str; 15] =
    ["ST", "ST", "ST", "ST", "ST", "ST", "AVE", "AVE", "AVE", "BLVD", "DR", "WAY", "CT", "PL", "TER"];

/// Python's `round(x, 14)`: the correctly rounded 14-decimal text, read back.
fn round14(x: f64) -> f64 {
    format!("{x:.14}").parse().expect("formatted float parses")
}

/// `json.dumps` of a float: shortest round-trip digits (plain notation in this data's range).
fn push_float(out: &mut String, x: f64) {
    use std::fmt::Write;
    let start = out.len();
    write!(out, "{x}").expect("writing to a String");
    if !out[start..].contains('.') {
        out.push_str(".0");
    }
}

/// Features `0..count` as JSON lines (each without its newline).
pub fn features(count: usize) -> Vec<String> {
    let mut rnd = PyRandom::new(SEED);
    (0..count).map(|_| feature(&mut rnd)).collect()
}

fn feature(rnd: &mut PyRandom) -> String {
    use std::fmt::Write;
    let blk = rnd.randint(1, 7500);
    let lot = rnd.randint(1, 300);
    let st = rnd.randint(1, 4000);
    let x0 = -122.5 + rnd.random() * 0.13;
    let y0 = 37.70 + rnd.random() * 0.11;
    let n = rnd.randint(4, 9);
    let mut points: Vec<(f64, f64)> = (0..n)
        .map(|_| {
            let x = round14(x0 + rnd.random() * 1e-3);
            let y = round14(y0 + rnd.random() * 1e-3);
            (x, y)
        })
        .collect();
    points.push(points[0]);
    let multi = rnd.random() < 0.01;
    let to = st + rnd.choice(&[0, 0, 2, 10]);
    let street = rnd.choice(&STREETS);
    let st_type = rnd.choice(&TYPES);
    let mut ring = String::from("[");
    for (i, (x, y)) in points.iter().enumerate() {
        if i > 0 {
            ring.push_str(", ");
        }
        ring.push('[');
        push_float(&mut ring, *x);
        ring.push_str(", ");
        push_float(&mut ring, *y);
        ring.push_str(", 0]");
    }
    ring.push(']');
    let (kind, coordinates) =
        if multi { ("MultiPolygon", format!("[[{ring}]]")) } else { ("Polygon", format!("[{ring}]")) };
    let mut out = String::with_capacity(640);
    write!(
        out,
        "{{\"type\": \"Feature\", \"properties\": {{\"MAPBLKLOT\": \"{blk:04}{lot:03}\", \"BLKLOT\": \"{blk:04}{lot:03}\", \
         \"BLOCK_NUM\": \"{blk:04}\", \"LOT_NUM\": \"{lot:03}\", \"FROM_ST\": \"{st}\", \"TO_ST\": \"{to}\", \
         \"STREET\": \"{street}\", \"ST_TYPE\": \"{st_type}\", \"ODD_EVEN\": \"{odd}\"}}, \
         \"geometry\": {{\"type\": \"{kind}\", \"coordinates\": {coordinates}}}}}",
        odd = if st.is_multiple_of(2) { "E" } else { "O" },
    )
    .expect("writing to a String");
    out
}
