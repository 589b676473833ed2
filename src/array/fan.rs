//! Axis conventions: which dimension of a shape is "in", which is "out", and the fans.
//!
//! This is the one place that knows how frameworks lay out weights. Everything else asks
//! [`Fans::of`].
//!
//! * [`Layout::Io`] (default; Keras, JAX, TensorFlow): data flows left to right. A dense
//!   kernel is `in x out`, a conv kernel `k1 x … x kn x in x out`.
//! * [`Layout::Oi`] (PyTorch): a dense weight is `out x in`, a conv weight
//!   `out x in x k1 x … x kn`.
//!
//! The receptive field is the product of the kernel dimensions (1 for dense layers);
//! `fan_in = in × receptive field`, `fan_out = out × receptive field` — the definition
//! shared by PyTorch's `_calculate_fan_in_and_fan_out` and Keras' `_compute_fans`.

use std::fmt;

use serde::Serialize;

use crate::array::shape::Shape;
use crate::names::{Choice, Named};

/// How the axes of a weight shape map to inputs and outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// in × out; conv kernels k… × in × out (Keras, JAX, TensorFlow).
    #[default]
    Io,
    /// out × in; conv weights out × in × k… (PyTorch).
    Oi,
}

impl Choice for Layout {
    const TABLE: &'static [Named<Self>] = &[
        Named {
            value: Layout::Io,
            name: "io",
            aliases: &["keras", "jax", "tf"],
            help: "in × out; conv kernels k… × in × out (Keras, JAX, TensorFlow)",
        },
        Named {
            value: Layout::Oi,
            name: "oi",
            aliases: &["torch", "pytorch"],
            help: "out × in; conv weights out × in × k… (PyTorch)",
        },
    ];
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Io => "io",
            Layout::Oi => "oi",
        })
    }
}

/// Fan-in, fan-out and the receptive field of one weight tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fans {
    pub fan_in: usize,
    pub fan_out: usize,
    pub receptive_field: usize,
}

impl Fans {
    /// The fans of `shape` under `layout`, or `None` for a 1-D shape, which has no
    /// input/output axes (a bias or a norm scale); fan-based schemes refuse those.
    pub fn of(shape: &Shape, layout: Layout) -> Option<Fans> {
        let dims = shape.dims();
        let rank = dims.len();
        if rank < 2 {
            return None;
        }
        let (inputs, outputs, kernel) = match layout {
            Layout::Io => (dims[rank - 2], dims[rank - 1], &dims[..rank - 2]),
            Layout::Oi => (dims[1], dims[0], &dims[2..]),
        };
        let receptive_field: usize = kernel.iter().product();
        Some(Fans {
            fan_in: inputs * receptive_field,
            fan_out: outputs * receptive_field,
            receptive_field,
        })
    }
}

impl Fans {
    /// The fans when the input and output axes are named (`in-axes`, `out-axes`): fan_in
    /// = the product of the input axes × the receptive field, fan_out likewise, the
    /// receptive field the product of every other axis. This covers layouts neither
    /// `io` nor `oi` describes: PyTorch's transposed convolutions (`in × out/G × k…`),
    /// einsum and `DenseGeneral` weights with several input or output axes (Keras'
    /// `EinsumDense` `input_axes`/`output_axes`). `inputs` and `outputs` must be
    /// disjoint, valid indices.
    pub fn of_axes(shape: &Shape, inputs: &[usize], outputs: &[usize]) -> Fans {
        let dims = shape.dims();
        let product = |axes: &[usize]| axes.iter().map(|&a| dims[a]).product::<usize>();
        let receptive_field: usize = (0..dims.len())
            .filter(|a| !inputs.contains(a) && !outputs.contains(a))
            .map(|a| dims[a])
            .product();
        Fans {
            fan_in: product(inputs) * receptive_field,
            fan_out: product(outputs) * receptive_field,
            receptive_field,
        }
    }
}

/// The 2-D view (rows, cols) of a tensor of `dims` for matrix schemes (orthogonal,
/// identity): PyTorch flattens everything after the first axis (`out x in·k…`), Keras
/// everything before the last (`k…·in x out`). Either way row-major order of the view is
/// that of the tensor. `dims` must not be empty.
pub fn matrix_view(dims: &[usize], layout: Layout) -> (usize, usize) {
    let n: usize = dims.iter().product();
    match layout {
        Layout::Oi => (dims[0], n / dims[0].max(1)),
        Layout::Io => {
            let last = dims[dims.len() - 1];
            (n / last.max(1), last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fans(shape: &str, layout: Layout) -> Option<(usize, usize, usize)> {
        Fans::of(&shape.parse().unwrap(), layout).map(|f| (f.fan_in, f.fan_out, f.receptive_field))
    }

    #[test]
    fn fans_table() {
        use Layout::*;
        let table = [
            // dense
            ("784x128", Io, (784, 128, 1)),
            ("128x784", Oi, (784, 128, 1)),
            // conv1d: k x in x out  /  out x in x k
            ("5x16x32", Io, (80, 160, 5)),
            ("32x16x5", Oi, (80, 160, 5)),
            // conv2d
            ("3x3x64x128", Io, (576, 1152, 9)),
            ("128x64x3x3", Oi, (576, 1152, 9)),
            // conv3d
            ("3x3x3x16x32", Io, (432, 864, 27)),
            ("32x16x3x3x3", Oi, (432, 864, 27)),
        ];
        for (shape, layout, want) in table {
            assert_eq!(fans(shape, layout), Some(want), "{shape} {layout}");
        }
    }

    #[test]
    fn one_dimensional_shapes_have_no_fans() {
        assert_eq!(fans("128", Layout::Io), None);
        assert_eq!(fans("128", Layout::Oi), None);
    }
}
