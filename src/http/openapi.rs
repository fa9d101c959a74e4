//! The OpenAPI document, generated from the handlers' `#[utoipa::path]`s and the body types
//! (src/http/types). `invarlockd openapi` prints it; tests/openapi.rs fails when the checked-in
//! openapi.yaml differs from it.

use super::types::*;
use super::{attempts, audit, changelog, events, health, mappings, page, promotions, retention};
use super::{runs, status, verify};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi as Doc, Ref, RefOr, Required, ResponseBuilder, Type,
};
use utoipa::{Modify, OpenApi};

const DESCRIPTION: &str = "\
Local daemon for InvarLock workspaces: indexes every attempt under runs/, archives PASS evidence
into reports/, verifies certificates like `invarlock verify` (0.3.4 to 0.4.0), and applies
retention. Errors are RFC 9457 problem+json with a stable `code`. Lists use keyset pagination
(`limit` 1..1000, default 100; opaque `page_token`; `next_page_token` null at the end).
Non-finite floats from InvarLock files are given as the strings \"NaN\", \"Infinity\", \"-Infinity\".

One query-parameter policy for every route: a route takes exactly the parameters listed for it;
an unknown parameter, or one given twice, is a 400 problem whose `field` names it (a route that
lists none takes none). POST bodies are JSON: `Content-Type` may be omitted (the body is read as
JSON) but, when given, must be `application/json` (or `application/*+json`), else 415
`unsupported_media_type`.

Limits (config `[server]`, `[verify]`): bodies over `body_limit_bytes` are 413
`payload_too_large`; a request not answered within `request_timeout` is 503 (SSE excluded);
connections are closed when their request header is not complete within `header_read_timeout` or
when idle for `idle_timeout`; at most `max_connections` are served at once (further ones wait to be
accepted). Nicknames and promotion names refuse Unicode control and format characters (bidi
overrides, zero-width) and outer whitespace: 400 `invalid_name`.

Generated from the code: `invarlockd openapi > openapi.yaml`.
";

#[derive(OpenApi)]
#[openapi(
    info(title = "invarlockd", description = DESCRIPTION),
    servers((url = "http://127.0.0.1:8765")),
    security((), ("bearer" = [])),
    tags((name = "health"), (name = "index"), (name = "verify"), (name = "promote"),
        (name = "retention"), (name = "audit"), (name = "changelog")),
    paths(
        page::status_page, health::healthz, health::readyz, health::metrics, status::status,
        status::rescan, events::events, runs::list_runs, runs::get_run, runs::list_unrecognized,
        attempts::list_attempts, attempts::detail, attempts::raw_report, attempts::events,
        mappings::list_mappings, verify::verify_body, promotions::create_promotion,
        promotions::list_promotions, promotions::show_promotion, promotions::verify_promotion,
        retention::create_plan, retention::show_plan, retention::apply_plan,
        retention::restore_plan, audit::list_audit, audit::check_audit, changelog::changelog,
    ),
    components(schemas(Problem, StatusCounts, IndexStatus, LastApply, RetentionStatus,
        VerifyEnvelope)),
    modifiers(&Contract),
)]
struct ApiDoc;

/// The document as a value.
pub fn document() -> Doc {
    ApiDoc::openapi()
}

/// The document as openapi.yaml holds it.
pub fn yaml() -> String {
    let doc = document();
    doc.to_yaml().expect("the OpenAPI document serialises")
}

/// GET routes behind the conditional-request layer (src/http/etag.rs): they take
/// If-None-Match, answer 304 and carry ETag and Cache-Control.
const CONDITIONAL: &[&str] = &[
    "/v1/status",
    "/v1/runs",
    "/v1/runs/{nickname}",
    "/v1/unrecognized",
    "/v1/attempts",
    "/v1/attempts/{nickname}/{ts}",
    "/v1/mappings",
    "/v1/promotions",
    "/v1/promotions/{name}",
    "/v1/retention/plans/{id}",
    "/v1/audit",
    "/v1/audit/verify",
];

/// What every operation shares and the derive cannot say: the bearer scheme, problem+json
/// for every error, conditional GETs, and `required` for fields always serialised.
struct Contract;

impl Modify for Contract {
    fn modify(&self, doc: &mut Doc) {
        doc.info.version = env!("CARGO_PKG_VERSION").to_string();
        doc.info.license = None;
        doc.info.contact = None;
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let conditional = CONDITIONAL.contains(&path.as_str());
            let ops = [
                (&mut item.get, true),
                (&mut item.post, false),
                (&mut item.put, false),
                (&mut item.delete, false),
            ];
            for (op, is_get) in ops {
                if let Some(op) = op.as_mut() {
                    problems(op);
                    if conditional && is_get {
                        conditional_get(op);
                    }
                }
            }
        }
        // Any bytes get a verdict: the body is not validated as JSON before verify reads it.
        if let Some(body) = doc
            .paths
            .paths
            .get_mut("/v1/verify")
            .and_then(|p| p.post.as_mut())
            .and_then(|op| op.request_body.as_mut())
        {
            body.required = Some(Required::False);
            for content in body.content.values_mut() {
                content.schema = Some(RefOr::T(
                    ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
                        .description(Some(
                            "a certificate: any JSON value, or any bytes at all (a body that \
                             is not a certificate gets a failing verdict, not a 400)",
                        ))
                        .into(),
                ));
            }
        }
        // report.json as it is on disk (it may hold a bare NaN, which is not JSON).
        if let Some(RefOr::T(ok)) = doc
            .paths
            .paths
            .get_mut("/v1/attempts/{nickname}/{ts}/report")
            .and_then(|p| p.get.as_mut())
            .and_then(|op| op.responses.responses.get_mut("200"))
        {
            ok.content.values_mut().for_each(binary);
        }
        for (name, schema) in components.schemas.iter_mut() {
            if REQUESTS.contains(&name.as_str()) {
                continue;
            }
            require_all(schema, name);
        }
    }
}

