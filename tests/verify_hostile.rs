//! Hostile inputs (§4.7): each gives exactly the verdict the real tool gives. The expected
//! outputs below were recorded from `invarlock verify` 0.3.6 (`ts` removed) on the same bytes.

use clap::Parser;
use invarlockd::verify::cli::{run_in, VerifyArgs};
use std::path::Path;

#[derive(Parser)]
struct Wrapper {
    #[command(flatten)]
    args: VerifyArgs,
}

fn passing_cert() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/verify/certs/real__rel_quant8_balanced.json"
    ))
    .unwrap()
}

/// The passing certificate with a `padding` string member making it `pad` bytes larger.
fn padded_cert(pad: usize) -> Vec<u8> {
    let cert = passing_cert();
    let text = std::str::from_utf8(&cert).unwrap().trim_end();
    let body = text.strip_suffix('}').unwrap();
    let mut out = Vec::with_capacity(cert.len() + pad + 32);
    out.extend_from_slice(body.as_bytes());
    out.extend_from_slice(b", \"padding\": \"");
    out.resize(out.len() + pad, b'x');
    out.extend_from_slice(b"\"}");
    out
}

fn nested(open: &[u8], inner: &[u8], close: &[u8], depth: usize) -> Vec<u8> {
    let mut out = open.repeat(depth);
    out.extend_from_slice(inner);
    out.extend_from_slice(&close.repeat(depth));
    out
}

fn content(name: &str) -> Option<Vec<u8>> {
    Some(match name {
        "empty.json" => Vec::new(),
        "ws_only.json" => b"  \n ".to_vec(),
        "bom.json" => [&b"\xef\xbb\xbf"[..], &passing_cert()].concat(),
        "invalid_utf8_start.json" => [&b"\xff"[..], &passing_cert()].concat(),
        "invalid_utf8_mid.json" => {
            let c = passing_cert();
            [&c[..100], &b"\xc3\x28"[..], &c[100..]].concat()
        }
        "invalid_utf8_truncated.json" => [&passing_cert()[..50], &b"\xe2\x82"[..]].concat(),
        "deep_array.json" => nested(b"[", b"", b"]", 100_000),
        "deep_object.json" => nested(b"{\"a\":", b"1", b"}", 100_000),
        "root_array.json" => b"[1, 2]".to_vec(),
        "root_null.json" => b"null".to_vec(),
        "root_string.json" => b"\"x\"".to_vec(),
        "root_number.json" => b"1".to_vec(),
        "root_true.json" => b"true".to_vec(),
        "crlf_error.json" => b"{\r\n\"a\": 1,\r\n\r\n x}".to_vec(),
        "bigint.json" => format!("{{\"a\": {}}}", "1".repeat(5000)).into_bytes(),
        "big.json" => padded_cert(100 * 1024 * 1024),
        _ => return None,
    })
}

fn without_ts(s: &str) -> String {
    match s.find(", \"ts\": \"") {
        Some(i) => {
            let rest = &s[i + 9..];
            let end = rest.find('"').map_or(s.len(), |e| i + 9 + e + 1);
            format!("{}{}", &s[..i], &s[end..])
        }
        None => s.to_string(),
    }
}

