use super::*;

fn ev(component: &str, op: &str, data: &str) -> String {
    format!(
        "{{\"timestamp\": \"2026-11-28T20:41:45\", \"session_id\": \"s\", \"component\": \"{component}\", \"operation\": \"{op}\", \"level\": \"INFO\", \"data\": {data}}}\n"
    )
}

#[test]
fn the_last_runner_outcome_and_session_count_are_found_in_any_chunking() {
    let text = [
        ev("logger", "session_start", "{}"),
        ev("runner", "start", r#"{"context": {"pairing_baseline": {"x": [1,2,3]}, "baseline_eval_windows": {"final": {"logloss": [1.5, NaN]}}, "dataset_meta": {"dataset_hash": "abc"}}}"#),
        ev("eval", "metric", r#"{"runner": 1}"#),
        ev("runner", "complete", r#"{"status": "rollback"}"#),
        ev("logger", "session_end", "{}"),
    ]
    .concat();
    for chunk in [1usize, 7, 4096] {
        let mut s = EventsScanner::new();
        for c in text.as_bytes().chunks(chunk) {
            s.feed(c);
        }
        let sum = s.finish();
        assert_eq!(sum.lines, 5);
        assert_eq!(sum.sessions, 1);
        assert!(!sum.session_open);
        assert_eq!(
            sum.last_runner.as_ref().unwrap().status.as_deref(),
            Some("rollback")
        );
        assert_eq!(sum.dataset_hash.as_deref(), Some("abc"));
        assert!(sum.baseline_fp.is_some());
    }
}

#[test]
fn a_huge_runner_start_line_yields_the_same_facts_as_a_full_parse() {
    let ids = vec!["1"; 40_000].join(", ");
    let ctx = format!(
        r#"{{"context": {{"pairing_baseline": {{"preview": {{"input_ids": [[{ids}]]}}}}, "note": "a \"quoted\" }}", "baseline_eval_windows": {{"final": {{"window_ids": [0], "logloss": [1.25, 2]}}}}, "dataset_meta": {{"dataset_hash": "abc"}}}}}}"#
    );
    let line = ev("runner", "start", &ctx);
    assert!(line.len() > BIG_LINE);
    let big = EventsScanner::read_from(line.as_bytes()).unwrap();
    let small = ev(
        "runner",
        "start",
        r#"{"context": {"baseline_eval_windows": {"final": {"logloss": [1.25, 2]}}, "dataset_meta": {"dataset_hash": "abc"}}}"#,
    );
    let small = EventsScanner::read_from(small.as_bytes()).unwrap();
    assert_eq!(big.unparsed_lines, 0);
    assert_eq!(big.baseline_fp, small.baseline_fp);
    assert!(big.baseline_fp.is_some());
    assert_eq!(big.dataset_hash.as_deref(), Some("abc"));
    assert!(big.session_open);
}

#[test]
fn a_runner_error_is_reported_and_a_new_session_clears_it() {
    let text = [
        ev("logger", "session_start", "{}"),
        ev("runner", "error", r#"{"error": "boom"}"#),
        ev("logger", "session_end", "{}"),
    ]
    .concat();
    let sum = EventsScanner::read_from(text.as_bytes()).unwrap();
    assert_eq!(sum.last_runner.unwrap().error.as_deref(), Some("boom"));
    let more = format!("{text}{}", ev("logger", "session_start", "{}"));
    let sum = EventsScanner::read_from(more.as_bytes()).unwrap();
    assert_eq!(sum.sessions, 2);
    assert!(sum.session_open && sum.last_runner.is_none());
}

#[test]
fn a_truncated_last_line_is_counted_but_not_trusted() {
    let text = format!(
        "{}{{\"component\": \"runner\", \"operation\": \"comp",
        ev("logger", "session_start", "{}")
    );
    let sum = EventsScanner::read_from(text.as_bytes()).unwrap();
    assert_eq!(sum.unparsed_lines, 1);
    assert!(sum.session_open);
}

#[test]
fn events_pages_continue_after_a_line_number() {
    let text = [ev("a", "b", "{}"), "not json\n".into(), ev("c", "d", "{}")].concat();
    let (page, more) = read_events_page(text.as_bytes(), 1, 1).unwrap();
    assert_eq!(page[0].line, 2);
    assert!(page[0].event.get("unparsed").is_some());
    assert!(more);
    let (page, more) = read_events_page(text.as_bytes(), 2, 10).unwrap();
    assert_eq!(page.len(), 1);
    assert!(!more);
}
