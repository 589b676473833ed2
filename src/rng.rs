//! Which random stream a tensor is drawn from ([`RngMode`]: the native stream in
//! [`crate::draw`], or a framework's in [`crate::compat`]) and its seed.

use std::fmt;

use serde::Serialize;

/// Which generator produced a tensor; recorded in every file's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RngMode {
    /// ChaCha8 blocks keyed by (seed, tensor name): the documented native contract.
    #[default]
    Native,
    /// NumPy's `np.random.default_rng(seed)`, bit for bit; one generator per run,
    /// drawn tensor after tensor.
    Numpy,
    /// PyTorch's CPU generator after `torch.manual_seed(seed)` (uniform_-based inits),
    /// bit for bit; one generator per run, drawn tensor after tensor.
    Torch,
}

impl fmt::Display for RngMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RngMode::Native => "native",
            RngMode::Numpy => "numpy",
            RngMode::Torch => "torch",
        })
    }
}

/// A `--seed` argument, or a fresh seed (see [`fresh_seed`]) when there is none.
pub fn parse_seed(text: Option<&str>) -> crate::Result<u64> {
    match text {
        None => Ok(fresh_seed()),
        Some(t) => t.trim().parse().map_err(|_| {
            crate::Error::Usage(format!(
                "invalid seed '{t}': expected a whole number from 0 to {}",
                u64::MAX
            ))
        }),
    }
}

/// A fresh seed from the operating system, below 2^53 so that it survives JSON readers
/// (JavaScript, jq) that hold every number as a double.
pub fn fresh_seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS entropy (exotic sandbox): fall back on the clock; the seed is printed
        // and recorded either way, so the output stays reproducible.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        bytes = nanos.to_le_bytes();
    }
    u64::from_le_bytes(bytes) >> 11
}
