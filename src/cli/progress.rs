//! A progress bar on stderr for jobs long enough to want one.
//!
//! Shown only when stderr is a terminal and the tensor is more than [`MIN_BYTES`] (about
//! a second of work), so scripts and small tensors see nothing.

use std::io::{self, IsTerminal};

use indicatif::{ProgressBar, ProgressStyle};

use crate::pipeline::write::Progress;
use crate::tensor::ResolvedTensor;

/// Below this many output bytes a tensor is written too fast for a bar to help.
pub const MIN_BYTES: u64 = 512 << 20;

/// The bar of the tensor being written, if it wants one.
#[derive(Default)]
pub struct Bar(Option<ProgressBar>);

impl Progress for Bar {
    fn start(&mut self, tensor: &ResolvedTensor) {
        let total = tensor.data_bytes();
        if total < MIN_BYTES || !io::stderr().is_terminal() {
            return;
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} [{bar:30}] {bytes_per_sec}, {eta} left",
            )
            .expect("static template is valid")
            .progress_chars("=> "),
        );
        self.0 = Some(bar);
    }

    fn advance(&mut self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}
