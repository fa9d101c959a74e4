use super::*;
use std::collections::HashSet;

#[test]
fn every_metric_name_follows_the_prometheus_conventions() {
    let mut seen = HashSet::new();
    for m in CATALOGUE {
        assert!(seen.insert(m.name), "{} listed twice", m.name);
        assert!(m.name.starts_with("invarlockd_"), "{}", m.name);
        assert!(
            m.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{} is not snake_case",
            m.name
        );
        assert!(!m.help.is_empty(), "{} has no HELP", m.name);
        assert_eq!(
            m.name.ends_with("_total"),
            m.kind == Kind::Counter,
            "{}: counters, and only counters, end in _total",
            m.name
        );
        if m.kind == Kind::Histogram {
            assert!(m.name.ends_with("_seconds"), "{} is a duration", m.name);
            assert!(m.buckets.windows(2).all(|w| w[0] < w[1]), "{}", m.name);
        } else {
            assert!(m.buckets.is_empty(), "{}", m.name);
        }
        for unit in ["_ms", "_millis", "_kb", "_mb", "_secs"] {
            assert!(!m.name.contains(unit), "{} uses a non-base unit", m.name);
        }
    }
}

#[test]
fn latency_buckets_span_sub_millisecond_reads_to_the_request_timeout() {
    assert!(LATENCY_BUCKETS[0] <= 0.001);
    assert!(*LATENCY_BUCKETS.last().unwrap() >= 30.0);
    assert!(*SCAN_BUCKETS.last().unwrap() >= 600.0);
}

#[test]
fn the_recorder_renders_help_and_type_for_metrics_never_recorded() {
    let text = handle().render();
    // Series that exist only once a request was answered or the daemon's state was read at
    // scrape time (tests/metrics checks those on a real daemon).
    let later = [
        catalogue::HTTP_REQUESTS,
        catalogue::HTTP_DURATION,
        catalogue::LAST_RECONCILE,
        catalogue::RUNS_BYTES,
        catalogue::TRASH_BYTES,
        catalogue::INDEX_DB_BYTES,
        catalogue::RECORDS_DB_BYTES,
        catalogue::EVENTS,
    ];
    for m in CATALOGUE.iter().filter(|m| !later.contains(&m.name)) {
        assert!(
            text.contains(&format!("# HELP {} ", m.name)),
            "no HELP for {}",
            m.name
        );
        assert!(
            text.contains(&format!("# TYPE {} ", m.name)),
            "no TYPE for {}",
            m.name
        );
    }
    assert!(text.contains("# TYPE invarlockd_reconcile_seconds histogram"));
    assert!(text.contains("invarlockd_reconcile_seconds_bucket{le=\"1800\"}"));
    assert!(text.contains("invarlockd_build_info{version=\""));
}
