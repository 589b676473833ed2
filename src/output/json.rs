//! JSON output: one document, the tensor's metadata first, then `"data"` as nested
//! arrays in the tensor's shape, streamed element by element.
//!
//! Numbers are the shortest decimal that parses back, *as an IEEE double*, to the stored
//! value widened to f64 (ryu). So `json.load` (or any double-based parser) gives exactly
//! the stored value, and converting it to float32 is exact for f32 tensors.

use std::io::{self, Write};

use serde::Serialize;

use crate::array::{TensorSink, Values};

/// A [`TensorSink`] that writes one JSON document.
pub struct JsonWriter<W: Write> {
    w: W,
    /// `spans[k]`: elements in one sub-array at nesting depth k (`spans[0]` = all).
    spans: Vec<usize>,
    index: usize,
    text: ryu::Buffer,
}

impl<W: Write> JsonWriter<W> {
    /// Writes `{<metadata fields>,"data":` and returns a sink for the elements.
    /// `meta` must serialize to a non-empty JSON object.
    pub fn new(mut w: W, meta: &impl Serialize, dims: &[usize]) -> io::Result<Self> {
        let head = serde_json::to_string(meta).map_err(io::Error::other)?;
        let fields = head
            .strip_prefix('{')
            .and_then(|h| h.strip_suffix('}'))
            .filter(|f| !f.is_empty())
            .ok_or_else(|| io::Error::other("JSON metadata must be a non-empty object"))?;
        write!(w, "{{{fields},\"data\":")?;
        let mut spans = vec![1usize; dims.len() + 1];
        for k in (0..dims.len()).rev() {
            spans[k] = spans[k + 1] * dims[k];
        }
        spans.pop();
        Ok(JsonWriter {
            w,
            spans,
            index: 0,
            text: ryu::Buffer::new(),
        })
    }

    fn element(&mut self, x: f64) -> io::Result<()> {
        let i = self.index;
        let opens = self.spans.iter().filter(|&&s| i.is_multiple_of(s)).count();
        if i > 0 {
            self.w.write_all(b",")?;
        }
        for _ in 0..opens {
            self.w.write_all(b"[")?;
        }
        self.w.write_all(self.text.format_finite(x).as_bytes())?;
        let closes = self
            .spans
            .iter()
            .filter(|&&s| (i + 1).is_multiple_of(s))
            .count();
        for _ in 0..closes {
            self.w.write_all(b"]")?;
        }
        self.index += 1;
        Ok(())
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

impl<W: Write> TensorSink for JsonWriter<W> {
    fn write_values(&mut self, values: Values<'_>) -> io::Result<()> {
        match values {
            Values::F32(xs) => xs.iter().try_for_each(|&x| self.element(f64::from(x))),
            Values::F64(xs) => xs.iter().try_for_each(|&x| self.element(x)),
            _ => (0..values.len()).try_for_each(|i| self.element(values.get_f64(i))),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.w.write_all(b"}\n")?;
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(dims: &[usize], xs: &[f32]) -> serde_json::Value {
        let mut sink = JsonWriter::new(Vec::new(), &serde_json::json!({"a": 1}), dims).unwrap();
        // Feed in uneven pieces to check that slicing does not matter.
        for chunk in xs.chunks(3) {
            sink.write_values(Values::F32(chunk)).unwrap();
        }
        sink.finish().unwrap();
        serde_json::from_slice(&sink.into_inner()).unwrap()
    }

    #[test]
    fn nests_in_shape() {
        let xs: Vec<f32> = (0..24).map(|i| i as f32).collect();
        let v = render(&[2, 3, 4], &xs);
        assert_eq!(v["a"], 1);
        assert_eq!(v["data"][1][2][3], 23.0);
        assert_eq!(v["data"][0][1][0], 4.0);
        assert_eq!(v["data"].as_array().unwrap().len(), 2);
        let v = render(&[5], &xs[..5]);
        assert_eq!(v["data"], serde_json::json!([0.0, 1.0, 2.0, 3.0, 4.0]));
        let v = render(&[1, 1], &xs[..1]);
        assert_eq!(v["data"], serde_json::json!([[0.0]]));
    }

    #[test]
    fn values_round_trip_exactly() {
        let xs = [0.1f32, -1.0e-38, 3.402_823_5e38, 1.0 / 3.0, -0.0, 1.0e-45];
        let v = render(&[6], &xs);
        for (i, &x) in xs.iter().enumerate() {
            let parsed = v["data"][i].as_f64().unwrap();
            assert_eq!(parsed, f64::from(x), "element {i}");
            assert_eq!((parsed as f32).to_bits(), x.to_bits(), "element {i}");
        }
    }
}
