//! The library in three lines: a scheme and a shape in, an array or a file out.
//!
//! ```
//! # fn main() -> weightinit::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let embed_npy = dir.path().join("embed.npy");
//! use weightinit::{Init, Layout, RngMode};
//! let w = Init::new("he-normal", [784, 256])?.seed(42).draw::<f32>()?;   // ndarray, shape [784, 256]
//! // == weightinit gen --scheme he-normal --shape 784x256 --seed 42   (default name w0)
//! let t = Init::new("kaiming-uniform", [128, 784])?.layout(Layout::Oi).rng(RngMode::Torch).seed(0).draw::<f32>()?;
//! Init::new("normal:std=0.02", [50257, 768])?.seed(7).name("embed").write(&embed_npy)?;   // streams, bounded memory
//! # assert_eq!(w.shape(), [784, 256]);
//! # assert_eq!(t.shape(), [128, 784]);
//! # assert!(embed_npy.exists());
//! # Ok(()) }
//! ```
//!
//! Every value is the one `weightinit gen` writes for the same scheme, shape, seed, name,
//! layout, random stream and dtype: the bytes of [`Init::write`] equal the command's.

use std::path::Path;

use ndarray::ArrayD;

use crate::array::dtype::DType;
use crate::array::fan::Layout;
use crate::array::region::Region;
use crate::array::shape::Shape;
use crate::draw::DrawElement;
use crate::error::{Error, Result};
use crate::output::Format;
use crate::output::atomic::{AtomicFile, FileOptions};
use crate::pipeline::region::Drawn;
use crate::pipeline::write::{Silent, TensorWriter};
use crate::scheme::SchemeSpec;
use crate::tensor::rng::RngMode;
use crate::tensor::{ResolvedTensor, TensorSpec};

/// One tensor to initialize: a scheme and a shape, with the seed, name, layout, random
/// stream and dtype `weightinit gen` defaults to (seed drawn fresh, name `w0`, layout
/// `io`, the native stream, f32) until set.
#[derive(Debug, Clone)]
pub struct Init {
    spec: TensorSpec,
    force: bool,
}

/// A scheme as text (`"he-normal"`, `"normal:std=0.02"`) or already parsed.
pub trait IntoScheme {
    fn into_scheme(self) -> Result<SchemeSpec>;
}

impl IntoScheme for &str {
    fn into_scheme(self) -> Result<SchemeSpec> {
        self.parse()
    }
}

impl IntoScheme for String {
    fn into_scheme(self) -> Result<SchemeSpec> {
        self.parse()
    }
}

impl IntoScheme for SchemeSpec {
    fn into_scheme(self) -> Result<SchemeSpec> {
        Ok(self)
    }
}

/// A shape as an array, a slice, a `Vec` of dimensions, or a [`Shape`].
pub trait IntoShape {
    fn into_shape(self) -> Result<Shape>;
}

impl<const N: usize> IntoShape for [usize; N] {
    fn into_shape(self) -> Result<Shape> {
        Shape::new(self.to_vec())
    }
}

impl IntoShape for &[usize] {
    fn into_shape(self) -> Result<Shape> {
        Shape::new(self.to_vec())
    }
}

impl IntoShape for Vec<usize> {
    fn into_shape(self) -> Result<Shape> {
        Shape::new(self)
    }
}

impl IntoShape for Shape {
    fn into_shape(self) -> Result<Shape> {
        Ok(self)
    }
}

impl Init {
    /// A tensor of `shape` initialized by `scheme`; fails on an unknown scheme, a bad
    /// parameter or a shape with a zero dimension.
    pub fn new(scheme: impl IntoScheme, shape: impl IntoShape) -> Result<Init> {
        Ok(Init {
            spec: TensorSpec {
                name: "w0".into(),
                shape: shape.into_shape()?,
                layout: Layout::Io,
                scheme: scheme.into_scheme()?,
                dtype: DType::F32,
                seed: crate::tensor::rng::fresh_seed(),
                rng: RngMode::Native,
                jax: Default::default(),
            },
            force: false,
        })
    }

