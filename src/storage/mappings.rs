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
