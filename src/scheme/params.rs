//! Scheme parameters: the names a user types (`std`, `mode`, …), their value types,
//! parsing and canonical rendering.
//!
//! The same names serve as `--flags` and as inline `scheme:key=value` pairs, so this
//! module is the single parser for both.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::scheme::gain::Nonlinearity;
use crate::text::value as one_line;

/// A parameter name. The order of the variants is the order in which
/// [`Params`] renders them, so `Display` is canonical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ParamKey {
    Value,
    Mean,
    Std,
    Low,
    High,
    Scale,
    Mode,
    Distribution,
    Gain,
    Nonlinearity,
    NegativeSlope,
    SigmaLow,
    SigmaHigh,
    Depth,
    Groups,
    Sparsity,
    Blocks,
    Forget,
    InAxes,
    OutAxes,
    Mult,
    DtMin,
    DtMax,
    DtFloor,
}

impl ParamKey {
    /// All keys with their canonical (flag) names.
    pub const ALL: [(ParamKey, &'static str); 24] = [
        (ParamKey::Value, "value"),
        (ParamKey::Mean, "mean"),
        (ParamKey::Std, "std"),
        (ParamKey::Low, "low"),
        (ParamKey::High, "high"),
        (ParamKey::Scale, "scale"),
        (ParamKey::Mode, "mode"),
        (ParamKey::Distribution, "distribution"),
        (ParamKey::Gain, "gain"),
        (ParamKey::Nonlinearity, "nonlinearity"),
        (ParamKey::NegativeSlope, "negative-slope"),
        (ParamKey::SigmaLow, "sigma-low"),
        (ParamKey::SigmaHigh, "sigma-high"),
        (ParamKey::Depth, "depth"),
        (ParamKey::Groups, "groups"),
        (ParamKey::Sparsity, "sparsity"),
        (ParamKey::Blocks, "blocks"),
        (ParamKey::Forget, "forget"),
        (ParamKey::InAxes, "in-axes"),
        (ParamKey::OutAxes, "out-axes"),
        (ParamKey::Mult, "mult"),
        (ParamKey::DtMin, "dt-min"),
        (ParamKey::DtMax, "dt-max"),
        (ParamKey::DtFloor, "dt-floor"),
    ];

    /// The canonical name (`negative-slope`).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    /// Parses a key, accepting `_` for `-` and a few framework spellings (`stddev`,
    /// `minval`, `maxval` as in Keras; `val` as in PyTorch's `constant_`). PyTorch's `a`
    /// is deliberately not an alias: it means the negative slope in `kaiming_*_` but the
    /// lower bound in `trunc_normal_`.
    pub fn parse(text: &str) -> Result<ParamKey> {
        let key = text.trim().to_ascii_lowercase().replace('_', "-");
        let key = match key.as_str() {
            "stddev" | "sigma" => "std",
            "minval" => "low",
            "maxval" => "high",
            "val" => "value",
            "activation" => "nonlinearity",
            "residual-layers" | "n-layer" => "depth",
            "gates" => "blocks",
            "in-axis" | "input-axes" => "in-axes",
            "out-axis" | "output-axes" => "out-axes",
            "multiplier" => "mult",
            // Mamba's config keys and mamba_ssm's argument names.
            "min" | "time-step-min" => "dt-min",
            "max" | "time-step-max" => "dt-max",
            "floor" | "time-step-floor" | "dt-init-floor" => "dt-floor",
            other => other,
        };
        Self::ALL
            .iter()
            .find(|(_, n)| *n == key)
            .map(|(k, _)| *k)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(_, n)| *n).collect();
                // A name is short: 30 characters of a long one leave the line room for
                // every accepted name.
                let quoted = crate::text::bound_to(&crate::text::escape_control(text), 30);
                Error::Param(format!(
                    "unknown parameter '{quoted}'; accepted: {}",
                    names.join(", ")
                ))
            })
    }
}

impl fmt::Display for ParamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which fan a variance is scaled by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FanMode {
    FanIn,
    FanOut,
    FanAvg,
    /// √(fan_in · fan_out): JAX's `variance_scaling` mode `fan_geo_avg`.
    FanGeoAvg,
}

