//! The native stream: every tensor's values from its key (seed, name) alone.
//!
//! - [`chacha`]: the ChaCha8 keystream; [`stream`]: a tensor's key and its blocks of
//!   [`BLOCK_LEN`] elements.
//! - [`sampler`]: a law prepared for drawing; [`uniform`], [`normal`] (ziggurat, and
//!   each dtype's way of turning words into numbers), [`truncated`] (Robert's rejection).
//! - [`orthogonal`] and [`matrix`]: the whole-matrix constructions (QR of a Gaussian
//!   matrix, identity), shared with the framework streams.
//! - [`engine`]: blocks in parallel, handed to the sink in order.
//!
//! Nothing here knows fans, schemes, flags or files: a law and a key come in, values go
//! to a [`crate::output::TensorSink`].

pub mod chacha;
pub mod engine;
pub mod matrix;
pub mod normal;
pub mod orthogonal;
pub mod sampler;
pub mod stream;
pub mod truncated;
pub mod uniform;

pub use chacha::BATCH_WORDS;
pub use normal::NativeDraw;
pub use sampler::Sampler;
pub use stream::{BLOCK_LEN, BlockStream, derive_key};

use crate::check::stats::Stats;

/// What drawing a tensor measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Generated {
    pub stats: Stats,
    /// max |WᵀW/gain² − I| of the stored values, for orthogonal tensors.
    pub orthogonality_error: Option<f64>,
}
