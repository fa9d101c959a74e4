//! PostgreSQL: reads over several workspaces. Each workspace's index is its own schema; a read
//! scoped to all of them asks each (in registry order) for a page and merges the pages by the
//! listing's key, which ends in the workspace id, so a row is never skipped or repeated across
//! pages even when two workspaces hold the same key.

use super::reads::{self, Ws};
use super::Index;
use crate::storage::attempts::AttemptPageJson;
use crate::storage::attempts::{
    AttemptFilter, AttemptKey, AttemptRow, AttemptSummaryRow, FileRow, HistoryRow, UnrecognizedRow,
};
use crate::storage::evidence::EvidenceDirRow;
use crate::storage::mappings::MappingRow;
use crate::storage::runs::RunRow;
use crate::storage::workspace::ListKey;
use crate::storage::{split_page, StatusCounts, StorageError};
use futures::future::try_join_all;

impl Index {
    /// The workspaces in `scope` (None: all), from the registry, by id.
    async fn scope(&self, scope: Option<&str>) -> Result<Vec<Ws>, StorageError> {
        if scope == Some(self.own.as_str()) {
            return Ok(vec![self.own_ws()]);
        }
        let rows: Vec<(String, String)> = sqlx::query_as(
            "select id, index_schema from workspaces where ($1::text is null or id = $1) order by id",
        )
        .bind(scope)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, schema)| Ws { id, schema })
            .collect())
    }

    fn own_ws(&self) -> Ws {
        Ws {
            id: self.own.clone(),
            schema: self.schema.clone(),
        }
    }

    /// The one workspace `ws` names, if the registry knows it.
    async fn one(&self, ws: &str) -> Result<Option<Ws>, StorageError> {
        Ok(self.scope(Some(ws)).await?.into_iter().next())
    }

    pub async fn attempt(&self, ws: &str, id: &str) -> Result<Option<AttemptRow>, StorageError> {
        match self.one(ws).await? {
            Some(w) => reads::attempt(self.pool(), &w, id).await,
            None => Ok(None),
        }
    }

    pub async fn attempt_files(&self, ws: &str, id: &str) -> Result<Vec<FileRow>, StorageError> {
        match self.one(ws).await? {
            Some(w) => reads::files(self.pool(), &w, id).await,
            None => Ok(Vec::new()),
        }
    }

    pub async fn attempt_history(
        &self,
        ws: &str,
        id: &str,
    ) -> Result<Vec<HistoryRow>, StorageError> {
        match self.one(ws).await? {
            Some(w) => reads::history(self.pool(), &w, id).await,
            None => Ok(Vec::new()),
        }
    }

    /// Workspaces holding an attempt `id`, the own first.
    pub async fn attempt_workspaces(&self, id: &str) -> Result<Vec<String>, StorageError> {
        self.holders(|w| async move { Ok(reads::attempt(self.pool(), &w, id).await?.is_some()) })
            .await
    }

    pub async fn evidence_dir_workspaces(&self, path: &str) -> Result<Vec<String>, StorageError> {
        self.holders(
            |w| async move { Ok(reads::evidence_dir(self.pool(), &w, path).await?.is_some()) },
        )
        .await
    }

    async fn holders<F, Fut>(&self, has: F) -> Result<Vec<String>, StorageError>
    where
        F: Fn(Ws) -> Fut,
        Fut: std::future::Future<Output = Result<bool, StorageError>>,
    {
        let all = self.scope(None).await?;
        let found = try_join_all(all.iter().map(|w| has(w.clone()))).await?;
        let mut ids: Vec<String> = all
            .into_iter()
            .zip(found)
            .filter(|(_, f)| *f)
            .map(|(w, _)| w.id)
            .collect();
        ids.sort_by_key(|id| id != &self.own);
        Ok(ids)
    }

    pub async fn attempts_page(
        &self,
        filter: &AttemptFilter,
        after: Option<&AttemptKey>,
        limit: u32,
    ) -> Result<(Vec<AttemptSummaryRow>, Option<AttemptKey>), StorageError> {
        let all = self.scope(filter.workspace.as_deref()).await?;
        let pages = try_join_all(all.iter().map(|w| {
            // Newest first by (ts, id, workspace): a workspace after the key's in that order
            // (a smaller id, listed later) may still hold the key's (ts, id) itself.
            let key = after.map(|k| (k.ts.as_str(), k.id.as_str(), w.id >= k.workspace));
            reads::attempts(self.pool(), w, filter, key, limit + 1)
        }))
        .await?;
        let mut rows: Vec<AttemptSummaryRow> = pages.into_iter().flatten().collect();
        rows.sort_by(|a, b| (&b.ts, &b.id, &b.workspace).cmp(&(&a.ts, &a.id, &a.workspace)));
        rows.truncate(limit as usize + 1);
        Ok(split_page(rows, limit, |r| AttemptKey {
            ts: r.ts.clone(),
            id: r.id.clone(),
            workspace: r.workspace.clone(),
        }))
    }

    /// The page of `attempts_page` as the listing's JSON objects (keys and order of
    /// `AttemptSummaryRow::JSON`, as SQLite's `json_object` writes them).
    pub async fn attempts_page_json(
        &self,
        filter: &AttemptFilter,
        after: Option<&AttemptKey>,
        limit: u32,
    ) -> Result<AttemptPageJson, StorageError> {
        let (rows, next) = self.attempts_page(filter, after, limit).await?;
        let objects: Vec<String> = rows.iter().map(|r| summary_object(r).to_string()).collect();
        Ok(AttemptPageJson {
            items: objects.join(","),
            len: objects.len(),
            next,
        })
    }

    pub async fn unrecognized(
        &self,
        scope: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UnrecognizedRow>, StorageError> {
        let all = self.scope(scope).await?;
        let pages = try_join_all(
            all.iter()
                .map(|w| reads::unrecognized(self.pool(), w, limit)),
        )
        .await?;
        Ok(merge(pages, limit, |r| (&r.path, &r.workspace)))
    }

    pub async fn mapping(
        &self,
        ws: &str,
        subject: &str,
    ) -> Result<Option<MappingRow>, StorageError> {
        match self.one(ws).await? {
            Some(w) => reads::mapping(self.pool(), &w, subject).await,
            None => Ok(None),
        }
    }

    pub async fn mappings_page(
        &self,
        scope: Option<&str>,
        after: Option<&ListKey>,
        limit: u32,
    ) -> Result<(Vec<MappingRow>, Option<ListKey>), StorageError> {
        let all = self.scope(scope).await?;
        let pages = try_join_all(
            all.iter()
                .map(|w| reads::mappings(self.pool(), w, continue_after(after, w), limit + 1)),
        )
        .await?;
        Ok(list_page(pages, limit, |r| (&r.subject, &r.workspace)))
    }

    pub async fn evidence_dir(
        &self,
        ws: &str,
        path: &str,
    ) -> Result<Option<EvidenceDirRow>, StorageError> {
        match self.one(ws).await? {
            Some(w) => reads::evidence_dir(self.pool(), &w, path).await,
            None => Ok(None),
        }
    }

    pub async fn evidence_dirs_page(
        &self,
        scope: Option<&str>,
        origin: Option<&str>,
        after: Option<&ListKey>,
        limit: u32,
    ) -> Result<Vec<EvidenceDirRow>, StorageError> {
        let all = self.scope(scope).await?;
        let pages = try_join_all(all.iter().map(|w| {
            reads::evidence_dirs(self.pool(), w, origin, continue_after(after, w), limit)
        }))
        .await?;
        Ok(merge(pages, limit, |r| (&r.path, &r.workspace)))
    }

    pub async fn runs_page(
        &self,
        scope: Option<&str>,
        after: Option<&ListKey>,
        limit: u32,
    ) -> Result<(Vec<RunRow>, Option<ListKey>), StorageError> {
        let all = self.scope(scope).await?;
        let pages = try_join_all(
            all.iter()
                .map(|w| reads::runs(self.pool(), w, continue_after(after, w), limit + 1)),
        )
        .await?;
        Ok(list_page(pages, limit, |r| (&r.nickname, &r.workspace)))
    }

    pub async fn run(&self, ws: &str, nickname: &str) -> Result<Option<RunRow>, StorageError> {
        match self.one(ws).await? {
            Some(w) => reads::run(self.pool(), &w, nickname).await,
            None => Ok(None),
        }
    }

    /// Counts of one workspace, or summed over all (a nickname is counted once per workspace).
    pub async fn status_counts(&self, scope: Option<&str>) -> Result<StatusCounts, StorageError> {
        let all = self.scope(scope).await?;
        let each = try_join_all(all.iter().map(|w| reads::status_counts(self.pool(), w))).await?;
        let mut total = StatusCounts::default();
        for c in each {
            for (status, n) in c.by_status {
                match total.by_status.iter_mut().find(|(s, _)| *s == status) {
                    Some(entry) => entry.1 += n,
                    None => total.by_status.push((status, n)),
                }
            }
            total.nicknames += c.nicknames;
            total.unrecognized += c.unrecognized;
            total.certificates += c.certificates;
            total.evidence_dirs += c.evidence_dirs;
            total.mappings += c.mappings;
            total.last_index_event_at = total.last_index_event_at.max(c.last_index_event_at);
        }
        total.by_status.sort();
        Ok(total)
    }
}

