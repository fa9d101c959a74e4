//! Per-nickname summaries for `GET /v1/runs` and convenience copies: row types (the queries
//! are in `storage::sqlite::runs`).

use super::mappings::MappingRow;

/// One nickname: counts, newest attempt, newest pass, and the mapping of its newest attempt
/// that has one (`m_*`, all null without one).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    #[sqlx(default)]
    pub workspace: String,
    pub nickname: String,
    pub attempts: i64,
    pub latest_id: String,
    pub latest_status: String,
    pub latest_pass: Option<String>,
    m_subject: Option<String>,
    m_baseline_attempt: Option<String>,
    m_baseline_archived: Option<String>,
    m_how: Option<String>,
    m_confidence: Option<String>,
    m_certificate: Option<String>,
    m_candidates: Option<i64>,
    m_note: Option<String>,
}

impl RunRow {
    /// The mapping of the newest attempt of this nickname that has one.
    pub fn mapping(&self) -> Option<MappingRow> {
        Some(MappingRow {
            workspace: self.workspace.clone(),
            subject: self.m_subject.clone()?,
            baseline_attempt: self.m_baseline_attempt.clone(),
            baseline_archived: self.m_baseline_archived.clone(),
            how: self.m_how.clone()?,
            confidence: self.m_confidence.clone()?,
            certificate: self.m_certificate.clone(),
            candidates: self.m_candidates.unwrap_or(0),
            note: self.m_note.clone(),
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CopyRow {
    pub nickname: String,
    pub source_attempt: String,
    pub sha256: String,
    pub size: i64,
    pub mtime_ns: i64,
}
