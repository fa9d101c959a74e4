//! Bearer tokens and scopes. Tokens are held only as SHA-256 digests and compared in constant
//! time; they are never logged.

use crate::config::{AuthConfig, TokenConfig};
use crate::domain::Sha256;
use serde::{Deserialize, Serialize};
use std::path::Path;
use subtle::ConstantTimeEq;

/// Scopes are ordered: `admin` can do what `write` can, which can do what `read` can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("auth.tokens[{index}] ({name}): {why}")]
    Token {
        index: usize,
        name: String,
        why: String,
    },
    #[error("cannot write the admin token to {path}: {source}")]
    AdminToken {
        path: String,
        source: std::io::Error,
    },
    #[error("refusing to listen on non-loopback {0} without any configured token (auth.tokens)")]
    OpenNonLoopback(std::net::SocketAddr),
}

#[derive(Clone)]
struct Entry {
    name: String,
    scope: Scope,
    digest: Sha256,
}

/// Who called: the token's name and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub token_name: String,
    pub scope: Scope,
}

#[derive(Clone)]
pub struct Tokens {
    entries: Vec<Entry>,
    /// Reads need no token (loopback listener and `public_reads`).
    pub open_reads: bool,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.entries.iter().map(|e| e.name.as_str()).collect();
        f.debug_struct("Tokens")
            .field("names", &names)
            .field("open_reads", &self.open_reads)
            .finish()
    }
}

impl Tokens {
    /// Loads configured tokens; when there are none, creates (or reuses) `<state>/admin.token`.
    pub fn load(
        cfg: &AuthConfig,
        listen: std::net::SocketAddr,
        state_dir: &Path,
    ) -> Result<Tokens, AuthError> {
        let mut entries = Vec::new();
        for (index, t) in cfg.tokens.iter().enumerate() {
            entries.push(entry(index, t)?);
        }
        let loopback = listen.ip().is_loopback();
        if entries.is_empty() {
            if !loopback {
                return Err(AuthError::OpenNonLoopback(listen));
            }
            let path = state_dir.join("admin.token");
            let token = admin_token(&path)?;
            tracing::info!(path = %path.display(), "no token configured; admin token is in this file");
            entries.push(Entry {
                name: "admin".into(),
                scope: Scope::Admin,
                digest: Sha256::of(token.as_bytes()),
            });
        }
        Ok(Tokens {
            entries,
            open_reads: loopback && cfg.public_reads,
        })
    }

    /// The caller presenting `token`, if it is known.
    pub fn identify(&self, token: &str) -> Option<Caller> {
        let digest = Sha256::of(token.as_bytes());
        let mut found = None;
        // Visit every entry so the time taken does not depend on which one matches.
        for e in &self.entries {
            if bool::from(e.digest.0.ct_eq(&digest.0)) {
                found = Some(Caller {
                    token_name: e.name.clone(),
                    scope: e.scope,
                });
            }
        }
        found
    }
}

fn entry(index: usize, t: &TokenConfig) -> Result<Entry, AuthError> {
    let bad = |why: String| AuthError::Token {
        index,
        name: t.name.clone(),
        why,
    };
    let digest = match (&t.sha256, &t.file) {
        (Some(hex), None) => Sha256::parse(hex.trim()).map_err(|e| bad(e.to_string()))?,
        (None, Some(file)) => {
            let raw = std::fs::read_to_string(file)
                .map_err(|e| bad(format!("cannot read {}: {e}", file.display())))?;
            let token = raw.trim();
            if token.len() < 16 {
                return Err(bad("token in file is shorter than 16 characters".into()));
            }
            Sha256::of(token.as_bytes())
        }
        _ => return Err(bad("set exactly one of `sha256` or `file`".into())),
    };
    if t.name.is_empty() {
        return Err(bad("name is empty".into()));
    }
    Ok(Entry {
        name: t.name.clone(),
        scope: t.scope,
        digest,
    })
}

/// Reads the generated admin token, creating it with mode 0600 on first start.
fn admin_token(path: &Path) -> Result<String, AuthError> {
    let err = |source| AuthError::AdminToken {
        path: path.display().to_string(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(path) {
        if existing.trim().len() >= 32 {
            return Ok(existing.trim().to_string());
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| err(std::io::Error::other(e.to_string())))?;
    let token = hex::encode(bytes);
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    f.write_all(format!("{token}\n").as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_first_start_without_tokens_writes_a_private_admin_token() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = AuthConfig::default();
        let tokens = Tokens::load(&cfg, "127.0.0.1:0".parse().unwrap(), dir.path()).unwrap();
        let path = dir.path().join("admin.token");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let token = std::fs::read_to_string(&path).unwrap();
        assert_eq!(tokens.identify(token.trim()).unwrap().scope, Scope::Admin);
        assert!(tokens.identify("wrong").is_none());
        // A restart reuses the same token.
        let again = Tokens::load(&cfg, "127.0.0.1:0".parse().unwrap(), dir.path()).unwrap();
        assert!(again.identify(token.trim()).is_some());
    }

    #[test]
    fn a_non_loopback_listener_without_tokens_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = Tokens::load(
            &AuthConfig::default(),
            "0.0.0.0:8765".parse().unwrap(),
            dir.path(),
        )
        .unwrap_err();
        assert!(matches!(err, AuthError::OpenNonLoopback(_)));
    }

    #[test]
    fn configured_tokens_match_by_digest_with_their_scope() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = AuthConfig {
            public_reads: false,
            tokens: vec![TokenConfig {
                name: "ci".into(),
                scope: Scope::Write,
                sha256: Some(Sha256::of(b"ci-secret-token-123").hex()),
                file: None,
            }],
        };
        let tokens = Tokens::load(&cfg, "127.0.0.1:0".parse().unwrap(), dir.path()).unwrap();
        assert!(!tokens.open_reads);
        let caller = tokens.identify("ci-secret-token-123").unwrap();
        assert_eq!(
            (caller.token_name.as_str(), caller.scope),
            ("ci", Scope::Write)
        );
        assert!(!dir.path().join("admin.token").exists());
    }
}
