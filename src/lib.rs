//! weightinit: initial weights for neural-network layers, exactly reproducible.
//!
//! The short way in is [`Init`]: a scheme and a shape, then `draw` for an array or
//! `write` for a file (see [`init`]).
//!
//! The pipeline, one room per stage:
//!
//! 1. [`tensor`]: what to make — a [`TensorSpec`](tensor::TensorSpec) (name, [`Shape`],
//!    [`Layout`], scheme, [`DType`], seed, [`RngMode`]); [`tensor::fan`] is the one place
//!    axis conventions live. [`model`] builds lists of them (layer chains, spec files,
//!    another file's layout, shards).
//! 2. [`scheme`]: `he-normal:mode=fan-out` parsed and resolved against the fans to a
//!    [`law::Distribution`] with its moments.
//! 3. [`generate`]: the values from the tensor's stream — the native one ([`draw`]:
//!    counter-keyed blocks in parallel) or a framework's ([`compat`]: NumPy, PyTorch) —
//!    into an [`output`] sink, with statistics ([`check`]) gathered on the way;
//!    [`write`](mod@write) puts tensors into files.
//! 4. [`output::report`] sets the statistics against the law's theory.
//!
//! Reading back: [`inspect`] loads files through one checked reader, `verify`s them
//! against a scheme and `probe`s what schemes do to a network. [`plot`] draws charts.
//! Across the crate: [`budget`] (memory budget), [`text`] (escaping, bounded lines,
//! number formatting), [`error`].
//!
//! The command line, [`cli`], is a front end built on the same API; the `weightinit`
//! binary and the Python package's `weightinit` command are [`cli::main`].

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
