//! The command line, run as a user runs it: every module here starts the `weightinit`
//! binary (`common::cli`) and judges what it printed, what it wrote and its exit code.
//!
//! The grouping is by what a user does, not by which code answers:
//!
//! * `gen_targets`, `gen_sources`, `schemes`: `gen` — where it writes, where its tensors
//!   come from, what each scheme and flag means on the command line;
//! * `shard_auto`: `gen --shard auto`, the shard from a launcher's environment;
//! * `bad_flags`: bad values on the command line get one line and exit code 2, and
//!   nothing on disk changes;
//! * `hostile_files`: broken or lying input files, refused by every command that reads
//!   one before anything is allocated;
//! * `interrupts_targets_and_limits`: signals mid-write, devices, FIFOs and links as
//!   targets, and jobs larger than memory, the disk or the dtype;
//! * `memory_limits`: jobs under `ulimit -v`/`ulimit -d` refused in one line, never an
//!   abort; `long_values`: long inputs shortened inside messages, the reason kept;
//! * `verify`, `hist`, `probe`: the commands that read or test weights (probe's
//!   library-level claims stay beside its command, as one module); `probe_stack`:
//!   `probe --hf-config --recipe`, a family's residual stack per init recipe;
//! * `completions_and_manuals`: shell completions and manual pages.
//!
//! Comparisons with what a framework drew are not here but in tests/streams, even when
//! they go through the binary: there the question is the bits, not the command line.

#[path = "../common"]
#[macro_use]
mod common {
    #[macro_use]
    pub mod cli;
}

mod bad_flags;
mod completions_and_manuals;
mod gen_sources;
mod gen_targets;
mod hf_verify;
mod hist;
mod hostile_files;
mod interrupts_targets_and_limits;
mod long_values;
mod memory_limits;
mod probe;
mod probe_stack;
mod recipes;
mod schemes;
mod shard_auto;
mod verify;
