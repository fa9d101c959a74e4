//! The verify module's verdict on one certificate, as promotion records it.

/// A compact verdict: `ok` is `invarlock verify` exit 0 in the given profile.
pub struct Verdict {
    pub ok: bool,
    pub errors: Vec<String>,
    /// What metadata.json records: exit code, summary and the per-certificate result.
    pub summary: serde_json::Value,
}

/// `release`: the InvarLock release whose `verify` decides (the one that wrote the run).
pub fn verify(bytes: &[u8], id: &str, profile: &str, release: crate::verify::Release) -> Verdict {
    let out = crate::verify::verify_documents(
        &[crate::verify::Input {
            id: id.to_string(),
            bytes: Ok(bytes.to_vec()),
        }],
        &crate::verify::Options {
            profile: profile.to_string(),
            tolerance: 1e-9,
            baseline: None,
            json: true,
            release,
        },
    );
    let envelope: serde_json::Value = out
        .envelope_json
        .as_deref()
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default();
    let errors = out.per_cert.iter().flat_map(|c| c.errors.clone()).collect();
    Verdict {
        ok: out.exit_code == 0,
        errors,
        summary: serde_json::json!({
            "profile": profile,
            "invarlock_version": release,
            "exit_code": out.exit_code,
            "summary": envelope.get("summary"),
            "error": envelope.get("error"),
        }),
    }
}