    /// The seed (0 to 2⁶⁴−1). Without it, a fresh one was drawn: see [`Init::seed_value`].
    pub fn seed(mut self, seed: u64) -> Init {
        self.spec.seed = seed;
        self
    }

    /// The tensor's name, which keys the native stream with the seed (default `w0`).
    pub fn name(mut self, name: impl Into<String>) -> Init {
        self.spec.name = name.into();
        self
    }

    /// How the shape's axes are read: [`Layout::Io`] (Keras/JAX, the default) or
    /// [`Layout::Oi`] (PyTorch).
    pub fn layout(mut self, layout: Layout) -> Init {
        self.spec.layout = layout;
        self
    }

    /// The random stream: native (default), NumPy's, PyTorch's or JAX's.
    pub fn rng(mut self, rng: RngMode) -> Init {
        self.spec.rng = rng;
        self
    }

    /// With [`RngMode::Jax`]: JAX's flags and the tensor's key (default: partitionable,
    /// no x64, `jax.random.key(seed)` itself).
    pub fn jax(mut self, stream: crate::tensor::rng::JaxStream) -> Init {
        self.spec.jax = stream;
        self
    }

    /// The element type [`Init::write`] stores ([`Init::draw`] takes it from its type).
    pub fn dtype(mut self, dtype: DType) -> Init {
        self.spec.dtype = dtype;
        self
    }

    /// Lets [`Init::write`] replace an existing regular file.
    pub fn force(mut self, force: bool) -> Init {
        self.force = force;
        self
    }

    /// The seed in force (the one drawn, if none was set).
    pub fn seed_value(&self) -> u64 {
        self.spec.seed
    }

    /// The tensor with its scheme resolved against its shape: fans, gain and law.
    pub fn resolve(&self) -> Result<ResolvedTensor> {
        crate::tensor::validate_name(&self.spec.name)?;
        self.spec.clone().resolve()
    }

    /// The values in memory as an array in the tensor's shape, of element type `E`
    /// (`f32`, `f64`, `half::f16`, `half::bf16`).
    ///
    /// A native-stream elementwise tensor is drawn in place on all cores into zeroed
    /// memory the array then owns, so its peak memory is the array itself.
    pub fn draw<E: DrawElement>(&self) -> Result<ArrayD<E>> {
        let tensor = self.clone().dtype(E::DTYPE).resolve()?;
        let n = tensor.spec.shape.len();
        if tensor.spec.rng == RngMode::Native {
            crate::budget::check(
                crate::budget::elements(n, std::mem::size_of::<E>()),
                &format!("an array of {} {}", tensor.spec.shape, tensor.spec.dtype),
            )?;
            // Zeroed pages come from the OS untouched (calloc), and the parallel draw
            // touches each page on the thread that fills it.
            let mut values = crate::budget::try_zeroed::<E>(n, || {
                format!("an array of {} {}", tensor.spec.shape, tensor.spec.dtype)
            })?;
            crate::budget::advise_huge_pages(&mut values);
            if let Some(drawn) =
                crate::pipeline::generate::draw_native_in_place(&tensor, &mut values)
            {
                drawn?;
                return ArrayD::from_shape_vec(tensor.spec.shape.dims(), values)
                    .map_err(|e| Error::Numerical(format!("array shape: {e}")));
            }
        }
        Ok(crate::pipeline::generate::draw_array::<E>(&tensor)?.0)
    }

    /// The values of [`Init::draw`] written into `out` (row-major, exactly the tensor's
    /// element count), for memory the caller already owns; `E` is the element type.
    pub fn draw_into<E: DrawElement>(&self, out: &mut [E]) -> Result<()> {
        let tensor = self.clone().dtype(E::DTYPE).resolve()?;
        if let Some(drawn) = crate::pipeline::generate::draw_native_in_place(&tensor, out) {
            return drawn;
        }
        crate::pipeline::generate::draw_into(&tensor, out).map(|_| ())
    }

