//! The list of metrics: name, type, labels and HELP text. Names follow the Prometheus
//! conventions (base units, `_seconds`, `_bytes`, counters end in `_total`); every label has a
//! bounded set of values, listed here.

use super::record::{
    AuditAction, DbErrorKind, Refusal, ScanCause, ScanKind, VerifyRejection, VerifySource,
};
use super::{LATENCY_BUCKETS, SCAN_BUCKETS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

#[derive(Debug)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub labels: &'static [&'static str],
    pub help: &'static str,
    /// Histogram bucket upper bounds in the metric's unit (empty for other kinds).
    pub buckets: &'static [f64],
}

const fn m(
    name: &'static str,
    kind: Kind,
    labels: &'static [&'static str],
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind,
        labels,
        help,
        buckets: &[],
    }
}

const fn h(
    name: &'static str,
    labels: &'static [&'static str],
    buckets: &'static [f64],
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind: Kind::Histogram,
        labels,
        help,
        buckets,
    }
}

use Kind::{Counter, Gauge};

pub const HTTP_REQUESTS: &str = "invarlockd_http_requests_total";
pub const HTTP_DURATION: &str = "invarlockd_http_request_duration_seconds";
pub const HTTP_CONNECTIONS: &str = "invarlockd_http_connections";
pub const HTTP_ACCEPT_ERRORS: &str = "invarlockd_http_accept_errors_total";
pub const WATCHER_EVENTS: &str = "invarlockd_watcher_events_total";
pub const WATCHER_HEALTHY: &str = "invarlockd_watcher_healthy";
pub const INDEX_LAG: &str = "invarlockd_index_lag_seconds";
pub const EVENT_TO_VISIBLE: &str = "invarlockd_event_to_visible_seconds";
pub const RECONCILE: &str = "invarlockd_reconcile_seconds";
pub const LAST_RECONCILE: &str = "invarlockd_last_reconcile_success_timestamp_seconds";
pub const SCANS: &str = "invarlockd_scans_total";
pub const SCANS_ABORTED: &str = "invarlockd_scans_aborted_total";
pub const FILES_REFUSED: &str = "invarlockd_files_refused_total";
pub const ATTEMPTS: &str = "invarlockd_attempts";
pub const RUNS_BYTES: &str = "invarlockd_runs_bytes";
pub const TRASH_BYTES: &str = "invarlockd_retention_trash_bytes";
pub const INDEX_DB_BYTES: &str = "invarlockd_index_db_bytes";
pub const RECORDS_DB_BYTES: &str = "invarlockd_records_db_bytes";
pub const EVENTS: &str = "invarlockd_events_total";
pub const PROMOTIONS: &str = "invarlockd_promotions_total";
pub const VERIFICATIONS: &str = "invarlockd_verifications_total";
pub const VERIFY_REJECTED: &str = "invarlockd_verify_rejected_total";
pub const RETENTION_MOVES: &str = "invarlockd_retention_moves_total";
pub const RETENTION_MOVED_BYTES: &str = "invarlockd_retention_moved_bytes_total";
pub const AUDIT_APPENDS: &str = "invarlockd_audit_appends_total";
pub const DB_ERRORS: &str = "invarlockd_db_errors_total";
pub const BUILD_INFO: &str = "invarlockd_build_info";
pub const GIT_COMMITS: &str = "invarlockd_git_commits_total";
pub const GIT_COMMITS_FAILED: &str = "invarlockd_git_commits_failed_total";
pub const GIT_PUSHES: &str = "invarlockd_git_pushes_total";
pub const GIT_PUSHES_FAILED: &str = "invarlockd_git_pushes_failed_total";
pub const GIT_PENDING_COMMITS: &str = "invarlockd_git_pending_commits";
pub const GIT_PUSH_PENDING: &str = "invarlockd_git_push_pending";

