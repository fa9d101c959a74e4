use super::listing::{cut, Span};
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
