#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    #[error("{detail}")]
    BadRequest { field: &'static str, detail: String },
    /// A nickname or promotion name that cannot be one.
    #[error("{detail}")]
    BadName { field: &'static str, detail: String },
    #[error("{0}")]
    NotFound(String),
    /// 422 with a stable code: `not_pass`, `pairing_evidence_missing`, `certificate_not_verified`,
    /// `validation_failed`, `certificate_mismatch`, `certificate_invalid`.
    #[error("{detail}")]
    Refused { code: &'static str, detail: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Internal(String),
}

impl PromoteError {
    pub fn refused(code: &'static str, detail: impl Into<String>) -> Self {
        PromoteError::Refused {
            code,
            detail: detail.into(),
        }
    }

    pub fn bad_name(field: &'static str, detail: impl Into<String>) -> Self {
        PromoteError::BadName {
            field,
            detail: detail.into(),
        }
    }

    pub fn bad(field: &'static str, detail: impl Into<String>) -> Self {
        PromoteError::BadRequest {
            field,
            detail: detail.into(),
        }
    }
}

impl From<crate::storage::StorageError> for PromoteError {
    fn from(e: crate::storage::StorageError) -> Self {
        PromoteError::Internal(e.to_string())
    }
}

impl From<super::archive::ArchiveError> for PromoteError {
    fn from(e: super::archive::ArchiveError) -> Self {
        match e {
            super::archive::ArchiveError::Conflict(name) => PromoteError::Conflict(format!(
                "reports/{name} already exists with different content"
            )),
            other => PromoteError::Internal(other.to_string()),
        }
    }
}
