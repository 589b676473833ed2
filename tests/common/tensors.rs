//! Resolved tensors for the tests that draw through the library API: a scheme (parsed
//! or as text), a shape, a layout, a dtype, a seed and a name, and one random stream.

use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::scheme::SchemeSpec;
use weightinit::tensor::rng::RngMode;
use weightinit::tensor::{ResolvedTensor, TensorSpec};

/// A resolved tensor from an already-parsed scheme; panics with the offending value.
pub fn spec(
    scheme: SchemeSpec,
    shape: &str,
    layout: Layout,
    dtype: DType,
    seed: u64,
    name: &str,
) -> ResolvedTensor {
    spec_with_rng(scheme, shape, layout, dtype, seed, name, RngMode::Native)
}

/// [`spec`] with a chosen random stream.
pub fn spec_with_rng(
    scheme: SchemeSpec,
    shape: &str,
    layout: Layout,
    dtype: DType,
    seed: u64,
    name: &str,
    rng: RngMode,
) -> ResolvedTensor {
    TensorSpec {
        name: name.into(),
        shape: shape
            .parse()
            .unwrap_or_else(|e| panic!("shape {shape}: {e}")),
        layout,
        scheme,
        dtype,
        seed,
        rng,
        jax: Default::default(),
    }
    .resolve()
    .unwrap_or_else(|e| panic!("{shape}: {e}"))
}

/// A resolved tensor from a scheme spec string such as `he-normal:mode=fan-out`.
pub fn tensor(
    scheme: &str,
    shape: &str,
    layout: Layout,
    dtype: DType,
    seed: u64,
    name: &str,
) -> ResolvedTensor {
    let parsed = scheme
        .parse()
        .unwrap_or_else(|e| panic!("scheme {scheme}: {e}"));
    spec(parsed, shape, layout, dtype, seed, name)
}
