//! NumPy `.npy` files, format version 1.0, written as a stream.
//!
//! Layout (numpy/lib/format.py, "NPY format"): the magic `\x93NUMPY`, version bytes
//! `1 0`, a little-endian u16 header length, then an ASCII Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (784, 128), }` padded with spaces
//! and a final newline so the data starts on a 64-byte boundary, then the raw
//! little-endian elements in C order.

use std::io::{self, Write};

use crate::array::dtype::DType;
use crate::array::shape::Shape;
use crate::array::{TensorSink, Values};

/// Writes the magic, version and header dict for a C-order tensor.
pub fn write_npy_header<W: Write>(w: &mut W, dtype: DType, shape: &Shape) -> io::Result<()> {
    let descr = match dtype {
        DType::F32 => "<f4",
        DType::F64 => "<f8",
        DType::F16 => "<f2",
        DType::Bf16 => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bf16 has no NumPy dtype; write .safetensors",
            ));
        }
    };
    let dims: Vec<String> = shape.dims().iter().map(|d| d.to_string()).collect();
    // A 1-tuple needs its trailing comma in Python syntax: (128,)
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
    const PREAMBLE: usize = 6 + 2 + 2; // magic, version, header length
    let unpadded = PREAMBLE + dict.len() + 1; // + newline
    let padding = unpadded.next_multiple_of(64) - unpadded;
    dict.extend(std::iter::repeat_n(' ', padding));
    dict.push('\n');
    let header_len = u16::try_from(dict.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "npy header too long"))?;
    w.write_all(b"\x93NUMPY\x01\x00")?;
    w.write_all(&header_len.to_le_bytes())?;
    w.write_all(dict.as_bytes())
}

/// A [`TensorSink`] that writes an `.npy` stream.
pub struct NpyWriter<W: Write> {
    w: W,
}

impl<W: Write> NpyWriter<W> {
    /// Writes the header and returns a sink for the elements.
    pub fn new(mut w: W, dtype: DType, shape: &Shape) -> io::Result<Self> {
        write_npy_header(&mut w, dtype, shape)?;
        Ok(NpyWriter { w })
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

impl<W: Write> TensorSink for NpyWriter<W> {
    fn write_values(&mut self, values: Values<'_>) -> io::Result<()> {
        write_le(&mut self.w, values)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// Writes `values` as little-endian bytes (the data of .npy, .npz and .safetensors). On
/// little-endian machines the in-memory bytes already are the file's bytes and go out
/// without a copy; elsewhere each element is byte-swapped.
pub fn write_le<W: Write>(w: &mut W, values: Values<'_>) -> io::Result<()> {
    if cfg!(target_endian = "little") {
        return match values {
            Values::F32(xs) => w.write_all(bytemuck::cast_slice(xs)),
            Values::F64(xs) => w.write_all(bytemuck::cast_slice(xs)),
            Values::F16(xs) => w.write_all(bytemuck::cast_slice(xs)),
            Values::Bf16(xs) => w.write_all(bytemuck::cast_slice(xs)),
        };
    }
    let bytes: Vec<u8> = match values {
        Values::F32(xs) => xs.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Values::F64(xs) => xs.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Values::F16(xs) => xs.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Values::Bf16(xs) => xs.iter().flat_map(|x| x.to_le_bytes()).collect(),
    };
    w.write_all(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_readable_by_ndarray_npy() {
        for (shape, dtype) in [
            ("784x128", DType::F32),
            ("5", DType::F64),
            ("3x3x64x128", DType::F32),
        ] {
            let shape: Shape = shape.parse().unwrap();
            let n = shape.len();
            let mut sink = NpyWriter::new(Vec::new(), dtype, &shape).unwrap();
            match dtype {
                DType::F32 => {
                    let xs: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
                    sink.write_values(Values::F32(&xs)).unwrap();
                }
                DType::F64 => {
                    let xs: Vec<f64> = (0..n).map(|i| i as f64 * 0.25).collect();
                    sink.write_values(Values::F64(&xs)).unwrap();
                }
                DType::F16 | DType::Bf16 => unreachable!("not among the cases"),
            }
            let bytes = sink.into_inner();
            let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            assert_eq!((10 + header_len) % 64, 0);
            assert_eq!(bytes.len(), 10 + header_len + n * dtype.size());
            // Read back with ndarray-npy, an independent reader.
            match dtype {
                DType::F32 => {
                    let a: ndarray::ArrayD<f32> =
                        ndarray_npy::ReadNpyExt::read_npy(&bytes[..]).unwrap();
                    assert_eq!(a.shape(), shape.dims());
                    assert_eq!(a.iter().nth(3), Some(&1.5));
                }
                DType::F64 => {
                    let a: ndarray::ArrayD<f64> =
                        ndarray_npy::ReadNpyExt::read_npy(&bytes[..]).unwrap();
                    assert_eq!(a.shape(), shape.dims());
                    assert_eq!(a.iter().nth(3), Some(&0.75));
                }
                DType::F16 | DType::Bf16 => unreachable!("not among the cases"),
            }
        }
    }
}
