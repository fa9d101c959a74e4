//! `cargo +nightly fuzz run verify_bytes`: parse + every check on arbitrary bytes, in all
//! profiles and both output modes. Any panic is a bug: the real tool answers every input.
#![no_main]

use invarlockd::verify::{verify_documents, Input, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for profile in ["dev", "ci", "release"] {
        for json in [false, true] {
            let inputs = [Input { id: "c.json".into(), bytes: Ok(data.to_vec()) }];
            let out = verify_documents(&inputs, &Options { profile: profile.into(), json, ..Options::default() });
            assert!((0..=3).contains(&out.exit_code));
        }
    }
});
