//! `--rng jax`: JAX's random stream on CPU (JAX/jaxlib 0.10.2, default
//! `threefry2x32` implementation), bit for bit — keys ([`key`]), the Threefry hash
//! ([`threefry`]), `random_bits` in both `jax_threefry_partitionable` modes ([`bits`]),
//! XLA:CPU's elementary functions ([`xla_math`]), the samplers ([`kernels`]),
//! `jax.nn.initializers` ([`initializers`]) and Flax's per-parameter keys ([`flax`]).
//!
//! Everything is a pure function of (key, shape, mode, element range): any block of a
//! tensor can be drawn on its own, in any order, on any thread. Checked against JAX by
//! tests/streams/jax_prng_and_samplers.rs on fixtures written by tests/fixtures/make_jax_stream_fixtures.py.

pub mod bits;
pub mod flax;
pub mod initializers;
pub mod kernels;
pub mod key;
pub mod mapping;
pub mod stream;
pub mod threefry;
pub mod xla_math;

pub use key::JaxKey;
pub use mapping::JaxDraw;

use crate::array::TensorSink;
use crate::check::Generated;
use crate::compat::stream::{Generators, Stream, unreproducible};
use crate::error::{Result, Unreproducible};
use crate::scheme::Resolved;
use crate::tensor::{ResolvedTensor, TensorSpec};

/// The `stream` of `--rng jax` tensors in their metadata (and with
/// `jax_threefry_partitionable` off).
pub const LABEL: &str =
    "jax.random.key: threefry2x32, jax_threefry_partitionable=True, JAX 0.10 CPU samplers";
pub const LABEL_ORIGINAL: &str =
    "jax.random.key: threefry2x32, jax_threefry_partitionable=False, JAX 0.10 CPU samplers";

/// A stream whose tensors are JAX calls drawn from JAX's counter-based stream: `--rng
/// jax` ([`JAX`]: `jax.nn.initializers`) and `--rng keras` (Keras 3's initializers,
/// reduced to the `jax.random` calls they make). They differ only in the call a scheme
/// maps to, how that call is written out, and their label.
pub struct JaxCalls {
    /// The call that draws a tensor, or why there is none.
    pub draw_for: fn(&TensorSpec, &Resolved) -> Result<JaxDraw, Unreproducible>,
    /// The Python statement computing the tensor as `w`.
    pub expression: fn(&JaxDraw, &TensorSpec) -> String,
    /// The label with `jax_threefry_partitionable` on, and off.
    pub labels: [&'static str; 2],
}

/// `--rng jax`: `jax.nn.initializers` with each tensor's own key.
pub static JAX: JaxCalls = JaxCalls {
    draw_for: mapping::draw_for,
    expression: mapping::expression,
    labels: [LABEL, LABEL_ORIGINAL],
};

impl Stream for JaxCalls {
    fn label(&self, spec: &TensorSpec) -> &'static str {
        self.labels[usize::from(!spec.jax.partitionable)]
    }

    fn adapt(&self, spec: &TensorSpec, resolved: &mut Resolved) -> Result<(), Unreproducible> {
        let draw = (self.draw_for)(spec, resolved)?;
        resolved.distribution = mapping::law(&draw, spec.shape.dims());
        Ok(())
    }

    fn equivalent(&self, tensor: &ResolvedTensor) -> Option<String> {
        (self.draw_for)(&tensor.spec, &tensor.resolved)
            .ok()
            .map(|draw| (self.expression)(&draw, &tensor.spec))
    }

    fn draw(
        &self,
        tensor: &ResolvedTensor,
        sink: &mut (dyn TensorSink + Send),
        label: &str,
        _: &mut Generators,
    ) -> Result<Generated> {
        let draw = (self.draw_for)(&tensor.spec, &tensor.resolved)
            .map_err(|why| unreproducible(&tensor.spec, why))?;
        stream::draw_jax_in_dtype(tensor, &draw, sink, label)
    }
}
