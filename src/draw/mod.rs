//! The native stream: every tensor's values from its key (seed, name) alone, each
//! element from its own keystream words (`weightinit-native-v2`).
//!
//! - [`chacha`]: the ChaCha8 block function; [`keystream`]: a tensor's key and its
//!   keystream, addressable by word.
//! - [`sampler`]: a law prepared for drawing any range of elements, and each dtype's
//!   words-to-numbers mapping; [`uniform`]; [`normal`] (Box–Muller); [`truncated`]
//!   (inverse CDF, AS 241); [`special`] (our own log, sin, cos, exp and normal tails)
//!   and [`arith`] (the f32 and f64 arithmetics, so each transform is written once).
//! - [`orthogonal`] and [`matrix`]: the whole-matrix constructions (QR of a Gaussian
//!   matrix, identity), shared with the framework streams.
//! - [`engine`]: blocks in parallel, handed to the sink in order; [`region`]: one
//!   shard's elements of a tensor, drawn alone.
//!
//! Nothing here knows fans, schemes, flags or files: a law and a key come in, values go
//! to a [`crate::array::TensorSink`].

pub mod arith;
pub mod block;
pub mod chacha;
pub mod engine;
pub mod keystream;
pub mod matrix;
pub mod normal;
pub mod orthogonal;
pub mod region;
pub mod sampler;
pub mod sparse;
pub mod special;
pub mod truncated;
pub mod uniform;

pub use block::BLOCK_LEN;

/// Identifies the native stream's contract version in every file's metadata.
pub const STREAM_CONTRACT: &str = "weightinit-native-v2";
pub use keystream::{Keystream, derive_key, key_of};
pub use sampler::{DrawElement, Sampler};
