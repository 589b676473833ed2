//! The random streams, bit for bit: every module here holds weightinit's output against
//! a stored reference — an independent re-implementation of the native contract, or
//! what NumPy, PyTorch, JAX, Flax, Keras, `mup` or transformers drew — written once by
//! the scripts in tests/fixtures/ (the frameworks are needed only to regenerate them).
//! Some modules go through the library, some through the binary: what they share is the
//! question (are these the same bits?) and the fixtures, not the entry point.
//!
//! * `reproducibility`: the native stream against its Python re-implementation, thread
//!   independence, and the golden SHA-256 pins. `.ci/run` rebuilds with
//!   `-C target-cpu=native` and runs this module alone:
//!   `cargo test --release --test streams reproducibility::`.
//! * `native_accuracy`: the native transforms against 80-digit references;
//! * `numpy_mode`, `torch_mode`: `--rng numpy` / `--rng torch` against NumPy's and
//!   PyTorch's own draws;
//! * the JAX trio — `jax_prng_and_samplers`: the PRNG (keys, split, fold-in, random
//!   bits), the samplers and the initializers of src/compat/jax against JAX's arrays;
//!   `jax_initializers_through_gen`: `gen --rng jax`, scheme names to
//!   `jax.nn.initializers`, Flax keys and flags, bit for bit; `jax_delta_orthogonal_taps`:
//!   `delta-orthogonal` fills exactly the taps JAX fills;
//! * `keras_mode`: `--rng keras` against Keras 3 on JAX;
//! * `mup`: `--mup-base` against Microsoft's `mup`;
//! * `hf_config`: `--hf-config` against what transformers writes;
//! * `hf_torch`: `--hf-config --rng torch` against what transformers writes, bit for
//!   bit (SHA-256 per tensor).

#[path = "../common"]
#[macro_use]
mod common {
    #[macro_use]
    pub mod cli;
    pub mod python;
    pub mod tensors;
}

mod hf_config;
mod hf_torch;
mod jax_delta_orthogonal_taps;
mod jax_initializers_through_gen;
mod jax_prng_and_samplers;
mod keras_mode;
mod mup;
mod native_accuracy;
mod numpy_mode;
mod reproducibility;
mod torch_mode;
