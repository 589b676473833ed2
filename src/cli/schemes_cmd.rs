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
    let mut out = format!(
        "{:<18} {:<34} {:<10} {:<28} {}\n",
        "SCHEME", "ALIASES", "GAIN", "SUITS", "FORMULA"
    );
    for s in SCHEMES {
        out.push_str(&format!(
            "{:<18} {:<34} {:<10} {:<28} {}\n",
            s.name,
            s.aliases.join(", "),
            s.default_gain,
            s.suits.split(':').next().unwrap_or(s.suits),
            s.formula
        ));
    }
    out.push_str(
        "\nParameters go inline (normal:std=0.02) or as flags (--std 0.02); \
         `weightinit gen --help` lists them.\n",
    );
    out
}

fn json() -> String {
    let rows: Vec<serde_json::Value> = SCHEMES
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "aliases": s.aliases,
                "params": s.params.iter().map(|k| k.name()).collect::<Vec<_>>(),
                "formula": s.formula,
                "default_gain": s.default_gain,
                "suits": s.suits,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&rows).expect("scheme table serializes");
    text.push('\n');
    text
}
