//! The attempt listing (`GET /v1/attempts`, and the runs' pages): one page, newest first, read
//! in listing order from the (…, ts, id) indexes and written as JSON by SQLite.

use crate::storage::attempts::{AttemptFilter, AttemptKey, AttemptPageJson, AttemptSummaryRow};
use crate::storage::StorageError;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::borrow::Cow;

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
pub(super) struct Span<'a> {
    #[serde(borrow)]
    pub(super) ts: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) id: Cow<'a, str>,
    pub(super) len: usize,
}

/// The first `limit` of the comma-joined `items` in listing order ((ts, id) descending) and
/// the key of the last one kept when there were more. SQLite's aggregates keep the subquery's
/// order; should they not, the objects are put in order here. `None` when `spans` does not
/// describe `items`.
pub(super) fn cut(mut items: String, spans: &[Span<'_>], limit: usize) -> Option<AttemptPageJson> {
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
pub(super) fn list_query(
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
