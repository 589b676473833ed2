//! `.npz`: NumPy's archive of arrays, a zip file holding one `NAME.npy` per tensor
//! (stored, not compressed, like `np.savez`), which `np.load` reads as a dict-like object.
//!
//! Members are streamed through the `zip` crate (which seeks back to fill in sizes and
//! CRCs, so the archive goes to a seekable file, and uses ZIP64 for members over 4 GiB).

use std::io::{self, Seek, Write};

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use super::npy::NpyWriter;
use crate::array::dtype::DType;
use crate::array::shape::Shape;

/// An `.npz` archive being written.
pub struct NpzWriter<W: Write + Seek> {
    /// `None` once finished.
    zip: Option<ZipWriter<W>>,
}

impl<W: Write + Seek> NpzWriter<W> {
    pub fn new(w: W) -> Self {
        NpzWriter {
            zip: Some(ZipWriter::new(w)),
        }
    }

    fn zip(&mut self) -> &mut ZipWriter<W> {
        self.zip
            .as_mut()
            .expect("an NpzWriter is used only until finish")
    }

    /// Starts member `NAME.npy` and returns the .npy writer for its values.
    pub fn member(
        &mut self,
        name: &str,
        dtype: DType,
        shape: &Shape,
    ) -> io::Result<NpyWriter<&mut ZipWriter<W>>> {
        let data = shape.len() as u64 * dtype.size() as u64;
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            // ZIP64 when the member (data plus a header of at most 64 KiB) may pass 4 GiB.
            .large_file(data + (1 << 16) >= u64::from(u32::MAX));
        self.zip()
            .start_file(format!("{name}.npy"), options)
            .map_err(io::Error::other)?;
        NpyWriter::new(self.zip(), dtype, shape)
    }

    /// Writes the central directory; returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        let zip = self.zip.take().expect("finish is called once");
        zip.finish().map_err(io::Error::other)
    }
}

impl<W: Write + Seek> Drop for NpzWriter<W> {
    /// An archive abandoned after an error (a full disk) is not finalized: the temporary
    /// file it went to is removed anyway. `ZipWriter`'s own drop would try to write the
    /// central directory and print its failure as debug text on stderr, ahead of the real
    /// one-line error, so it is not run; what it owns (a few small buffers) is leaked once,
    /// on the way to the process's exit.
    fn drop(&mut self) {
        if let Some(zip) = self.zip.take() {
            std::mem::forget(zip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::{TensorSink, Values};

    /// Two members, read back with the `zip` crate and ndarray-npy.
    #[test]
    fn members_are_npy_files() {
        let mut npz = NpzWriter::new(io::Cursor::new(Vec::new()));
        let shape: Shape = "2x3".parse().unwrap();
        let mut w = npz.member("fc0.weight", DType::F32, &shape).unwrap();
        w.write_values(Values::F32(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
            .unwrap();
        w.finish().unwrap();
        let bias: Shape = "3".parse().unwrap();
        let mut b = npz.member("fc0.bias", DType::F64, &bias).unwrap();
        b.write_values(Values::F64(&[0.5, 0.25, 0.125])).unwrap();
        b.finish().unwrap();
        let bytes = npz.finish().unwrap().into_inner();
        let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.expect("member name").into_owned())
            .collect();
        assert!(names.contains(&"fc0.weight.npy".to_string()), "{names:?}");
        let mut member = archive.by_name("fc0.bias.npy").unwrap();
        let mut data = Vec::new();
        io::Read::read_to_end(&mut member, &mut data).unwrap();
        let a: ndarray::ArrayD<f64> = ndarray_npy::ReadNpyExt::read_npy(&data[..]).unwrap();
        assert_eq!(a.as_slice().unwrap(), &[0.5, 0.25, 0.125]);
    }
}
