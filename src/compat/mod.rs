//! Every random stream behind one seam: [`stream()`] gives a tensor's [`Stream`] by its
//! [`RngMode`] — what the stream can reproduce, the law it really draws, the framework
//! expression and label it records, and the drawing. The native stream's engine is
//! [`crate::draw`]; the framework-exact streams live here, one folder each: NumPy's and
//! PyTorch's own generators and kernels, JAX's counter-based threefry stream and Keras 3's
//! initializers on it, reproduced bit for bit. They follow the framework, not the native
//! contract: sequential where the framework is (one generator for the run's tensors, in
//! order) and, where the framework calls the C library, calling it too ([`c_math`]).
//!
//! Adding a stream: a folder here implementing [`Stream`], an [`RngMode`] variant, and one
//! arm in [`stream()`].

pub mod c_math;
pub mod jax;
pub mod keras;
pub mod native;
pub mod numpy;
pub mod resolve;
pub(crate) mod sequential;
pub mod stream;
pub mod torch;

pub use crate::error::Unreproducible;
pub use stream::{Generators, Stream};

use crate::tensor::rng::RngMode;

/// The stream a tensor of this mode is drawn from.
pub fn stream(rng: RngMode) -> &'static dyn Stream {
    match rng {
        RngMode::Native => &native::Native,
        RngMode::Numpy => &numpy::Numpy,
        RngMode::Torch => &torch::Torch,
        RngMode::Jax => &jax::JAX,
        RngMode::Keras => &keras::KERAS,
    }
}
