//! One word for what an initialization does to a chain: stable, vanishing, exploding or
//! symmetric, with the layer where it turned.
//!
//! The signal is judged against a reference a factor of [`TURN_FACTOR`] either way:
//! - forward, each layer's activation variance against the input's: the chain's own gain,
//!   whatever the data's scale;
//! - backward, each hidden layer's gradient variance against the last hidden layer's, not
//!   the output's, because a narrow output layer (512 → 10) legitimately shrinks the
//!   gradient once; what matters is the trend through the hidden stack.
//!
//! A factor of 1000 (three decades) separates the textbook cases (He et al. 2015; Glorot & Bengio 2010) with room on
//! both sides: He + ReLU stays within ~2×, Xavier + tanh drifts by ~20–65× over 30–50
//! layers (tanh's variance decays like a power of depth, not geometrically), while
//! Xavier + ReLU halves per layer and crosses 1000× by layer ~11, and normal(0.01) or
//! normal(1) cross it within three layers.

use serde::Serialize;

use super::network::LayerStats;

/// How far from its reference a variance may move before the signal counts as
/// vanishing or exploding.
pub const TURN_FACTOR: f64 = 1000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    Stable,
    Vanishing,
    Exploding,
    Symmetric,
}

impl VerdictKind {
    pub fn name(self) -> &'static str {
        match self {
            VerdictKind::Stable => "stable",
            VerdictKind::Vanishing => "vanishing",
            VerdictKind::Exploding => "exploding",
            VerdictKind::Symmetric => "symmetric",
        }
    }
}

/// Which measurement turned first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signal {
    Activations,
    Gradients,
    Units,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    /// The 1-based layer where it turned (none when stable).
    pub layer: Option<usize>,
    pub signal: Option<Signal>,
    /// Smallest and largest activation variance over the input's.
    pub activation_ratio: (f64, f64),
    /// Smallest and largest hidden-layer gradient variance over the last hidden layer's.
    pub gradient_ratio: (f64, f64),
    /// One sentence for people.
    pub detail: String,
}

/// The first layer (walking `order`) whose ratio leaves [1/TURN_FACTOR, TURN_FACTOR],
/// and the range of the ratios.
fn first_turn(ratios: &[(usize, f64)]) -> (Option<(VerdictKind, usize)>, (f64, f64)) {
    let mut range = (f64::INFINITY, f64::NEG_INFINITY);
    let mut turn = None;
    for &(layer, r) in ratios {
        range = (range.0.min(r), range.1.max(r));
        let kind = if !r.is_finite() || r > TURN_FACTOR {
            Some(VerdictKind::Exploding)
        } else if r < 1.0 / TURN_FACTOR {
            Some(VerdictKind::Vanishing)
        } else {
            None
        };
        if turn.is_none() {
            turn = kind.map(|k| (k, layer));
        }
    }
    if ratios.is_empty() {
        range = (1.0, 1.0);
    }
    (turn, range)
}

fn sci(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2e}")
    } else {
        "overflow".into()
    }
}

/// Judges one scheme's run from the input variance and the per-layer statistics.
pub fn judge(input_variance: f64, layers: &[LayerStats]) -> Verdict {
    let forward: Vec<(usize, f64)> = layers
        .iter()
        .map(|l| (l.layer, l.activation_variance / input_variance))
        .collect();
    // Hidden layers from the last one down to layer 1, against the last hidden layer
    // (against the output's when that one carries nothing, e.g. all units dead).
    let hidden = &layers[..layers.len().saturating_sub(1)];
    let mut backward = Vec::new();
    if let Some(last) = hidden.last() {
        let reference = if last.gradient_variance > 0.0 && last.gradient_variance.is_finite() {
            last.gradient_variance
        } else {
            layers.last().map_or(1.0, |l| l.gradient_variance)
        };
        backward = hidden
            .iter()
            .rev()
            .map(|l| (l.layer, l.gradient_variance / reference))
            .collect();
    }
    let (forward_turn, activation_ratio) = first_turn(&forward);
    let (backward_turn, gradient_ratio) = first_turn(&backward);
    let symmetric = layers
        .iter()
        .find(|l| l.width >= 2 && l.distinct_units == 1);

    let describe = |turn: Option<(VerdictKind, usize)>, what: &str, reference: &str| match turn {
        Some((VerdictKind::Vanishing, layer)) => {
            format!("{what} variance fell below 1/{TURN_FACTOR} of {reference} at layer {layer}")
        }
        Some((_, layer)) => {
            format!("{what} variance rose above {TURN_FACTOR}x {reference} at layer {layer}")
        }
        None => format!("{what} variance stays within {TURN_FACTOR}x of {reference}"),
    };
    let forward_text = format!(
        "{} ({}x to {}x)",
        describe(forward_turn, "activation", "the input's"),
        sci(activation_ratio.0),
        sci(activation_ratio.1)
    );
    let backward_text = if backward.is_empty() {
        "no hidden layers to carry gradients".to_string()
    } else {
        format!(
            "{} ({}x to {}x)",
            describe(backward_turn, "gradient", "the last hidden layer's"),
            sci(gradient_ratio.0),
            sci(gradient_ratio.1)
        )
    };

    let (kind, layer, signal, detail) = if let Some(l) = symmetric {
        (
            VerdictKind::Symmetric,
            Some(l.layer),
            Some(Signal::Units),
            format!(
                "all {} units of layer {} compute the same value for every input: \
                 the initialization does not break symmetry",
                l.width, l.layer
            ),
        )
    } else if let Some((kind, layer)) = forward_turn {
        (
            kind,
            Some(layer),
            Some(Signal::Activations),
            format!("{forward_text}; {backward_text}"),
        )
    } else if let Some((kind, layer)) = backward_turn {
        (
            kind,
            Some(layer),
            Some(Signal::Gradients),
            format!("{backward_text}; {forward_text}"),
        )
    } else {
        (
            VerdictKind::Stable,
            None,
            None,
            format!("{forward_text}; {backward_text}"),
        )
    };
    Verdict {
        kind,
        layer,
        signal,
        activation_ratio,
        gradient_ratio,
        detail,
    }
}
