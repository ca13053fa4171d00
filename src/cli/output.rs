//! Printing for the command handlers. `println!` panics when its reader
//! has gone away (`escalator rules check | head -1`), which would end the
//! command with a panic and exit code 101. These macros write the same
//! text and take a closed pipe as a reader that wants no more: the rest of
//! the output is dropped, and the command still does its work (`rules fmt`
//! still formats every file) and exits with its own code. Any other
//! failure to write, such as a full disk behind a redirect, leaves the
//! output incomplete: the macros return it as an error, which the command
//! passes up with `?`, so it ends with exit code 1 like any other error.

use std::fmt::Arguments;
use std::io::{self, Write};
use std::path::PathBuf;

use super::CliError;

/// Writes to stdout (see the module's doc).
pub fn stdout(args: Arguments<'_>) -> Result<(), CliError> {
    write(&mut io::stdout().lock(), args, "stdout").map(drop)
}

/// Writes to stderr (see the module's doc).
pub fn stderr(args: Arguments<'_>) -> Result<(), CliError> {
    write(&mut io::stderr().lock(), args, "stderr").map(drop)
}

/// Writes to `out` (the stream `name`) and says whether its reader is
/// still there; a closed pipe is not an error, any other failure is.
pub fn write(out: &mut impl Write, args: Arguments<'_>, name: &str) -> Result<bool, CliError> {
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(source) => Err(CliError::Io {
            path: PathBuf::from(name),
            source,
        }),
    }
}

/// Writes a secret shown only once (an API token) alone on a line of
/// stdout. Here a reader that went away is a failure like any other: the
/// token would be lost while the command said it succeeded.
pub fn secret(token: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    writeln!(out, "{token}")
        .and_then(|()| out.flush())
        .map_err(|error| {
            CliError::Failure(format!(
                "cannot write the token to stdout ({error}); it is stored only as a hash, so issue a new one"
            ))
        })
}

/// `println!` that survives a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::output::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that survives a closed pipe.
macro_rules! eout {
    ($($arg:tt)*) => { $crate::cli::output::stderr(format_args!($($arg)*)) };
}

/// `eprintln!` that survives a closed pipe.
macro_rules! eoutln {
    ($($arg:tt)*) => { $crate::cli::output::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {eout, eoutln, outln};
