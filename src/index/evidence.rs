//! Evidence in reports/<name>/ and reports_*/: files with sha256, report copies with their §5.4
//! digests, certificates with their linkage fields. Directories without invarlockd's own
//! metadata.json are origin `external`.

use super::walk::Fence;
use crate::pyjson::{decode_utf8, parse, Value};
use crate::report::{logloss_fingerprint, parse_report_value, report_hash, run_id};
use crate::storage::evidence::{CertificateRow, EvidenceDirRow, EvidenceFileRow};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

pub struct ScannedDir {
    pub dir: EvidenceDirRow,
    /// Every file of the directory (relative workspace path), changed or not.
    pub all_files: Vec<String>,
    /// Files that are new or changed, fully read.
    pub changed: Vec<EvidenceFileRow>,
    pub certificates: Vec<CertificateRow>,
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

/// The evidence directories: each child dir of reports/, and each reports_*/ of the root.
pub fn evidence_dirs(root: &Path, reports: &Path, fence: &Fence) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let is_dir = |p: &Path| match std::fs::symlink_metadata(p) {
        Ok(m) if m.file_type().is_symlink() => fence.resolve(p).is_some_and(|t| t.is_dir()),
        Ok(m) => m.is_dir(),
        Err(_) => false,
    };
    if let Ok(rd) = std::fs::read_dir(reports) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // An InvarLock 0.13+ evidence pack is another product's layout: never read as
            // certificates (its reports/evaluation.report.json is a comparison-report-v3).
            if !name.starts_with('.')
                && is_dir(&e.path())
                && !super::walk::is_evidence_pack(&e.path())
            {
                out.push(e.path());
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(root) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("reports_") && is_dir(&e.path()) {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn list_files(dir: &Path, out: &mut Vec<(PathBuf, std::fs::Metadata)>, depth: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(md) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if md.is_dir() && depth < 16 {
            list_files(&e.path(), out, depth + 1);
        } else if md.is_file() {
            out.push((e.path(), md));
        }
    }
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

/// A regular file of at most `limit` bytes, read without following a symlink or blocking on a
/// FIFO put in its place (opened non-blocking, type checked on the open descriptor).
pub fn read_small_file(path: &Path, limit: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let md = f.metadata().ok()?;
    if !md.is_file() || md.len() > limit {
        return None;
    }
    let mut out = Vec::new();
    f.take(limit + 1).read_to_end(&mut out).ok()?;
    (out.len() as u64 <= limit).then_some(out)
}

/// The certificate paths the tool's own `manifest.json` names: `files.certificate_json`
/// (0.3.4–0.3.7) or `files.evaluation_report_json` (0.3.8+), relative to the workspace as the
/// tool wrote them.
fn manifest_certificates(dir: &Path) -> Vec<String> {
    let Some(v) = read_small_file(&dir.join("manifest.json"), 1 << 20)
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
pub fn scan_dir(root: &Path, dir: &Path, stamps: &HashMap<String, (i64, i64)>) -> ScannedDir {
    let dir_rel = rel(root, dir);
    let mut files = Vec::new();
    list_files(dir, &mut files, 0);
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut origin = "external";
    let mut metadata = None;
    if let Ok(bytes) = std::fs::read(dir.join("metadata.json")) {
        if let Some(v) = decode_utf8(&bytes).ok().and_then(|t| parse(t).ok()) {
            if v.get("generated_by").and_then(Value::as_str) == Some("invarlockd") {
                origin = "invarlockd";
            }
            metadata = Some(v.to_serde().to_string());
        }
    }
    let manifest_certs = manifest_certificates(dir);
    let mut out = ScannedDir {
        dir: EvidenceDirRow {
            path: dir_rel.clone(),
            origin: origin.into(),
            metadata,
        },
        all_files: Vec::new(),
        changed: Vec::new(),
        certificates: Vec::new(),
    };
    for (path, md) in files {
        let p = rel(root, &path);
        let size = md.len() as i64;
        let mtime = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        out.all_files.push(p.clone());
        if stamps.get(&p) == Some(&(size, mtime)) {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let sha = hex::encode(Sha256::digest(&bytes));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut row = EvidenceFileRow {
            path: p.clone(),
            dir: dir_rel.clone(),
            size: bytes.len() as i64,
            mtime_ns: mtime,
            sha256: Some(sha.clone()),
            ..Default::default()
        };
        // 0.3.8+ name the certificate `evaluation.report.json`: a certificate, not a run report.
        let is_certificate = name.ends_with(".cert.json")
            || name == "evaluation.report.json"
            || manifest_certs.contains(&p);
        if is_certificate {
            out.certificates.push(certificate(
                p.clone(),
                dir_rel.clone(),
                bytes.len() as i64,
                mtime,
                sha,
                &bytes,
            ));
        } else if name.ends_with("report.json") {
            if let Ok(v) = parse_report_value(&bytes) {
                row.run_id = run_id(&v);
                row.report_hash = Some(report_hash(&v));
                row.final_logloss_fp = v
                    .pointer(&["evaluation_windows", "final", "logloss"])
                    .and_then(logloss_fingerprint);
            }
        }
        out.changed.push(row);
    }
    out
}
