//! The functions the daemon calls to record what happened. Every label value comes from an enum
//! or a fixed string here, so no input (paths, nicknames, ids, methods) can create new series.

use super::catalogue::*;
use std::time::{Duration, Instant};

/// Generates a label enum with `ALL` and `as_str`.
macro_rules! label_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
    };
}

label_enum!(
    /// Which index scan: the full reconcile or an event-driven refresh of some paths.
    ScanKind { Full => "full", Refresh => "refresh" }
);
label_enum!(
    /// Why a scan failed.
    ScanCause { Filesystem => "filesystem", Database => "database", Internal => "internal" }
);
label_enum!(
    /// Why a workspace file was refused instead of read.
    Refusal {
        Symlink => "symlink",
        NotRegular => "not_regular",
        TooLarge => "too_large",
        Outside => "outside",
        Changed => "changed",
    }
);
label_enum!(
    /// Where a verification came from.
    VerifySource { Api => "api", Promotion => "promotion" }
);
label_enum!(
    /// Why a verification request was refused for load.
    VerifyRejection { Concurrency => "concurrency", Memory => "memory" }
);
label_enum!(
    /// Kinds of database errors (classified from the driver's error).
    DbErrorKind {
        Database => "database",
        Io => "io",
        PoolTimeout => "pool_timeout",
        RowNotFound => "row_not_found",
        Decode => "decode",
        Other => "other",
    }
);

/// Audit actions are fixed strings in the code; these are pre-registered at zero. An action not
/// listed here is still counted under its own name (still a fixed string from the code).
pub struct AuditAction;

impl AuditAction {
    pub const KNOWN: &'static [&'static str] = &[
        "promotion.created",
        "verification.recorded",
        "retention.moved",
        "retention.restored",
        "retention.purged",
        "git.committed",
        "git.commit_failed",
        "git.commit_refused",
        "git.pushed",
        "git.push_failed",
    ];
}

/// One answered HTTP request. `route` is the matched route template (`/v1/attempts/{*id}`),
/// never the raw path; `None` when no route matched.
pub fn http_request(method: &axum::http::Method, route: Option<&str>, status: u16, took: Duration) {
    use axum::http::Method;
    let method = match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = route.unwrap_or("unmatched").to_owned();
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status.to_string()),
    ];
    ::metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    ::metrics::histogram!(HTTP_DURATION, &labels).record(took.as_secs_f64());
}

/// Changed paths delivered by the watcher.
pub fn watcher_events(paths: usize) {
    ::metrics::counter!(WATCHER_EVENTS).increment(paths as u64);
}

/// A refresh of a batch of paths finished; `first_event` is when the earliest filesystem event
/// of the batch happened (before debouncing), if known.
pub fn refreshed(took: Duration, first_event: Option<Instant>) {
    ::metrics::counter!(SCANS, "scan" => ScanKind::Refresh.as_str()).increment(1);
    ::metrics::histogram!(INDEX_LAG).record(took.as_secs_f64());
    if let Some(at) = first_event {
        ::metrics::histogram!(EVENT_TO_VISIBLE).record(at.elapsed().as_secs_f64());
    }
}

/// A full reconcile finished, successfully or not.
pub fn reconciled(took: Duration) {
    ::metrics::counter!(SCANS, "scan" => ScanKind::Full.as_str()).increment(1);
    ::metrics::histogram!(RECONCILE).record(took.as_secs_f64());
}

/// A scan failed and the index may be stale until the next one succeeds.
pub fn scan_aborted(scan: ScanKind, cause: ScanCause) {
    ::metrics::counter!(SCANS_ABORTED, "scan" => scan.as_str(), "cause" => cause.as_str())
        .increment(1);
}

/// A workspace file was refused instead of read or served.
pub fn file_refused(kind: Refusal) {
    ::metrics::counter!(FILES_REFUSED, "kind" => kind.as_str()).increment(1);
}

/// An event was published on the event stream (`kind` is one of the fixed event types).
pub fn event_published(kind: &'static str) {
    ::metrics::counter!(EVENTS, "type" => kind).increment(1);
}

/// An archive was created under reports/ (`kind` is "subject" or "baseline").
pub fn promotion_created(kind: &str) {
    let kind = if kind == "baseline" {
        "baseline"
    } else {
        "subject"
    };
    ::metrics::counter!(PROMOTIONS, "kind" => kind).increment(1);
}

pub fn verification(source: VerifySource, ok: bool) {
    let ok = if ok { "true" } else { "false" };
    ::metrics::counter!(VERIFICATIONS, "source" => source.as_str(), "ok" => ok).increment(1);
}

/// A verification request was answered 503 because the daemon was at its limit.
pub fn verify_rejected(reason: VerifyRejection) {
    ::metrics::counter!(VERIFY_REJECTED, "reason" => reason.as_str()).increment(1);
}

/// A retention plan moved `attempts` attempts (`bytes` in all) to trash.
pub fn retention_moved(attempts: usize, bytes: u64) {
    ::metrics::counter!(RETENTION_MOVES).increment(attempts as u64);
    ::metrics::counter!(RETENTION_MOVED_BYTES).increment(bytes);
}

/// An audit entry was appended (`action` is a fixed string from the code).
pub fn audit_appended(action: &str) {
    ::metrics::counter!(AUDIT_APPENDS, "action" => action.to_owned()).increment(1);
}

/// A database returned an error (classified by the storage layer, which knows the driver).
pub fn db_error(backend: &'static str, kind: DbErrorKind) {
    ::metrics::counter!(DB_ERRORS, "backend" => backend, "kind" => kind.as_str()).increment(1);
}

/// An HTTP connection was accepted (`open`) or ended (`!open`).
pub fn http_connection(open: bool) {
    let g = ::metrics::gauge!(HTTP_CONNECTIONS);
    if open {
        g.increment(1.0);
    } else {
        g.decrement(1.0);
    }
}

/// Accepting an HTTP connection failed.
pub fn http_accept_error() {
    ::metrics::counter!(HTTP_ACCEPT_ERRORS).increment(1);
}

/// A promotion commit (`[reports] git`) landed, or an attempt at it failed.
pub fn git_commit(ok: bool) {
    let name = if ok { GIT_COMMITS } else { GIT_COMMITS_FAILED };
    ::metrics::counter!(name).increment(1);
}

/// A push of the promotions' branch succeeded or failed.
pub fn git_push(ok: bool) {
    let name = if ok { GIT_PUSHES } else { GIT_PUSHES_FAILED };
    ::metrics::counter!(name).increment(1);
}

/// Promotions whose commit has not landed, and whether commits wait to be pushed.
pub fn git_pending(commits: usize, push: bool) {
    ::metrics::gauge!(GIT_PENDING_COMMITS).set(commits as f64);
    ::metrics::gauge!(GIT_PUSH_PENDING).set(if push { 1.0 } else { 0.0 });
}
