//! Auth as extractors: a handler states the scope it needs by taking `Read`, `Write` or
//! `Admin` as an argument, so no route can forget to check.

use super::{ApiError, AppState};
use crate::auth::{Caller, Scope};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (kind, token) = value.split_once(' ')?;
    kind.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn authorize(parts: &Parts, state: &AppState, need: Scope) -> Result<Option<Caller>, ApiError> {
    let caller = match bearer(parts) {
        Some(token) => Some(state.tokens.identify(token).ok_or(ApiError::Unauthorized)?),
        None => None,
    };
    match (&caller, need) {
        (None, Scope::Read) if state.tokens.open_reads => Ok(None),
        (None, _) => Err(ApiError::Unauthorized),
        (Some(c), need) if c.scope >= need => Ok(caller),
        (Some(c), need) => Err(ApiError::Forbidden(format!(
            "token {:?} has scope {:?}; this needs {:?}",
            c.token_name, c.scope, need
        ))),
    }
}

macro_rules! scope_extractor {
    ($name:ident, $scope:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone)]
        pub struct $name(pub Option<Caller>);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;
            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, ApiError> {
                authorize(parts, state, $scope).map($name)
            }
        }

        impl $name {
            /// The token name recorded in metadata and the audit log.
            pub fn token_name(&self) -> Option<&str> {
                self.0.as_ref().map(|c| c.token_name.as_str())
            }
        }
    };
}

scope_extractor!(
    Read,
    Scope::Read,
    "Any read: open on loopback with `public_reads`, else a `read` token."
);
scope_extractor!(
    Write,
    Scope::Write,
    "Mutations: promote, record a verification, rescan."
);
scope_extractor!(
    Admin,
    Scope::Admin,
    "Destructive operations: retention apply and purge."
);
