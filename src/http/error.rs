//! The HTTP layer's one error type: RFC 9457 `application/problem+json` with a stable `code`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

pub type ApiResult<T, E = ApiError> = Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    /// A bad parameter or body; `field` names what was wrong.
    #[error("{detail}")]
    BadRequest {
        field: Option<String>,
        detail: String,
    },
    /// A nickname or promotion name that cannot be one (`invalid_name`); `field` names where.
    #[error("{detail}")]
    InvalidName { field: String, detail: String },
    #[error("{0}")]
    Conflict(String),
    /// A well-formed request that the domain refuses (`not_pass`, `pairing_evidence_missing`, ...).
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("{detail}")]
    ConflictCode { code: &'static str, detail: String },
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("request body too large")]
    PayloadTooLarge,
    /// A body within the size limit whose content is beyond what the route accepts.
    #[error("{detail}")]
    TooLarge { code: &'static str, detail: String },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many requests of this kind at once; the client may retry after `retry_after_secs`.
    #[error("{detail}")]
    Overloaded {
        detail: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    NotReady(String),
    /// The database does not answer (a lost connection, a server restarting): 503
    /// `database_unavailable` with Retry-After; the daemon catches up when it is back.
    #[error("{0}")]
    DatabaseUnavailable(String),
    /// A mutation of another workspace's files (421 `misdirected`): only its own daemon acts
    /// on them; the problem names it and where it answers.
    #[error("{detail}")]
    Misdirected {
        workspace: String,
        public_url: Option<String>,
        detail: String,
    },
    /// An unqualified id that several workspaces hold (409 `ambiguous`); `?workspace=` picks.
    #[error("{detail}")]
    Ambiguous {
        candidates: Vec<String>,
        detail: String,
    },
    /// A stored record that does not parse; the operation stopped (500 `record_corrupt`).
    #[error("{0}")]
    Corrupt(String),
    /// Logged with its cause, never echoed to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_field(field: &str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field: Some(field.to_string()),
            detail: detail.into(),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } | ApiError::InvalidName { .. } => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) | ApiError::ConflictCode { .. } => StatusCode::CONFLICT,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge | ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotReady(_) | ApiError::DatabaseUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Misdirected { .. } => StatusCode::MISDIRECTED_REQUEST,
            ApiError::Ambiguous { .. } => StatusCode::CONFLICT,
            ApiError::Internal(_) | ApiError::Corrupt(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::InvalidName { .. } => "invalid_name",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unprocessable { code, .. } | ApiError::ConflictCode { code, .. } => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::TooLarge { code, .. } => code,
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::NotReady(_) => "not_ready",
            ApiError::DatabaseUnavailable(_) => "database_unavailable",
            ApiError::Misdirected { .. } => "misdirected",
            ApiError::Ambiguous { .. } => "ambiguous",
            ApiError::Corrupt(_) => "record_corrupt",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                "internal error; see the daemon log".to_string()
            }
            other => other.to_string(),
        };
        let field = match &self {
            ApiError::BadRequest { field, .. } => field.as_deref(),
            ApiError::InvalidName { field, .. } => Some(field.as_str()),
            _ => None,
        };
        if !super::types::PROBLEM_CODES.contains(&self.code()) {
            // tests/openapi.rs keeps the list complete; never fail an answer over it.
            tracing::warn!(
                code = self.code(),
                "problem code missing from the schema's enum"
            );
        }
        let mut body = super::types::Problem {
            field: field.map(str::to_string),
            ..super::types::Problem::new(status, self.code(), detail)
        };
        match &self {
            ApiError::Misdirected {
                workspace,
                public_url,
                ..
            } => {
                body.workspace = Some(workspace.clone());
                body.public_url = public_url.clone();
            }
            ApiError::Ambiguous { candidates, .. } => body.candidates = Some(candidates.clone()),
            _ => {}
        }
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = (status, json).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        let retry_after = match &self {
            ApiError::Overloaded {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            // About one heartbeat: by then the daemon knows whether the database is back.
            ApiError::DatabaseUnavailable(_) => Some(2),
            _ => None,
        };
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        if matches!(self, ApiError::Unauthorized) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(e: crate::storage::StorageError) -> Self {
        if unreachable(&e) {
            return ApiError::DatabaseUnavailable(format!(
                "the database does not answer ({e}); /readyz says degraded until it is back"
            ));
        }
        ApiError::Internal(e.to_string())
    }
}

/// Whether a storage error means the database cannot be reached at all (as opposed to a
/// query that failed): the connection is gone, refused, closed, or the server is going down.
fn unreachable(e: &crate::storage::StorageError) -> bool {
    let crate::storage::StorageError::Db(db) = e else {
        return false;
    };
    match db {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception) and 57P (operator intervention: admin
        // shutdown, crash shutdown, cannot connect now).
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

impl From<crate::domain::DomainError> for ApiError {
    fn from(e: crate::domain::DomainError) -> Self {
        if let crate::domain::DomainError::Nickname(..) = e {
            return ApiError::InvalidName {
                field: "nickname".into(),
                detail: e.to_string(),
            };
        }
        ApiError::BadRequest {
            field: None,
            detail: e.to_string(),
        }
    }
}

impl From<crate::promote::PromoteError> for ApiError {
    fn from(e: crate::promote::PromoteError) -> Self {
        use crate::promote::PromoteError;
        match e {
            PromoteError::BadRequest { field, detail } => ApiError::bad_field(field, detail),
            PromoteError::BadName { field, detail } => ApiError::InvalidName {
                field: field.into(),
                detail,
            },
            PromoteError::NotFound(d) => ApiError::NotFound(d),
            PromoteError::Refused { code, detail } => ApiError::Unprocessable { code, detail },
            PromoteError::Conflict(d) => ApiError::Conflict(d),
            PromoteError::Internal(d) => ApiError::Internal(d),
        }
    }
}

impl From<crate::retention::RetentionError> for ApiError {
    fn from(e: crate::retention::RetentionError) -> Self {
        use crate::retention::RetentionError;
        match e {
            RetentionError::BadRequest(field, d) => ApiError::bad_field(field, d),
            RetentionError::NotFound(d) => ApiError::NotFound(d),
            RetentionError::Conflict(code, detail) => ApiError::ConflictCode { code, detail },
            RetentionError::Corrupt(d) => ApiError::Corrupt(d),
            RetentionError::Internal(d) => ApiError::Internal(d),
        }
    }
}
