use super::item::{parse_rest, Resource};
use super::*;
use crate::http::extract::parse_query;
use crate::storage::attempts::AttemptRow;

fn q(pairs: &[(&str, &str)]) -> AttemptsQuery {
    let text = serde_urlencoded::to_string(pairs).unwrap();
    parse_query(Some(&text)).unwrap()
}

/// The summary columns of a stored row (what the typed listing read before issue 16).
fn summary(a: &AttemptRow) -> crate::storage::attempts::AttemptSummaryRow {
    crate::storage::attempts::AttemptSummaryRow {
        workspace: "test".into(),
        id: a.id.clone(),
        nickname: a.nickname.clone(),
        ts: a.ts.clone(),
        started_at: a.started_at.clone(),
        status: a.status.clone(),
        reason: a.reason.clone(),
        model_id: a.model_id.clone(),
        edit_name: a.edit_name.clone(),
        profile: a.profile.clone(),
        dataset_hash: a.dataset_hash.clone(),
        tokenizer_hash: a.tokenizer_hash.clone(),
        ids_sha256: a.ids_sha256.clone(),
        pm_kind: a.pm_kind.clone(),
        run_id: a.run_id.clone(),
        report_hash: a.report_hash.clone(),
        report_sha256: a.report_sha256.clone(),
    }
}

#[tokio::test]
async fn a_spliced_page_is_byte_for_byte_what_serialising_the_typed_page_gives() {
    use super::super::types::{AttemptPage, AttemptSummary};
    let dir = tempfile::tempdir().unwrap();
    let store = crate::storage::Storage::open_test(&dir.path().join("index.db")).await;
    let odd = "quote \" backslash \\ slash / newline \n tab \t nul-ish \u{1} del \u{7f} é ✓ 𝄞";
    let rows: Vec<AttemptRow> = ["pass", "fail", "error", "invalid", "running", "pass"]
        .iter()
        .enumerate()
        .map(|(i, status)| {
            let nickname = format!("team/{}", ["a", "b\"c"][i % 2]);
            let ts = format!("2026112{i}_0{i}0000");
            let some = |v: &str| (i % 3 != 0).then(|| format!("{v}{i}"));
            AttemptRow {
                id: format!("{nickname}/{ts}"),
                dir: format!("runs/{nickname}/{ts}"),
                nickname,
                ts,
                started_at: some("2026-11-20T00:00:0"),
                status: status.to_string(),
                reason: (i > 0).then(|| format!("{odd} {i}")),
                model_id: some(odd),
                edit_name: some("quant_rtn"),
                profile: some("release"),
                dataset_hash: some("a065509f"),
                tokenizer_hash: some("8ad3e32b"),
                ids_sha256: some("19ab55d8"),
                pm_kind: some("ppl_causal"),
                run_id: some("8025f8a2"),
                report_hash: some("7242a85e"),
                report_sha256: some("97821277"),
                detail: Some("{\"not\": \"listed\"}".into()),
                listing_digest: "x".into(),
                ..Default::default()
            }
        })
        .collect();
    crate::storage::testing::write_indexed(&store, &rows).await;
    let newest_first: Vec<&AttemptRow> = rows.iter().rev().collect();
    let mut after = None;
    for chunk in newest_first.chunks(4) {
        let page = store
            .attempts_page_json(&AttemptFilter::default(), after.as_ref(), 4)
            .await
            .unwrap();
        let resp = page_response(b"{".to_vec(), &page);
        let spliced = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let typed = AttemptPage {
            items: chunk
                .iter()
                .map(|r| AttemptSummary::from(&summary(r)))
                .collect(),
            next_page_token: page.next.as_ref().map(encode_token),
        };
        assert_eq!(
            std::str::from_utf8(&spliced).unwrap(),
            serde_json::to_string(&typed).unwrap()
        );
        assert_eq!(page.len, chunk.len());
        after = page.next;
    }
    assert!(after.is_none(), "the last page says there is no more");
}

#[test]
fn bad_filters_name_their_field() {
    let tz = TimeZone::parse("UTC").unwrap();
    for (k, v) in [
        ("status", "passed"),
        ("since", "yesterday"),
        ("until", "2026-13-01"),
        ("dataset_hash", "xyz"),
        ("nickname", "/abs"),
    ] {
        match parse_filter(&q(&[(k, v)]), tz) {
            Err(ApiError::BadRequest { field, .. }) => assert_eq!(field.as_deref(), Some(k)),
            Err(ApiError::InvalidName { field, .. }) => assert_eq!(field, k),
            other => panic!("{k}={v}: {other:?}"),
        }
    }
}

#[test]
fn since_accepts_rfc3339_and_directory_timestamps() {
    let tz = TimeZone::parse("+02:00").unwrap();
    let f = parse_filter(
        &q(&[
            ("since", "2026-11-28T18:41:41Z"),
            ("until", "20261128_230000"),
        ]),
        tz,
    )
    .unwrap();
    assert_eq!(f.since_ts.as_deref(), Some("20261128_204141"));
    assert_eq!(f.until_ts.as_deref(), Some("20261128_230000"));
}

#[test]
fn nested_nicknames_and_resource_suffixes_are_split_at_the_timestamp() {
    let (id, r) = parse_rest("team/quant8/20261128_204141/report").unwrap();
    assert_eq!(id.nickname.as_str(), "team/quant8");
    assert!(matches!(r, Resource::Report));
    assert!(matches!(
        parse_rest("a/20261128_204141").unwrap().1,
        Resource::Detail
    ));
    assert!(parse_rest("a/b").is_err());
}
