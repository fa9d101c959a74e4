//! The convenience copy `runs/<nickname>/report.json` = the latest `pass` attempt's report,
//! replaced atomically (temp file + rename). Only files invarlockd wrote are ever removed.

use super::walk::TMP_PREFIX;
use super::IndexError;
use crate::storage::runs::{self, CopyRow};
use crate::storage::Storage;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::UNIX_EPOCH;

fn stamp(p: &Path) -> Option<(i64, i64)> {
    let md = std::fs::symlink_metadata(p).ok()?;
    if !md.is_file() {
        return None;
    }
    let m = md
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_nanos() as i64;
    Some((md.len() as i64, m))
}

pub async fn maintain(
    store: &Storage,
    runs_root: &Path,
    only: Option<&BTreeSet<String>>,
) -> Result<(), IndexError> {
    let latest = match only {
        None => runs::latest_passes(store.writer()).await?,
        Some(nicks) => {
            let mut v = Vec::new();
            for n in nicks {
                v.extend(runs::latest_pass_of(store.writer(), n).await?);
            }
            v
        }
    };
    let copies: HashMap<String, CopyRow> = runs::copies(store.writer())
        .await?
        .into_iter()
        .map(|c| (c.nickname.clone(), c))
        .collect();
    let wanted: HashMap<&str, _> = latest
        .iter()
        .map(|(n, id, dir, sha)| (n.as_str(), (id, dir, sha)))
        .collect();
    let relevant = |n: &str| only.is_none_or(|o| o.contains(n));
    for (nick, (id, dir, sha)) in &wanted {
        if !relevant(nick) {
            continue;
        }
        let target = runs_root.join(nick).join("report.json");
        if let Some(c) = copies.get(*nick) {
            if &c.sha256 == *sha && stamp(&target) == Some((c.size, c.mtime_ns)) {
                continue;
            }
        }
        let src = Path::new(dir.as_str()).join("report.json");
        let (target2, nick2) = (target.clone(), nick.to_string());
        let written =
            tokio::task::spawn_blocking(move || -> std::io::Result<Option<(i64, i64)>> {
                // Kernel-side copy, then an atomic rename: readers see the old or the new
                // file, never a partial one. No fsync: after a crash the next scan sees a stamp
                // mismatch and rewrites the copy.
                let tmp = target2.with_file_name(format!("{TMP_PREFIX}-report.json"));
                std::fs::copy(&src, &tmp)?;
                std::fs::rename(&tmp, &target2)?;
                Ok(stamp(&target2))
            })
            .await?;
        match written {
            Ok(Some((size, mtime_ns))) => {
                runs::set_copy(
                    store.writer(),
                    &CopyRow {
                        nickname: nick2,
                        source_attempt: id.to_string(),
                        sha256: sha.to_string(),
                        size,
                        mtime_ns,
                    },
                )
                .await?
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(nickname = %nick, error = %e, "cannot write the convenience copy")
            }
        }
    }
    for (nick, c) in &copies {
        if wanted.contains_key(nick.as_str()) || !relevant(nick) {
            continue;
        }
        let target = runs_root.join(nick).join("report.json");
        if stamp(&target) == Some((c.size, c.mtime_ns)) {
            let _ = std::fs::remove_file(&target);
        }
        runs::remove_copy(store.writer(), nick).await?;
    }
    Ok(())
}
