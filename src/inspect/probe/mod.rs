//! `weightinit probe`: what an initialization does to a network, measured.
//!
//! A batch of inputs (standard normal, or the user's data) goes forward through a dense
//! chain with one activation after every hidden layer, and a gradient comes back from
//! the output. Per layer this records the activations' mean and variance, the gradient's
//! variance, the fraction of dead units and the number of distinct units, then
//! [`verdict::judge`] names the outcome. Several schemes run on the same input and the
//! same output gradient, so their rows compare like with like.
//!
//! - The weights are exactly what `weightinit gen --layers WIDTHS --scheme S --seed N`
//!   writes (f32, layout in × out, the native stream, names fcI.weight); biases are zero,
//!   as `gen --layers` writes them by default.
//! - The loss is Σ g ⊙ y for a fixed standard-normal g (a random linear read-out of the
//!   output y): its gradient at the output has variance ≈ 1 whatever the forward pass
//!   did, so the backward column shows the chain's own effect on gradients rather than
//!   an echo of the forward one (a squared-error loss would vanish with the outputs).
//! - The input (`probe.input`, batch × width) and g (`probe.output-gradient`) are drawn
//!   from the native stream with the same seed: `gen --scheme normal --dtype f64 --name
//!   probe.input --shape BATCHxWIDTH --seed N` writes the same input.

pub mod network;
pub mod stack;
pub mod verdict;

use std::borrow::Cow;
use std::time::Instant;

use serde::Serialize;

use crate::array::dtype::DType;
use crate::array::fan::Layout;
use crate::error::{Error, Result};
use crate::model::activation::Activation;
use crate::scheme::SchemeSpec;
use crate::tensor::rng::RngMode;
use crate::tensor::{ResolvedTensor, TensorSpec};
pub use network::{LayerStats, Matrix, Weights};
pub use verdict::{Verdict, VerdictKind};

/// Name of the stream the default input is drawn from.
pub const INPUT_NAME: &str = "probe.input";
/// Name of the stream the output gradient is drawn from.
pub const OUTPUT_GRADIENT_NAME: &str = "probe.output-gradient";

/// Where the batch comes from.
#[derive(Debug, Clone)]
pub enum Input {
    /// `batch` rows of independent standard normals.
    StandardNormal { batch: usize },
    /// The user's rows (batch × first width), with a label for reports.
    Data { label: String, rows: Matrix },
}

/// The chain and the batch a probe runs on.
#[derive(Debug, Clone)]
pub struct Setup {
    pub widths: Vec<usize>,
    pub activation: Activation,
    pub seed: u64,
    pub input: Input,
}

/// One scheme's run.
#[derive(Debug, Clone, Serialize)]
pub struct SchemeProbe {
    pub scheme: String,
    pub verdict: Verdict,
    pub layers: Vec<LayerStats>,
}

/// Everything a probe measured.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub widths: Vec<usize>,
    pub activation: &'static str,
    pub seed: u64,
    pub batch: usize,
    /// `standard-normal` or the data file.
    pub input: String,
    pub input_mean: f64,
    pub input_variance: f64,
    pub loss: &'static str,
    pub turn_factor: f64,
    pub schemes: Vec<SchemeProbe>,
    /// Wall-clock time of drawing and running every scheme.
    pub seconds: f64,
}

/// The weight tensors of `widths` for `scheme`: the specs `gen --layers` resolves for
/// its weights with the default dtype (f32), layout (in × out) and stream (native).
pub fn weight_specs(
    widths: &[usize],
    scheme: &SchemeSpec,
    seed: u64,
) -> Result<Vec<ResolvedTensor>> {
    widths
        .windows(2)
        .enumerate()
        .map(|(i, pair)| {
            let shape = crate::model::layers::weight_shape(pair[0], pair[1], Layout::Io)?;
            TensorSpec {
                name: crate::model::layers::weight_name(i),
                shape,
                layout: Layout::Io,
                scheme: scheme.clone(),
                dtype: DType::F32,
                seed,
                rng: RngMode::Native,
                jax: Default::default(),
            }
            .resolve()
            .map_err(|e| Error::ForLayer {
                scheme: scheme.to_string(),
                layer: i + 1,
                source: Box::new(e),
            })
        })
        .collect()
}

