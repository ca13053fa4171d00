//! The `escalator` command: parses arguments, calls the library, maps errors
//! to exit codes (0 success, 1 a failure the user must fix, 2 usage).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use escalator::cli::{self, Cli};

/// mimalloc rather than the system allocator: a classification's outcome is
/// a couple of dozen small strings and vectors, and with glibc's allocator
/// allocating and freeing them cost about a quarter of the classification
/// (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            // Not `eprintln!`, which panics when stderr is a closed pipe.
            let _ = writeln!(std::io::stderr(), "error: {error}");
            error.exit_code()
        }
    }
}
