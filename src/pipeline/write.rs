//! Drawing tensors into files: one tensor into a stream in a single-tensor format (.npy,
//! JSON), or several into one container (.npz, .safetensors) written atomically.
//!
//! This is the library's side of `gen`'s writing: it knows formats and files, not flags.
//! A [`Progress`] hears how far each tensor has got (the command line draws a bar).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::array::{TensorSink, Values};
use crate::check::Generated;
use crate::error::{Error, Result};
use crate::output::atomic::{AtomicFile, FileOptions};
use crate::output::json::JsonWriter;
use crate::output::npy::NpyWriter;
use crate::output::npz::NpzWriter;
use crate::output::{Format, safetensors};
use crate::pipeline::generate::Session;
use crate::tensor::ResolvedTensor;

/// Told how far the writing of each tensor has got. Every method does nothing by default.
pub trait Progress: Send {
    /// `tensor` starts.
    fn start(&mut self, _tensor: &ResolvedTensor) {}
    /// `bytes` more of its data were written.
    fn advance(&mut self, _bytes: u64) {}
    /// It is complete (or failed).
    fn finish(&mut self) {}
}

/// No progress reporting.
pub struct Silent;

impl Progress for Silent {}

/// Draws tensors in order with one [`Session`] (so framework streams continue from
/// tensor to tensor, as one framework generator would).
pub struct TensorWriter<'p> {
    session: Session,
    progress: &'p mut dyn Progress,
}

impl<'p> TensorWriter<'p> {
    pub fn new(progress: &'p mut dyn Progress) -> Self {
        TensorWriter {
            session: Session::new(),
            progress,
        }
    }

    /// Draws `tensor` into `writer` as one .npy or JSON document; I/O errors name `label`.
    pub fn stream<W: Write + Send>(
        &mut self,
        tensor: &ResolvedTensor,
        format: Format,
        writer: W,
        label: &str,
    ) -> Result<Generated> {
        let io_err = |e| Error::io(label, e);
        let mut sink: Box<dyn TensorSink + Send + '_> = match format {
            Format::Npy => Box::new(
                NpyWriter::new(writer, tensor.spec.dtype, &tensor.spec.shape).map_err(io_err)?,
            ),
            Format::Json => Box::new(
                JsonWriter::new(writer, &tensor.meta(), tensor.spec.shape.dims())
                    .map_err(io_err)?,
            ),
            Format::Npz | Format::Safetensors => {
                return Err(Error::Usage(format!(
                    "{format} holds several tensors in one file: write it with `container`"
                )));
            }
        };
        self.draw_with_progress(tensor, sink.as_mut(), label)
    }

    /// Draws every tensor into the one .npz or .safetensors file `path`, in order,
    /// streaming, through a temporary file renamed when complete.
    pub fn container(
        &mut self,
        tensors: &[&ResolvedTensor],
        path: &Path,
        format: Format,
        options: FileOptions,
    ) -> Result<Vec<Generated>> {
        let label = path.display().to_string();
        let io_err = |e| Error::io(&label, e);
        let mut file = AtomicFile::create(path, options)?;
        let mut generated = Vec::with_capacity(tensors.len());
        match format {
            Format::Safetensors => {
                let entries: Vec<safetensors::Entry<'_>> = tensors
                    .iter()
                    .map(|t| safetensors::Entry {
                        name: &t.spec.name,
                        dtype: t.spec.dtype,
                        shape: t.spec.shape.dims(),
                    })
                    .collect();
                let w = file.writer();
                safetensors::write_header(w, &entries, &safetensors_metadata(tensors))
                    .map_err(io_err)?;
                for t in tensors {
                    let mut sink = safetensors::RawWriter::new(&mut *w);
                    generated.push(self.draw_with_progress(t, &mut sink, &label)?);
                }
            }
            Format::Npz => {
                let mut npz = NpzWriter::new(file.writer());
                for t in tensors {
                    let mut sink = npz
                        .member(&t.spec.name, t.spec.dtype, &t.spec.shape)
                        .map_err(io_err)?;
                    generated.push(self.draw_with_progress(t, &mut sink, &label)?);
                }
                npz.finish().map_err(io_err)?;
            }
            Format::Npy | Format::Json => {
                return Err(Error::Usage(format!(
                    "{format} holds one tensor per file: write it with `stream`"
                )));
            }
        }
        file.commit()?;
        Ok(generated)
    }

    /// Runs the engine into `sink`, telling the progress as bytes go out.
    fn draw_with_progress(
        &mut self,
        tensor: &ResolvedTensor,
        sink: &mut (dyn TensorSink + Send),
        label: &str,
    ) -> Result<Generated> {
        self.progress.start(tensor);
        let mut observed = Observed {
            inner: sink,
            progress: &mut *self.progress,
        };
        let result = self.session.generate(tensor, &mut observed, label);
        self.progress.finish();
        result
    }
}

/// `__metadata__` of a .safetensors file: the generator and every tensor's metadata.
pub fn safetensors_metadata(tensors: &[&ResolvedTensor]) -> BTreeMap<String, String> {
    let metas: Vec<_> = tensors.iter().map(|t| t.meta()).collect();
    BTreeMap::from([
        (
            "generator".to_string(),
            concat!("weightinit ", env!("CARGO_PKG_VERSION")).to_string(),
        ),
        (
            "weightinit".to_string(),
            serde_json::to_string(&metas).expect("metadata serializes"),
        ),
    ])
}

/// A sink that tells a [`Progress`] how many bytes went through.
struct Observed<'a> {
    inner: &'a mut (dyn TensorSink + Send),
    progress: &'a mut dyn Progress,
}

impl TensorSink for Observed<'_> {
    fn write_values(&mut self, values: Values<'_>) -> std::io::Result<()> {
        self.inner.write_values(values)?;
        let bytes = match values {
            Values::F32(xs) => 4 * xs.len(),
            Values::F64(xs) => 8 * xs.len(),
            Values::F16(_) | Values::Bf16(_) => 2 * values.len(),
        };
        self.progress.advance(bytes as u64);
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.inner.finish()
    }
}
