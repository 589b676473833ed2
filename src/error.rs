//! The library's typed errors.
//!
//! Every variant renders as one line that names the bad value and says what would be
//! accepted, because that line is what a user sees on stderr. [`Error::is_usage`] tells
//! the binary which errors are the user's input (exit code 2) and which happened while
//! running (exit code 1).

use std::path::PathBuf;

/// Everything that can go wrong between parsing a request and the last byte on disk.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `--shape` value that is not a list of positive integers joined by `x`.
    #[error("invalid shape '{}': {reason}", crate::text::value(.input))]
    Shape { input: String, reason: String },

    /// A scheme name that is not in the table.
    #[error("unknown scheme '{}'{suggestion}; `weightinit schemes` lists them all", crate::text::value(.name))]
    UnknownScheme { name: String, suggestion: String },

    /// A scheme parameter that is malformed, unknown, out of range or not applicable.
    #[error("{0}")]
    Param(String),

    /// A scheme that cannot be applied to the requested shape.
    #[error("scheme '{}' cannot initialize shape {}: {reason}", crate::text::value(.scheme), crate::text::value(.shape))]
    NotApplicable {
        scheme: String,
        shape: String,
        reason: String,
    },

    /// An element count or byte size that does not fit in memory addressing.
    #[error("shape {} is too large: {reason}", crate::text::value(.shape))]
    TooLarge { shape: String, reason: String },

    /// A bad combination of command-line options that clap cannot express.
    #[error("{0}")]
    Usage(String),

    /// An input file whose content is corrupt or inconsistent: a header claiming more (or
    /// less) data than the file holds for it, overlapping byte ranges, a bad checksum.
    /// The reason names the member or tensor and the sizes involved.
    #[error("'{}': {reason}", crate::text::path(.path))]
    Format { path: PathBuf, reason: String },

    /// A job that would hold more in memory than the budget allows ([`crate::budget`]).
    /// `cap` says whether the budget is the one set or what a process limit leaves.
    #[error("{what} needs {} of memory, over the memory budget of {}{}", .needed.map_or("more than 2^64 bytes".to_string(), crate::text::bytes), crate::text::bytes(*.budget), .cap.naming())]
    MemoryBudget {
        what: String,
        needed: Option<u64>,
        budget: u64,
        cap: Cap,
    },

    /// An allocation the system refused although the budget allowed it (another limit,
    /// overcommit disabled, memory taken by others meanwhile).
    #[error("{what} needs {} of memory, and the system refused to allocate it", .needed.map_or("more than 2^64 bytes".to_string(), crate::text::bytes))]
    OutOfMemory { what: String, needed: Option<u64> },

    /// The output file exists and replacing it was not allowed (the command line's
    /// `--force` allows it).
    #[error("'{}' already exists", crate::text::path(.0))]
    Exists(PathBuf),

    /// The output is a block device and overwriting it was not allowed.
    #[error("'{}' is a block device; writing to it overwrites what it holds", crate::text::path(.0))]
    BlockDevice(PathBuf),

    /// A value of a kind the user gave (layer widths, a shard) that does not parse or is
    /// out of range.
    #[error("invalid {} '{}': {reason}", .of.noun(), crate::text::value(.value))]
    Invalid {
        of: Subject,
        value: String,
        reason: String,
    },

    /// A preset given a shape that is not its constructor's arguments.
    #[error("preset {preset} takes a shape {wanted}, not '{}'", crate::text::value(.got))]
    PresetShape {
        preset: &'static str,
        wanted: &'static str,
        got: String,
    },

    /// `constant` without its value.
    #[error("scheme 'constant' needs a value: constant:value=0.1")]
    ConstantNeedsValue,

    /// A spec file's tensor (`place`: file, key and name) with no scheme from anywhere.
    #[error(
        "{place} has no scheme: give it scheme = \"...\", add a [[rule]] whose match fits \
         its name, or a top-level scheme (or name rules and a default from the caller)"
    )]
    SpecNoScheme { place: String },

    /// A tensor that no name rule matches, with no default scheme to fall back on.
    #[error("tensor '{}' matches no name rule and there is no default scheme", crate::text::value(.tensor))]
    NoScheme { tensor: String },

    /// A tensor a framework-exact stream cannot reproduce as asked.
    #[error("scheme '{}' with the {rng} stream: {why}", crate::text::value(.scheme))]
    Unreproducible {
        scheme: String,
        /// The stream's name (`numpy`, `torch`, …).
        rng: &'static str,
        why: Unreproducible,
    },

    /// A scheme that cannot initialize one layer of a chain.
    #[error("scheme '{}' for layer {layer}: {source}", crate::text::value(.scheme))]
    ForLayer {
        scheme: String,
        layer: usize,
        #[source]
        source: Box<Error>,
    },

    /// An input matrix whose rows do not fit the first layer of a chain.
    #[error("'{}' has rows of {width} values, but the chain starts with width {first}", crate::text::value(.input))]
    InputWidth {
        input: String,
        width: usize,
        first: usize,
    },

    /// Something about one source file (a layout to copy), with the file named.
    #[error("'{}': {source}", crate::text::path(.path))]
    InSource {
        path: PathBuf,
        #[source]
        source: Box<Error>,
    },

    /// The output's file system has less room than the job writes (checked up front).
    #[error("the output needs at least {} but the file system of '{}' has {} free", crate::text::bytes(*.needed), crate::text::path(.dir), crate::text::bytes(*.available))]
    NoSpace {
        dir: PathBuf,
        needed: u64,
        available: u64,
    },

    /// The directory an output file should go into does not exist.
    #[error("output directory '{}' does not exist; create it first", crate::text::path(.0))]
    MissingDir(PathBuf),

    /// An I/O failure, with the path it happened on.
    #[error("{}: {source}", crate::text::path(.path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The linear-algebra step (QR for `orthogonal`) failed.
    #[error("numerical failure: {0}")]
    Numerical(String),

    /// `verify` ran and found the file inconsistent with the scheme: not an error in
    /// running, but the answer "no" (exit code 1). The text is the first reason, e.g.
    /// `NOT consistent with he-normal: w: variance ...`.
    #[error("{0}")]
    Inconsistent(String),

    /// Drawing or encoding a chart image failed (a defect, not bad input).
    #[error("could not draw the chart: {0}")]
    Chart(String),
}

