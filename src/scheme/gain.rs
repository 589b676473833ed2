//! Nonlinearities and the gain each one asks of a fan-based scheme.
//!
//! The values are PyTorch's `torch.nn.init.calculate_gain` table (they are the
//! standard published ones): linear and sigmoid 1, tanh 5/3, ReLU √2,
//! leaky ReLU √(2/(1+s²)), SELU 3/4.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// PyTorch's default negative slope for leaky ReLU (`nn.LeakyReLU`, `calculate_gain`).
pub const DEFAULT_NEGATIVE_SLOPE: f64 = 0.01;

/// An activation function that follows the layer being initialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Nonlinearity {
    Linear,
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu,
    Selu,
}

impl Nonlinearity {
    /// Every nonlinearity with its canonical name and accepted aliases.
    pub const ALL: [(Nonlinearity, &'static str, &'static [&'static str]); 6] = [
        (
            Nonlinearity::Linear,
            "linear",
            &["identity", "conv1d", "conv2d", "conv3d"],
        ),
        (Nonlinearity::Sigmoid, "sigmoid", &[]),
        (Nonlinearity::Tanh, "tanh", &[]),
        (Nonlinearity::Relu, "relu", &[]),
        (
            Nonlinearity::LeakyRelu,
            "leaky-relu",
            &["leaky_relu", "leakyrelu"],
        ),
        (Nonlinearity::Selu, "selu", &[]),
    ];

    /// The canonical name, as accepted on the command line.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(n, ..)| *n == self)
            .map(|(_, name, _)| *name)
            .unwrap_or("?")
    }

    /// The recommended gain. `negative_slope` only matters for leaky ReLU.
    pub fn gain(self, negative_slope: f64) -> f64 {
        match self {
            Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
            Nonlinearity::Tanh => 5.0 / 3.0,
            Nonlinearity::Relu => std::f64::consts::SQRT_2,
            Nonlinearity::LeakyRelu => (2.0 / (1.0 + negative_slope * negative_slope)).sqrt(),
            Nonlinearity::Selu => 0.75,
        }
    }
}

impl FromStr for Nonlinearity {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let wanted = text.trim().to_ascii_lowercase();
        Self::ALL
            .iter()
            .find(|(_, name, aliases)| *name == wanted || aliases.contains(&wanted.as_str()))
            .map(|(n, ..)| *n)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(_, name, _)| *name).collect();
                Error::Param(format!(
                    "unknown nonlinearity '{}'; accepted: {}",
                    crate::text::value(text),
                    names.join(", ")
                ))
            })
    }
}

impl fmt::Display for Nonlinearity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gains_match_published_table() {
        let table = [
            (Nonlinearity::Linear, 1.0),
            (Nonlinearity::Sigmoid, 1.0),
            (Nonlinearity::Tanh, 5.0 / 3.0),
            (Nonlinearity::Relu, 2f64.sqrt()),
            (Nonlinearity::Selu, 0.75),
        ];
        for (n, g) in table {
            assert_eq!(n.gain(DEFAULT_NEGATIVE_SLOPE), g, "{n}");
        }
        // √(2 / (1 + 0.01²)) = 1.41414284...
        let leaky = Nonlinearity::LeakyRelu.gain(0.01);
        assert!((leaky - 1.414_142_856_997_835_4).abs() < 1e-12, "{leaky}");
        // PyTorch's nn.Linear uses kaiming_uniform_(a=√5): gain √(2/6) = √(1/3).
        let linear_default = Nonlinearity::LeakyRelu.gain(5f64.sqrt());
        assert!((linear_default - (1.0f64 / 3.0).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn parses_names_and_aliases() {
        assert_eq!(
            "leaky_relu".parse::<Nonlinearity>().unwrap(),
            Nonlinearity::LeakyRelu
        );
        assert_eq!("ReLU".parse::<Nonlinearity>().unwrap(), Nonlinearity::Relu);
        let err = "swish".parse::<Nonlinearity>().unwrap_err().to_string();
        assert!(err.contains("'swish'") && err.contains("tanh"), "{err}");
    }
}
