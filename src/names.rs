//! The names of the closed sets of values a user types — dtypes, layouts, random streams,
//! file formats, presets, activations — as tables ([`Choice`]): parsed the same way by
//! the command line, spec files and the Python package, with the list of accepted names
//! for messages. The engine types carry no command-line library; the command line builds
//! its possible values (with their aliases and help) from these tables.

/// One value of a [`Choice`]: its canonical name, the aliases also accepted, and a line
/// saying what it is (shown by `--help`).
#[derive(Debug)]
pub struct Named<T: 'static> {
    pub value: T,
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub help: &'static str,
}

/// A closed set of values with a name table.
pub trait Choice: Copy + PartialEq + Send + Sync + 'static {
    /// Every value, in the order help lists them.
    const TABLE: &'static [Named<Self>];

    /// The value named `text` (its name or an alias, ignoring ASCII case), if any.
    fn from_name(text: &str) -> Option<Self> {
        Self::TABLE
            .iter()
            .find(|n| {
                n.name.eq_ignore_ascii_case(text)
                    || n.aliases.iter().any(|a| a.eq_ignore_ascii_case(text))
            })
            .map(|n| n.value)
    }

    /// The canonical names, comma-separated, for a message saying what is accepted.
    fn accepted() -> String {
        let names: Vec<&str> = Self::TABLE.iter().map(|n| n.name).collect();
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::{DType, Layout};
    use crate::model::activation::Activation;
    use crate::model::preset::Preset;
    use crate::output::Format;
    use crate::tensor::rng::RngMode;

    /// Each table's names parse back to their value, and agree with the type's own
    /// `Display`, which metadata and messages use.
    fn round_trips<T: Choice + std::fmt::Display + std::fmt::Debug>() {
        for n in T::TABLE {
            assert_eq!(T::from_name(n.name), Some(n.value));
            assert_eq!(T::from_name(&n.name.to_ascii_uppercase()), Some(n.value));
            for alias in n.aliases {
                assert_eq!(T::from_name(alias), Some(n.value), "{alias}");
            }
            assert_eq!(n.value.to_string(), n.name);
        }
        assert_eq!(T::from_name("no-such-name"), None);
    }

    #[test]
    fn every_table_round_trips() {
        round_trips::<DType>();
        round_trips::<Layout>();
        round_trips::<RngMode>();
        round_trips::<Format>();
        round_trips::<Preset>();
        round_trips::<Activation>();
    }

    #[test]
    fn accepted_lists_the_canonical_names() {
        assert_eq!(DType::accepted(), "f32, f64, f16, bf16");
        assert_eq!(Layout::accepted(), "io, oi");
    }
}
