//! The facts retention planning reads from the index (plans and moves are records: see
//! `storage::records::retention`). SQL in `storage::sqlite::retention`.

/// One attempt as planning sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub id: String,
    pub dir: String,
    pub status: String,
    pub listing_digest: String,
    pub report_sha256: Option<String>,
    pub bytes: i64,
    /// An archived copy under reports/ with the same sha256, if any.
    pub archived_as: Option<String>,
}
