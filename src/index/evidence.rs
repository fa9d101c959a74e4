//! Evidence in reports/<name>/ and reports_*/: files with sha256, report copies with their §5.4
//! digests, certificates with their linkage fields. Directories without invarlockd's own
//! metadata.json are origin `external`.

use crate::fsx::{Dir, EntryKind, FileKind, FsError, Limits, Stat};
use crate::pyjson::{decode_utf8, parse, Value};
use crate::report::{logloss_fingerprint, parse_report_value, report_hash, run_id};
use crate::storage::evidence::{CertificateRow, EvidenceDirRow, EvidenceFileRow, ScannedDir};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The evidence directories, each with its workspace-relative name: each child directory of
/// reports/ (`reports_label` names reports/ itself), and each reports_*/ of the root. Symlinks
/// are never followed; a listing error is returned, never read as "no evidence".
pub fn evidence_dirs(
    root: &Dir,
    reports: &Dir,
    reports_label: &str,
) -> Result<Vec<(String, Dir)>, FsError> {
    let mut out = Vec::new();
    let mut add = |parent: &Dir, name: &str, label: String| -> Result<(), FsError> {
        match parent.open_dir(name) {
            Ok(d) => out.push((label, d)),
            Err(e) if e.is_not_found() || e.is_refusal() => {}
            Err(e) => return Err(e),
        }
        Ok(())
    };
    for e in reports.entries()? {
        let Some(name) = e.name_str() else { continue };
        if !name.starts_with('.') && e.stat.kind == EntryKind::Dir {
            // An InvarLock 0.13+ evidence pack is another product's layout: never read as
            // certificates (its reports/evaluation.report.json is a comparison-report-v3).
            if matches!(reports.open_dir(name), Ok(d) if super::walk::is_evidence_pack(&d)) {
                continue;
            }
            add(reports, name, format!("{reports_label}/{name}"))?;
        }
    }
    for e in root.entries()? {
        let Some(name) = e.name_str() else { continue };
        if name.starts_with("reports_") && e.stat.kind == EntryKind::Dir {
            add(root, name, name.to_string())?;
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Every regular file below `dir` (relative names), walked by handle.
fn list_files(
    dir: &Dir,
    prefix: &str,
    out: &mut Vec<(String, Stat)>,
    depth: usize,
) -> Result<(), FsError> {
    for e in dir.entries()? {
        let Some(name) = e.name_str() else { continue };
        let rel = format!("{prefix}{name}");
        match e.stat.kind {
            EntryKind::Dir if depth < 16 => match dir.open_dir(name) {
                Ok(sub) => list_files(&sub, &format!("{rel}/"), out, depth + 1)?,
                Err(err) if err.is_not_found() || err.is_refusal() => {}
                Err(err) => return Err(err),
            },
            EntryKind::File => out.push((rel, e.stat)),
            _ => {}
        }
    }
    Ok(())
}

fn certificate(
    path: String,
    dir: String,
    size: i64,
    mtime_ns: i64,
    sha256: String,
    bytes: &[u8],
) -> CertificateRow {
    let mut c = CertificateRow {
        path,
        dir,
        size,
        mtime_ns,
        sha256,
        ..Default::default()
    };
    let v = match decode_utf8(bytes)
        .map_err(|e| format!("{e:?}"))
        .and_then(|t| parse(t).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            c.parse_error = Some(e);
            return c;
        }
    };
    let s = |p: &[&str]| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    c.run_id = s(&["run_id"]);
    c.edited_run_id = s(&["provenance", "edited", "run_id"]).or_else(|| c.run_id.clone());
    c.edited_report_hash = s(&["provenance", "edited", "report_hash"]);
    c.baseline_run_id =
        s(&["baseline_ref", "run_id"]).or_else(|| s(&["provenance", "baseline", "run_id"]));
    c.baseline_report_hash = s(&["provenance", "baseline", "report_hash"]);
    c.validation = v.get("validation").map(|x| x.to_serde().to_string());
    c.policy_digest =
        s(&["auto", "policy_digest"]).or_else(|| s(&["policy_provenance", "policy_digest"]));
    c
}

/// The certificate paths the tool's own `manifest.json` names: `files.certificate_json`
/// (0.3.4–0.3.7) or `files.evaluation_report_json` (0.3.8+), relative to the workspace as the
/// tool wrote them.
fn manifest_certificates(dir: &Dir, limits: &Limits) -> Vec<String> {
    let Some(v) = dir
        .read("manifest.json", FileKind::Metadata, limits)
        .ok()
        .and_then(|b| decode_utf8(&b).ok().and_then(|t| parse(t).ok()))
    else {
        return Vec::new();
    };
    ["certificate_json", "evaluation_report_json"]
        .iter()
        .filter_map(|k| v.pointer(&["files", k]).and_then(Value::as_str))
        .map(|p| p.trim_start_matches("./").to_string())
        .collect()
}

/// Reads one evidence directory; files whose (size, mtime) match `stamps` are not re-read.
/// A file that is refused (swapped for a symlink or FIFO, over its cap) is listed but not
/// read; an I/O error is returned so the scan stops with the index as it was.
pub fn scan_dir(
    dir_rel: &str,
    dir: &Dir,
    stamps: &HashMap<String, (i64, i64)>,
    limits: &Limits,
) -> Result<ScannedDir, FsError> {
    let mut files = Vec::new();
    list_files(dir, "", &mut files, 0)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut origin = "external";
    let mut metadata = None;
    match dir.read("metadata.json", FileKind::Metadata, limits) {
        Ok(bytes) => {
            if let Some(v) = decode_utf8(&bytes).ok().and_then(|t| parse(t).ok()) {
                if v.get("generated_by").and_then(Value::as_str) == Some("invarlockd") {
                    origin = "invarlockd";
                }
                metadata = Some(v.to_serde().to_string());
            }
        }
        Err(e) if e.is_not_found() || e.is_refusal() => {}
        Err(e) => return Err(e),
    }
    let manifest_certs = manifest_certificates(dir, limits);
    let mut out = ScannedDir {
        dir: EvidenceDirRow {
            workspace: String::new(),
            path: dir_rel.to_string(),
            origin: origin.into(),
            metadata,
        },
        all_files: Vec::new(),
        changed: Vec::new(),
        certificates: Vec::new(),
    };
    for (name, stat) in files {
        let p = format!("{dir_rel}/{name}");
        let (size, mtime) = (stat.size as i64, stat.mtime_ns);
        out.all_files.push(p.clone());
        if stamps.get(&p) == Some(&(size, mtime)) {
            continue;
        }
        let base = name.rsplit('/').next().unwrap_or(&name);
        // 0.3.8+ name the certificate `evaluation.report.json`: a certificate, not a run
        // report; so is any file the tool's manifest.json names as its certificate.
        let kind = if base.ends_with(".cert.json")
            || base == "evaluation.report.json"
            || manifest_certs.contains(&p)
        {
            FileKind::Certificate
        } else if base.ends_with("report.json") {
            FileKind::Report
        } else {
            FileKind::Other
        };
        let opened = match dir.open_file(&name, kind, limits) {
            Ok(f) => f,
            Err(e) if e.is_not_found() || e.is_refusal() => continue,
            Err(e) => return Err(e),
        };
        // Reports and certificates are parsed, so they are read whole (within their cap);
        // anything else is hashed as a stream.
        let (bytes, sha, len) = if kind == FileKind::Other {
            match opened.sha256() {
                Ok((sha, len)) => (None, sha, len),
                Err(e) if e.is_refusal() => continue,
                Err(e) => return Err(e),
            }
        } else {
            match opened.read_all() {
                Ok(b) => {
                    let sha = hex::encode(Sha256::digest(&b));
                    let len = b.len() as u64;
                    (Some(b), sha, len)
                }
                Err(e) if e.is_refusal() => continue,
                Err(e) => return Err(e),
            }
        };
        let mut row = EvidenceFileRow {
            path: p.clone(),
            dir: dir_rel.to_string(),
            size: len as i64,
            mtime_ns: mtime,
            sha256: Some(sha.clone()),
            ..Default::default()
        };
        match (kind, &bytes) {
            (FileKind::Report, Some(bytes)) => {
                if let Ok(v) = parse_report_value(bytes) {
                    row.run_id = run_id(&v);
                    row.report_hash = Some(report_hash(&v));
                    row.final_logloss_fp = v
                        .pointer(&["evaluation_windows", "final", "logloss"])
                        .and_then(logloss_fingerprint);
                }
            }
            (FileKind::Certificate, Some(bytes)) => {
                out.certificates.push(certificate(
                    p.clone(),
                    dir_rel.to_string(),
                    len as i64,
                    mtime,
                    sha,
                    bytes,
                ));
            }
            _ => {}
        }
        out.changed.push(row);
    }
    Ok(out)
}
