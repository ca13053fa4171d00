//! Arbitrary text as a policy file: loading (parse, check, compile) and
//! formatting must answer with a policy or diagnostics, never panic.

#![no_main]

use escalator::policy::{format_source, Policy, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile {
        name: "fuzz.rules".to_owned(),
        text: text.to_owned(),
    };
    let _ = format_source(&file);
    let _ = Policy::from_sources(vec![file]);
});
