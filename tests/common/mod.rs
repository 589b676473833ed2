//! Helpers shared by the integration tests, one file per kind:
//!
//! * `cli.rs`: running the `weightinit` binary and reading what it wrote;
//! * `python.rs`: finding a Python with the modules a test needs;
//! * `tensors.rs`: resolved tensors for the tests that use the library API.
//!
//! The test binaries (tests/cli, tests/library, tests/streams, tests/statistics,
//! tests/interop) do not compile this file: each declares
//! `#[path = "../common"] mod common { ... }` with only the files it uses, so a helper
//! no test uses still warns. This file is for tests/readme.rs alone, which uses one
//! constant of `cli`; hence the blanket allow, which goes when that test joins a binary.
#![allow(dead_code)]

#[macro_use]
pub mod cli;
