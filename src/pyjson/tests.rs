use super::*;

fn err(s: &str) -> String {
    parse(s).unwrap_err().to_string()
}

#[test]
fn nan_and_infinity_literals_are_kept_as_floats() {
    let v = parse(r#"{"a": NaN, "b": Infinity, "c": -Infinity, "d": 2, "e": 2.0}"#).unwrap();
    assert!(v.get("a").unwrap().as_f64().unwrap().is_nan());
    assert_eq!(v.get("b"), Some(&Value::Float(f64::INFINITY)));
    assert_eq!(v.get("c"), Some(&Value::Float(f64::NEG_INFINITY)));
    assert_eq!(v.get("d"), Some(&Value::Int(2)));
    assert_eq!(v.get("e"), Some(&Value::Float(2.0)));
}

#[test]
fn duplicate_keys_keep_first_position_and_last_value() {
    let v = parse(r#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
    let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(v.get("a"), Some(&Value::Int(3)));
}

#[test]
fn errors_read_like_python_json_decode_errors() {
    assert_eq!(err(""), "Expecting value: line 1 column 1 (char 0)");
    assert_eq!(err("  "), "Expecting value: line 1 column 3 (char 2)");
    assert_eq!(err("[1,]"), "Expecting value: line 1 column 4 (char 3)");
    assert_eq!(
        err(r#"{"a":1,}"#),
        "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"
    );
    assert_eq!(
        err(r#""abc"#),
        "Unterminated string starting at: line 1 column 1 (char 0)"
    );
    assert_eq!(
        err("\u{feff}{}"),
        "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"
    );
    assert_eq!(
        err("[1 2]"),
        "Expecting ',' delimiter: line 1 column 4 (char 3)"
    );
    assert_eq!(
        err(r#"{"a" 1}"#),
        "Expecting ':' delimiter: line 1 column 6 (char 5)"
    );
    assert_eq!(err("1."), "Extra data: line 1 column 2 (char 1)");
    assert_eq!(err("01"), "Extra data: line 1 column 2 (char 1)");
    assert_eq!(err("1e+"), "Extra data: line 1 column 2 (char 1)");
    assert_eq!(err("-"), "Expecting value: line 1 column 1 (char 0)");
    assert_eq!(
        err("[1,\n 2,\n x]"),
        "Expecting value: line 3 column 2 (char 9)"
    );
    assert_eq!(
        err(r#""\u12""#),
        "Invalid \\uXXXX escape: line 1 column 3 (char 2)"
    );
    assert_eq!(err(r#""\x""#), "Invalid \\escape: line 1 column 2 (char 1)");
    assert_eq!(
        err("\"a\tb\""),
        "Invalid control character at: line 1 column 3 (char 2)"
    );
    assert_eq!(err("\"é\" x"), "Extra data: line 1 column 5 (char 4)");
}

#[test]
fn surrogate_pairs_join_and_escapes_decode() {
    let v = parse(r#""\ud83d\ude00 \n\"\/""#).unwrap();
    assert_eq!(v.as_str(), Some("\u{1F600} \n\"/"));
}

#[test]
fn deep_nesting_is_a_recursion_error_not_a_stack_overflow() {
    let deep = "[".repeat(200_000);
    let e = parse(&deep).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Recursion);
    assert!(e
        .to_string()
        .starts_with("maximum recursion depth exceeded"));
}

#[test]
fn big_integers_are_kept_verbatim() {
    let v = parse("123456789012345678901234567890").unwrap();
    assert_eq!(v, Value::BigInt("123456789012345678901234567890".into()));
    assert_eq!(dumps(&v, DumpStyle::J1), "123456789012345678901234567890");
}

#[test]
fn skipped_paths_are_checked_but_not_built() {
    let opts = ParseOptions {
        skip: &[&["w", "ids"]],
        ..Default::default()
    };
    let v = parse_with(r#"{"w": {"ids": [[1, 2], [3, "]"]], "n": 2}}"#, opts).unwrap();
    assert_eq!(v.pointer(&["w", "ids"]), Some(&Value::Skipped));
    assert_eq!(v.pointer(&["w", "n"]), Some(&Value::Int(2)));
    assert!(parse_with(r#"{"w": {"ids": [[1, 2], [3"#, opts).is_err());
}

#[test]
fn float_repr_matches_python() {
    let cases = [
        (1.0, "1.0"),
        (0.1, "0.1"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (1e16, "1e+16"),
        (9999999999999998.0, "9999999999999998.0"),
        (1.2345678901234568e17, "1.2345678901234568e+17"),
        (-0.0, "-0.0"),
        (1.0100501670841675, "1.0100501670841675"),
        (123456.789, "123456.789"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
    ];
    for (x, want) in cases {
        assert_eq!(py_repr(x), want, "repr({x:e})");
    }
}

#[test]
fn j1_sorts_keys_and_escapes_non_ascii() {
    let v = parse(r#"{"b": [1, 2.5, NaN], "a": "é\u0001", "c": {"z": null, "y": true}}"#).unwrap();
    assert_eq!(
        dumps(&v, DumpStyle::J1),
        r#"{"a": "\u00e9\u0001", "b": [1, 2.5, NaN], "c": {"y": true, "z": null}}"#
    );
    assert_eq!(
        dumps(&v, DumpStyle::J3),
        "{\"a\":\"é\\u0001\",\"b\":[1,2.5,NaN],\"c\":{\"y\":true,\"z\":null}}"
    );
}

#[test]
fn utf8_errors_read_like_python() {
    assert_eq!(
        decode_utf8(b"\xff{}").unwrap_err().to_string(),
        "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
    );
    assert_eq!(
        decode_utf8(b"{\"a\xe2\x82").unwrap_err().to_string(),
        "'utf-8' codec can't decode bytes in position 3-4: unexpected end of data"
    );
}

#[test]
fn a_root_array_is_checked_like_a_full_parse_but_not_kept_and_shapes_count_every_value() {
    use super::{parse_object_root, shape};
    let opts = ParseOptions::default();
    for text in [
        "[1, 2, [3, {\"a\": 4}]]",
        "[1, 2",
        "[1,, 2]",
        "[\"\\x\"]",
        "[1] x",
    ] {
        let full = parse_with(text, opts).map(|_| ());
        let hollow = parse_object_root(text, opts).map(|v| {
            assert_eq!(v, Value::Array(Vec::new()));
        });
        assert_eq!(full, hollow, "{text}");
    }
    let obj = "{\"a\": [1, 2, {\"b\": null}], \"c\": \"x\"}";
    assert_eq!(parse_object_root(obj, opts), parse_with(obj, opts));
    let s = shape(obj, opts).unwrap();
    assert!(s.object_root);
    // root, a, 1, 2, {b}, null, c
    assert_eq!(s.values, 7);
    assert!(!shape("[1, 2]", opts).unwrap().object_root);
    assert_eq!(
        shape("{\"a\": [1,}", opts).unwrap_err(),
        parse_with("{\"a\": [1,}", opts).unwrap_err()
    );
}