impl Error {
    /// True when the error is about what the user asked for rather than about running it.
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            Error::Io { .. }
                | Error::NoSpace { .. }
                | Error::OutOfMemory { .. }
                | Error::Numerical(_)
                | Error::Inconsistent(_)
                | Error::Chart(_)
        )
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Why a framework-exact stream cannot reproduce a tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum Unreproducible {
    /// The frameworks' streams are reproduced for f32 and f64.
    /// (The dtype's name: `f16`, `bf16`.)
    HalfPrecision(&'static str),
    /// PyTorch's fans follow its out x in layout, and the tensor is not in it.
    NotOiLayout,
    /// NumPy's Generator has no truncated normal.
    NumpyTruncatedNormal,
    /// Anything else, said in full.
    Other(String),
}

impl std::fmt::Display for Unreproducible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreproducible::HalfPrecision(dtype) => write!(
                f,
                "the framework streams are reproduced for f32 and f64 (and --rng torch's \
                 normal_ for bf16), not {dtype}"
            ),
            Unreproducible::NotOiLayout => f.write_str(
                "PyTorch stores weights out x in (x kernel), and its fans follow that; use the \
                 oi layout and give the shape as PyTorch does",
            ),
            Unreproducible::NumpyTruncatedNormal => f.write_str(
                "NumPy's Generator has no truncated normal; use the native stream for \
                 truncated-normal (or a normal scheme with the numpy stream)",
            ),
            Unreproducible::Other(why) => f.write_str(why),
        }
    }
}

/// What bounds the memory budget, for the message that refuses a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// The budget set (`--max-memory`, [`crate::budget::set_limit`]) or the default share of physical
    /// memory or of the cgroup's limit.
    Budget,
    /// The process's address-space limit (`RLIMIT_AS`, `ulimit -v`) of this many bytes.
    AddressSpace(u64),
    /// The process's data-segment limit (`RLIMIT_DATA`, `ulimit -d`) of this many bytes.
    Data(u64),
}

impl Cap {
    /// The words that name the limit after the budget's size ("" for the budget itself,
    /// whose wording is unchanged).
    pub fn naming(self) -> String {
        match self {
            Cap::Budget => String::new(),
            Cap::AddressSpace(limit) => format!(
                " left by the process's address-space limit (ulimit -v) of {}",
                crate::text::bytes(limit)
            ),
            Cap::Data(limit) => format!(
                " left by the process's data-segment limit (ulimit -d) of {}",
                crate::text::bytes(limit)
            ),
        }
    }
}

/// What an [`Error::Invalid`] value stood for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A dense chain's widths, `784-256-10`.
    LayerWidths,
    /// `I/N`, one shard of a model.
    Shard,
}

impl Subject {
    /// How a message names it.
    pub fn noun(self) -> &'static str {
        match self {
            Subject::LayerWidths => "layer widths",
            Subject::Shard => "shard",
        }
    }
}

/// Shorthand used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
