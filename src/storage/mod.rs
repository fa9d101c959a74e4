//! PLACEHOLDER: replaced by the `foundation` branch (all SQL lives here).

use std::path::Path;

#[derive(Clone, Debug)]
pub struct Storage {
    pub path: std::path::PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl Storage {
    pub async fn open(path: &Path) -> Result<Storage, StorageError> {
        Ok(Storage {
            path: path.to_path_buf(),
        })
    }
}

impl Storage {
    pub async fn check_writable(&self) -> Result<(), StorageError> {
        Ok(())
    }

    pub async fn status_summary(&self) -> Result<serde_json::Value, StorageError> {
        Ok(serde_json::Value::Null)
    }
}
