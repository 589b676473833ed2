//! The seam every random stream implements ([`Stream`]), and the generators that last
//! across a run's tensors ([`Generators`]). [`super::stream()`] picks a tensor's stream by
//! its [`RngMode`](crate::tensor::rng::RngMode); nothing outside `compat/` matches on the mode to
//! decide how a tensor is drawn or described.

use crate::array::TensorSink;
use crate::check::Generated;
use crate::compat::numpy::generator::Pcg64;
use crate::compat::torch::generator::CpuGenerator;
use crate::error::{Error, Result, Unreproducible};
use crate::scheme::Resolved;
use crate::tensor::{ResolvedTensor, TensorSpec};

/// One random stream: what it can reproduce, the law it really draws, how it is
/// described, and the drawing itself.
pub trait Stream: Sync {
    /// The stream as recorded in every tensor's metadata (`stream`).
    fn label(&self, spec: &TensorSpec) -> &'static str;

    /// Whether the stream reproduces the scheme's law for `spec`, and the law it really
    /// draws (a framework may compute a parameter its own way): `resolved` is the scheme
    /// table's reading, updated in place.
    fn adapt(&self, spec: &TensorSpec, resolved: &mut Resolved) -> Result<(), Unreproducible>;

    /// The framework code that computes the tensor's values as `w` (for a sequential
    /// framework generator: after the run's earlier tensors); `None` for the native stream.
    fn equivalent(&self, tensor: &ResolvedTensor) -> Option<String>;

    /// Draws `tensor` into `sink` in order (I/O errors reported against `label`), with the
    /// run's sequential generators in `generators`.
    fn draw(
        &self,
        tensor: &ResolvedTensor,
        sink: &mut (dyn TensorSink + Send),
        label: &str,
        generators: &mut Generators,
    ) -> Result<Generated>;
}

/// What lasts across the tensors of one run: the sequential framework generators. Like
/// the script it mirrors, `--rng numpy` creates `np.random.default_rng(seed)` once (and
/// `--rng torch` calls `torch.manual_seed(seed)` once) and draws every tensor from it in
/// order; a tensor with a different seed starts a new generator.
#[derive(Debug, Default)]
pub struct Generators {
    numpy: Option<(u64, Pcg64)>,
    torch: Option<(u64, CpuGenerator)>,
}

impl Generators {
    /// NumPy's generator for `seed`, created unless the run already has it.
    pub(crate) fn numpy(&mut self, seed: u64) -> &mut Pcg64 {
        seeded(&mut self.numpy, seed, Pcg64::new)
    }

    /// PyTorch's CPU generator for `seed`, created unless the run already has it.
    pub(crate) fn torch(&mut self, seed: u64) -> &mut CpuGenerator {
        seeded(&mut self.torch, seed, CpuGenerator::new)
    }
}

/// The run's generator in `slot`, created from `seed` unless it already was.
fn seeded<G>(slot: &mut Option<(u64, G)>, seed: u64, new: impl FnOnce(u64) -> G) -> &mut G {
    if slot.as_ref().is_none_or(|(s, _)| *s != seed) {
        *slot = Some((seed, new(seed)));
    }
    &mut slot.as_mut().expect("generator just set").1
}

/// The refusal of a stream that reproduces the framework for f32 and f64 only.
pub(crate) fn refuse_half(spec: &TensorSpec) -> Result<(), Unreproducible> {
    if spec.dtype.is_half() {
        return Err(Unreproducible::HalfPrecision(spec.dtype.name()));
    }
    Ok(())
}

/// The engine's own guard for the streams reproduced in f32 and f64 only (resolution
/// refuses 16-bit dtypes first, in [`refuse_half`]).
pub(crate) fn half_refused(spec: &TensorSpec) -> Error {
    unreproducible(spec, Unreproducible::HalfPrecision(spec.dtype.name()))
}

/// `why` as the library's error for `tensor`.
pub(crate) fn unreproducible(spec: &TensorSpec, why: Unreproducible) -> Error {
    Error::Unreproducible {
        scheme: spec.scheme.to_string(),
        rng: spec.rng.name(),
        why,
    }
}
