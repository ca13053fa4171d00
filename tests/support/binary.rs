//! The built `escalator` binary, for tests that run it as a user would.

use std::process::Command;

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
