//! Where lists of tensors come from: dense layer chains ([`layers`], with the
//! [`activation`] that picks their scheme), spec files ([`spec`]), another file's layout
//! ([`like`]), and how a model is split into shards ([`shard`]). Nothing here knows the
//! command line: builders take plain values.

pub mod activation;
pub mod layers;
pub mod like;
pub mod shard;
pub mod spec;
