//! Fuzzes what every regforge run does first: reading an inventory's text, validating it
//! and rendering every target in memory (with the verify stage reading each output back).
//! Any input may be refused; none may panic, hang or exhaust memory.
#![no_main]

use std::ffi::OsString;
use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Every {env} secret resolves; {file} secrets and templates name nothing that exists.
    let env = |_: &str| Some(OsString::from("fuzz-Pa55:w0rd"));
    let _ = regforge::render_text(Path::new("/nonexistent/regforge.yaml"), text, &env);
});
