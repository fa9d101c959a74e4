//! Run identity digests (§5.4): how a certificate names the reports it was built from.

use crate::pyjson::{dumps, py_repr, DumpStyle, Object, Value};
use sha2::{Digest, Sha256};

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Python `str(x)` for the scalar values that occur in `meta`; `None` for containers (whose
/// Python repr we do not reproduce; no real report has one there).
fn py_str(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Int(i) => i.to_string(),
        Value::BigInt(s) => s.clone(),
        Value::Float(f) => py_repr(*f),
        Value::Str(s) => s.clone(),
        Value::Array(_) | Value::Object(_) | Value::Skipped => return None,
    })
}

/// `run_id(report)` of a report used as is (the baseline side of a certificate).
pub fn run_id(report: &Value) -> Option<String> {
    let meta = report.get("meta");
    let field = |k: &str| meta.and_then(|m| m.get(k));
    if let Some(Value::Str(s)) = field("run_id") {
        if !s.is_empty() {
            return Some(s.clone());
        }
    }
    let ts = match (field("ts"), field("start_time")) {
        (Some(v), _) | (None, Some(v)) => py_str(v)?,
        (None, None) => String::new(),
    };
    let model = match field("model_id") {
        Some(v) => py_str(v)?,
        None => "unknown".to_string(),
    };
    let commit = match (field("commit"), field("commit_sha")) {
        (Some(v), _) | (None, Some(v)) => py_str(v)?,
        (None, None) => String::new(),
    };
    let commit: String = commit.chars().take(16).collect();
    let s = format!("{ts}{model}{commit}");
    Some(sha256_hex(s.as_bytes())[..16].to_string())
}

/// `report_hash(report)`: sha256 over J1 of a few identity fields, first 16 hex digits.
pub fn report_hash(report: &Value) -> String {
    let pick = |path: &[&str]| report.pointer(path).cloned().unwrap_or(Value::Null);
    let obj = |pairs: Vec<(&str, Value)>| {
        Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Object>(),
        )
    };
    let payload = obj(vec![
        (
            "meta",
            obj(vec![
                ("model_id", pick(&["meta", "model_id"])),
                ("adapter", pick(&["meta", "adapter"])),
                ("commit", pick(&["meta", "commit"])),
                ("ts", pick(&["meta", "ts"])),
            ]),
        ),
        (
            "edit",
            obj(vec![
                ("name", pick(&["edit", "name"])),
                ("plan_digest", pick(&["edit", "plan_digest"])),
            ]),
        ),
        (
            "metrics",
            obj(vec![
                (
                    "spectral_caps",
                    pick(&["metrics", "spectral", "caps_applied"]),
                ),
                ("rmt_outliers", pick(&["metrics", "rmt", "outliers"])),
            ]),
        ),
    ]);
    sha256_hex(dumps(&payload, DumpStyle::J1).as_bytes())[..16].to_string()
}

/// `(run_id, report_hash)` of a report used as the *subject* of a certificate: InvarLock first
/// drops `meta.run_id` and turns `model_id`/`commit` into `str(value)`. `None` when the subject
/// digests depend on the wall clock (no `meta.ts`), i.e. can never be matched.
pub fn subject_digests(report: &Value) -> Option<(String, String)> {
    // Only the fields the two digests read are copied: the report can be large.
    let pick = |path: &[&str]| report.pointer(path).cloned();
    let mut meta = Object::new();
    for key in ["ts", "start_time", "adapter", "commit_sha"] {
        if let Some(v) = pick(&["meta", key]) {
            meta.insert(key.to_string(), v);
        }
    }
    for key in ["model_id", "commit"] {
        let s = match report.pointer(&["meta", key]) {
            Some(v) => py_str(v)?,
            None => "None".to_string(),
        };
        meta.insert(key.to_string(), Value::Str(s));
    }
    match meta.get("ts") {
        Some(v) if v.truthy() => {}
        _ => return None,
    }
    let mut edit = Object::new();
    for key in ["name", "plan_digest"] {
        if let Some(v) = pick(&["edit", key]) {
            edit.insert(key.to_string(), v);
        }
    }
    let sub = |k: &str, leaf: &str| {
        let mut o = Object::new();
        if let Some(v) = pick(&["metrics", k, leaf]) {
            o.insert(leaf.to_string(), v);
        }
        Value::Object(o)
    };
    let mut metrics = Object::new();
    metrics.insert("spectral".into(), sub("spectral", "caps_applied"));
    metrics.insert("rmt".into(), sub("rmt", "outliers"));
    let mut top = Object::new();
    top.insert("meta".into(), Value::Object(meta));
    top.insert("edit".into(), Value::Object(edit));
    top.insert("metrics".into(), Value::Object(metrics));
    let r = Value::Object(top);
    Some((run_id(&r)?, report_hash(&r)))
}

/// A digest of a logloss vector, so that "exactly equal losses" (§1.5 baseline fingerprint)
/// becomes an indexed string comparison. Hashes each number's type and bit pattern (equal
/// parsed values ⇔ equal Python reprs), which is much cheaper than serialising them.
pub fn logloss_fingerprint(v: &Value) -> Option<String> {
    let Value::Array(a) = v else { return None };
    if a.is_empty() {
        return None;
    }
    let mut h = Sha256::new();
    for x in a {
        match x {
            Value::Float(f) => {
                h.update(b"f");
                h.update(f.to_bits().to_le_bytes());
            }
            Value::Int(i) => {
                h.update(b"i");
                h.update(i.to_le_bytes());
            }
            other => {
                h.update(b"j");
                h.update(dumps(other, DumpStyle::J1).as_bytes());
                h.update(b"\0");
            }
        }
    }
    Some(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyjson::parse;

    #[test]
    fn run_id_is_sha256_of_ts_model_and_short_commit() {
        let r = parse(r#"{"meta": {"ts": "T", "model_id": "m", "commit": "0123456789abcdefXYZ"}}"#)
            .unwrap();
        let expect = sha256_hex(b"Tm0123456789abcdef")[..16].to_string();
        assert_eq!(run_id(&r).unwrap(), expect);
    }

    #[test]
    fn run_id_uses_explicit_meta_run_id_and_python_str_of_none() {
        let r = parse(r#"{"meta": {"run_id": "abcd"}}"#).unwrap();
        assert_eq!(run_id(&r).unwrap(), "abcd");
        let r = parse(r#"{"meta": {"ts": null}}"#).unwrap();
        assert_eq!(run_id(&r).unwrap(), sha256_hex(b"Noneunknown")[..16]);
    }

    #[test]
    fn report_hash_treats_missing_fields_as_null() {
        let r = parse("{}").unwrap();
        let j1 = r#"{"edit": {"name": null, "plan_digest": null}, "meta": {"adapter": null, "commit": null, "model_id": null, "ts": null}, "metrics": {"rmt_outliers": null, "spectral_caps": null}}"#;
        assert_eq!(report_hash(&r), sha256_hex(j1.as_bytes())[..16]);
    }

    #[test]
    fn subject_digests_equal_raw_digests_for_string_fields() {
        let r = parse(r#"{"meta": {"ts": "T", "model_id": "m", "commit": "", "adapter": "a"}, "edit": {"name": "noop"}}"#).unwrap();
        assert_eq!(
            subject_digests(&r).unwrap(),
            (run_id(&r).unwrap(), report_hash(&r))
        );
        let no_ts = parse(r#"{"meta": {"model_id": "m"}}"#).unwrap();
        assert!(subject_digests(&no_ts).is_none());
    }
}
