//! Extractors whose rejections are problem+json naming what was wrong: one policy for request
//! bodies (JSON; `Content-Type` optional, anything but JSON is 415) and one for query strings
//! (typed; an unknown or repeated parameter is a 400 naming it).

use super::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

/// Every POST body is JSON. A missing `Content-Type` is taken as JSON (so `curl -d` without a
/// header still works for clients that set none); a given one must be `application/json` or
/// `application/<something>+json`, else 415.
fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"));
    if json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "request bodies are JSON: send Content-Type: application/json (or none), not {:?}",
            value.to_str().unwrap_or("(not text)")
        )))
    }
}

async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    require_json(req.headers())?;
    Bytes::from_request(req, state)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)
}

/// The raw bytes of a JSON body, for handlers that parse it themselves (verify gives any bytes a
/// verdict; a retention plan's body is optional).
pub struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        json_bytes(req, state).await.map(JsonBytes)
    }
}

/// A JSON body deserialised into `T`; a bad body is a 400 with serde's message (which names
/// the field).
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = json_bytes(req, state).await?;
        decode_object(&bytes, "request body").map(Body)
    }
}

/// A JSON object body as the struct `T`. serde's derive also reads a struct from a JSON array
/// (by position: `[null, null]` would be a struct of defaults), which no body schema allows, so
/// anything but an object is refused before serde sees it.
pub fn decode_object<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::BadRequest {
            field: None,
            detail: format!("{what}: expected a JSON object"),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest {
        field: None,
        detail: format!("{what}: {e}"),
    })
}

/// The query string as `T`, a struct of the parameters a route takes. A parameter `T` does not
/// name, or one given twice, is a 400 naming it; so is a value `T` cannot hold.
pub struct Params<T>(pub T);

/// For routes that take no query parameters.
#[derive(serde::Deserialize, Debug, Default)]
pub struct NoParams {}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query()).map(Params)
    }
}

/// [`Params`] for a handler that learns which parameters apply only after routing.
pub fn parse_query<T: DeserializeOwned>(query: Option<&str>) -> Result<T, ApiError> {
    let query = query.unwrap_or("");
    let allowed = fields::of::<T>();
    // Only a plain struct (no `#[serde(flatten)]`, not a map) tells its fields.
    debug_assert!(allowed.is_some(), "query type without a field list");
    let mut seen: Vec<String> = Vec::new();
    for (key, _) in form_urlencoded::parse(query.as_bytes()) {
        if let Some(allowed) = allowed {
            if !allowed.contains(&key.as_ref()) {
                let takes = if allowed.is_empty() {
                    "this route takes no query parameters".to_string()
                } else {
                    format!("this route takes {}", allowed.join(", "))
                };
                return Err(ApiError::bad_field(
                    &key,
                    format!("unknown query parameter {key:?}; {takes}"),
                ));
            }
        }
        if seen.iter().any(|k| *k == key) {
            return Err(ApiError::bad_field(
                &key,
                format!("query parameter {key:?} is given more than once"),
            ));
        }
        seen.push(key.into_owned());
    }
    serde_urlencoded::from_str(query).map_err(|e| ApiError::BadRequest {
        field: None,
        detail: format!("query string: {e}"),
    })
}

/// The field names of a struct, read from its `Deserialize` impl (the list serde's derive
/// passes to `deserialize_struct`), so the allowed parameters are the struct's fields and
/// cannot drift from them.
mod fields {
    use serde::de::{self, Deserializer, Visitor};

    pub fn of<T: de::DeserializeOwned>() -> Option<&'static [&'static str]> {
        let mut probe = Probe(None);
        let _ = T::deserialize(&mut probe);
        probe.0
    }

    struct Probe(Option<&'static [&'static str]>);

    impl<'de> Deserializer<'de> for &mut Probe {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(de::Error::custom("fields read"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    #[cfg(test)]
    mod tests {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Two {
            limit: Option<String>,
            #[serde(rename = "page_token")]
            token: Option<String>,
        }

        #[test]
        fn the_fields_of_a_struct_are_its_serialised_names() {
            assert_eq!(super::of::<Two>(), Some(&["limit", "page_token"][..]));
            assert_eq!(super::of::<super::super::NoParams>(), Some(&[][..]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Q {
        limit: Option<String>,
        origin: Option<String>,
    }

    fn field_of(r: Result<Q, ApiError>) -> Option<String> {
        match r {
            Err(ApiError::BadRequest { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused_by_name() {
        assert_eq!(
            field_of(parse_query("limit=1&colour=red".into())).as_deref(),
            Some("colour")
        );
        assert_eq!(
            field_of(parse_query("limit=1&limit=2".into())).as_deref(),
            Some("limit")
        );
        let q: Q = parse_query(Some("origin=external")).unwrap();
        assert_eq!(q.origin.as_deref(), Some("external"));
        let _: NoParams = parse_query(None).unwrap();
        assert!(parse_query::<NoParams>(Some("x=1")).is_err());
    }

    #[test]
    fn a_body_may_omit_its_content_type_but_not_give_another() {
        let mut h = HeaderMap::new();
        assert!(require_json(&h).is_ok());
        h.insert(
            CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(require_json(&h).is_ok());
        h.insert(CONTENT_TYPE, "application/problem+json".parse().unwrap());
        assert!(require_json(&h).is_ok());
        h.insert(
            CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        assert!(matches!(
            require_json(&h),
            Err(ApiError::UnsupportedMediaType(_))
        ));
    }
}
