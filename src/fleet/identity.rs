//! Who this daemon is in a shared database: its workspace id, host and advertised URL.
//!
//! The id names every row the daemon writes, so it must be stable across restarts (derived from
//! the host name and the workspace root, not from anything random) and unique in the database
//! (checked against the registry at start, see `super::registry`).

use crate::config::Config;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Longest id accepted: ids appear in URLs, log lines and the status page.
const MAX_ID: usize = 64;

/// This daemon's identity, resolved once at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: String,
    pub host: String,
    pub root: PathBuf,
    /// Where clients are sent for this workspace's mutations.
    pub public_url: String,
}

impl Identity {
    /// `workspace.id` and `server.public_url` as configured, or derived; `bound` is the address
    /// the API listener actually got (the configured port may be 0).
    pub fn resolve(config: &Config, root: &Path, bound: SocketAddr) -> Identity {
        let host = host_name();
        let id = if config.workspace.id.is_empty() {
            default_id(&host, root)
        } else {
            config.workspace.id.clone()
        };
        let public_url = if config.server.public_url.is_empty() {
            default_public_url(&host, bound)
        } else {
            config.server.public_url.trim_end_matches('/').to_string()
        };
        Identity {
            id,
            host,
            root: root.to_path_buf(),
            public_url,
        }
    }
}

/// The kernel's host name (uname), or `localhost` when it has none.
pub fn host_name() -> String {
    let u = rustix::system::uname();
    let name = u.nodename().to_string_lossy().trim().to_string();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

/// `<host>-<last component of root>`, sanitised into an id.
pub fn default_id(host: &str, root: &Path) -> String {
    let last = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into());
    sanitize(&format!("{host}-{last}"))
}

/// Anything outside `[A-Za-z0-9._-]` becomes `-` (runs of them one), leading separators go,
/// and the result is cut to [`MAX_ID`]: host names and directory names may hold anything.
pub fn sanitize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let keep = c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        let c = if keep { c } else { '-' };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    let trimmed: String = out
        .trim_start_matches(['.', '_', '-'])
        .chars()
        .take(MAX_ID)
        .collect();
    let trimmed = trimmed.trim_end_matches('-').to_string();
    if trimmed.is_empty() {
        "workspace".into()
    } else {
        trimmed
    }
}

/// Why `id` cannot be a workspace id, if it cannot (the domain's one rule).
pub fn check_id(id: &str) -> Result<(), String> {
    crate::domain::WorkspaceId::parse(id)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Why `url` cannot be advertised, if it cannot: an absolute http(s) URL of a host, without
/// query or fragment (clients append API paths to it).
pub fn check_public_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "expected http://host[:port] or https://…, got {url:?}"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("must not have a query or fragment, got {url:?}"));
    }
    Ok(())
}

/// `http://<listen address>`; an unspecified address (0.0.0.0, ::) is reachable under the host
/// name, which is what another machine can use.
fn default_public_url(host: &str, bound: SocketAddr) -> String {
    if bound.ip().is_unspecified() {
        format!("http://{host}:{}", bound.port())
    } else {
        format!("http://{bound}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_id_is_the_host_and_the_last_root_component_sanitised() {
        assert_eq!(default_id("gpu-01", Path::new("/srv/ws")), "gpu-01-ws");
        assert_eq!(
            default_id("GPU 01.lab", Path::new("/srv/my runs (new)")),
            "GPU-01.lab-my-runs-new"
        );
        assert_eq!(default_id("", Path::new("/")), "root");
        assert_eq!(sanitize("--///"), "workspace");
        assert_eq!(sanitize(&"x".repeat(100)).len(), MAX_ID);
        for raw in ["héllo wörld", "../..", "a\u{202e}b", "-_.x"] {
            let s = sanitize(raw);
            assert!(check_id(&s).is_ok(), "{raw:?} -> {s:?}");
        }
    }

    #[test]
    fn bad_ids_and_urls_say_why() {
        assert!(check_id("").is_err());
        assert!(check_id("-x").is_err());
        assert!(
            check_id("a/b").unwrap_err().contains("'/'"),
            "{:?}",
            check_id("a/b")
        );
        assert!(check_id("gpu-01.ws_2").is_ok());
        assert!(check_public_url("http://gpu-01:8765").is_ok());
        assert!(check_public_url("https://ws.example/invarlockd").is_ok());
        assert!(check_public_url("gpu-01:8765").is_err());
        assert!(check_public_url("ftp://x").is_err());
        assert!(check_public_url("http://x/?a=1").is_err());
    }

    #[test]
    fn an_unspecified_listen_address_is_advertised_by_host_name() {
        let any: SocketAddr = "0.0.0.0:8765".parse().unwrap();
        assert_eq!(default_public_url("gpu-01", any), "http://gpu-01:8765");
        let lo: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        assert_eq!(default_public_url("gpu-01", lo), "http://127.0.0.1:9000");
    }
}