/// (file, profile, --json, exit code, stdout without `ts`), as the real tool printed them.
const RECORDED: &[(&str, &str, bool, i32, &str)] = &[
    ("empty.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"JSONDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"empty.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"malformed\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"malformed\"}}\n"),
    ("empty.json", "dev", false, 1, "\u{274c} Verification failed: Expecting value: line 1 column 1 (char 0)\n"),
    ("empty.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"JSONDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"empty.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"malformed\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"malformed\"}}\n"),
    ("empty.json", "ci", false, 1, "\u{274c} Verification failed: Expecting value: line 1 column 1 (char 0)\n"),
    ("ws_only.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"JSONDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"ws_only.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"malformed\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"malformed\"}}\n"),
    ("ws_only.json", "dev", false, 1, "\u{274c} Verification failed: Expecting value: line 2 column 2 (char 4)\n"),
    ("ws_only.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"JSONDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"ws_only.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"malformed\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"malformed\"}}\n"),
    ("ws_only.json", "ci", false, 1, "\u{274c} Verification failed: Expecting value: line 2 column 2 (char 4)\n"),
    ("bom.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"JSONDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"bom.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"malformed\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"malformed\"}}\n"),
    ("bom.json", "dev", false, 1, "\u{274c} Verification failed: Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)\n"),
    ("bom.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"JSONDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"bom.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"malformed\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"malformed\"}}\n"),
    ("bom.json", "ci", false, 1, "\u{274c} Verification failed: Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)\n"),
    ("invalid_utf8_start.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"UnicodeDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"invalid_utf8_start.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("invalid_utf8_start.json", "dev", false, 1, "\u{274c} Verification failed: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte\n"),
    ("invalid_utf8_start.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"UnicodeDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"invalid_utf8_start.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("invalid_utf8_start.json", "ci", false, 1, "\u{274c} Verification failed: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte\n"),
    ("invalid_utf8_mid.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"UnicodeDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"invalid_utf8_mid.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("invalid_utf8_mid.json", "dev", false, 1, "\u{274c} Verification failed: 'utf-8' codec can't decode byte 0xc3 in position 100: invalid continuation byte\n"),
    ("invalid_utf8_mid.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"UnicodeDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"invalid_utf8_mid.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("invalid_utf8_mid.json", "ci", false, 1, "\u{274c} Verification failed: 'utf-8' codec can't decode byte 0xc3 in position 100: invalid continuation byte\n"),
    ("invalid_utf8_truncated.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"UnicodeDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"invalid_utf8_truncated.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("invalid_utf8_truncated.json", "dev", false, 1, "\u{274c} Verification failed: 'utf-8' codec can't decode bytes in position 50-51: unexpected end of data\n"),
    ("invalid_utf8_truncated.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"UnicodeDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"invalid_utf8_truncated.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("invalid_utf8_truncated.json", "ci", false, 1, "\u{274c} Verification failed: 'utf-8' codec can't decode bytes in position 50-51: unexpected end of data\n"),
    ("deep_array.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"RecursionError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"deep_array.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("deep_array.json", "dev", false, 1, "\u{274c} Verification failed: maximum recursion depth exceeded while decoding a JSON array from a unicode string\n"),
    ("deep_array.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"RecursionError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"deep_array.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("deep_array.json", "ci", false, 1, "\u{274c} Verification failed: maximum recursion depth exceeded while decoding a JSON array from a unicode string\n"),
    ("deep_object.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"RecursionError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"deep_object.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("deep_object.json", "dev", false, 1, "\u{274c} Verification failed: maximum recursion depth exceeded while decoding a JSON object from a unicode string\n"),
    ("deep_object.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"RecursionError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"deep_object.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("deep_object.json", "ci", false, 1, "\u{274c} Verification failed: maximum recursion depth exceeded while decoding a JSON object from a unicode string\n"),
    ("root_array.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"AttributeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"root_array.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("root_array.json", "dev", false, 1, "\u{274c} Verification failed: 'list' object has no attribute 'get'\n"),
    ("root_array.json", "ci", true, 3, "{\"component\": \"cli\", \"error\": {\"category\": \"InvarlockError\", \"code\": \"E004\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 3}, \"results\": [{\"ci\": null, \"id\": \"root_array.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("root_array.json", "ci", false, 3, "[INVARLOCK:E004] PROVIDER-DIGEST-MISSING: subject missing provider_digest.ids_sha256\n"),
    ("root_null.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"AttributeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"root_null.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("root_null.json", "dev", false, 1, "\u{274c} Verification failed: 'NoneType' object has no attribute 'get'\n"),
    ("root_null.json", "ci", true, 3, "{\"component\": \"cli\", \"error\": {\"category\": \"InvarlockError\", \"code\": \"E004\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 3}, \"results\": [{\"ci\": null, \"id\": \"root_null.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("root_null.json", "ci", false, 3, "[INVARLOCK:E004] PROVIDER-DIGEST-MISSING: subject missing provider_digest.ids_sha256\n"),
    ("root_string.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"AttributeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"root_string.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("root_string.json", "dev", false, 1, "\u{274c} Verification failed: 'str' object has no attribute 'get'\n"),
    ("root_string.json", "ci", true, 3, "{\"component\": \"cli\", \"error\": {\"category\": \"InvarlockError\", \"code\": \"E004\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 3}, \"results\": [{\"ci\": null, \"id\": \"root_string.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("root_string.json", "ci", false, 3, "[INVARLOCK:E004] PROVIDER-DIGEST-MISSING: subject missing provider_digest.ids_sha256\n"),
    ("root_number.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"AttributeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"root_number.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("root_number.json", "dev", false, 1, "\u{274c} Verification failed: 'int' object has no attribute 'get'\n"),
    ("root_number.json", "ci", true, 3, "{\"component\": \"cli\", \"error\": {\"category\": \"InvarlockError\", \"code\": \"E004\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 3}, \"results\": [{\"ci\": null, \"id\": \"root_number.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("root_number.json", "ci", false, 3, "[INVARLOCK:E004] PROVIDER-DIGEST-MISSING: subject missing provider_digest.ids_sha256\n"),
    ("root_true.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"AttributeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"root_true.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("root_true.json", "dev", false, 1, "\u{274c} Verification failed: 'bool' object has no attribute 'get'\n"),
    ("root_true.json", "ci", true, 3, "{\"component\": \"cli\", \"error\": {\"category\": \"InvarlockError\", \"code\": \"E004\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 3}, \"results\": [{\"ci\": null, \"id\": \"root_true.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("root_true.json", "ci", false, 3, "[INVARLOCK:E004] PROVIDER-DIGEST-MISSING: subject missing provider_digest.ids_sha256\n"),
    ("crlf_error.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"JSONDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"crlf_error.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"malformed\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"malformed\"}}\n"),
    ("crlf_error.json", "dev", false, 1, "\u{274c} Verification failed: Expecting property name enclosed in double quotes: line 4 column 2 (char 12)\n"),
    ("crlf_error.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"JSONDecodeError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"crlf_error.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"malformed\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"malformed\"}}\n"),
    ("crlf_error.json", "ci", false, 1, "\u{274c} Verification failed: Expecting property name enclosed in double quotes: line 4 column 2 (char 12)\n"),
    ("bigint.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"ValueError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"bigint.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("bigint.json", "dev", false, 1, "\u{274c} Verification failed: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit\n"),
    ("bigint.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"ValueError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"bigint.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("bigint.json", "ci", false, 1, "\u{274c} Verification failed: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit\n"),
    ("big.json", "dev", true, 0, "{\"certificate\": {\"count\": 1}, \"component\": \"cli\", \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 0}, \"results\": [{\"ci\": [1.0000025629650446, 1.0001409988213996], \"id\": \"big.json\", \"kind\": \"ppl_causal\", \"ok\": true, \"ratio_vs_baseline\": 1.0000699207788282, \"reason\": \"ok\", \"recompute\": null, \"schema_version\": \"v1\"}], \"summary\": {\"ok\": true, \"reason\": \"ok\"}}\n"),
    ("big.json", "dev", false, 0, "PASS big.json\nVERIFY OK metric=ppl_causal point=1.000070 ci=[1.000003,1.000141] width=0.000138\n"),
    ("big.json", "ci", true, 0, "{\"certificate\": {\"count\": 1}, \"component\": \"cli\", \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 0}, \"results\": [{\"ci\": [1.0000025629650446, 1.0001409988213996], \"id\": \"big.json\", \"kind\": \"ppl_causal\", \"ok\": true, \"ratio_vs_baseline\": 1.0000699207788282, \"reason\": \"ok\", \"recompute\": null, \"schema_version\": \"v1\"}], \"summary\": {\"ok\": true, \"reason\": \"ok\"}}\n"),
    ("big.json", "ci", false, 0, "PASS big.json\nVERIFY OK metric=ppl_causal point=1.000070 ci=[1.000003,1.000141] width=0.000138\n"),
    ("adir", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"IsADirectoryError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"adir\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("adir", "dev", false, 1, "\u{274c} Verification failed: [Errno 21] Is a directory: 'adir'\n"),
    ("adir", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"IsADirectoryError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"adir\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("adir", "ci", false, 1, "\u{274c} Verification failed: [Errno 21] Is a directory: 'adir'\n"),
    ("missing.json", "dev", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"FileNotFoundError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"missing.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("missing.json", "dev", false, 1, "\u{274c} Verification failed: [Errno 2] No such file or directory: 'missing.json'\n"),
    ("missing.json", "ci", true, 1, "{\"component\": \"cli\", \"error\": {\"category\": \"FileNotFoundError\", \"code\": \"E_GENERIC\", \"context\": {}, \"recoverable\": false}, \"format_version\": \"verify-v1\", \"resolution\": {\"exit_code\": 1}, \"results\": [{\"ci\": null, \"id\": \"missing.json\", \"kind\": \"\", \"ok\": false, \"ratio_vs_baseline\": null, \"reason\": \"policy_fail\", \"schema_version\": \"v1\"}], \"summary\": {\"ok\": false, \"reason\": \"policy_fail\"}}\n"),
    ("missing.json", "ci", false, 1, "\u{274c} Verification failed: [Errno 2] No such file or directory: 'missing.json'\n"),
];

#[test]
fn hostile_inputs_get_the_real_tools_verdict_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    let mut written = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for &(name, profile, json, want_code, want) in RECORDED {
        if written.insert(name) {
            if let Some(bytes) = content(name) {
                std::fs::write(dir.path().join(name), bytes).unwrap();
            }
        }
        let mut argv = vec!["verify", "--profile", profile, name];
        if json {
            argv.insert(1, "--json");
        }
        let args = Wrapper::try_parse_from(&argv).unwrap().args;
        let mut out = Vec::new();
        let code = run_in(dir.path(), &args, &mut out);
        let got = without_ts(&String::from_utf8(out).unwrap());
        if code != want_code || got != want {
            failures.push(format!("{name} {profile} json={json}: exit {code} (want {want_code})\n got: {got:?}\nwant: {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_directory_given_relative_to_the_base_is_reported_with_its_id() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args = Wrapper::try_parse_from(["verify", "./tests//fixtures/"])
        .unwrap()
        .args;
    let mut out = Vec::new();
    assert_eq!(run_in(base, &args, &mut out), 1);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "❌ Verification failed: [Errno 21] Is a directory: 'tests/fixtures'\n"
    );
}

/// The passing certificate with `extra` spliced in as its last members.
fn cert_with(extra: &str) -> Vec<u8> {
    let cert = passing_cert();
    let text = std::str::from_utf8(&cert).unwrap().trim_end();
    format!("{}, {extra}}}", text.strip_suffix('}').unwrap()).into_bytes()
}

#[test]
fn values_nested_to_the_parsers_limit_are_compared_and_rendered_without_overflowing_the_stack() {
    // 1487 levels in all (the deepest CPython's json accepts in verify); the real tool still
    // renders both reprs, as recorded with COLUMNS=100000.
    let n = 1482;
    let deep =
        |inner: &str, depth: usize| format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth));
    let dir = tempfile::tempdir().unwrap();
    let lint = |value: &str, path: &str| {
        format!(
            r#""meta": {{"model_profile": {{"cert_lints": [{{"type": "equals", "path": "{path}", "value": {value}}}]}}}}"#
        )
    };
    std::fs::write(
        dir.path().join("repr.json"),
        cert_with(&lint(&deep("", n), "run_id")),
    )
    .unwrap();
    let eq = format!(
        r#""deep": {}, {}"#,
        deep("1", n + 3),
        lint(&deep("2", n), "deep")
    );
    std::fs::write(dir.path().join("eq.json"), cert_with(&eq)).unwrap();
    for (file, want) in [
        (
            "repr.json",
            format!(
                "Expected run_id == {}, observed '8025f8a2cd584ad0'.",
                deep("", n)
            ),
        ),
        (
            "eq.json",
            format!(
                "Expected deep == {}, observed {}.",
                deep("2", n),
                deep("1", n + 3)
            ),
        ),
    ] {
        let args = Wrapper::try_parse_from(["verify", file]).unwrap().args;
        let mut out = Vec::new();
        assert_eq!(run_in(dir.path(), &args, &mut out), 1);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("FAIL {file}\n  ↳ Model profile lint failed. {want}\n")
        );
    }
}
