//! Shared by the tests that replay recorded `invarlock verify` invocations (`verify_corpus`,
//! `verify_releases`): one recorded invocation of one case, turned into the arguments the real
//! tool was given.

use clap::Parser;
use invarlockd::verify::cli::VerifyArgs;
use serde_json::Value as J;

#[derive(Parser)]
struct Wrapper {
    #[command(flatten)]
    args: VerifyArgs,
}

/// `verify [prefix…] [--json] --profile P [--baseline B] FILES…`, as the recording ran it.
pub fn verify_args(prefix: &[&str], case: &J, inv: &J) -> VerifyArgs {
    let mut argv = vec!["verify".to_string()];
    argv.extend(prefix.iter().map(|s| s.to_string()));
    if inv["mode"] == "json" {
        argv.push("--json".into());
    }
    argv.extend(["--profile".into(), inv["profile"].as_str().unwrap().into()]);
    if let Some(b) = case["baseline"].as_str() {
        argv.extend(["--baseline".into(), b.into()]);
    }
    argv.extend(
        case["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string()),
    );
    parse(&argv)
}

/// The `verify` arguments of a command line (its first item is the program name).
pub fn parse<S: AsRef<str>>(argv: &[S]) -> VerifyArgs {
    Wrapper::try_parse_from(argv.iter().map(AsRef::as_ref))
        .unwrap()
        .args
}
