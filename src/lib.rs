//! weightinit: initial weights for neural-network layers, exactly reproducible.
//!
//! The pipeline, one module per stage:
//!
//! 1. [`shape::Shape`] parses `784x128`; [`fan::Fans::of`] reads fans per [`fan::Layout`].
//! 2. [`scheme::SchemeSpec`] parses `he-normal:mode=fan-out` and
//!    [`scheme::SchemeSpec::resolve`]s it to a [`distribution::Distribution`].
//! 3. [`generate`] draws the tensor from its stream: the native one ([`draw`]: blocks in
//!    parallel, keyed by seed and name) or a framework's ([`compat`]: NumPy, PyTorch), and
//!    streams the values to an [`output`] sink while accumulating [`stats::Stats`];
//!    [`write`](mod@write) puts tensors into files.
//! 4. [`report`] compares the statistics with the distribution's theory.
//!
//! The short way in is [`Init`]: a scheme and a shape, then `draw` or `write`.
//!
//! Reading back: [`load::load_tensors`] reads the float tensors of an `.npy`, `.npz` or
//! `.safetensors` file, and [`verify::verify_file`] checks them against a scheme.
//!
//! The [`cli`] module is the command-line front end built on the same API.

pub mod activation;
pub mod budget;
pub mod cli;
pub mod compat;
pub mod distribution;
pub mod draw;
pub mod dtype;
pub mod error;
pub mod fan;
pub mod gain;
pub mod generate;
pub mod init;
pub mod layers;
pub mod load;
pub mod model_like;
pub mod model_spec;
pub mod output;
pub mod plot;
pub mod probe;
pub mod report;
pub mod rng;
pub mod scheme;
pub mod shape;
pub mod shard;
pub mod simd;
pub mod stats;
pub mod tensor;
pub mod text;
pub mod verify;
pub mod write;

pub use dtype::DType;
pub use error::{Error, Result};
pub use fan::Layout;
pub use init::Init;
pub use rng::RngMode;
pub use scheme::SchemeSpec;
pub use shape::Shape;