/// One listed attempt as the API's JSON object.
fn summary_object(r: &AttemptSummaryRow) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for (key, column) in AttemptSummaryRow::JSON {
        let value = match *column {
            "workspace" => Some(&r.workspace),
            "id" => Some(&r.id),
            "nickname" => Some(&r.nickname),
            "ts" => Some(&r.ts),
            "status" => Some(&r.status),
            "started_at" => r.started_at.as_ref(),
            "reason" => r.reason.as_ref(),
            "model_id" => r.model_id.as_ref(),
            "edit_name" => r.edit_name.as_ref(),
            "profile" => r.profile.as_ref(),
            "dataset_hash" => r.dataset_hash.as_ref(),
            "tokenizer_hash" => r.tokenizer_hash.as_ref(),
            "ids_sha256" => r.ids_sha256.as_ref(),
            "pm_kind" => r.pm_kind.as_ref(),
            "run_id" => r.run_id.as_ref(),
            "report_hash" => r.report_hash.as_ref(),
            "report_sha256" => r.report_sha256.as_ref(),
            other => unreachable!("AttemptSummaryRow::JSON names {other}, unknown here"),
        };
        object.insert(
            key.to_string(),
            value.map_or(serde_json::Value::Null, |v| v.as_str().into()),
        );
    }
    object.into()
}

