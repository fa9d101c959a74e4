//! Run → baseline mappings, derived from certificates, promotions and pairing evidence (the
//! derivation is SQL: `storage::sqlite::mappings`).

use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MappingRow {
    #[sqlx(default)]
    pub workspace: String,
    pub subject: String,
    pub baseline_attempt: Option<String>,
    pub baseline_archived: Option<String>,
    pub how: String,
    pub confidence: String,
    pub certificate: Option<String>,
    pub candidates: i64,
    pub note: Option<String>,
}

/// SQL fragments of the mapping derivation that read the same in SQLite's and PostgreSQL's
/// dialects (`storage::sqlite::mappings::derive` and its PostgreSQL twin use them both).
pub(super) mod sql {
    /// When a report is compatible with a subject: either side's dataset hash is unknown or
    /// both are equal. That `or` defeats an index, so each lookup is a union of three seeks,
    /// one per case: equal dataset hashes, a report without one, a subject without one.
    pub(in crate::storage) const COMPATIBLE: [&str; 3] = [
        "b.dataset_hash = s.dh",
        "s.dh is not null and b.dataset_hash is null",
        "s.dh is null",
    ];

    /// The evidence key of the fingerprint kind, as stored in `pairing_open.fit`, from a
    /// column holding a logloss fingerprint: a subject's `baseline_fp`, or a candidate's
    /// `final_logloss_fp` to name the subjects it could serve.
    pub(in crate::storage) fn fit_fp(column: &str) -> String {
        format!("'fp:' || {column}")
    }

    /// The key of the paired-hashes kind (same dataset, window ids and tokenizer).
    pub(in crate::storage) fn fit_hash(t: &str) -> String {
        format!(
            "'hash:' || {t}.dataset_hash || ':' || coalesce({t}.ids_sha256, '') || ':' || coalesce({t}.tokenizer_hash, '')"
        )
    }
}
