//! `weightinit schemes`: the scheme table, for people (one line each) or scripts (`--json`).

use std::io::Write;

use clap::Args;

use crate::error::{Error, Result};
use crate::scheme::SCHEMES;

#[derive(Debug, Args)]
pub struct SchemesArgs {
    /// Print the table as JSON (an array of objects) instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &SchemesArgs) -> Result<()> {
    let text = if args.json { json() } else { table() };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("<stdout>", e))
}

fn table() -> String {
    let rows: Vec<Vec<String>> =
        std::iter::once(["SCHEME", "ALIASES", "GAIN", "SUITS", "FORMULA"].map(String::from))
            .chain(SCHEMES.iter().map(|s| {
                [
                    s.name.to_string(),
                    s.aliases.join(", "),
                    s.default_gain.to_string(),
                    s.suits.to_string(),
                    s.formula.to_string(),
                ]
            }))
            .map(Vec::from)
            .collect();
    let mut out = super::table::text_table(&rows);
    out.push_str(
        "\nParameters go inline (normal:std=0.02) or as flags (--std 0.02); \
         `weightinit gen --help` lists them.\n",
    );
    out
}

/// The scheme table as pretty JSON (see [`crate::scheme::table_json`]).
pub fn json() -> String {
    crate::scheme::table_json()
}
