//! Our files in other programs' hands: NumPy and safetensors, run from Python, load
//! what the binary wrote and find the same values, and NumPy recomputes what the probe
//! reported. The Python side is the `check_*.py` scripts beside this file.
//!
//! A binary of its own because every test in it needs a Python with NumPy (and
//! safetensors), found by `common::python`: under `CI=true` a missing one fails, elsewhere
//! the tests print a visible skip line and pass. Elsewhere only two tests ask for Python,
//! each beside the fixtures it checks (tests/streams: `hf_config`, `reproducibility`).

#[path = "../common"]
mod common {
    pub mod python;
}

mod numpy_and_safetensors;
