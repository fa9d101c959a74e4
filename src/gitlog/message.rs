//! The commit message is the change-log entry: a subject line a person reads in `git log
//! --oneline`, and trailers (`git interpret-trailers --parse`) a machine reads back.

use crate::promote::metadata::Metadata;

/// Trailer keys written by invarlockd; the change log reads these back.
pub mod keys {
    pub const ARCHIVE: &str = "Invarlock-Archive";
    pub const KIND: &str = "Invarlock-Kind";
    pub const ATTEMPT: &str = "Invarlock-Attempt";
    pub const RUN_ID: &str = "Invarlock-Run-Id";
    pub const REPORT_HASH: &str = "Invarlock-Report-Hash";
    pub const BASELINE: &str = "Invarlock-Baseline";
    pub const BASELINE_ATTEMPT: &str = "Invarlock-Baseline-Attempt";
    pub const BASELINE_RUN_ID: &str = "Invarlock-Baseline-Run-Id";
    pub const BASELINE_REPORT_HASH: &str = "Invarlock-Baseline-Report-Hash";
    pub const BASELINE_ARCHIVED: &str = "Invarlock-Baseline-Archived";
    pub const CERTIFICATE_SHA256: &str = "Invarlock-Certificate-Sha256";
    pub const PROFILE: &str = "Invarlock-Profile";
    pub const VERDICT: &str = "Invarlock-Verdict";
    pub const PROMOTED_AT: &str = "Invarlock-Promoted-At";
    pub const TOKEN: &str = "Invarlock-Token";
}

/// One archive of the promotion with its metadata.json.
pub struct Archived {
    pub name: String,
    pub meta: Metadata,
}

/// Trailer values are one line of printable text.
fn clean(v: &str) -> String {
    v.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn verdict(meta: &Metadata) -> &'static str {
    match &meta.verify {
        // A subject is promoted only when its certificate verifies: exit code 0.
        Some(v) if v.get("exit_code").and_then(|c| c.as_i64()) == Some(0) => "PASS",
        Some(_) => "FAIL",
        // A baseline has no certificate; it was promoted because its attempt is `pass`.
        None => "PASS",
    }
}

/// The message of the commit adding `archives` (the subject, then or alone its baseline).
pub fn build(archives: &[Archived]) -> String {
    let main = archives
        .iter()
        .find(|a| a.meta.kind == "subject")
        .or_else(|| archives.first())
        .expect("a promotion archives at least one directory");
    let m = &main.meta;
    let profile = m.profile.clone().unwrap_or_else(|| "dev".into());
    let archived_base = m
        .baseline
        .as_ref()
        .and_then(|b| archives.iter().find(|a| a.name == b.name));
    let subject_line = match &m.baseline {
        Some(b) => {
            let target = b
                .source_attempt
                .clone()
                .or_else(|| archived_base.map(|a| a.meta.source_attempt.clone()))
                .unwrap_or_else(|| format!("reports/{}", b.name));
            format!(
                "promote {}: {} → {} ({profile}, {})",
                main.name,
                m.source_attempt,
                target,
                verdict(m)
            )
        }
        None => format!(
            "promote {}: {} ({}, {profile}, {})",
            main.name,
            m.source_attempt,
            m.kind,
            verdict(m)
        ),
    };
    let mut body = String::new();
    let dirs: Vec<String> = archives
        .iter()
        .map(|a| format!("reports/{}/ ({})", a.name, a.meta.kind))
        .collect();
    body.push_str(&format!("Archived by invarlockd: {}.\n", dirs.join(", ")));

    let mut t: Vec<(&str, String)> = Vec::new();
    for a in archives {
        t.push((keys::ARCHIVE, a.name.clone()));
    }
    t.push((keys::KIND, m.kind.clone()));
    t.push((keys::ATTEMPT, m.source_attempt.clone()));
    t.push((keys::RUN_ID, m.run_id.clone()));
    t.push((keys::REPORT_HASH, m.report_hash.clone()));
    if let Some(b) = &m.baseline {
        t.push((keys::BASELINE, b.name.clone()));
        if let Some(src) = b
            .source_attempt
            .clone()
            .or_else(|| archived_base.map(|a| a.meta.source_attempt.clone()))
        {
            t.push((keys::BASELINE_ATTEMPT, src));
        }
        t.push((keys::BASELINE_RUN_ID, b.run_id.clone()));
        t.push((keys::BASELINE_REPORT_HASH, b.report_hash.clone()));
        if archived_base.is_some() {
            t.push((keys::BASELINE_ARCHIVED, b.name.clone()));
        }
    }
    if let Some(cert) = m.files.iter().find(|f| f.name == "evaluation.cert.json") {
        t.push((keys::CERTIFICATE_SHA256, cert.sha256.clone()));
    }
    t.push((keys::PROFILE, profile));
    t.push((keys::VERDICT, verdict(m).into()));
    t.push((
        keys::PROMOTED_AT,
        m.promoted_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ));
    if let Some(tok) = &m.token_name {
        t.push((keys::TOKEN, tok.clone()));
    }
    let trailers: Vec<String> = t
        .into_iter()
        .filter(|(_, v)| !clean(v).is_empty())
        .map(|(k, v)| format!("{k}: {}", clean(&v)))
        .collect();
    format!(
        "{}\n\n{body}\n{}\n",
        clean(&subject_line),
        trailers.join("\n")
    )
}

/// `Key: value` lines of a trailer block (as `%(trailers:only,unfold)` prints them).
pub fn parse_trailers(block: &str) -> Vec<(String, String)> {
    block
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            let k = k.trim();
            (!k.is_empty() && !k.contains(' ')).then(|| (k.to_string(), v.trim().to_string()))
        })
        .collect()
}
