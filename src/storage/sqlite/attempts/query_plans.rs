//! `GET /v1/attempts` at 100k attempts: every filter (alone and combined, with and without
//! `since`/`until`, first page and later pages) is an index seek that reads rows already in
//! listing order, checked on the statement `list` runs, with the migrations applied; without an
//! equality filter the index also covers every column the page shows.

use super::listing::list_query;
use crate::storage::attempts::{AttemptFilter, AttemptKey};
use crate::storage::Storage;

/// The equality filters, in `AttemptFilter` order.
const EQUALITY: usize = 7;

fn filter(set: u32, range: u32) -> AttemptFilter {
    let v = |bit: u32| (set & (1 << bit) != 0).then(|| "0123abcd".to_string());
    AttemptFilter {
        workspace: None,
        nickname: v(0),
        status: (set & (1 << 1) != 0).then(|| "pass".to_string()),
        model_id: v(2),
        edit: v(3),
        dataset_hash: v(4),
        tokenizer_hash: v(5),
        ids_sha256: v(6),
        since_ts: (range & 1 != 0).then(|| "20261101_000000".to_string()),
        until_ts: (range & 2 != 0).then(|| "20261130_000000".to_string()),
    }
}

#[tokio::test]
async fn every_filter_of_the_attempt_list_is_an_index_seek_in_listing_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open_test(&dir.path().join("index.db")).await;
    let live = s.sqlite();
    let pool = live.index().reader();
    let key = AttemptKey {
        ts: "20261115_000000".into(),
        id: "n/20261115_000000".into(),
        workspace: String::new(),
    };
    let mut checked = 0;
    for set in 0..(1u32 << EQUALITY) {
        for range in 0..4 {
            for after in [None, Some(&key)] {
                let f = filter(set, range);
                let rows: Vec<(i64, i64, i64, String)> =
                    list_query("explain query plan ", "test", &f, after, 100)
                        .build_query_as()
                        .fetch_all(pool)
                        .await
                        .unwrap();
                let plan: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
                let what = format!("{f:?} after {after:?}: {plan:?}");
                assert!(
                    !plan.iter().any(|p| p.contains("TEMP B-TREE")),
                    "sorts instead of reading in order: {what}"
                );
                // The page's own rows, and around them only the aggregate reading them back.
                let (on_table, around): (Vec<&str>, Vec<&str>) =
                    plan.iter().partition(|p| p.contains(" attempts "));
                assert!(
                    around.iter().all(|p| p.starts_with("CO-ROUTINE")
                        || p.starts_with("MATERIALIZE")
                        || p.starts_with("SCAN (subquery")),
                    "{what}"
                );
                assert_eq!(on_table.len(), 1, "{what}");
                let seek = on_table[0];
                if set == 0 && range == 0 && after.is_none() {
                    // Nothing to seek: the newest 101 entries of (ts, id), read backwards;
                    // the LIMIT ends the walk, whatever the table's size. The index holds
                    // every column the page shows, so no row of the table is read.
                    assert!(
                        seek.starts_with("SCAN attempts USING COVERING INDEX attempts_ts_list"),
                        "{what}"
                    );
                } else if set == 0 {
                    // Only a time range or a page token: a seek on the same covering index.
                    assert!(
                        seek.starts_with("SEARCH attempts USING COVERING INDEX attempts_ts_list"),
                        "{what}"
                    );
                } else {
                    assert!(
                        seek.starts_with("SEARCH attempts USING INDEX ")
                            || seek.starts_with("SEARCH attempts USING COVERING INDEX "),
                        "not an index seek: {what}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 1024);
}
