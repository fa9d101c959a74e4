//! openapi.yaml is generated from the code (src/http/openapi.rs); the checked-in file must be
//! exactly what the code generates, so a change to a handler or a body type that is not
//! reflected in the contract fails here.

#[test]
fn the_checked_in_openapi_yaml_is_what_the_code_generates() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.yaml");
    let checked_in = std::fs::read_to_string(&path).expect("openapi.yaml at the repository root");
    let generated = invarlockd::http::openapi::yaml();
    if checked_in != generated {
        let line = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()));
        panic!(
            "openapi.yaml differs from the generated contract from line {} on; regenerate it with\n\
             \n    cargo run -- openapi > openapi.yaml\n\nchecked in: {:?}\ngenerated:  {:?}",
            line + 1,
            checked_in.lines().nth(line),
            generated.lines().nth(line),
        );
    }
}

#[test]
fn every_response_schema_is_complete() {
    let doc = invarlockd::http::openapi::document();
    let json = serde_json::to_value(&doc).unwrap();
    // No JSON answer is a bare object any more: each names its schema.
    for (path, item) in json["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, resp) in op["responses"].as_object().unwrap() {
                let Some(content) = resp["content"].as_object() else {
                    continue;
                };
                for (media, c) in content {
                    let raw = c["schema"]["format"] == "binary";
                    if media.ends_with("json") && status.starts_with('2') && !raw {
                        assert!(
                            c["schema"].get("$ref").is_some(),
                            "{method} {path} {status} {media}: {}",
                            c["schema"]
                        );
                    }
                }
            }
        }
    }
}
