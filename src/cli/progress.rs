//! A progress bar on stderr for jobs long enough to want one.
//!
//! Shown only when stderr is a terminal and the job writes more than
//! [`MIN_BYTES`] (about a second of work), so scripts and small tensors see nothing.

use std::io;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::output::{TensorSink, Values};

/// Below this many output bytes a job finishes too fast for a bar to help.
pub const MIN_BYTES: u64 = 512 << 20;

/// A bar for `total_bytes` of tensor data, or `None` when none should be shown.
pub fn bar_for(total_bytes: u64) -> Option<ProgressBar> {
    if total_bytes < MIN_BYTES || !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total_bytes);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} [{bar:30}] {bytes_per_sec}, {eta} left",
        )
        .expect("static template is valid")
        .progress_chars("=> "),
    );
    Some(bar)
}

/// Forwards values to `inner` and advances the bar by the bytes they occupy.
pub struct ProgressSink<'a> {
    pub inner: &'a mut (dyn TensorSink + Send),
    pub bar: ProgressBar,
}

impl TensorSink for ProgressSink<'_> {
    fn write_values(&mut self, values: Values<'_>) -> io::Result<()> {
        self.inner.write_values(values)?;
        let bytes = match values {
            Values::F32(xs) => 4 * xs.len(),
            Values::F64(xs) => 8 * xs.len(),
            Values::F16(_) | Values::Bf16(_) => 2 * values.len(),
        };
        self.bar.inc(bytes as u64);
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        let result = self.inner.finish();
        self.bar.finish_and_clear();
        result
    }
}
