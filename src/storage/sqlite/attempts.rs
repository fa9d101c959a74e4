//! SQLite: the `attempts`, `attempt_files`, `attempt_history` and `unrecognized` tables.

use super::Tx;
use crate::storage::attempts::{
    with_attempt_columns, AttemptFilter, AttemptKey, AttemptPageJson, AttemptRow,
    AttemptSummaryRow, AttemptWrite, FileRow, Fingerprint, HistoryRow, UnrecognizedRow,
};
use crate::storage::StorageError;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::borrow::Cow;
use std::collections::HashMap;

pub(super) async fn fingerprints(
    pool: &SqlitePool,
) -> Result<HashMap<String, Fingerprint>, StorageError> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("select id, listing_digest, status from attempts")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, listing_digest, status)| {
            (
                id,
                Fingerprint {
                    listing_digest,
                    status,
                },
            )
        })
        .collect())
}

pub(super) async fn fingerprint(
    pool: &SqlitePool,
    id: &str,
) -> Result<Option<Fingerprint>, StorageError> {
    Ok(
        sqlx::query_as("select listing_digest, status from attempts where id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The attempt upsert: every column from the one list, `id` the conflict key.
fn upsert_sql() -> String {
    let cols = AttemptRow::COLUMNS;
    let updates: Vec<String> = cols[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "insert into attempts ({}) values ({}) on conflict (id) do update set {}, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        cols.join(", "),
        vec!["?"; cols.len()].join(", "),
        updates.join(", ")
    )
}

/// Binds every column of `a` in `AttemptRow::COLUMNS` order.
macro_rules! bind_attempt {
    ($($col:ident: $ty:ty,)*) => {
        fn bind_attempt<'q>(
            q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
            a: &'q AttemptRow,
        ) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
            q$(.bind(&a.$col))*
        }
    };
}
with_attempt_columns!(bind_attempt);

/// Inserts or replaces an attempt with its file list, and appends a history row when `event`
/// is given (`indexed` for a new attempt, whose old file rows need no deletion; `updated` for a
/// changed one).
pub(super) async fn upsert(
    tx: &mut Tx<'_>,
    a: &AttemptRow,
    files: &[FileRow],
    event: Option<&str>,
) -> Result<(), StorageError> {
    thread_local! {
        static SQL: String = upsert_sql();
    }
    let sql = SQL.with(Clone::clone);
    bind_attempt(sqlx::query(&sql), a)
        .execute(&mut **tx)
        .await?;
    if event != Some("indexed") {
        sqlx::query("delete from attempt_files where attempt_id = ?")
            .bind(&a.id)
            .execute(&mut **tx)
            .await?;
    }
    if !files.is_empty() {
        // One statement for all files (SQLite allows 32766 parameters; 5 per row).
        for chunk in files.chunks(1000) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "insert into attempt_files (attempt_id, name, size, mtime_ns, sha256) ",
            );
            q.push_values(chunk, |mut b, f| {
                b.push_bind(&a.id)
                    .push_bind(&f.name)
                    .push_bind(f.size)
                    .push_bind(f.mtime_ns)
                    .push_bind(&f.sha256);
            });
            q.build().execute(&mut **tx).await?;
        }
    }
    if let Some(event) = event {
        history(
            tx,
            &a.id,
            event,
            Some(&a.status),
            a.reason.as_deref(),
            a.report_sha256.as_deref(),
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn history(
    tx: &mut Tx<'_>,
    id: &str,
    event: &str,
    status: Option<&str>,
    reason: Option<&str>,
    report_sha256: Option<&str>,
) -> Result<(), StorageError> {
    sqlx::query("insert into attempt_history (attempt_id, event, status, reason, report_sha256) values (?, ?, ?, ?, ?)")
        .bind(id)
        .bind(event)
        .bind(status)
        .bind(reason)
        .bind(report_sha256)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Changes only the derived status (time passing, a newer sibling appearing).
pub(super) async fn set_status(
    tx: &mut Tx<'_>,
    id: &str,
    status: &str,
    reason: Option<&str>,
) -> Result<(), StorageError> {
    sqlx::query("update attempts set status = ?, reason = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = ?")
        .bind(status)
        .bind(reason)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    history(tx, id, "updated", Some(status), reason, None).await
}

/// Removes an attempt (files and mapping cascade) and records the removal in the history.
pub(super) async fn remove(tx: &mut Tx<'_>, id: &str) -> Result<bool, StorageError> {
    let gone = sqlx::query("delete from attempts where id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        > 0;
    if gone {
        history(
            tx,
            id,
            "removed",
            None,
            Some("the attempt directory is gone"),
            None,
        )
        .await?;
    }
    Ok(gone)
}

pub(super) async fn get(pool: &SqlitePool, id: &str) -> Result<Option<AttemptRow>, StorageError> {
    Ok(sqlx::query_as("select * from attempts where id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn files(pool: &SqlitePool, id: &str) -> Result<Vec<FileRow>, StorageError> {
    Ok(sqlx::query_as(
        "select name, size, mtime_ns, sha256 from attempt_files where attempt_id = ? order by name",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

/// Attempts that may change status by time alone or by a sibling appearing.
pub(super) async fn running(
    pool: &SqlitePool,
    nickname: Option<&str>,
) -> Result<Vec<AttemptRow>, StorageError> {
    let mut q = QueryBuilder::<Sqlite>::new("select * from attempts where status = 'running'");
    if let Some(n) = nickname {
        q.push(" and nickname = ").push_bind(n);
    }
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// The newest attempt of `nickname` that has files and is newer than `ts`.
pub(super) async fn newer_sibling_with_files(
    pool: &SqlitePool,
    nickname: &str,
    ts: &str,
) -> Result<Option<String>, StorageError> {
    let row: Option<(String,)> = sqlx::query_as(
        "select id from attempts where nickname = ? and ts > ? and newest_mtime_ns is not null order by ts desc limit 1",
    )
    .bind(nickname)
    .bind(ts)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.0))
}

pub(super) async fn all_ids(pool: &SqlitePool) -> Result<Vec<String>, StorageError> {
    let rows: Vec<(String,)> = sqlx::query_as("select id from attempts")
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub(super) async fn count_by_status(pool: &SqlitePool) -> Result<Vec<(String, i64)>, StorageError> {
    Ok(
        sqlx::query_as("select status, n from attempt_counts where n > 0")
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn nickname_count(pool: &SqlitePool) -> Result<i64, StorageError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from nickname_counts")
        .fetch_one(pool)
        .await?;
    Ok(n)
}

pub(super) async fn last_index_event(pool: &SqlitePool) -> Result<Option<String>, StorageError> {
    // The newest row by seq: history rows are appended in time order, so it is the max.
    let t: Option<(String,)> =
        sqlx::query_as("select created_at from attempt_history order by seq desc limit 1")
            .fetch_optional(pool)
            .await?;
    Ok(t.map(|r| r.0))
}

pub(super) async fn history_of(
    pool: &SqlitePool,
    id: &str,
) -> Result<Vec<HistoryRow>, StorageError> {
    Ok(sqlx::query_as(
        "select seq, event, status, reason, report_sha256, created_at from attempt_history where attempt_id = ? order by seq desc limit 50",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

/// One page (newest first) as rows, and the key to continue after, if there is more.
pub(super) async fn list(
    pool: &SqlitePool,
    f: &AttemptFilter,
    after: Option<&AttemptKey>,
    limit: u32,
) -> Result<(Vec<AttemptSummaryRow>, Option<AttemptKey>), StorageError> {
    let page = page_json(pool, "", f, after, limit).await?;
    let rows = page
        .rows()
        .map_err(|e| StorageError::Corrupt(format!("attempt page: {e}")))?;
    Ok((rows, page.next))
}

/// One page (newest first) as the JSON objects of the listing, and the key to continue after.
///
/// The page comes back as one row built by SQLite: sqlx hands each result row from its SQLite
/// thread to the caller separately, and for a 100-row page those hand-offs (with a copy of
/// every value) cost far more than the seek itself; and SQLite writes each attempt as the
/// listing's JSON object, which the API splices into its answer as it is (issue 16: parsing
/// rows and serialising them again was most of a page's CPU). Two aggregates of the same scan:
/// the objects joined by commas, and per object its (ts, id, byte length), which is all that
/// is read here: it checks the order and cuts off the extra row (limit + 1, which only says
/// that there is more) without parsing the objects.
pub(super) async fn page_json(
    pool: &SqlitePool,
    workspace: &str,
    f: &AttemptFilter,
    after: Option<&AttemptKey>,
    limit: u32,
) -> Result<AttemptPageJson, StorageError> {
    let (items, spans): (Option<String>, String) = list_query("", workspace, f, after, limit)
        .build_query_as()
        .fetch_one(pool)
        .await?;
    let spans: Vec<Span> = serde_json::from_str(&spans)
        .map_err(|e| StorageError::Corrupt(format!("attempt page: {e}")))?;
    cut(items.unwrap_or_default(), &spans, limit as usize)
        .ok_or_else(|| StorageError::Corrupt("attempt page: objects and lengths disagree".into()))
}

/// Where one object of a page is: its listing key and its length in bytes.
#[derive(serde::Deserialize)]
struct Span<'a> {
    #[serde(borrow)]
    ts: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    len: usize,
}

/// The first `limit` of the comma-joined `items` in listing order ((ts, id) descending) and
/// the key of the last one kept when there were more. SQLite's aggregates keep the subquery's
/// order; should they not, the objects are put in order here. `None` when `spans` does not
/// describe `items`.
fn cut(mut items: String, spans: &[Span<'_>], limit: usize) -> Option<AttemptPageJson> {
    let mut ends = Vec::with_capacity(spans.len());
    let mut start = 0;
    for s in spans {
        let end = start + s.len;
        let object = items.get(start..end)?;
        if !(object.starts_with('{') && object.ends_with('}')) {
            return None;
        }
        ends.push(end);
        start = end + 1;
    }
    if items.len() != start.saturating_sub(1) {
        return None;
    }
    let key = |s: &Span| (s.ts.to_string(), s.id.to_string());
    let ordered = spans
        .windows(2)
        .all(|w| (&w[0].ts, &w[0].id) > (&w[1].ts, &w[1].id));
    let keep = spans.len().min(limit);
    let last = if ordered {
        items.truncate(if keep == 0 { 0 } else { ends[keep - 1] });
        keep.checked_sub(1)
    } else {
        let mut order: Vec<usize> = (0..spans.len()).collect();
        order.sort_by(|&a, &b| (&spans[b].ts, &spans[b].id).cmp(&(&spans[a].ts, &spans[a].id)));
        order.truncate(keep);
        let joined: Vec<&str> = order
            .iter()
            .map(|&i| &items[ends[i] - spans[i].len..ends[i]])
            .collect();
        items = joined.join(",");
        order.last().copied()
    };
    let next = (spans.len() > limit)
        .then(|| last.map(|i| key(&spans[i])))
        .flatten()
        .map(|(ts, id)| AttemptKey {
            ts,
            id,
            workspace: String::new(),
        });
    Some(AttemptPageJson {
        items,
        len: keep,
        next,
    })
}

/// The statement behind `list`, after `prefix` (`explain query plan ` in the test that checks
/// every filter is an index seek in listing order): the page's rows, selected by the filters
/// and ordered and limited by the (…, ts, id) index, each written as its JSON object, then
/// aggregated (see `page_json`). Its text depends only on which filters are present, so sqlx's
/// per-connection statement cache (on by default) prepares each shape once.
fn list_query(
    prefix: &str,
    workspace: &str,
    f: &AttemptFilter,
    after: Option<&AttemptKey>,
    limit: u32,
) -> QueryBuilder<'static, Sqlite> {
    let mut q = QueryBuilder::<Sqlite>::new(prefix);
    q.push(
        "select group_concat(j, ','), json_group_array(json_array(ts, id, octet_length(j))) \
         from (select json_object(",
    );
    for (i, (key, col)) in AttemptSummaryRow::JSON.iter().enumerate() {
        q.push(if i == 0 { "'" } else { ", '" })
            .push(*key)
            .push("', ");
        match *col {
            // This database holds one workspace, the daemon's: its id, not a column.
            "workspace" => q.push_bind(workspace.to_string()),
            _ => q.push(*col),
        };
    }
    q.push(") as j, ts, id from attempts where 1 = 1");
    let eq = |q: &mut QueryBuilder<Sqlite>, col: &str, v: &Option<String>| {
        if let Some(v) = v {
            q.push(format!(" and {col} = ")).push_bind(v.clone());
        }
    };
    eq(&mut q, "nickname", &f.nickname);
    eq(&mut q, "status", &f.status);
    eq(&mut q, "model_id", &f.model_id);
    eq(&mut q, "edit_name", &f.edit);
    eq(&mut q, "dataset_hash", &f.dataset_hash);
    eq(&mut q, "tokenizer_hash", &f.tokenizer_hash);
    eq(&mut q, "ids_sha256", &f.ids_sha256);
    if let Some(s) = &f.since_ts {
        q.push(" and ts >= ").push_bind(s.clone());
    }
    if let Some(u) = &f.until_ts {
        q.push(" and ts <= ").push_bind(u.clone());
    }
    // A row value, which SQLite turns into a range on the (…, ts, id) index; the equivalent
    // `ts < ? or (ts = ? and id < ?)` is only a filter on what the seek reads.
    if let Some(k) = after {
        q.push(" and (ts, id) < (")
            .push_bind(k.ts.clone())
            .push(", ")
            .push_bind(k.id.clone())
            .push(")");
    }
    q.push(" order by ts desc, id desc limit ")
        .push_bind(limit as i64 + 1)
        .push(")");
    q
}

/// Replaces the whole unrecognized list (it is recomputed by every full scan).
pub(super) async fn replace_unrecognized(
    tx: &mut Tx<'_>,
    rows: &[UnrecognizedRow],
) -> Result<(), StorageError> {
    sqlx::query("delete from unrecognized")
        .execute(&mut **tx)
        .await?;
    insert_unrecognized(tx, rows).await
}

/// Replaces the unrecognized rows for one top-level entry of runs/ (`top` and below it).
pub(super) async fn replace_unrecognized_under(
    tx: &mut Tx<'_>,
    top: &str,
    rows: &[UnrecognizedRow],
) -> Result<(), StorageError> {
    // A prefix test without LIKE, whose wildcards a directory name may contain.
    sqlx::query(
        "delete from unrecognized where path = ?1 or substr(path, 1, length(?1) + 1) = ?1 || '/'",
    )
    .bind(top)
    .execute(&mut **tx)
    .await?;
    insert_unrecognized(tx, rows).await
}

async fn insert_unrecognized(
    tx: &mut Tx<'_>,
    rows: &[UnrecognizedRow],
) -> Result<(), StorageError> {
    for r in rows {
        sqlx::query("insert or replace into unrecognized (path, kind, reason) values (?, ?, ?)")
            .bind(&r.path)
            .bind(&r.kind)
            .bind(&r.reason)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub(super) async fn list_unrecognized(
    pool: &SqlitePool,
    limit: u32,
) -> Result<Vec<UnrecognizedRow>, StorageError> {
    Ok(
        sqlx::query_as("select path, kind, reason from unrecognized order by path limit ?")
            .bind(limit as i64)
            .fetch_all(pool)
            .await?,
    )
}

/// The attempt operations. Reads for the API use the read pool; reads that decide what the
/// indexer writes next use the writer, so they see its last commit.
impl super::Index {
    pub async fn attempt(&self, id: &str) -> Result<Option<AttemptRow>, StorageError> {
        get(&self.reader, id).await
    }

    pub async fn attempt_files(&self, id: &str) -> Result<Vec<FileRow>, StorageError> {
        files(&self.reader, id).await
    }

    pub async fn attempt_history(&self, id: &str) -> Result<Vec<HistoryRow>, StorageError> {
        history_of(&self.reader, id).await
    }

    pub async fn attempts_page(
        &self,
        filter: &AttemptFilter,
        after: Option<&AttemptKey>,
        limit: u32,
    ) -> Result<(Vec<AttemptSummaryRow>, Option<AttemptKey>), StorageError> {
        list(&self.reader, filter, after, limit).await
    }

    /// `workspace`: the daemon's own id, which each object names.
    pub async fn attempts_page_json(
        &self,
        workspace: &str,
        filter: &AttemptFilter,
        after: Option<&AttemptKey>,
        limit: u32,
    ) -> Result<AttemptPageJson, StorageError> {
        page_json(&self.reader, workspace, filter, after, limit).await
    }

    pub async fn attempt_counts(&self) -> Result<Vec<(String, i64)>, StorageError> {
        count_by_status(&self.reader).await
    }

    pub async fn unrecognized(&self, limit: u32) -> Result<Vec<UnrecognizedRow>, StorageError> {
        list_unrecognized(&self.reader, limit).await
    }

    pub async fn fingerprints(&self) -> Result<HashMap<String, Fingerprint>, StorageError> {
        fingerprints(&self.writer).await
    }

    pub async fn fingerprint(&self, id: &str) -> Result<Option<Fingerprint>, StorageError> {
        fingerprint(&self.writer, id).await
    }

    pub async fn attempt_ids(&self) -> Result<Vec<String>, StorageError> {
        all_ids(&self.writer).await
    }

    pub async fn running_attempts(&self) -> Result<Vec<AttemptRow>, StorageError> {
        running(&self.writer, None).await
    }

    pub async fn newer_sibling_with_files(
        &self,
        nickname: &str,
        ts: &str,
    ) -> Result<Option<String>, StorageError> {
        newer_sibling_with_files(&self.writer, nickname, ts).await
    }

    /// Index this batch: every attempt with its files and history event, in one transaction.
    /// With `ask_before`, first returns the subjects whose mappings those attempts' old rows bear
    /// on (asked in the same transaction, before the rows change).
    pub async fn write_attempts(
        &self,
        batch: &[AttemptWrite<'_>],
        ask_before: Option<&[String]>,
    ) -> Result<Vec<String>, StorageError> {
        let mut tx = self.writer.begin().await?;
        let before = match ask_before {
            Some(ids) => super::mappings::subjects_before_change(&mut tx, ids).await?,
            None => Vec::new(),
        };
        for a in batch {
            upsert(&mut tx, a.row, a.files, a.event).await?;
        }
        tx.commit().await?;
        Ok(before)
    }

    /// Removes `ids` (files and mappings cascade; the history records each removal), in one
    /// transaction; with `ask_before`, also returns the subjects their rows bore on.
    pub async fn remove_attempts(
        &self,
        ids: &[String],
        ask_before: bool,
    ) -> Result<(u64, Vec<String>), StorageError> {
        let mut tx = self.writer.begin().await?;
        let before = match ask_before {
            true => super::mappings::subjects_before_change(&mut tx, ids).await?,
            false => Vec::new(),
        };
        let mut n = 0;
        for id in ids {
            n += remove(&mut tx, id).await? as u64;
        }
        tx.commit().await?;
        Ok((n, before))
    }

    /// Changes only derived statuses (time passing, a newer sibling appearing), in one
    /// transaction: (id, status, reason).
    pub async fn set_statuses(
        &self,
        changes: &[(String, String, Option<String>)],
    ) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        for (id, status, reason) in changes {
            set_status(&mut tx, id, status, reason.as_deref()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the whole unrecognized list (a full scan recomputes it).
    pub async fn replace_unrecognized(&self, rows: &[UnrecognizedRow]) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        replace_unrecognized(&mut tx, rows).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the unrecognized rows under each top-level entry of runs/, in one transaction.
    pub async fn replace_unrecognized_under(
        &self,
        tops: &[(String, Vec<UnrecognizedRow>)],
    ) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        for (top, rows) in tops {
            replace_unrecognized_under(&mut tx, top, rows).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod query_plans;

#[cfg(test)]
mod tests {
    use super::{cut, Span};
    use crate::storage::attempts::{AttemptFilter, AttemptKey, AttemptRow, AttemptWrite, FileRow};
    use crate::storage::testing::attempt_row as row;
    use crate::storage::Storage;

    fn span(ts: &'static str, object: &str) -> Span<'static> {
        Span {
            ts: ts.into(),
            id: format!("n/{ts}").into(),
            len: object.len(),
        }
    }

    #[test]
    fn a_page_is_cut_after_its_limit_in_listing_order_whatever_order_the_objects_came_in() {
        let objects = [r#"{"a":"3"}"#, r#"{"a":"1é"}"#, r#"{"a":"2"}"#];
        let spans = [
            span("3", objects[0]),
            span("1", objects[1]),
            span("2", objects[2]),
        ];
        let page = cut(objects.join(","), &spans, 2).unwrap();
        assert_eq!(page.items, r#"{"a":"3"},{"a":"2"}"#);
        assert_eq!(page.len, 2);
        assert_eq!(
            page.next,
            Some(AttemptKey {
                ts: "2".into(),
                id: "n/2".into(),
                workspace: String::new(),
            })
        );
        let in_order = [&spans[0], &spans[2], &spans[1]].map(span_of);
        let joined = [objects[0], objects[2], objects[1]].join(",");
        let all = cut(joined.clone(), &in_order, 3).unwrap();
        assert_eq!((all.items.as_str(), all.next), (joined.as_str(), None));
        let first = cut(joined, &in_order, 1).unwrap();
        assert_eq!(first.items, objects[0]);
        assert_eq!(first.next.unwrap().ts, "3");
        assert_eq!(cut(String::new(), &[], 5).unwrap().items, "");
        // Lengths that do not describe the text are refused, never sliced through.
        assert!(cut("{}".into(), &[span("1", "{}x")], 5).is_none());
        assert!(cut("{},{}".into(), &[span("1", "{}")], 5).is_none());
    }

    fn span_of(s: &Span<'static>) -> Span<'static> {
        Span {
            ts: s.ts.clone(),
            id: s.id.clone(),
            len: s.len,
        }
    }

    #[tokio::test]
    async fn attempts_are_listed_newest_first_in_keyset_pages_and_removal_keeps_history() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open_test(&dir.path().join("index.db")).await;
        let files = [FileRow {
            name: "report.json".into(),
            size: 1,
            mtime_ns: 1,
            sha256: None,
        }];
        let rows: Vec<AttemptRow> = ["pass", "fail", "pass"]
            .iter()
            .enumerate()
            .map(|(i, st)| row("a/b", &format!("2026112{i}_000000"), st))
            .collect();
        let batch: Vec<AttemptWrite> = rows
            .iter()
            .map(|row| AttemptWrite {
                row,
                files: &files,
                event: Some("indexed"),
            })
            .collect();
        s.write_attempts(&batch, None).await.unwrap();
        let f = AttemptFilter::default();
        let (p1, next) = s.attempts_page(&f, None, 2).await.unwrap();
        assert_eq!(p1[0].ts, "20261122_000000");
        let written = AttemptRow {
            workspace: "test".into(),
            ..rows[2].clone()
        };
        assert_eq!(p1[0].workspace, "test", "rows name their workspace");
        assert_eq!(
            s.attempt("test", &p1[0].id).await.unwrap().as_ref(),
            Some(&written),
            "every column reads back as written"
        );
        assert_eq!(
            (p1[0].id.as_str(), p1[0].status.as_str(), &p1[0].edit_name),
            (rows[2].id.as_str(), "pass", &rows[2].edit_name),
            "a page shows the row's listed columns"
        );
        let (p2, end) = s.attempts_page(&f, next.as_ref(), 2).await.unwrap();
        assert_eq!((p2.len(), end), (1, None));
        let pass = AttemptFilter {
            status: Some("pass".into()),
            ..Default::default()
        };
        assert_eq!(s.attempts_page(&pass, None, 10).await.unwrap().0.len(), 2);

        let gone = "a/b/20261120_000000".to_string();
        let (n, _) = s
            .remove_attempts(std::slice::from_ref(&gone), false)
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert!(s.attempt("test", &gone).await.unwrap().is_none());
        let h = s.attempt_history("test", &gone).await.unwrap();
        assert_eq!(h[0].event, "removed");
        assert!(s.attempt_files("test", &gone).await.unwrap().is_empty());
    }
}
