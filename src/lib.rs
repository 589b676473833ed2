//! weightinit: initial weights for neural-network layers, exactly reproducible.
//!
//! The short way in is [`Init`]: a scheme and a shape, then `draw` for an array or
//! `write` for a file (see [`pipeline::init`]). Files of whole models go through
//! [`request::GenRequest`], the same request the command line and the Python package
//! build.
//!
//! The pipeline, one room per stage (docs/ARCHITECTURE.md is the map, and a test keeps
//! it true):
//!
//! 1. [`array`](mod@array) and [`tensor`]: what to make — a [`TensorSpec`](tensor::TensorSpec)
//!    (name, [`Shape`], [`Layout`], scheme, [`DType`], seed, [`RngMode`]);
//!    [`array::fan`] is the one place axis conventions live. [`model`] builds lists of
//!    them (layer chains, spec files, another file's layout, Hugging Face configs).
//! 2. [`scheme`]: `he-normal:mode=fan-out` parsed and resolved against the fans to a
//!    [`law::Distribution`] with its moments; the tensor's stream ([`compat`]) may
//!    refuse it or say what it really draws.
//! 3. [`pipeline`]: the values from the tensor's stream — the native one ([`draw`]:
//!    counter-keyed blocks in parallel) or a framework's ([`compat`]: NumPy, PyTorch,
//!    JAX, Keras) — into an [`output`] sink, with statistics ([`check`]) gathered on the
//!    way; [`request`] plans and runs a whole job of files.
//! 4. [`check::report`] sets the statistics against the law's theory.
//!
//! Reading back: [`output::load`] reads files through one checked reader; [`inspect`]
//! `verify`s them against a scheme and `probe`s what schemes do to a network.
//! Across the crate: [`budget`] (memory budget), [`text`] (escaping, bounded lines,
//! number formatting), [`names`] (the name tables of dtypes, layouts, streams, …),
//! [`error`].
//!
//! With the default `cli` feature, the command line (`cli`, built on the same API; the
//! `weightinit` binary and the Python package's `weightinit` command are `cli::main`)
//! and its charts (`plot`).

pub mod array;
pub mod budget;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod compat;
pub mod draw;
pub mod error;
pub mod inspect;
pub mod law;
pub mod model;
pub mod names;
pub mod output;
pub mod pipeline;
#[cfg(feature = "cli")]
pub mod plot;
pub mod request;
pub mod scheme;
pub mod simd;
pub mod tensor;
pub mod text;

pub use array::{DType, Layout, Shape};
pub use error::{Error, Result};
pub use pipeline::init::Init;
pub use scheme::SchemeSpec;
pub use tensor::rng::RngMode;
