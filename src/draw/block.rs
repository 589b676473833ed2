//! The unit the native engine and the framework streams hand values on in.

/// Elements per block: the unit of parallel work and of the statistics' summation order
/// (so the report does not depend on the thread count). Not part of the stream contract:
/// every element's value depends on its index alone.
pub const BLOCK_LEN: usize = 1 << 16;
