//! A slow, obviously-correct interpreter of event patterns over `serde_json::Value`, used as an
//! oracle. It walks the event tree directly for every field of every branch, and checks array
//! consistency by trying every combination of leaves.

use serde_json::{Map, Value};

/// One branch: (path, conditions) pairs.
type Branch = Vec<(String, Vec<Value>)>;

fn branches(pattern: &Map<String, Value>, prefix: &str) -> Vec<Branch> {
    let mut out: Vec<Branch> = vec![Vec::new()];
    for (key, value) in pattern {
        if key == "$or" {
            let mut next = Vec::new();
            for alt in value.as_array().unwrap() {
                for b in branches(alt.as_object().unwrap(), prefix) {
                    for base in &out {
                        let mut merged = base.clone();
                        for (p, c) in &b {
                            merged.retain(|(q, _)| q != p);
                            merged.push((p.clone(), c.clone()));
                        }
                        next.push(merged);
                    }
                }
            }
            out = next;
            continue;
        }
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            Value::Object(inner) => {
                let subs = branches(inner, &path);
                out = out
                    .iter()
                    .flat_map(|base| {
                        subs.iter().map(move |s| {
                            let mut m = base.clone();
                            for (p, c) in s {
                                m.retain(|(q, _)| q != p);
                                m.push((p.clone(), c.clone()));
                            }
                            m
                        })
                    })
                    .collect();
            }
            Value::Array(conds) => {
                for b in &mut out {
                    b.retain(|(q, _)| *q != path);
                    b.push((path.clone(), conds.clone()));
                }
            }
            _ => unreachable!("generated patterns are valid"),
        }
    }
    out
}

/// Leaves at a dotted path: (value, array trail).
fn leaves<'a>(event: &'a Value, path: &str) -> Vec<(&'a Value, Vec<(usize, usize)>)> {
    let mut out = Vec::new();
    let mut counter = 0;
    collect(event, "", path, &mut Vec::new(), &mut counter, &mut out);
    out
}

fn collect<'a>(
    v: &'a Value,
    here: &str,
    want: &str,
    trail: &mut Vec<(usize, usize)>,
    counter: &mut usize,
    out: &mut Vec<(&'a Value, Vec<(usize, usize)>)>,
) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if here.is_empty() { k.clone() } else { format!("{here}.{k}") };
                collect(x, &p, want, trail, counter, out);
            }
        }
        Value::Array(items) => {
            let id = *counter;
            *counter += 1;
            for (i, x) in items.iter().enumerate() {
                trail.push((id, i));
                collect(x, here, want, trail, counter, out);
                trail.pop();
            }
        }
        leaf => {
            if here == want {
                out.push((leaf, trail.clone()));
            }
        }
    }
}

fn accepts(cond: &Value, v: &Value) -> bool {
    let Value::Object(op) = cond else {
        return match (cond, v) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            _ => cond == v,
        };
    };
    let (name, arg) = op.iter().next().unwrap();
    let s = v.as_str();
    match name.as_str() {
        "prefix" => match arg {
            Value::String(p) => s.is_some_and(|s| s.starts_with(p.as_str())),
            _ => {
                let p = arg["equals-ignore-case"].as_str().unwrap().to_lowercase();
                s.is_some_and(|s| s.to_lowercase().starts_with(&p))
            }
        },
        "suffix" => s.is_some_and(|s| s.ends_with(arg.as_str().unwrap())),
        "equals-ignore-case" => s.is_some_and(|s| s.to_lowercase() == arg.as_str().unwrap().to_lowercase()),
        "wildcard" => s.is_some_and(|s| glob(arg.as_str().unwrap(), s)),
        "exists" => arg.as_bool().unwrap(),
        "numeric" => {
            let Some(x) = v.as_f64().filter(|_| v.is_number()) else { return false };
            let t = arg.as_array().unwrap();
            t.chunks(2).all(|pair| {
                let bound = pair[1].as_f64().unwrap();
                match pair[0].as_str().unwrap() {
                    "=" => x == bound,
                    ">" => x > bound,
                    ">=" => x >= bound,
                    "<" => x < bound,
                    "<=" => x <= bound,
                    _ => unreachable!(),
                }
            })
        }
        "anything-but" => match arg {
            Value::Object(inner) => {
                let (k, list) = inner.iter().next().unwrap();
                let Some(s) = s else { return true };
                let list: Vec<&str> = match list {
                    Value::String(x) => vec![x.as_str()],
                    Value::Array(xs) => xs.iter().map(|x| x.as_str().unwrap()).collect(),
                    _ => unreachable!(),
                };
                match k.as_str() {
                    "prefix" => !list.iter().any(|p| s.starts_with(p)),
                    "suffix" => !list.iter().any(|p| s.ends_with(p)),
                    "equals-ignore-case" => !list.iter().any(|p| p.to_lowercase() == s.to_lowercase()),
                    _ => unreachable!(),
                }
            }
            Value::Array(xs) => !xs.iter().any(|x| same_type_equal(x, v)),
            x => !same_type_equal(x, v),
        },
        _ => unreachable!("{name}"),
    }
}

fn same_type_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) => x == y,
        _ => false,
    }
}

fn glob(p: &str, s: &str) -> bool {
    match p.split_once('*') {
        None => p == s,
        Some((head, rest)) => {
            let Some(after) = s.strip_prefix(head) else { return false };
            (0..=after.len()).filter(|&i| after.is_char_boundary(i)).any(|i| glob(rest, &after[i..]))
        }
    }
}

fn consistent(a: &[(usize, usize)], b: &[(usize, usize)]) -> bool {
    a.iter().all(|(x, i)| b.iter().all(|(y, j)| x != y || i == j))
}

fn assign(fields: &[Vec<Vec<(usize, usize)>>], chosen: &mut Vec<Vec<(usize, usize)>>) -> bool {
    let Some((first, rest)) = fields.split_first() else { return true };
    for t in first {
        if chosen.iter().all(|c| consistent(c, t)) {
            chosen.push(t.clone());
            if assign(rest, chosen) {
                return true;
            }
            chosen.pop();
        }
    }
    false
}

/// Whether `event` matches `pattern`.
pub fn matches(pattern: &Value, event: &Value) -> bool {
    branches(pattern.as_object().unwrap(), "").iter().any(|branch| {
        let mut options = Vec::new();
        for (path, conds) in branch {
            let found = leaves(event, path);
            let absent_ok = found.is_empty() && conds.iter().any(|c| c == &serde_json::json!({"exists": false}));
            let ok: Vec<Vec<(usize, usize)>> = found
                .iter()
                .filter(|(v, _)| conds.iter().any(|c| c != &serde_json::json!({"exists": false}) && accepts(c, v)))
                .map(|(_, t)| t.clone())
                .collect();
            if ok.is_empty() {
                if absent_ok {
                    continue;
                }
                return false;
            }
            options.push(ok);
        }
        assign(&options, &mut Vec::new())
    })
}
