//! The `weightinit` binary: the command line lives in the library ([`weightinit::cli`]),
//! so the Python package's `weightinit` command runs the same code.

use std::process::ExitCode;

fn main() -> ExitCode {
    weightinit::cli::main(std::env::args_os())
}
