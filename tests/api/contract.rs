//! The route table below is checked three ways: against openapi.yaml (no drift either way),
//! against the `.route(...)` calls in src/http (a new route cannot go unlisted), and against a
//! live daemon with tokens of each scope (no route skips auth).

use crate::helpers::*;
use invarlockd::auth::Scope;
use invarlockd::config::TokenConfig;
use invarlockd::domain::Sha256;
use reqwest::StatusCode;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Clone, Copy, PartialEq)]
enum Need {
    Public,
    Scope(Scope),
}

/// (method, OpenAPI path, concrete path to probe, what it needs)
const ROUTES: &[(&str, &str, &str, Need)] = &[
    ("get", "/", "/", Need::Scope(Scope::Read)),
    ("get", "/healthz", "/healthz", Need::Public),
    ("get", "/readyz", "/readyz", Need::Public),
    ("get", "/metrics", "/metrics", Need::Public),
    ("get", "/v1/status", "/v1/status", Need::Scope(Scope::Read)),
    (
        "post",
        "/v1/rescan",
        "/v1/rescan",
        Need::Scope(Scope::Write),
    ),
    ("get", "/v1/events", "/v1/events", Need::Scope(Scope::Read)),
    ("get", "/v1/runs", "/v1/runs", Need::Scope(Scope::Read)),
    (
        "get",
        "/v1/runs/{nickname}",
        "/v1/runs/x",
        Need::Scope(Scope::Read),
    ),
    (
        "get",
        "/v1/unrecognized",
        "/v1/unrecognized",
        Need::Scope(Scope::Read),
    ),
    (
        "get",
        "/v1/attempts",
        "/v1/attempts",
        Need::Scope(Scope::Read),
    ),
    (
        "get",
        "/v1/attempts/{nickname}/{ts}",
        "/v1/attempts/x/20261128_204141",
        Need::Scope(Scope::Read),
    ),
    (
        "get",
        "/v1/attempts/{nickname}/{ts}/report",
        "/v1/attempts/x/20261128_204141/report",
        Need::Scope(Scope::Read),
    ),
    (
        "get",
        "/v1/attempts/{nickname}/{ts}/events",
        "/v1/attempts/x/20261128_204141/events",
        Need::Scope(Scope::Read),
    ),
    (
        "get",
        "/v1/mappings",
        "/v1/mappings",
        Need::Scope(Scope::Read),
    ),
    ("post", "/v1/verify", "/v1/verify", Need::Scope(Scope::Read)),
    (
        "post",
        "/v1/promotions",
        "/v1/promotions",
        Need::Scope(Scope::Write),
    ),
    (
        "get",
        "/v1/promotions",
        "/v1/promotions",
        Need::Scope(Scope::Read),
    ),
    (
        "get",
        "/v1/promotions/{name}",
        "/v1/promotions/x",
        Need::Scope(Scope::Read),
    ),
    (
        "post",
        "/v1/promotions/{name}/verify",
        "/v1/promotions/x/verify",
        Need::Scope(Scope::Write),
    ),
    (
        "post",
        "/v1/retention/plan",
        "/v1/retention/plan",
        Need::Scope(Scope::Write),
    ),
    (
        "get",
        "/v1/retention/plans/{id}",
        "/v1/retention/plans/x",
        Need::Scope(Scope::Read),
    ),
    (
        "post",
        "/v1/retention/apply",
        "/v1/retention/apply",
        Need::Scope(Scope::Admin),
    ),
    (
        "post",
        "/v1/retention/restore",
        "/v1/retention/restore",
        Need::Scope(Scope::Admin),
    ),
    ("get", "/v1/audit", "/v1/audit", Need::Scope(Scope::Read)),
    (
        "get",
        "/v1/audit/verify",
        "/v1/audit/verify",
        Need::Scope(Scope::Read),
    ),
    (
        "get",
        "/v1/changelog",
        "/v1/changelog",
        Need::Scope(Scope::Read),
    ),
];

