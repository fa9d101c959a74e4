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

/// Every stable code the sources hand to a problem (`code: "…"`, `refused("…"`, a retention
/// `Conflict("…"`) is in the schema's enum, so a client can match on all of them.
#[test]
fn every_problem_code_in_the_sources_is_in_the_schema() {
    let mut missing = Vec::new();
    let mut stack = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for marker in ["code: \"", "refused(\"", "Conflict(\""] {
                for (i, _) in text.match_indices(marker) {
                    let code: String = text[i + marker.len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    // Other codes (verify's `E601` check ids) are not problem codes.
                    if code.is_empty()
                        || text[i + marker.len() + code.len()..].starts_with(|c: char| c != '"')
                    {
                        continue;
                    }
                    if !invarlockd::http::types::PROBLEM_CODES.contains(&code.as_str()) {
                        missing.push(format!("{code} ({})", path.display()));
                    }
                }
            }
            // `refused(\n "code"` and `Conflict(\n "code"` as rustfmt wraps them.
            for marker in ["refused(", "Conflict("] {
                for (i, _) in text.match_indices(marker) {
                    let rest = text[i + marker.len()..].trim_start();
                    if !text[i + marker.len()..].starts_with('\n') {
                        continue;
                    }
                    if let Some(r) = rest.strip_prefix('"') {
                        let code: String = r
                            .chars()
                            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                            .collect();
                        if !invarlockd::http::types::PROBLEM_CODES.contains(&code.as_str()) {
                            missing.push(format!("{code} ({})", path.display()));
                        }
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "codes missing from PROBLEM_CODES: {missing:?}"
    );
}
