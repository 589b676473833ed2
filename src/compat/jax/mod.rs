//! `--rng jax`: JAX's random stream on CPU (JAX/jaxlib 0.10.2, default
//! `threefry2x32` implementation), bit for bit — keys ([`key`]), the Threefry hash
//! ([`threefry`]), `random_bits` in both `jax_threefry_partitionable` modes ([`bits`]),
//! XLA:CPU's elementary functions ([`xla_math`]), the samplers ([`kernels`]),
//! `jax.nn.initializers` ([`initializers`]) and Flax's per-parameter keys ([`flax`]).
//!
//! Everything is a pure function of (key, shape, mode, element range): any block of a
//! tensor can be drawn on its own, in any order, on any thread. Checked against JAX by
//! tests/jax_stream.rs on fixtures written by tests/fixtures/make_jax_stream_fixtures.py.

pub mod bits;
pub mod flax;
pub mod initializers;
pub mod kernels;
pub mod key;
pub mod law;
pub mod stream;
pub mod threefry;
pub mod xla_math;

pub use key::JaxKey;