impl FanMode {
    pub fn name(self) -> &'static str {
        match self {
            FanMode::FanIn => "fan-in",
            FanMode::FanOut => "fan-out",
            FanMode::FanAvg => "fan-avg",
            FanMode::FanGeoAvg => "fan-geo-avg",
        }
    }
}

/// The distribution family of `variance-scaling` (Keras / JAX `distribution=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScalingDistribution {
    TruncatedNormal,
    Normal,
    Uniform,
}

impl ScalingDistribution {
    pub fn name(self) -> &'static str {
        match self {
            ScalingDistribution::TruncatedNormal => "truncated-normal",
            ScalingDistribution::Normal => "normal",
            ScalingDistribution::Uniform => "uniform",
        }
    }
}

/// One parameter's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue {
    Number(f64),
    Mode(FanMode),
    Distribution(ScalingDistribution),
    Nonlinearity(Nonlinearity),
    Axes(Axes),
}

/// Axes of a weight named by position, `0+1` or `-1` (negative counts from the end), for
/// `in-axes`/`out-axes`: up to 8 of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axes {
    list: [i8; 8],
    len: u8,
}

impl Axes {
    fn parse(text: &str) -> Option<Axes> {
        let mut axes = Axes {
            list: [0; 8],
            len: 0,
        };
        for part in text.trim().split('+') {
            let axis: i8 = part.trim().parse().ok()?;
            if axes.len as usize == axes.list.len() || axes.as_slice().contains(&axis) {
                return None;
            }
            axes.list[axes.len as usize] = axis;
            axes.len += 1;
        }
        Some(axes)
    }

    fn as_slice(&self) -> &[i8] {
        &self.list[..self.len as usize]
    }

    /// The axes as indices into a shape of `rank` dimensions, or `None` when one is out
    /// of range.
    pub fn resolve(&self, rank: usize) -> Option<Vec<usize>> {
        self.as_slice()
            .iter()
            .map(|&a| {
                let index = if a < 0 {
                    rank as i64 + i64::from(a)
                } else {
                    i64::from(a)
                };
                (0..rank as i64).contains(&index).then_some(index as usize)
            })
            .collect()
    }
}

impl fmt::Display for Axes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.as_slice().iter().map(|a| a.to_string()).collect();
        f.write_str(&parts.join("+"))
    }
}

impl ParamValue {
    /// Parses `text` as the value type that `key` takes.
    pub fn parse(key: ParamKey, text: &str) -> Result<ParamValue> {
        let word = text.trim().to_ascii_lowercase().replace('_', "-");
        let bad = |accepted: &str| {
            Error::Param(format!(
                "invalid {key} '{}'; accepted: {accepted}",
                one_line(text)
            ))
        };
        match key {
            ParamKey::Mode => match word.as_str() {
                "fan-in" | "in" => Ok(ParamValue::Mode(FanMode::FanIn)),
                "fan-out" | "out" => Ok(ParamValue::Mode(FanMode::FanOut)),
                "fan-avg" | "avg" => Ok(ParamValue::Mode(FanMode::FanAvg)),
                "fan-geo-avg" | "geo-avg" => Ok(ParamValue::Mode(FanMode::FanGeoAvg)),
                _ => Err(bad("fan-in, fan-out, fan-avg, fan-geo-avg")),
            },
            ParamKey::Distribution => match word.as_str() {
                "truncated-normal" | "truncnormal" | "trunc-normal" => Ok(
                    ParamValue::Distribution(ScalingDistribution::TruncatedNormal),
                ),
                "normal" | "untruncated-normal" => {
                    Ok(ParamValue::Distribution(ScalingDistribution::Normal))
                }
                "uniform" => Ok(ParamValue::Distribution(ScalingDistribution::Uniform)),
                _ => Err(bad("truncated-normal, normal, uniform")),
            },
            ParamKey::Nonlinearity => Ok(ParamValue::Nonlinearity(text.parse()?)),
            ParamKey::InAxes | ParamKey::OutAxes => Axes::parse(text)
                .map(ParamValue::Axes)
                .ok_or_else(|| bad("axis numbers joined by +, such as 0 or 0+1 or -1 (each once)")),
            _ => {
                let number: f64 = text
                    .trim()
                    .parse()
                    .map_err(|_| bad("a number such as 0.02 or -1e-3"))?;
                if !number.is_finite() {
                    return Err(bad("a finite number (not NaN or infinity)"));
                }
                Ok(ParamValue::Number(number))
            }
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Number(x) => f.write_str(&shortest(*x)),
            ParamValue::Mode(m) => f.write_str(m.name()),
            ParamValue::Distribution(d) => f.write_str(d.name()),
            ParamValue::Nonlinearity(n) => f.write_str(n.name()),
            ParamValue::Axes(a) => a.fmt(f),
        }
    }
}

