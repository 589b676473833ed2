//! A clap value parser over a [`Choice`] name table, so flags that take an engine type
//! (`--dtype`, `--layout`, `--rng`, `--format`, `--preset`, `--activation`) list, accept
//! and complete the same names, aliases and help as the table, without the engine types
//! knowing clap.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use crate::names::Choice;

/// The parser for a flag taking a `T`.
pub fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    let values = T::TABLE.iter().map(|n| {
        let value = PossibleValue::new(n.name).aliases(n.aliases.iter().copied());
        if n.help.is_empty() {
            value
        } else {
            value.help(n.help)
        }
    });
    PossibleValuesParser::new(values).map(|name| {
        // PossibleValuesParser only hands on a name or alias of the table.
        T::from_name(&name).unwrap_or(T::TABLE[0].value)
    })
}
