//! The metadata.json of an archive, read from its report.

use crate::domain::Sha256;
use crate::promote::archive::EvidenceFile;
use crate::promote::metadata::{FileEntry, Metadata, FORMAT, GENERATED_BY};
use crate::promote::name::PromotionName;
use crate::promote::PromoteError;
use crate::pyjson::Value;

pub(super) fn report_value(bytes: &[u8]) -> Result<Value, String> {
    let text = crate::pyjson::decode_utf8(bytes).map_err(|e| e.to_string())?;
    crate::pyjson::parse_with(
        text,
        crate::pyjson::ParseOptions {
            skip: crate::report::SKIPPED_PATHS,
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())
}

pub(super) fn text_at(v: &Value, path: &[&str]) -> Option<String> {
    v.pointer(path).and_then(Value::as_str).map(str::to_string)
}

impl crate::promote::Promoter {
    pub(super) fn baseline_metadata(
        &self,
        name: &PromotionName,
        id: &str,
        bytes: &[u8],
        profile: &str,
        token: Option<&str>,
    ) -> Result<Metadata, PromoteError> {
        let report = report_value(bytes).map_err(PromoteError::Internal)?;
        let files = [EvidenceFile {
            name: "report.json",
            bytes: bytes.to_vec(),
        }];
        Ok(describe(
            &report, name, "baseline", id, &files, profile, token,
        ))
    }
}

pub(super) fn report_bytes_for_name(files: &[EvidenceFile]) -> Vec<u8> {
    files
        .iter()
        .find(|f| f.name == "report.json")
        .map(|f| f.bytes.clone())
        .unwrap_or_default()
}

/// The metadata.json fields every archive has, read from its report; subject-only fields
/// (baseline, certificate, verdict, annotations) start empty.
pub(super) fn describe(
    report: &Value,
    name: &PromotionName,
    kind: &str,
    source_attempt: &str,
    files: &[EvidenceFile],
    profile: &str,
    token: Option<&str>,
) -> Metadata {
    Metadata {
        generated_by: GENERATED_BY.into(),
        format: FORMAT.into(),
        name: name.to_string(),
        kind: kind.into(),
        source_attempt: source_attempt.to_string(),
        files: files
            .iter()
            .map(|f| FileEntry {
                name: f.name.to_string(),
                sha256: Sha256::of(&f.bytes).hex(),
                size: f.bytes.len() as u64,
            })
            .collect(),
        report_hash: crate::report::report_hash(report),
        run_id: crate::report::run_id(report).unwrap_or_default(),
        baseline: None,
        certificate_run_id: None,
        seeds: report
            .pointer(&["meta", "seeds"])
            .map(Value::to_serde)
            .unwrap_or_default(),
        dataset_hash: text_at(report, &["data", "dataset_hash"]),
        preview_hash: text_at(report, &["data", "preview_hash"]),
        final_hash: text_at(report, &["data", "final_hash"]),
        tokenizer_hash: text_at(report, &["meta", "tokenizer_hash"])
            .or_else(|| text_at(report, &["data", "tokenizer_hash"])),
        ids_sha256: text_at(report, &["provenance", "provider_digest", "ids_sha256"]),
        policy_digest: None,
        profile: Some(profile.to_string()),
        verify: None,
        promoted_at: chrono::Utc::now(),
        token_name: token.map(str::to_string),
        annotations: serde_json::Value::Null,
    }
}
