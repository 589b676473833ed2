//! The `weightinit` binary: parse, run, map errors to one line and an exit code
//! (2 for bad input, 1 for failures while running and for a `verify` that answers "not
//! consistent", 0 after a closed pipe).

use std::process::ExitCode;

use clap::Parser;
use weightinit::Error;
use weightinit::cli::Cli;
use weightinit::text::bounded_line;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            // The reader went away (`| head`): not an error for a command-line filter.
            ExitCode::SUCCESS
        }
        Err(Error::Inconsistent(reason)) => {
            // An answer, not a failure: the reason alone, without "error:".
            eprintln!("weightinit: {}", bounded_line(&reason));
            ExitCode::FAILURE
        }
        Err(e @ Error::MemoryBudget { .. }) => {
            let line = format!("{e} (raise it with --max-memory, e.g. --max-memory 90%)");
            eprintln!("weightinit: error: {}", bounded_line(&line));
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("weightinit: error: {}", bounded_line(&e.to_string()));
            ExitCode::from(if e.is_usage() { 2 } else { 1 })
        }
    }
}

/// Prints help and version as clap does; squeezes real errors onto one line.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    let mut line = String::new();
    for part in rendered.lines().map(str::trim).filter(|l| {
        !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:")
    }) {
        let part = part.strip_prefix("error: ").unwrap_or(part);
        if !line.is_empty() {
            line.push_str(if line.ends_with(':') { " " } else { "; " });
        }
        line.push_str(part);
    }
    eprintln!("weightinit: error: {line} (see 'weightinit --help')");
    ExitCode::from(2)
}
