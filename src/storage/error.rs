//! The storage layer's one error type, and how callers classify it: a database that cannot be
//! reached (`is_unavailable`: the daemon reports `degraded` and catches up later) is not a
//! refusal or a corrupt row.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database: {0}")]
    Db(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create {0}: {1}")]
    Dir(PathBuf, std::io::Error),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Every database error passes through here, which is where it is counted.
impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        let kind = match &e {
            sqlx::Error::Database(_) => crate::metrics::DbErrorKind::Database,
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) => crate::metrics::DbErrorKind::Io,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                crate::metrics::DbErrorKind::PoolTimeout
            }
            sqlx::Error::RowNotFound => crate::metrics::DbErrorKind::RowNotFound,
            sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => {
                crate::metrics::DbErrorKind::Decode
            }
            _ => crate::metrics::DbErrorKind::Other,
        };
        crate::metrics::db_error("sqlite", kind);
        StorageError::Db(e)
    }
}

impl StorageError {
    /// The database cannot be reached or is shutting down (a server restarting, a network
    /// cut, a pool that cannot get a connection), as opposed to a query it refused.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StorageError::Db(e) => unavailable(e),
            StorageError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => unavailable(e),
            _ => false,
        }
    }

    /// A conflict the database asks the client to retry (serialization failure, deadlock):
    /// storage retries these inside the operation, callers never see one.
    pub fn is_transient(&self) -> bool {
        match self {
            StorageError::Db(sqlx::Error::Database(d)) => {
                matches!(d.code().as_deref(), Some("40001" | "40P01"))
            }
            _ => false,
        }
    }
}

fn unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exceptions; 57P01-57P03: the server is shutting down, was
        // shut down, or cannot take connections yet; 53300: too many connections.
        sqlx::Error::Database(d) => d.code().is_some_and(|c| {
            c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}
