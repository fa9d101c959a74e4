//! SQLite: per-nickname summaries and convenience copies. The queries are in
//! `storage/runs.rs` (a page of `/v1/runs` is one query); these are the operations over them.

use crate::storage::runs::{self, CopyRow, RunRow};

/// (nickname, attempt id, attempt dir, report sha256).
type LatestPass = (String, String, String, String);
use crate::storage::StorageError;

impl super::Index {
    pub async fn runs_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<RunRow>, Option<String>), StorageError> {
        runs::list(&self.reader, after, limit).await
    }

    pub async fn run(&self, nickname: &str) -> Result<Option<RunRow>, StorageError> {
        runs::get(&self.reader, nickname).await
    }

    /// The latest `pass` attempt of every nickname (or of `nicknames`), for convenience copies.
    pub async fn latest_passes(
        &self,
        nicknames: Option<&[String]>,
    ) -> Result<Vec<LatestPass>, StorageError> {
        match nicknames {
            None => runs::latest_passes(&self.writer).await,
            Some(nicks) => {
                let mut v = Vec::new();
                for n in nicks {
                    v.extend(runs::latest_pass_of(&self.writer, n).await?);
                }
                Ok(v)
            }
        }
    }

    pub async fn convenience_copies(&self) -> Result<Vec<CopyRow>, StorageError> {
        runs::copies(&self.writer).await
    }

    /// Records the convenience copies written and removed (each row on its own: a copy on
    /// disk without its row is only rewritten once more).
    pub async fn record_copies(
        &self,
        written: &[CopyRow],
        removed: &[String],
    ) -> Result<(), StorageError> {
        for row in written {
            runs::set_copy(&self.writer, row).await?;
        }
        for nick in removed {
            runs::remove_copy(&self.writer, nick).await?;
        }
        Ok(())
    }
}
