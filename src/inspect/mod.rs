//! Looking at tensors read back (through [`crate::output::load`], every input file
//! through one checked reader): [`verify`] (does a file look drawn from a scheme?) and [`probe`]
//! (what schemes do to a network's signal).

pub mod probe;
pub mod verify;
