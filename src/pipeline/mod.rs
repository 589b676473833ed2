//! The pipeline from a resolved tensor to values and files: [`generate`] (one tensor's
//! values from its stream, with the checks every tensor passes: the memory budget before,
//! finite values after), [`write`](mod@write) (tensors into files, one stream per file or several
//! into one container) and [`init`] (the library's short way in: [`Init`]).

pub mod generate;
pub mod init;
pub mod write;

pub use init::Init;
