//! The built `escalator` binary, for tests that run it as a user would.
//! Each test crate uses the parts it needs.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// A command for the `escalator` binary with none of the `ESCALATOR_*`
/// settings of the environment the tests run in: a database URL exported in
/// the developer's shell must not point a test's process at another store.
pub fn escalator() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_escalator"));
    for (key, _) in std::env::vars() {
        if key.starts_with("ESCALATOR_") {
            command.env_remove(key);
        }
    }
    command
}

/// Runs `escalator ARGS` in `dir` on the SQLite file `cli.db` there.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    escalator()
        .args(args)
        .current_dir(dir)
        .env("ESCALATOR_DATABASE_URL", "sqlite://cli.db")
        .output()
        .unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails with the whole of stderr when it does not say `text`.
#[track_caller]
pub fn assert_stderr_has(output: &Output, text: &str) {
    let stderr = stderr(output);
    assert!(stderr.contains(text), "{stderr}");
}
