//! `weightinit recipes`: the init recipes `gen --hf-config --recipe NAME` applies, with
//! their laws by role and their sources, for people or (`--json`) scripts.

use std::io::Write;

use clap::Args;

use crate::error::{Error, Result};
use crate::model::hf::recipe::{self, Recipe};

#[derive(Debug, Args)]
pub struct RecipesArgs {
    /// Print the recipes as JSON (an array of objects: name, source, summary, tied, laws).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &RecipesArgs) -> Result<()> {
    let recipes = recipe::all()?;
    let text = if args.json {
        serde_json::to_string_pretty(&recipes)
            .map_err(|e| Error::Param(format!("recipes as JSON: {e}")))?
            + "\n"
    } else {
        table(&recipes)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("<stdout>", e))
}

fn table(recipes: &[Recipe]) -> String {
    let rows: Vec<Vec<String>> = std::iter::once(vec!["RECIPE".into(), "LAWS".into()])
        .chain(
            recipes
                .iter()
                .map(|r| vec![r.name.clone(), r.summary.clone()]),
        )
        .collect();
    let mut out = super::table::text_table(&rows);
    out.push_str("\nSources:\n");
    for r in recipes {
        out.push_str(&format!("  {}: {}\n", r.name, r.source));
    }
    out.push_str(
        "\nσ₀ is the config's initializer_range, d its hidden size, L its layer count, l a \
         layer's index from 0; TN a truncated normal. Roles a recipe does not name, norms \
         and biases keep the family's own init. Use: weightinit gen --hf-config config.json \
         --recipe NAME -o model/\n",
    );
    out
}