/// A standard-normal `rows × cols` matrix from the native stream `name`.
fn standard_normal(name: &str, rows: usize, cols: usize, seed: u64) -> Result<Matrix> {
    let tensor = TensorSpec {
        name: name.to_string(),
        shape: format!("{rows}x{cols}").parse()?,
        layout: Layout::Io,
        scheme: "normal".parse()?,
        dtype: DType::F64,
        seed,
        rng: RngMode::Native,
        jax: Default::default(),
    }
    .resolve()?;
    let (values, _) = crate::pipeline::generate::draw_array::<f64>(&tensor)?;
    let values = values.as_slice().expect("a fresh array is contiguous");
    Matrix::from_row_major(rows, cols, values)
}

/// The bytes a probe of `widths` with `batch` rows holds at its peak (None on overflow):
/// one scheme's weights (f32), the slopes of every hidden layer (f32, batch × width) and
/// a few batch × width signals (f64), the input among them. [`run`] asks the memory
/// budget ([`crate::budget`]) for this much before drawing anything.
pub fn memory_needed(widths: &[usize], batch: usize) -> Option<u64> {
    let (b, mut total) = (batch as u64, 0u64);
    let widest = *widths.iter().max()? as u64;
    for pair in widths.windows(2) {
        let weights = (pair[0] as u64)
            .checked_mul(pair[1] as u64)?
            .checked_mul(4)?;
        let slopes = b.checked_mul(pair[1] as u64)?.checked_mul(4)?;
        total = total.checked_add(weights)?.checked_add(slopes)?;
    }
    // Input, output gradient, two signals and two f32 product buffers.
    total.checked_add(b.checked_mul(widest)?.checked_mul(4 * 8 + 2 * 4)?)
}

/// Runs every scheme on the same batch and output gradient. Every scheme is resolved
/// for every layer before anything is drawn, so a bad one fails fast.
pub fn run(setup: &Setup, schemes: &[SchemeSpec]) -> Result<Probe> {
    let started = Instant::now();
    let widths = &setup.widths;
    let first = widths[0];
    let last = *widths.last().expect("a chain has at least two widths");
    let batch = match &setup.input {
        Input::StandardNormal { batch } => *batch,
        Input::Data { rows, .. } => rows.rows,
    };
    crate::budget::check_products(
        memory_needed(widths, batch),
        &format!(
            "a probe of layers {} ({} layers, widest {}) with batch {batch}",
            crate::model::layers::widths_text(widths),
            widths.len() - 1,
            widths.iter().max().copied().unwrap_or(0)
        ),
    )?;
    let specs = schemes
        .iter()
        .map(|s| weight_specs(widths, s, setup.seed))
        .collect::<Result<Vec<_>>>()?;
    // The user's rows are borrowed, not copied: the budget counted the input once.
    let (input, label) = match &setup.input {
        Input::StandardNormal { batch } => (
            Cow::Owned(standard_normal(INPUT_NAME, *batch, first, setup.seed)?),
            "standard-normal".to_string(),
        ),
        Input::Data { label, rows } => {
            if rows.cols != first {
                return Err(Error::InputWidth {
                    input: label.clone(),
                    width: rows.cols,
                    first,
                });
            }
            (Cow::Borrowed(rows), label.clone())
        }
    };
    let (input_mean, input_variance) = network::mean_variance(&input.data);
    if !(input_variance > 0.0 && input_variance.is_finite()) {
        return Err(Error::Usage(format!(
            "the input '{label}' has variance {input_variance}: a probe needs inputs that vary"
        )));
    }
    let output_gradient = standard_normal(OUTPUT_GRADIENT_NAME, input.rows, last, setup.seed)?;
    let mut results = Vec::with_capacity(schemes.len());
    let mut workspace = network::Workspace::default();
    for (scheme, tensors) in schemes.iter().zip(&specs) {
        let weights = tensors
            .iter()
            .map(|t| {
                let (w, _) = crate::pipeline::generate::draw_array::<f32>(t)?;
                let (inputs, outputs) = (w.shape()[0], w.shape()[1]);
                Ok(Weights {
                    inputs,
                    outputs,
                    data: w.into_raw_vec_and_offset().0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let layers = network::run(
            &input,
            &weights,
            setup.activation,
            &output_gradient,
            &mut workspace,
        );
        results.push(SchemeProbe {
            scheme: scheme.to_string(),
            verdict: verdict::judge(input_variance, &layers),
            layers,
        });
    }
    Ok(Probe {
        widths: widths.clone(),
        activation: setup.activation.name(),
        seed: setup.seed,
        batch: input.rows,
        input: label,
        input_mean,
        input_variance,
        loss: "sum(g * output), g standard normal",
        turn_factor: verdict::TURN_FACTOR,
        schemes: results,
        seconds: started.elapsed().as_secs_f64(),
    })
}
