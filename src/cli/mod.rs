//! The command line: clap types and one module per subcommand.

mod dry_run;
mod gen_args;
pub mod gen_cmd;
mod gen_plan;
pub mod hist_cmd;
pub mod probe_cmd;
pub mod progress;
pub mod schemes_cmd;
pub mod shell_cmd;
mod sources;
mod table;
pub mod verify_cmd;

use clap::{Parser, Subcommand};

use weightinit::error::Result;

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
            let bytes = weightinit::budget::parse_size(size)
                .map_err(|e| weightinit::Error::Usage(format!("--max-memory: {e}")))?;
            weightinit::budget::set_limit(bytes);
        }
        match self.command {
            Command::Gen(args) => gen_cmd::run(*args),
            Command::Schemes(args) => schemes_cmd::run(&args),
            Command::Probe(args) => probe_cmd::run(&args),
            Command::Verify(args) => verify_cmd::run(&args),
            Command::Hist(args) => hist_cmd::run(&args),
            Command::Completions(args) => shell_cmd::completions(&args),
            Command::Man(args) => shell_cmd::man(&args),
        }
    }
}