/// Where workspace `w` continues an ascending (key, workspace) listing after `after`: past the
/// key itself only if `w` is not ordered after the key's workspace.
fn continue_after<'a>(after: Option<&'a ListKey>, w: &Ws) -> Option<(&'a str, bool)> {
    after.map(|k| (k.key.as_str(), w.id <= k.workspace))
}

/// The workspaces' pages of an ascending (key, workspace) listing merged in that order, the
/// first `keep` rows.
fn merge<T>(pages: Vec<Vec<T>>, keep: u32, key: impl Fn(&T) -> (&String, &String)) -> Vec<T> {
    let mut rows: Vec<T> = pages.into_iter().flatten().collect();
    rows.sort_by(|a, b| key(a).cmp(&key(b)));
    rows.truncate(keep as usize);
    rows
}

/// One page of such a listing, from pages asked for `limit + 1` rows each: `limit` merged rows
/// and, when more follow, the key to continue after.
fn list_page<T>(
    pages: Vec<Vec<T>>,
    limit: u32,
    key: impl Fn(&T) -> (&String, &String),
) -> (Vec<T>, Option<ListKey>) {
    split_page(merge(pages, limit + 1, &key), limit, |r| {
        let (key, workspace) = key(r);
        ListKey {
            key: key.clone(),
            workspace: workspace.clone(),
        }
    })
}
