//! Where a tensor's values go, in order: the interface between the streams that draw
//! (`draw/`, `compat/`) and whatever takes the values (the file formats in `output/`,
//! memory in `pipeline/`), so neither side knows the other.

use std::io;

use super::dtype::Values;

/// Where generated values go, in order.
pub trait TensorSink {
    /// Appends the next elements.
    fn write_values(&mut self, values: Values<'_>) -> io::Result<()>;
    /// Writes whatever closes the document and flushes.
    fn finish(&mut self) -> io::Result<()>;
}
