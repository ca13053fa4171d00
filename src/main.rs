//! The `escalator` command: parses arguments, calls the library, maps errors
//! to exit codes (0 success, 1 a failure the user must fix, 2 usage).

use std::process::ExitCode;

use clap::Parser;
use escalator::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    }
}
