//! §2.4 A3 + B1–B3: whether a baseline report's `evaluation_windows` would be accepted by
//! `invarlock run --baseline` as pairing evidence. Needs a fully parsed report (with `input_ids`).

use crate::pyjson::Value;
use std::collections::HashSet;

fn int_coercible(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(*i as i128),
        Value::Bool(b) => Some(*b as i128),
        Value::BigInt(s) => s.parse().ok(),
        Value::Float(f) if f.is_finite() => Some(f.trunc() as i128),
        Value::Str(s) => s.trim().replace('_', "").parse().ok(),
        _ => None,
    }
}

fn token_u32(v: &Value) -> u32 {
    int_coercible(v).map_or(0, |i| (i as i64 as u64 & 0xFFFF_FFFF) as u32)
}

struct Arm {
    ids: Vec<i128>,
    seqs: Vec<Vec<u32>>,
}

fn check_arm(name: &str, arm: Option<&Value>, id_offset: usize) -> Result<Arm, String> {
    let Some(Value::Object(arm)) = arm else {
        return Err("missing preview/final evaluation_windows sections".into());
    };
    let inputs = match arm.get("input_ids") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => {
            return Err(format!(
                "invalid {name} section: missing window_ids/input_ids"
            ))
        }
    };
    let n = inputs.len();
    let ids: Vec<i128> =
        match arm.get("window_ids") {
            None => (0..n).map(|k| (id_offset + k) as i128).collect(),
            Some(Value::Array(w)) => {
                if w.len() != n {
                    return Err(format!(
                        "{name} coherence error: len(window_ids)={} len(input_ids)={n}",
                        w.len()
                    ));
                }
                let mut out = Vec::with_capacity(n);
                for (k, id) in w.iter().enumerate() {
                    out.push(int_coercible(id).ok_or_else(|| {
                        format!("{name} window_ids contains non-int at index {k}")
                    })?);
                }
                out
            }
            Some(_) => {
                return Err(format!(
                    "invalid {name} section: missing window_ids/input_ids"
                ))
            }
        };
    let mut seqs = Vec::with_capacity(n);
    for (k, row) in inputs.iter().enumerate() {
        match row {
            Value::Array(t) if !t.is_empty() => {
                seqs.push(t.iter().map(token_u32).collect::<Vec<u32>>())
            }
            _ => return Err(format!("{name} input_ids empty at index {k}")),
        }
    }
    if let Some(Value::Array(masks)) = arm.get("attention_masks") {
        let wrapped;
        let masks: &Vec<Value> = if !masks.is_empty() && !matches!(masks[0], Value::Array(_)) {
            wrapped = vec![Value::Array(masks.clone())];
            &wrapped
        } else {
            masks
        };
        if masks.len() != n {
            return Err(format!(
                "{name} coherence error: len(attention_masks)={} len(input_ids)={n}",
                masks.len()
            ));
        }
        for (k, m) in masks.iter().enumerate() {
            let Value::Array(m) = m else {
                return Err(format!(
                    "{name} attention_masks row is not a list at index {k}"
                ));
            };
            if m.len() != seqs[k].len() {
                return Err(format!(
                    "{name} attention_masks length mismatch at index {k}"
                ));
            }
        }
    }
    if let Some(Value::Array(labels)) = arm.get("labels") {
        if !labels.is_empty() && labels.len() != n {
            return Err(format!("{name} labels length mismatch"));
        }
    }
    for key in ["masked_token_counts", "actual_token_counts"] {
        match arm.get(key) {
            None => {}
            Some(Value::Array(a)) if a.len() == n => {}
            Some(Value::Int(_)) if n == 1 => {}
            Some(_) => return Err(format!("{name} {key} length mismatch")),
        }
    }
    Ok(Arm { ids, seqs })
}

/// `Ok(())` when the windows are usable pairing evidence; otherwise InvarLock's reason text.
pub fn validate_baseline_windows(report: &Value) -> Result<(), String> {
    let Some(Value::Object(ew)) = report.get("evaluation_windows") else {
        return Err("baseline report missing or invalid evaluation_windows".into());
    };
    let preview = check_arm("preview", ew.get("preview"), 0)?;
    let final_ = check_arm("final", ew.get("final"), preview.seqs.len())?;
    for (name, arm) in [("preview", &preview), ("final", &final_)] {
        let mut seen = HashSet::new();
        if !arm.ids.iter().all(|id| seen.insert(*id)) {
            return Err(format!("duplicate window_ids detected in {name} arm"));
        }
    }
    let pids: HashSet<_> = preview.ids.iter().collect();
    if final_.ids.iter().any(|id| pids.contains(id)) {
        return Err("window_ids overlap between preview and final arms".into());
    }
    for (name, arm) in [("preview", &preview), ("final", &final_)] {
        let mut seen = HashSet::new();
        if !arm.seqs.iter().all(|s| seen.insert(s)) {
            return Err(format!("duplicate token sequences detected in {name} arm"));
        }
    }
    let pseqs: HashSet<_> = preview.seqs.iter().collect();
    if final_.seqs.iter().any(|s| pseqs.contains(s)) {
        return Err("preview/final token sequence overlap detected".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyjson::parse;

    fn doc(preview: &str, fin: &str) -> Value {
        parse(&format!(
            r#"{{"evaluation_windows": {{"preview": {preview}, "final": {fin}}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn well_formed_windows_are_pairing_evidence() {
        let d = doc(
            r#"{"window_ids": [0], "input_ids": [[1, 2]], "attention_masks": [[1, 1]]}"#,
            r#"{"window_ids": [1], "input_ids": [[3, 4]]}"#,
        );
        assert_eq!(validate_baseline_windows(&d), Ok(()));
    }

    #[test]
    fn missing_duplicate_and_overlapping_windows_are_rejected_with_invarlocks_reason() {
        let cases = [
            (
                doc(r#"{"input_ids": []}"#, r#"{"input_ids": [[1]]}"#),
                "invalid preview section",
            ),
            (
                doc(
                    r#"{"window_ids": [0, 0], "input_ids": [[1], [2]]}"#,
                    r#"{"window_ids": [5], "input_ids": [[3]]}"#,
                ),
                "duplicate window_ids detected in preview arm",
            ),
            (
                doc(
                    r#"{"window_ids": [0], "input_ids": [[1]]}"#,
                    r#"{"window_ids": [0], "input_ids": [[3]]}"#,
                ),
                "window_ids overlap",
            ),
            (
                doc(
                    r#"{"window_ids": [0], "input_ids": [[1]]}"#,
                    r#"{"window_ids": [1], "input_ids": [[1]]}"#,
                ),
                "token sequence overlap",
            ),
            (
                doc(
                    r#"{"window_ids": [0], "input_ids": [[1, 2]], "attention_masks": [[1]]}"#,
                    r#"{"input_ids": [[3]]}"#,
                ),
                "attention_masks length mismatch at index 0",
            ),
            (
                doc(
                    r#"{"window_ids": [0, 1], "input_ids": [[1]]}"#,
                    r#"{"input_ids": [[3]]}"#,
                ),
                "coherence error",
            ),
            (
                parse("{}").unwrap(),
                "missing or invalid evaluation_windows",
            ),
        ];
        for (d, want) in cases {
            let got = validate_baseline_windows(&d).unwrap_err();
            assert!(got.contains(want), "{got} !~ {want}");
        }
    }
}
