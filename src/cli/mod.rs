//! The command line: clap types, one module per subcommand, and [`main`], which maps
//! errors to one line and an exit code. The `weightinit` binary (`src/main.rs`) and the
//! Python package's `weightinit` command both call [`main`].

mod choice;
pub mod dry_run;
mod gen_args;
pub mod gen_cmd;
pub mod hist_cmd;
pub mod probe_cmd;
pub mod progress;
pub mod recipes_cmd;
pub mod schemes_cmd;
pub mod shell_cmd;
mod table;
pub mod verify_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Error;
use crate::error::Result;
use crate::text::bounded_line;

/// Initial weights for neural-network layers, exactly reproducible, written as files
/// every ML stack loads.
#[derive(Debug, Parser)]
#[command(name = "weightinit", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Most memory a job may hold at once (tensors that cannot stream: orthogonal, torch's
    /// truncated normal, hist, probe, verify): bytes with a unit (8GiB, 512MB) or a share
    /// of physical memory (50%). Default: 75% of physical memory or the cgroup limit.
    #[arg(long, global = true, value_name = "SIZE")]
    pub max_memory: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate initial weights for one or more tensors.
    #[command(visible_alias = "g")]
    Gen(Box<gen_cmd::GenArgs>),
    /// List the initialization schemes with their formulas.
    Schemes(schemes_cmd::SchemesArgs),
    /// List the init recipes of pretraining codebases (gen --hf-config --recipe NAME).
    Recipes(recipes_cmd::RecipesArgs),
    /// Show what schemes do to a network's signal, layer by layer.
    Probe(Box<probe_cmd::ProbeArgs>),
    /// Check whether a .npy/.npz/.safetensors file looks drawn from a scheme.
    Verify(verify_cmd::VerifyArgs),
    /// Histogram of a stored tensor against its scheme's density.
    Hist(hist_cmd::HistArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(shell_cmd::CompletionsArgs),
    /// Print a manual page (roff), or write them all with --out-dir.
    Man(shell_cmd::ManArgs),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(self) -> Result<()> {
        if let Some(size) = &self.max_memory {
            let bytes = crate::budget::parse_size(size)
                .map_err(|e| crate::error::Error::Usage(format!("--max-memory: {e}")))?;
            crate::budget::set_limit(bytes);
        }
        match self.command {
            Command::Gen(args) => gen_cmd::run(*args),
            Command::Schemes(args) => schemes_cmd::run(&args),
            Command::Recipes(args) => recipes_cmd::run(&args),
            Command::Probe(args) => probe_cmd::run(&args),
            Command::Verify(args) => verify_cmd::run(&args),
            Command::Hist(args) => hist_cmd::run(&args),
            Command::Completions(args) => shell_cmd::completions(&args),
            Command::Man(args) => shell_cmd::man(&args),
        }
    }
}

/// The whole command: parses `args` (the program name first, as `std::env::args_os`
/// gives them), runs the subcommand, prints any error as one line on stderr and returns
/// the exit code: 2 for bad input, 1 for failures while running and for a `verify` that
/// answers "not consistent", 0 after a closed pipe. SIGINT, SIGTERM and SIGHUP clean up
/// the run's temporary files first (see `clean_up_on_signals`), so call this only from a
/// process that is the command: the `weightinit` binary, or the Python package's
/// `weightinit` entry point.
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    ExitCode::from(exit_status(args))
}

/// [`main`] with the exit status as a number, for a caller that ends the process itself
/// (Python's `sys.exit`). Standard output is flushed before it returns.
pub fn exit_status<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    clean_up_on_signals();
    let status = run_and_report(args);
    let _ = std::io::Write::flush(&mut std::io::stdout());
    status
}

fn run_and_report<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match cli.run() {
        Ok(()) => 0,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            // The reader went away (`| head`): not an error for a command-line filter.
            0
        }
        Err(Error::Inconsistent(reason)) => {
            // An answer, not a failure: the reason alone, without "error:".
            eprintln!("weightinit: {}", bounded_line(&reason));
            1
        }
        Err(e @ Error::MemoryBudget { cap, .. }) => {
            let line = match cap {
                crate::error::Cap::Budget => {
                    format!("{e} (raise it with --max-memory, e.g. --max-memory 90%)")
                }
                // --max-memory cannot raise it: only the limit can.
                _ => format!("{e}"),
            };
            eprintln!("weightinit: error: {}", bounded_line(&line));
            2
        }
        Err(e) => {
            eprintln!("weightinit: error: {}", bounded_line(&flag_wording(&e)));
            if e.is_usage() { 2 } else { 1 }
        }
    }
}

/// The error as the command line says it: library errors name values ("invalid layer
/// widths", "already exists"); here they get the flags that set or change them.
fn flag_wording(e: &Error) -> String {
    use crate::error::Subject;
    use crate::text::value;
    match e {
        Error::Invalid {
            of,
            value: given,
            reason,
        } => {
            let flag = match of {
                Subject::LayerWidths => "--layers",
                Subject::Shard => "--shard",
            };
            format!("invalid {flag} '{}': {reason}", value(given))
        }
        Error::Exists(_) => format!("{e}; pass --force to replace it"),
        Error::BlockDevice(_) => format!("{e}, so pass --force to do that"),
        Error::NoScheme { tensor } => {
            format!(
                "tensor '{}' matches no --rule and there is no --default scheme",
                value(tensor)
            )
        }
        Error::Unreproducible { scheme, rng, why } => {
            use crate::error::Unreproducible as U;
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
            format!("scheme '{}' with --rng {rng}: {why}", value(scheme))
        }
        Error::PresetShape {
            preset,
            wanted,
            got,
        } => format!(
            "preset {preset} takes --shape {wanted}, not '{}'",
            value(got)
        ),
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
            "--scheme '{}' for layer {layer}: {}",
            value(scheme),
            flag_wording(source)
        ),
        Error::InputWidth {
            input,
            width,
            first,
        } => format!(
            "--input '{}' has rows of {width} values, but --layers starts with width {first}",
            value(input)
        ),
        // The one source file of a run is --like's.
        Error::InSource { path, source } => {
            format!(
                "--like '{}': {}",
                crate::text::path(path),
                flag_wording(source)
            )
        }
        other => other.to_string(),
    }
}

/// Prints help and version as clap does; squeezes real errors onto one line.
fn clap_error(e: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return 0;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // `weightinit` alone, or `weightinit gen` with nothing: the help, on stderr,
            // as the answer to a request that did not say what to do.
            eprint!("{}", e.render());
            return 2;
        }
        _ => {}
    }
    eprintln!(
        "weightinit: error: {} (see 'weightinit --help')",
        clap_error_line(&e)
    );
    2
}

/// A clap error on one line, without its usage and "for more information" lines.
fn clap_error_line(e: &clap::Error) -> String {
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
    line
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
            crate::output::atomic::interrupt(
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
fn removed_text(cleanup: &crate::output::atomic::Cleanup) -> String {
    use crate::text::list;
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
