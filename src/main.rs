//! The `weightinit` binary: parse, run, map errors to one line and an exit code
//! (2 for bad input, 1 for failures while running and for a `verify` that answers "not
//! consistent", 0 after a closed pipe).

use std::process::ExitCode;

use clap::Parser;
use weightinit::Error;
mod cli;

use cli::Cli;
use weightinit::text::bounded_line;

fn main() -> ExitCode {
    clean_up_on_signals();
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
            eprintln!("weightinit: error: {}", bounded_line(&flag_wording(&e)));
            ExitCode::from(if e.is_usage() { 2 } else { 1 })
        }
    }
}

/// The error as the command line says it: library errors name values ("invalid layer
/// widths", "already exists"); here they get the flags that set or change them.
fn flag_wording(e: &Error) -> String {
    use weightinit::error::Subject;
    match e {
        Error::Invalid { of, value, reason } => {
            let flag = match of {
                Subject::LayerWidths => "--layers",
                Subject::Shard => "--shard",
            };
            format!("invalid {flag} '{value}': {reason}")
        }
        Error::Exists(_) => format!("{e}; pass --force to replace it"),
        Error::BlockDevice(_) => format!("{e}, so pass --force to do that"),
        Error::NoScheme { tensor } => {
            format!("tensor '{tensor}' matches no --rule and there is no --default scheme")
        }
        Error::Unreproducible { scheme, rng, why } => {
            use weightinit::error::Unreproducible as U;
            let why = match why {
                U::NotOiLayout => "PyTorch stores weights out x in (x kernel), and its fans \
                                   follow that; add --layout oi and give the shape as PyTorch \
                                   does"
                    .to_string(),
                U::NumpyTruncatedNormal => "NumPy's Generator has no truncated normal; use \
                                            --rng native for truncated-normal (or a normal \
                                            scheme with --rng numpy)"
                    .to_string(),
                other => other.to_string(),
            };
            format!("scheme '{scheme}' with --rng {rng}: {why}")
        }
        Error::PresetShape {
            preset,
            wanted,
            got,
        } => format!("preset {preset} takes --shape {wanted}, not '{got}'"),
        Error::ConstantNeedsValue => format!("{e} or --value 0.1"),
        Error::SpecNoScheme { place } => format!(
            "{place} has no scheme: give it scheme = \"...\", add a [[rule]] whose match fits \
             its name, or a top-level scheme (or --rule/--default)"
        ),
        Error::ForLayer {
            scheme,
            layer,
            source,
        } => format!(
            "--scheme '{scheme}' for layer {layer}: {}",
            flag_wording(source)
        ),
        Error::InputWidth {
            input,
            width,
            first,
        } => format!(
            "--input '{input}' has rows of {width} values, but --layers starts with width {first}"
        ),
        // The one source file of a run is --like's.
        Error::InSource { path, source } => {
            format!("--like '{}': {}", path.display(), flag_wording(source))
        }
        other => other.to_string(),
    }
}

/// Prints help and version as clap does; squeezes real errors onto one line.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // `weightinit` alone, or `weightinit gen` with nothing: the help, on stderr,
            // as the answer to a request that did not say what to do.
            eprint!("{}", e.render());
            return ExitCode::from(2);
        }
        _ => {}
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

/// SIGINT, SIGTERM and SIGHUP (Ctrl-C, a scheduler's preemption, a closed terminal)
/// remove the run's temporary files and the directories it created and left empty, say
/// what was removed, and end the process with 128 + the signal number, as a shell reports
/// a process killed by it. The handler runs on its own thread (signal-hook), not in
/// signal context, so it may take locks and touch the file system.
fn clean_up_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let name = match signal {
                SIGINT => "SIGINT",
                SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            weightinit::output::atomic::interrupt(
                |cleanup| {
                    eprintln!(
                        "weightinit: interrupted by {name}; {}",
                        removed_text(cleanup)
                    )
                },
                128 + signal,
            )
        }
    });
}

/// "removed 1 temporary file (out/.w.npy.a1b2c3.tmp) and 1 directory (out)".
fn removed_text(cleanup: &weightinit::output::atomic::Cleanup) -> String {
    use weightinit::text::list;
    // Paths as the user would type them: relative to the working directory when inside it.
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown = |p: &std::path::PathBuf| {
        let relative = p.strip_prefix(&cwd).unwrap_or(p);
        let relative = relative.strip_prefix(".").unwrap_or(relative);
        relative.display().to_string()
    };
    let files = cleanup.temporaries.iter().map(shown);
    let dirs = cleanup.dirs.iter().map(shown);
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if !cleanup.temporaries.is_empty() {
        parts.push(format!(
            "{} ({})",
            count(cleanup.temporaries.len(), "temporary file"),
            list(files)
        ));
    }
    if !cleanup.dirs.is_empty() {
        parts.push(format!(
            "{} ({})",
            count(cleanup.dirs.len(), "created directory"),
            list(dirs)
        ));
    }
    if parts.is_empty() {
        "nothing was left to remove".to_string()
    } else {
        format!("removed {}", parts.join(" and "))
    }
}
