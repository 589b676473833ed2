//! The conventions of an installed command: `weightinit completions SHELL` (clap_complete)
//! and `weightinit man [COMMAND] [--out-dir DIR]` (clap_mangen), both generated from the
//! same clap definitions as `--help`, so they cannot drift from the real flags.

use std::io::Write;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::output::atomic::{self, FileOptions};
use clap::CommandFactory;

use super::Cli;

/// `weightinit completions SHELL`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for. Bash: `source <(weightinit completions bash)`, or save
    /// it as ~/.local/share/bash-completion/completions/weightinit; zsh: a file `_weightinit`
    /// on $fpath; fish: ~/.config/fish/completions/weightinit.fish; PowerShell: dot-source it.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `weightinit man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The subcommand's page (gen, schemes, probe, verify, hist); the main page without it.
    pub command: Option<String>,
    /// Write every page into DIR (weightinit.1, weightinit-gen.1, …) instead of printing
    /// one; DIR is made if its parent exists.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// With --out-dir: replace pages already there.
    #[arg(long)]
    pub force: bool,
}

pub fn completions(args: &CompletionsArgs) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "weightinit", &mut out);
    print(&out)
}

pub fn man(args: &ManArgs) -> Result<()> {
    let pages = pages()?;
    if let Some(dir) = &args.out_dir {
        // Like `-o DIR/`: made if its parent exists (mkdir, not mkdir -p).
        if !dir.is_dir() {
            std::fs::create_dir(dir).map_err(|e| Error::io(dir, e))?;
        }
        let options = FileOptions {
            force: args.force,
            fsync: false,
        };
        for (file, page) in &pages {
            atomic::write_file(&dir.join(file), page, options)?;
        }
        return Ok(());
    }
    let wanted = match &args.command {
        None => "weightinit.1".to_string(),
        Some(name) => format!("weightinit-{name}.1"),
    };
    match pages.iter().find(|(file, _)| *file == wanted) {
        Some((_, page)) => print(page),
        None => Err(Error::Usage(format!(
            "no manual page for '{}'; pages: {}",
            args.command.as_deref().unwrap_or(""),
            pages
                .iter()
                .map(|(f, _)| f.trim_end_matches(".1"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Every page: (file name, roff text), the main one first.
fn pages() -> Result<Vec<(String, Vec<u8>)>> {
    let render = |command: clap::Command| -> Result<Vec<u8>> {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|e| Error::io("<manual page>", e))?;
        Ok(page)
    };
    let main = Cli::command();
    let mut pages = vec![("weightinit.1".to_string(), render(main.clone())?)];
    for sub in main.get_subcommands() {
        let name = format!("weightinit-{}", sub.get_name());
        let version = main.get_version().unwrap_or_default().to_string();
        let page = render(sub.clone().name(name.clone()).version(version))?;
        pages.push((format!("{name}.1"), page));
    }
    Ok(pages)
}

fn print(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("<stdout>", e))
}
