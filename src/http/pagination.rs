//! `limit` and `page_token`: how every list of the API pages, parsed in one place.

use super::ApiError;
use crate::storage::decode_token;
use serde::de::DeserializeOwned;

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// The query of a route that takes nothing but paging. (Route query structs list these two
/// fields themselves rather than `#[serde(flatten)]` this one: flattening would hide their
/// field names from the unknown-parameter check.)
#[derive(serde::Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<String>,
    /// The `next_page_token` of the previous page (opaque).
    pub page_token: Option<String>,
}

impl PageQuery {
    pub fn parse<K: DeserializeOwned>(&self) -> Result<Pagination<K>, ApiError> {
        Pagination::parse(self.limit.as_deref(), self.page_token.as_deref())
    }
}

/// A parsed page request: how many items, and the key after which to start.
#[derive(Debug)]
pub struct Pagination<K> {
    pub limit: u32,
    pub after: Option<K>,
}

impl<K: DeserializeOwned> Pagination<K> {
    /// From the raw `limit` (default 100, 1..=1000) and `page_token` (empty means none) query
    /// values; anything else is a 400 naming the parameter.
    pub fn parse(limit: Option<&str>, page_token: Option<&str>) -> Result<Self, ApiError> {
        Ok(Pagination {
            limit: parse_limit(limit)?,
            after: match page_token {
                None | Some("") => None,
                Some(t) => Some(decode_token(t).ok_or_else(|| {
                    ApiError::bad_field("page_token", "page_token is not a token this API issued")
                })?),
            },
        })
    }
}

pub fn parse_limit(limit: Option<&str>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_field(
                "limit",
                format!("limit must be an integer from 1 to {MAX_LIMIT}, got {s:?}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_a_thousand_and_foreign_tokens_are_refused_by_name() {
        for bad in ["0", "1001", "ten", "-1", ""] {
            match parse_limit(Some(bad)) {
                Err(ApiError::BadRequest { field, .. }) => {
                    assert_eq!(field.as_deref(), Some("limit"))
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert_eq!(parse_limit(None).unwrap(), 100);
        match Pagination::<String>::parse(None, Some("not-a-token")) {
            Err(ApiError::BadRequest { field, .. }) => {
                assert_eq!(field.as_deref(), Some("page_token"))
            }
            other => panic!("{other:?}"),
        }
        assert!(Pagination::<String>::parse(Some("5"), Some(""))
            .unwrap()
            .after
            .is_none());
    }
}
