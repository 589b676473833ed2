//! The native stream behind the seam. Its engine is [`crate::draw`]; it reproduces every
//! law as resolved, in every dtype, and has no framework expression.

use super::stream::{Generators, Stream};
use crate::array::DType;
use crate::array::TensorSink;
use crate::check::Generated;
use crate::draw;
use crate::error::{Result, Unreproducible};
use crate::scheme::Resolved;
use crate::tensor::{ResolvedTensor, TensorSpec};

/// `--rng native`: ChaCha8 blocks keyed by (seed, tensor name).
pub struct Native;

impl Stream for Native {
    fn label(&self, _: &TensorSpec) -> &'static str {
        draw::STREAM_CONTRACT
    }

    fn adapt(&self, _: &TensorSpec, _: &mut Resolved) -> Result<(), Unreproducible> {
        Ok(())
    }

    fn equivalent(&self, _: &ResolvedTensor) -> Option<String> {
        None
    }

    fn draw(
        &self,
        tensor: &ResolvedTensor,
        sink: &mut (dyn TensorSink + Send),
        label: &str,
        _: &mut Generators,
    ) -> Result<Generated> {
        match tensor.spec.dtype {
            DType::F32 => draw::engine::draw_native::<f32>(tensor, sink, label),
            DType::F64 => draw::engine::draw_native::<f64>(tensor, sink, label),
            DType::F16 => draw::engine::draw_native::<half::f16>(tensor, sink, label),
            DType::Bf16 => draw::engine::draw_native::<half::bf16>(tensor, sink, label),
        }
    }
}
