//! The pipeline from a resolved tensor to values and files: [`generate`] (one tensor's
//! values from its stream, with the checks every tensor passes: the memory budget before,
//! finite values after), [`write`](mod@write) (tensors into files, one stream per file or several
//! into one container), [`region`] (one shard of a tensor, equal to the whole's at its
//! positions) and [`init`] (the library's short way in: [`Init`]).

pub mod generate;
pub mod init;
pub mod region;
pub mod write;

pub use init::Init;