/// Request bodies: their fields are optional as declared.
const REQUESTS: &[&str] = &["PromoteBody", "RetentionOverrides", "PlanRef"];

/// Fields serialised only when they have a value (`skip_serializing_if`), by schema.
const SOMETIMES_ABSENT: &[(&str, &str)] = &[
    ("Problem", "field"),
    ("Problem", "workspace"),
    ("Problem", "public_url"),
    ("Problem", "candidates"),
    ("Health", "reason"),
    ("MappingBaseline", "attempt"),
    ("MappingBaseline", "archived"),
    ("VerifyEnvelope", "*"),
    ("ReportFacts", "*"),
];

/// Response fields are always present (null when they have no value) unless listed above:
/// generated clients then get plain attributes rather than "unset" ones.
fn require_all(schema: &mut RefOr<utoipa::openapi::Schema>, name: &str) {
    use utoipa::openapi::schema::Schema;
    if SOMETIMES_ABSENT.contains(&(name, "*")) {
        return;
    }
    let obj = match schema {
        RefOr::T(Schema::Object(obj)) => obj,
        // `#[serde(flatten)]`: the struct's own fields are the inline part of the allOf.
        RefOr::T(Schema::AllOf(all)) => {
            for item in all.items.iter_mut() {
                require_all(item, name);
            }
            return;
        }
        _ => return,
    };
    let keys: Vec<String> = obj.properties.keys().cloned().collect();
    for k in keys {
        if !SOMETIMES_ABSENT.contains(&(name, k.as_str())) && !obj.required.contains(&k) {
            obj.required.push(k);
        }
    }
}

fn binary(content: &mut utoipa::openapi::content::Content) {
    content.schema = Some(RefOr::T(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .into(),
    ));
}

/// The problem codes a response description names, in order.
fn codes_named(description: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (i, word) in description.split('`').enumerate() {
        if i % 2 == 1 {
            if let Some(code) = PROBLEM_CODES.iter().find(|c| **c == word) {
                if !out.contains(code) {
                    out.push(*code);
                }
            }
        }
    }
    out
}

/// Problem, its `code` narrowed to `codes` (all of them when none are named).
fn problem_with(codes: &[&'static str]) -> utoipa::openapi::content::Content {
    if codes.is_empty() {
        return problem_content();
    }
    let narrowed = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes.iter().copied())),
        )
        .required("code");
    let schema = utoipa::openapi::schema::AllOfBuilder::new()
        .item(Ref::from_schema_name("Problem"))
        .item(narrowed);
    ContentBuilder::new().schema(Some(schema)).build()
}

fn problem_content() -> utoipa::openapi::content::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build()
}

/// Every 4xx/5xx answer is `application/problem+json`; any status not listed is one too.
/// A listed status gives the codes its description names (in backticks), as the enum of its
/// `code`: a client learns which refusals each route can answer.
fn problems(op: &mut Operation) {
    for (status, resp) in op.responses.responses.iter_mut() {
        if status.starts_with('4') || status.starts_with('5') {
            if let RefOr::T(r) = resp {
                let codes = codes_named(&r.description);
                r.content.clear();
                r.content
                    .insert("application/problem+json".into(), problem_with(&codes));
            }
        }
    }
    op.responses.responses.insert(
        "default".into(),
        RefOr::T(
            ResponseBuilder::new()
                .description(
                    "Any other error (`bad_request` for an unknown or repeated query parameter, \
                     `method_not_allowed`, `payload_too_large`, `unavailable` after \
                     `request_timeout`, `database_unavailable` while the database does not \
                     answer, `internal`, ...)",
                )
                .content("application/problem+json", problem_content())
                .build(),
        ),
    );
}

fn header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

const ETAG: &str = "Opaque; changes whenever anything the answer depends on changes (a committed \
change to the index or the records, the watcher state for /v1/status) and after every restart. \
Absent while a change is being committed.";
const CACHE_CONTROL: &str =
    "`no-cache`: caches must revalidate (If-None-Match) before reusing an answer.";

fn conditional_get(op: &mut Operation) {
    let param: Parameter = ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "An ETag from an earlier answer to the same request (or `*`): 304 without a body \
             when nothing it depends on has changed since, without running the query.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(param);
    if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
        ok.headers.insert("ETag".into(), header(ETAG));
        ok.headers
            .insert("Cache-Control".into(), header(CACHE_CONTROL));
    }
    let not_modified = ResponseBuilder::new()
        .description("Not modified since the ETag in If-None-Match; no body")
        .header("ETag", header(ETAG))
        .header("Cache-Control", header(CACHE_CONTROL))
        .build();
    op.responses
        .responses
        .insert("304".into(), RefOr::T(not_modified));
}