    /// Elements `first .. first + len` of the tensor in row-major order, drawn alone
    /// (random access): bit for bit that slice of [`Init::draw`]'s array, at a cost
    /// proportional to `len`. Native stream and elementwise schemes only; an orthogonal or
    /// identity matrix, or a framework stream (sequential by nature), is refused.
    pub fn draw_range<E: crate::draw::DrawElement>(
        &self,
        first: u64,
        len: usize,
    ) -> Result<Vec<E>> {
        let tensor = self.clone().dtype(E::DTYPE).resolve()?;
        let total = tensor.spec.shape.len() as u64;
        if first.checked_add(len as u64).is_none_or(|end| end > total) {
            return Err(Error::Usage(format!(
                "elements {first}..{} are outside the tensor's {total} elements",
                first.saturating_add(len as u64)
            )));
        }
        if tensor.spec.rng != RngMode::Native {
            return Err(Error::Usage(format!(
                "random access needs the native stream; --rng {} draws a tensor in sequence",
                tensor.spec.rng
            )));
        }
        let mut out = crate::budget::try_zeroed::<E>(len, || {
            format!(
                "elements {first}..{} of {}",
                first.saturating_add(len as u64),
                tensor.spec.dtype
            )
        })?;
        crate::draw::engine::draw_range(&tensor, first, &mut out).ok_or_else(|| {
            Error::Usage(format!(
                "random access needs an elementwise scheme; '{}' is built as a whole matrix",
                tensor.spec.scheme
            ))
        })?;
        Ok(out)
    }

    /// The elements of [`Init::draw`]'s array that `region` holds (one rank's shard: the
    /// global indices along each axis), written into `out`, the region's local array in
    /// row-major order: bit for bit the whole array's values at those positions. With
    /// the native stream and an elementwise scheme only the region is drawn; otherwise
    /// the tensor is built whole within the memory budget first ([`Drawn`] says which).
    ///
    /// ```
    /// # fn main() -> weightinit::Result<()> {
    /// use weightinit::{Init, array::Region};
    /// let init = Init::new("he-normal", [6, 4])?.seed(7);
    /// let whole = init.draw::<f32>()?;
    /// let right_half = Region::new(&[6, 4], vec![(0..6).collect(), vec![2, 3]]).unwrap();
    /// let mut part = vec![0f32; right_half.len()];
    /// init.draw_region_into(&right_half, &mut part)?;
    /// assert_eq!(part[1], whole[[0, 3]]);
    /// # Ok(()) }
    /// ```
    pub fn draw_region_into<E: DrawElement>(
        &self,
        region: &Region,
        out: &mut [E],
    ) -> Result<Drawn> {
        let tensor = self.clone().dtype(E::DTYPE).resolve()?;
        crate::pipeline::region::draw_region_into(&tensor, region, out)
    }

    /// Writes the tensor to `path`, the format chosen by its extension (.npy, .json,
    /// .npz, .safetensors), streaming in bounded memory, atomically (a temporary file
    /// renamed when complete); an existing file is replaced only after [`Init::force`].
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let format = Format::from_path(path).ok_or_else(|| {
            Error::Usage(format!(
                "cannot tell the format of '{}' from its extension; use .npy, .json, .npz or \
                 .safetensors",
                crate::text::path(path)
            ))
        })?;
        let tensor = self.resolve()?;
        let options = FileOptions {
            force: self.force,
            fsync: false,
        };
        let mut silent = Silent;
        let mut writer = TensorWriter::new(&mut silent);
        if format.is_container() {
            writer.container(&[&tensor], path, format, options)?;
            return Ok(());
        }
        let mut file = AtomicFile::create(path, options)?;
        let label = path.display().to_string();
        writer.stream(&tensor, format, file.writer(), &label)?;
        file.commit()
    }
}