/// The shortest text that parses back to `x` (ryu), without a redundant `.0`:
/// `0.02`, `2`, `1e-300`.
pub fn shortest(x: f64) -> String {
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(x);
    text.strip_suffix(".0").unwrap_or(text).to_string()
}

/// The parameters given for one scheme, in canonical order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(BTreeMap<ParamKey, ParamValue>);

impl Params {
    /// Sets `key`, refusing a second, different value for the same key (for instance
    /// `normal:std=0.02` together with `--std 0.1`).
    pub fn set(&mut self, key: ParamKey, value: ParamValue) -> Result<()> {
        match self.0.get(&key) {
            Some(old) if *old != value => Err(Error::Param(format!(
                "{key} is given twice ({old} and {value}); give it once"
            ))),
            _ => {
                self.0.insert(key, value);
                Ok(())
            }
        }
    }

    /// Parses `text` for `key` and sets it.
    pub fn set_text(&mut self, key: ParamKey, text: &str) -> Result<()> {
        self.set(key, ParamValue::parse(key, text)?)
    }

    pub fn get(&self, key: ParamKey) -> Option<ParamValue> {
        self.0.get(&key).copied()
    }

    pub fn contains(&self, key: ParamKey) -> bool {
        self.0.contains_key(&key)
    }

    /// A numeric parameter, if given.
    pub fn number(&self, key: ParamKey) -> Option<f64> {
        match self.get(key) {
            Some(ParamValue::Number(x)) => Some(x),
            _ => None,
        }
    }

    pub fn mode(&self) -> Option<FanMode> {
        match self.get(ParamKey::Mode) {
            Some(ParamValue::Mode(m)) => Some(m),
            _ => None,
        }
    }

    pub fn scaling_distribution(&self) -> Option<ScalingDistribution> {
        match self.get(ParamKey::Distribution) {
            Some(ParamValue::Distribution(d)) => Some(d),
            _ => None,
        }
    }

    pub fn axes(&self, key: ParamKey) -> Option<Axes> {
        match self.get(key) {
            Some(ParamValue::Axes(a)) => Some(a),
            _ => None,
        }
    }

    pub fn nonlinearity(&self) -> Option<Nonlinearity> {
        match self.get(ParamKey::Nonlinearity) {
            Some(ParamValue::Nonlinearity(n)) => Some(n),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys that are set, in canonical order.
    pub fn keys(&self) -> impl Iterator<Item = ParamKey> + '_ {
        self.0.keys().copied()
    }

    /// The parameters as a JSON object with canonical names; numbers stay numbers.
    pub fn to_json(&self) -> serde_json::Value {
        let map = self
            .0
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    ParamValue::Number(x) => serde_json::json!(x),
                    other => serde_json::json!(other.to_string()),
                };
                (k.name().to_string(), value)
            })
            .collect();
        serde_json::Value::Object(map)
    }
}

impl FromStr for Params {
    type Err = Error;

    /// Parses `key=value,key=value`.
    fn from_str(text: &str) -> Result<Params> {
        let mut params = Params::default();
        for pair in text.split(',') {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(Error::Param(format!(
                    "scheme parameter '{}' is not key=value (for example std=0.02)",
                    one_line(pair)
                )));
            };
            params.set_text(ParamKey::parse(key)?, value)?;
        }
        Ok(params)
    }
}

impl fmt::Display for Params {
    /// Renders `key=value,key=value` in canonical order, so parsing the text gives back
    /// an equal value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}