pub const CATALOGUE: &[Metric] = &[
    m(HTTP_REQUESTS, Counter, &["method", "route", "status"],
        "HTTP requests answered, by method, route template (\"unmatched\" when no route matched) and status code."),
    h(HTTP_DURATION, &["method", "route", "status"], LATENCY_BUCKETS,
        "Time from receiving an HTTP request to its response headers, by method, route template and status code."),
    m(HTTP_CONNECTIONS, Gauge, &[],
        "HTTP connections being served (at most server.max_connections; more wait to be accepted)."),
    m(HTTP_ACCEPT_ERRORS, Counter, &[],
        "Failures to accept an HTTP connection (e.g. out of file descriptors); the listener keeps going."),
    m(WATCHER_EVENTS, Counter, &[], "Changed paths received from the filesystem watcher (after debouncing)."),
    m(WATCHER_HEALTHY, Gauge, &[], "1 while the filesystem watcher and the last reconcile are healthy, 0 after an error."),
    h(INDEX_LAG, &[], SCAN_BUCKETS, "Time to bring the index up to date with one debounced batch of changed paths."),
    h(EVENT_TO_VISIBLE, &[], SCAN_BUCKETS,
        "Time from the first filesystem event of a batch to its changes being visible in the API and the event stream (includes the debounce)."),
    h(RECONCILE, &[], SCAN_BUCKETS, "Duration of full reconcile scans of the workspace, successful or not."),
    m(LAST_RECONCILE, Gauge, &[], "Unix time of the last full reconcile that succeeded."),
    m(SCANS, Counter, &["scan"], "Index scans run: full reconciles (scan=\"full\") and event-driven refreshes (scan=\"refresh\")."),
    m(SCANS_ABORTED, Counter, &["scan", "cause"],
        "Index scans that failed and left the index stale, by scan and cause (filesystem, database, internal)."),
    m(FILES_REFUSED, Counter, &["kind"],
        "Workspace files refused instead of read, by kind (symlink, not_regular, too_large, outside, changed)."),
    m(ATTEMPTS, Gauge, &["status"], "Attempts in the index, by status."),
    m(RUNS_BYTES, Gauge, &[], "Bytes of the files of indexed attempts under runs/ (as last indexed)."),
    m(TRASH_BYTES, Gauge, &[], "Bytes moved to trash by applied retention plans and not yet purged or restored."),
    m(INDEX_DB_BYTES, Gauge, &[], "Size of the index database (a cache rebuilt from the files) plus its write-ahead log."),
    m(RECORDS_DB_BYTES, Gauge, &[],
        "Size of the records database (audit log, verifications, retention plans; never rebuilt) plus its write-ahead log."),
    m(EVENTS, Counter, &["type"], "Events published on the event stream, by event type."),
    m(PROMOTIONS, Counter, &["kind"], "Evidence archives created under reports/, by kind (subject, baseline)."),
    m(VERIFICATIONS, Counter, &["source", "ok"],
        "Certificate verifications, by source (api: POST /v1/verify, promotion: a promoted archive) and outcome."),
    m(VERIFY_REJECTED, Counter, &["reason"],
        "Verification requests refused to bound the daemon's load, by reason: concurrency (503 with Retry-After, every verify slot busy), memory (413, the certificate's JSON tree exceeds verify.max_values)."),
    m(RETENTION_MOVES, Counter, &[], "Attempts moved to trash by applied retention plans."),
    m(RETENTION_MOVED_BYTES, Counter, &[], "Bytes moved to trash by applied retention plans."),
    m(AUDIT_APPENDS, Counter, &["action"], "Audit log entries appended, by action."),
    m(DB_ERRORS, Counter, &["backend", "kind"],
        "Errors returned by the index database, by backend and kind (database, io, pool_timeout, row_not_found, decode, other)."),
    m(BUILD_INFO, Gauge, &["version", "os", "arch", "profile"],
        "Always 1; the labels describe the running build."),
    m(GIT_COMMITS, Counter, &[], "Promotions committed to the git repository holding reports/ ([reports] git)."),
    m(GIT_COMMITS_FAILED, Counter, &[], "Attempts to commit a promotion that failed (the commit stays owed and is retried)."),
    m(GIT_PUSHES, Counter, &[], "Successful pushes of the branch promotions are committed to."),
    m(GIT_PUSHES_FAILED, Counter, &[], "Pushes that failed (retried with backoff)."),
    m(GIT_PENDING_COMMITS, Gauge, &[], "Promotions whose commit has not landed yet."),
    m(GIT_PUSH_PENDING, Gauge, &[], "1 while commits wait to be pushed, else 0."),
];

/// Describes every metric (HELP and TYPE) and creates every series whose label values are known
/// in advance, so dashboards and alerts see zeros rather than gaps.
pub(super) fn describe_and_register() {
    for metric in CATALOGUE {
        match metric.kind {
            Kind::Counter => ::metrics::describe_counter!(metric.name, metric.help),
            Kind::Gauge => ::metrics::describe_gauge!(metric.name, metric.help),
            Kind::Histogram => ::metrics::describe_histogram!(metric.name, metric.help),
        }
        if metric.labels.is_empty() {
            match metric.kind {
                Kind::Counter => ::metrics::counter!(metric.name).increment(0),
                Kind::Gauge => {}
                Kind::Histogram => drop(::metrics::histogram!(metric.name)),
            }
        }
    }
    for scan in ScanKind::ALL {
        ::metrics::counter!(SCANS, "scan" => scan.as_str()).increment(0);
        for cause in ScanCause::ALL {
            ::metrics::counter!(SCANS_ABORTED, "scan" => scan.as_str(), "cause" => cause.as_str())
                .increment(0);
        }
    }
    for kind in Refusal::ALL {
        ::metrics::counter!(FILES_REFUSED, "kind" => kind.as_str()).increment(0);
    }
    for kind in ["subject", "baseline"] {
        ::metrics::counter!(PROMOTIONS, "kind" => kind).increment(0);
    }
    for source in VerifySource::ALL {
        for ok in ["true", "false"] {
            ::metrics::counter!(VERIFICATIONS, "source" => source.as_str(), "ok" => ok)
                .increment(0);
        }
    }
    for reason in VerifyRejection::ALL {
        ::metrics::counter!(VERIFY_REJECTED, "reason" => reason.as_str()).increment(0);
    }
    for action in AuditAction::KNOWN {
        ::metrics::counter!(AUDIT_APPENDS, "action" => *action).increment(0);
    }
    for kind in DbErrorKind::ALL {
        ::metrics::counter!(DB_ERRORS, "backend" => "sqlite", "kind" => kind.as_str()).increment(0);
    }
    for status in crate::report::AttemptStatus::ALL {
        ::metrics::gauge!(ATTEMPTS, "status" => status.as_str()).set(0.0);
    }
    ::metrics::gauge!(WATCHER_HEALTHY).set(1.0);
    ::metrics::gauge!(HTTP_CONNECTIONS).set(0.0);
    ::metrics::counter!(HTTP_ACCEPT_ERRORS).increment(0);
    ::metrics::gauge!(GIT_PENDING_COMMITS).set(0.0);
    ::metrics::gauge!(GIT_PUSH_PENDING).set(0.0);
    ::metrics::gauge!(
        BUILD_INFO,
        "version" => env!("CARGO_PKG_VERSION"),
        "os" => std::env::consts::OS,
        "arch" => std::env::consts::ARCH,
        "profile" => if cfg!(debug_assertions) { "debug" } else { "release" },
    )
    .set(1.0);
}