/// (method, path) operations of openapi.yaml, read with a line scanner (2-space paths,
/// 4-space methods), which is all this file's layout needs.
fn openapi_operations() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(Path::new(REPO).join("openapi.yaml")).unwrap();
    let mut ops = BTreeSet::new();
    let mut in_paths = false;
    let mut path = String::new();
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_paths = line.starts_with("paths:");
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  ").filter(|l| l.starts_with('/')) {
            path = p.trim_end_matches(':').to_string();
        } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')) {
            if ["get", "post", "put", "patch", "delete"].contains(&m) {
                ops.insert((m.to_string(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn openapi_lists_exactly_the_served_operations() {
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _, _)| (m.to_string(), p.to_string()))
        .collect();
    let spec = openapi_operations();
    let missing: Vec<_> = table.difference(&spec).collect();
    let extra: Vec<_> = spec.difference(&table).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not in openapi.yaml: {missing:?}; not served: {extra:?}"
    );
}

#[test]
fn every_route_in_the_code_is_in_the_route_table() {
    let mut code_paths = Vec::new();
    for entry in std::fs::read_dir(Path::new(REPO).join("src/http")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue; // src/http/types: bodies, no routes
        }
        let text = std::fs::read_to_string(path).unwrap();
        for (i, _) in text.match_indices(".route(") {
            let rest = text[i + 7..].trim_start();
            if let Some(lit) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) {
                code_paths.push(lit.to_string());
            }
        }
    }
    assert!(code_paths.len() >= 20, "found only {code_paths:?}");
    for p in code_paths {
        let covered = match p.split_once("{*") {
            Some((prefix, _)) => ROUTES.iter().any(|(_, api, _, _)| api.starts_with(prefix)),
            None => ROUTES.iter().any(|(_, api, _, _)| *api == p),
        };
        assert!(
            covered,
            "route {p} is served but not in the route table (and so not in openapi.yaml)"
        );
    }
}

fn token(name: &str, scope: Scope, secret: &str) -> TokenConfig {
    TokenConfig {
        name: name.into(),
        scope,
        sha256: Some(Sha256::of(secret.as_bytes()).hex()),
        file: None,
    }
}

#[tokio::test]
async fn every_route_refuses_missing_and_insufficient_tokens_and_accepts_the_right_scope() {
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.auth.public_reads = false;
    cfg.auth.tokens = vec![
        token("reader", Scope::Read, "read-secret-0123456789"),
        token("writer", Scope::Write, "write-secret-0123456789"),
        token("operator", Scope::Admin, "admin-secret-0123456789"),
    ];
    let app = TestApp::spawn_with(cfg).await;
    let secret = |s: Scope| match s {
        Scope::Read => "read-secret-0123456789",
        Scope::Write => "write-secret-0123456789",
        Scope::Admin => "admin-secret-0123456789",
    };
    for (method, _, path, need) in ROUTES {
        let call = |tok: Option<&'static str>| {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = app
                .client
                .request(m, app.url(path))
                .header("content-type", "application/json")
                .body("{}");
            if let Some(t) = tok {
                req = req.bearer_auth(t);
            }
            async move {
                let resp = req.send().await.unwrap();
                resp.status()
            }
        };
        let auth_failure =
            |s: StatusCode| s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN;
        match need {
            Need::Public => assert!(
                !auth_failure(call(None).await),
                "{method} {path} should be open"
            ),
            Need::Scope(scope) => {
                assert_eq!(
                    call(None).await,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} without a token"
                );
                assert_eq!(
                    call(Some("not-a-token")).await,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} bad token"
                );
                for lower in [Scope::Read, Scope::Write]
                    .into_iter()
                    .filter(|s| s < scope)
                {
                    assert_eq!(
                        call(Some(secret(lower))).await,
                        StatusCode::FORBIDDEN,
                        "{method} {path} with {lower:?}"
                    );
                }
                if *path != "/v1/events" {
                    let s = call(Some(secret(*scope))).await;
                    assert!(
                        !auth_failure(s) && s != StatusCode::METHOD_NOT_ALLOWED,
                        "{method} {path} with {scope:?}: {s}"
                    );
                }
            }
        }
    }
    app.stop().await;
}
