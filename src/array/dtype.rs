//! The stored float types: [`DType`] names one, [`Element`] is the Rust type that holds
//! it (f32, f64, half's f16 and bf16), with the one rounding from f64 every value takes.

use std::fmt;

use serde::Serialize;

use crate::names::{Choice, Named};

/// The float type of a stored tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    #[default]
    F32,
    F64,
    /// IEEE half precision (safetensors F16, NumPy float16).
    F16,
    /// bfloat16 (safetensors BF16; NumPy has no such dtype).
    Bf16,
}

impl Choice for DType {
    const TABLE: &'static [Named<Self>] = &[
        Named {
            value: DType::F32,
            name: "f32",
            aliases: &["float32"],
            help: "",
        },
        Named {
            value: DType::F64,
            name: "f64",
            aliases: &["float64"],
            help: "",
        },
        Named {
            value: DType::F16,
            name: "f16",
            aliases: &["float16", "half"],
            help: "IEEE half precision (safetensors F16, NumPy float16)",
        },
        Named {
            value: DType::Bf16,
            name: "bf16",
            aliases: &["bfloat16"],
            help: "bfloat16 (safetensors BF16; NumPy has no such dtype)",
        },
    ];
}

impl DType {
    /// The largest finite value the type holds (65504 for f16).
    pub fn largest_finite(self) -> f64 {
        match self {
            DType::F32 => f64::from(f32::MAX),
            DType::F64 => f64::MAX,
            DType::F16 => half::f16::MAX.to_f64(),
            DType::Bf16 => half::bf16::MAX.to_f64(),
        }
    }
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
            DType::F16 | DType::Bf16 => 2,
        }
    }

    /// Whether this is a 16-bit type (drawn like f32, rounded once to 16 bits).
    pub fn is_half(self) -> bool {
        matches!(self, DType::F16 | DType::Bf16)
    }
}

impl DType {
    /// The short name messages and the command line use (`f32`, `bf16`).
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::F16 => "f16",
            DType::Bf16 => "bf16",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stored float type: its [`DType`], its rounding from f64 (the one rounding every
/// value takes: samplers compute in f64 or f32 and round once) and its slices as
/// [`Values`] for the sinks.
pub trait Element: Copy + Send + Sync + Default + 'static {
    const DTYPE: DType;
    /// Rounds a value computed in f64 to this type (round to nearest, ties to even).
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    /// The slice as the sinks take it.
    fn values(xs: &[Self]) -> Values<'_>;
    /// The sinks' slice back as this type, when it holds this type (no conversion).
    fn same_type(values: Values<'_>) -> Option<&[Self]>;
}

macro_rules! element {
    ($t:ty, $dtype:expr, $variant:ident, |$x:ident| $from:expr, |$y:ident| $to:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dtype;
            #[inline]
            fn from_f64($x: f64) -> Self {
                $from
            }
            #[inline]
            fn to_f64(self) -> f64 {
                let $y = self;
                $to
            }
            fn values(xs: &[Self]) -> Values<'_> {
                Values::$variant(xs)
            }
            fn same_type(values: Values<'_>) -> Option<&[Self]> {
                match values {
                    Values::$variant(xs) => Some(xs),
                    _ => None,
                }
            }
        }
    };
}

element!(f32, DType::F32, F32, |x| x as f32, |y| f64::from(y));
element!(f64, DType::F64, F64, |x| x, |y| y);
element!(
    half::f16,
    DType::F16,
    F16,
    |x| half::f16::from_f64(x),
    |y| y.to_f64()
);
element!(
    half::bf16,
    DType::Bf16,
    Bf16,
    |x| half::bf16::from_f64(x),
    // Exact: a bf16 is the top half of an f32. Written out (rather than half's
    // `to_f64`, which branches on NaN) so that the statistics loop vectorizes.
    |y| f64::from(f32::from_bits(u32::from(y.to_bits()) << 16))
);

/// A run of consecutive elements of the tensor being written.
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    F16(&'a [half::f16]),
    Bf16(&'a [half::bf16]),
}

impl Values<'_> {
    /// Element `i` widened to f64 (exact for every type).
    pub fn get_f64(&self, i: usize) -> f64 {
        match self {
            Values::F32(x) => f64::from(x[i]),
            Values::F64(x) => x[i],
            Values::F16(x) => x[i].to_f64(),
            Values::Bf16(x) => x[i].to_f64(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Values::F32(x) => x.len(),
            Values::F64(x) => x.len(),
            Values::F16(x) => x.len(),
            Values::Bf16(x) => x.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
