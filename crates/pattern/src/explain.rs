//! Why an event does not match a pattern, in one line a person understands.

use crate::event::{self, EventError, Leaf, LeafValue, PathSet};
use crate::matcher::{FieldOutcome, consistent, field_outcome};
use crate::pattern::{Condition, Pattern};

fn show(value: &LeafValue<'_>) -> String {
    match value {
        LeafValue::Str(s) => format!("{s:?}"),
        LeafValue::Num(_, t) => (*t).to_string(),
        LeafValue::Bool(b) => b.to_string(),
        LeafValue::Null => "null".into(),
    }
}

fn conditions(c: &[Condition]) -> String {
    let parts: Vec<String> = c.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}

fn values(ids: &[usize], leaves: &[Leaf<'_>]) -> String {
    let shown: Vec<String> = ids.iter().take(5).map(|&i| show(&leaves[i].value)).collect();
    let more = if ids.len() > 5 { format!(" and {} more", ids.len() - 5) } else { String::new() };
    if ids.len() == 1 { shown[0].clone() } else { format!("[{}]{more}", shown.join(", ")) }
}

/// Explains a non-match: `None` when the event matches, otherwise the first field (in path
/// order) that fails and why. With `$or`, the branch that came closest is explained.
///
/// # Errors
///
/// The event is not a JSON object.
pub fn explain(pattern: &Pattern, event: &[u8]) -> Result<Option<String>, EventError> {
    let json = event::parse_event(event)?;
    let mut paths = PathSet::default();
    for branch in &pattern.branches {
        for field in branch {
            paths.add(&field.path);
        }
    }
    let leaves = event::flatten(&json, &paths);
    let mut best: Option<(usize, String)> = None;
    for branch in &pattern.branches {
        let mut passed = 0;
        let mut reason = None;
        let mut candidates = Vec::new();
        let mut names = Vec::new();
        for field in branch {
            let path = paths.get(&field.path).expect("registered above");
            let why = match field_outcome(&field.conditions, path, &leaves) {
                FieldOutcome::Leaves(l) => {
                    candidates.push(l);
                    names.push(field.path.clone());
                    passed += 1;
                    continue;
                }
                FieldOutcome::Absent => {
                    passed += 1;
                    continue;
                }
                FieldOutcome::Missing => format!(
                    "{}: field is missing from the event (the pattern wants {})",
                    field.path,
                    conditions(&field.conditions)
                ),
                FieldOutcome::Present(ids) => format!(
                    "{}: field is present ({}) but the pattern requires it to be absent",
                    field.path,
                    values(&ids, &leaves)
                ),
                FieldOutcome::Rejected(ids) => {
                    let numeric = field.conditions.iter().all(|c| matches!(c, Condition::Numeric(..)));
                    let all_numbers = ids.iter().all(|&i| matches!(leaves[i].value, LeafValue::Num(..)));
                    if numeric && all_numbers {
                        format!(
                            "{}: {} is outside the numeric range {}",
                            field.path,
                            values(&ids, &leaves),
                            conditions(&field.conditions)
                        )
                    } else if numeric {
                        format!(
                            "{}: {} is not a JSON number, so {} cannot match it",
                            field.path,
                            values(&ids, &leaves),
                            conditions(&field.conditions)
                        )
                    } else {
                        format!(
                            "{}: value {} does not match {}",
                            field.path,
                            values(&ids, &leaves),
                            conditions(&field.conditions)
                        )
                    }
                }
            };
            reason.get_or_insert(why);
        }
        let reason = match reason {
            Some(r) => r,
            None if candidates.len() < 2 || consistent(&mut candidates.clone(), &leaves) => return Ok(None),
            None => format!(
                "{} each match, but in different elements of the same array (array consistency)",
                names.join(", ")
            ),
        };
        if best.as_ref().is_none_or(|(p, _)| passed > *p) {
            best = Some((passed, reason));
        }
    }
    let (_, reason) = best.expect("a pattern has at least one branch");
    Ok(Some(if pattern.branches.len() > 1 {
        format!("none of the {} $or alternatives matches; closest: {reason}", pattern.branches.len())
    } else {
        reason
    }))
}
