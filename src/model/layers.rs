//! Dense chains (`--layers 784-256-10`): the widths, and the names and shapes of each
//! layer's tensors. `gen --layers` writes them; `probe` draws the same weights, so one
//! seed gives one network whichever command asked for it.

use super::{Common, symmetric_uniform};
use crate::array::{Layout, Shape};
use crate::error::{Error, Result, Subject};
use crate::scheme::SchemeSpec;
use crate::tensor::ResolvedTensor;

/// Most widths a chain may have, repeats included: far deeper than any network, and
/// small enough that the list itself is never a burden.
pub const MAX_WIDTHS: usize = 1_000_000;

/// The widths of a chain: `784-256-10`, with `512x3` for a repeated width.
pub fn parse_widths(text: &str) -> Result<Vec<usize>> {
    let bad = |why: &str| Error::Invalid {
        of: Subject::LayerWidths,
        value: text.to_string(),
        reason: format!("{why} (write widths like 784-256-128-10; 512x3 repeats one)"),
    };
    let mut widths = Vec::new();
    for token in text.split('-') {
        let (width, times) = match token.split_once('x') {
            Some((w, k)) => (w, k),
            None => (token, "1"),
        };
        let width: usize = width
            .trim()
            .parse()
            .ok()
            .filter(|&w| w > 0)
            .ok_or_else(|| {
                bad(&format!(
                    "'{}' is not a positive width",
                    crate::text::value(token)
                ))
            })?;
        let times: usize = times
            .trim()
            .parse()
            .ok()
            .filter(|&k| (1..=100_000).contains(&k))
            .ok_or_else(|| {
                bad(&format!(
                    "'{}' repeats a width 1 to 100000 times",
                    crate::text::value(token)
                ))
            })?;
        if widths.len() + times > MAX_WIDTHS {
            return Err(bad(&format!("more than {MAX_WIDTHS} widths")));
        }
        widths.extend(std::iter::repeat_n(width, times));
    }
    if widths.len() < 2 {
        return Err(bad("it needs at least two widths"));
    }
    Ok(widths)
}

/// The widths back as text, runs written `WIDTHxCOUNT`: `784-512x50-10`.
pub fn widths_text(widths: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < widths.len() {
        let run = widths[i..].iter().take_while(|&&w| w == widths[i]).count();
        parts.push(if run > 1 {
            format!("{}x{run}", widths[i])
        } else {
            widths[i].to_string()
        });
        i += run;
    }
    parts.join("-")
}

/// The name of layer `index`'s (0-based) weight matrix.
pub fn weight_name(index: usize) -> String {
    format!("fc{index}.weight")
}

/// The name of layer `index`'s (0-based) bias vector.
pub fn bias_name(index: usize) -> String {
    format!("fc{index}.bias")
}

/// The weight's shape: `IN x OUT`, or `OUT x IN` for [`Layout::Oi`].
pub fn weight_shape(inputs: usize, outputs: usize, layout: Layout) -> Result<Shape> {
    Shape::new(match layout {
        Layout::Io => vec![inputs, outputs],
        Layout::Oi => vec![outputs, inputs],
    })
}

/// The biases of a chain.
#[derive(Debug, Clone, PartialEq)]
pub enum Bias {
    /// No bias tensors.
    None,
    /// PyTorch's default, U(±1/√fan_in) with each layer's fan-in.
    FanInUniform,
    /// Any scheme that works on a 1-D tensor.
    Scheme(SchemeSpec),
}

impl std::str::FromStr for Bias {
    type Err = Error;
    /// `none`, `fan-in-uniform` or a scheme.
    fn from_str(text: &str) -> Result<Bias> {
        Ok(match text.trim() {
            "none" => Bias::None,
            "fan-in-uniform" => Bias::FanInUniform,
            other => Bias::Scheme(other.parse()?),
        })
    }
}

/// A dense chain's tensors: `fcI.weight` by `weight` and `fcI.bias` by `bias` for every
/// consecutive pair of widths, in order.
pub fn chain(
    widths: &[usize],
    weight: &SchemeSpec,
    bias: &Bias,
    common: &Common,
) -> Result<Vec<ResolvedTensor>> {
    let mut tensors = Vec::new();
    for (i, pair) in widths.windows(2).enumerate() {
        let (inputs, outputs) = (pair[0], pair[1]);
        let shape = weight_shape(inputs, outputs, common.layout)?;
        tensors.push(common.tensor(weight_name(i), shape, weight.clone())?);
        let bias_scheme = match bias {
            Bias::None => continue,
            Bias::FanInUniform => symmetric_uniform(1.0 / (inputs as f64).sqrt())?,
            Bias::Scheme(scheme) => scheme.clone(),
        };
        tensors.push(common.tensor(bias_name(i), Shape::new(vec![outputs])?, bias_scheme)?);
    }
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_expand_repeats_and_refuse_nonsense() {
        assert_eq!(
            parse_widths("784-512x3-10").unwrap(),
            [784, 512, 512, 512, 10]
        );
        assert_eq!(parse_widths("4x2").unwrap(), [4, 4]);
        for text in ["784-512x50-10", "256x30", "3-4-5"] {
            assert_eq!(widths_text(&parse_widths(text).unwrap()), text);
        }
        for bad in ["784", "784-0-10", "784--10", "a-b", "5x0", "5x100001", ""] {
            let e = parse_widths(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")), "{e}");
        }
    }
}
