//! Initialization schemes: the table of names a user can type, the `name:key=value`
//! spec parser, and [`SchemeSpec::resolve`], which turns a scheme plus a shape into a
//! plain [`Distribution`](crate::law::Distribution).
//!
//! A scheme is data: adding one means adding a row to [`SCHEMES`] and an arm to
//! `resolve`, not a new code path through the sampler or the writers.

mod build;
mod direct;
mod fan_based;
pub mod gain;
mod params;
mod resolve;
mod spec;
mod state_space;
mod structured;
mod table;

pub use build::{Resolved, TRUNCATED_NORMAL_STD_CORRECTION};
pub use params::{FanMode, ParamKey, ParamValue, Params, ScalingDistribution, shortest};
pub use spec::SchemeSpec;
pub use table::{SCHEMES, SchemeInfo, SchemeKind, table_json};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_round_trips_through_display() {
        let table = [
            ("normal:std=0.02", "normal:std=0.02"),
            ("uniform:low=-0.1,high=0.1", "uniform:low=-0.1,high=0.1"),
            ("uniform:high=0.1,low=-0.1", "uniform:low=-0.1,high=0.1"),
            ("he-uniform:mode=fan-out", "he-uniform:mode=fan-out"),
            ("kaiming_uniform_:mode=fan_out", "he-uniform:mode=fan-out"),
            (
                "variance-scaling:scale=2,mode=fan-avg,distribution=uniform",
                "variance-scaling:scale=2,mode=fan-avg,distribution=uniform",
            ),
            ("glorot-normal", "xavier-normal"),
            ("Xavier_Uniform:gain=1.5", "xavier-uniform:gain=1.5"),
            (
                "he-normal:nonlinearity=leaky_relu,negative_slope=0.2",
                "he-normal:nonlinearity=leaky-relu,negative-slope=0.2",
            ),
            ("truncated-normal:stddev=0.02", "truncated-normal:std=0.02"),
            ("eye", "identity"),
            ("constant:value=0.1", "constant:value=0.1"),
            ("normal:std=1e-300", "normal:std=1e-300"),
        ];
        for (input, canonical) in table {
            let spec: SchemeSpec = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(spec.to_string(), canonical, "{input}");
            let again: SchemeSpec = canonical.parse().unwrap();
            assert_eq!(again, spec, "{canonical} must parse back to the same spec");
        }
    }

    #[test]
    fn every_name_and_alias_parses_to_its_row() {
        for info in SCHEMES {
            for name in std::iter::once(&info.name).chain(info.aliases) {
                assert_eq!(SchemeKind::lookup(name).unwrap(), info.kind, "{name}");
            }
        }
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let table = [
            ("he-normall", "did you mean 'he-normal'"),
            ("xavier-unifrom", "did you mean 'xavier-uniform'"),
            ("qwerty", "unknown scheme 'qwerty'"),
            ("normal:std", "not key=value"),
            ("normal:std=abc", "invalid std 'abc'"),
            ("normal:std=nan", "finite"),
            ("normal:std=inf", "finite"),
            ("normal:foo=1", "unknown parameter 'foo'"),
            (
                "xavier-uniform:std=1",
                "does not apply to scheme 'xavier-uniform'",
            ),
            ("zeros:value=1", "takes no parameters"),
            ("he-normal:mode=sideways", "fan-in, fan-out, fan-avg"),
            ("normal:std=1,std=2", "given twice"),
            (
                "he-normal:nonlinearity=swish",
                "unknown nonlinearity 'swish'",
            ),
        ];
        for (input, needle) in table {
            let err = input.parse::<SchemeSpec>().expect_err(input).to_string();
            assert!(err.contains(needle), "{input}: {err}");
        }
    }
}
