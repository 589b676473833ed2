//! The library as a Rust caller sees it: the `Init` API gives exactly the command
//! line's bytes (`init_matches_gen`), the parsers of untrusted text and bytes
//! round-trip and never panic (`parser_properties`, with proptest), and the code keeps
//! the layering docs/ARCHITECTURE.md draws (`architecture`), and one shard drawn alone
//! equals the whole tensor at its positions (`shard_regions`).
//!
//! What the library draws, bit for bit and against the frameworks, is in tests/streams;
//! its statistics are in tests/statistics. The peak-memory test stays in its own binary
//! (tests/memory.rs): it installs a counting global allocator, which must see no other
//! test's allocations.

#[path = "../common"]
mod common {
    #[expect(
        dead_code,
        reason = "init_matches_gen uses only cli::BIN, to start the binary it compares with"
    )]
    pub mod cli;
}

mod architecture;
mod init_matches_gen;
mod parser_properties;
mod shard_regions;
