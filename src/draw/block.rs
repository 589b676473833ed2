//! The unit the native engine and the framework streams hand values on in, and what
//! drawing a tensor measured.

use crate::check::stats::Stats;

/// Elements per block: the unit of parallel work and of the statistics' summation order
/// (so the report does not depend on the thread count). Not part of the stream contract:
/// every element's value depends on its index alone.
pub const BLOCK_LEN: usize = 1 << 16;

/// What drawing a tensor measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Generated {
    pub stats: Stats,
    /// max |WᵀW/gain² − I| of the stored values, for orthogonal tensors.
    pub orthogonality_error: Option<f64>,
}
