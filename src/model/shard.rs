//! Sharded output: a model's tensors split into `.safetensors` files in the Hugging Face
//! layout (`model-0000k-of-0000K.safetensors` and `model.safetensors.index.json`).
//!
//! Two splits, each depending only on the tensor list:
//! * `--shard I/N` alone: N files balanced by bytes ([`assign`]), file I written by
//!   machine I.
//! * `--max-shard-size S`: files of at most S bytes as `save_pretrained` makes them
//!   ([`split_by_size`]); one run writes them all, or with `--shard I/N` machine I writes
//!   files I, I + N, I + 2N, …
//!
//! Since every tensor's bytes depend only on (seed, name, scheme, shape, layout, dtype)
//! with the native stream, any file can be written anywhere and the files together
//! equal one run doing everything.

use std::collections::BTreeMap;

use crate::error::{Error, Result, Subject};
use crate::tensor::ResolvedTensor;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;

    fn from_str(text: &str) -> Result<Shard> {
        let bad = || Error::Invalid {
            of: Subject::Shard,
            value: text.to_string(),
            reason: "write I/N with 1 ≤ I ≤ N ≤ 99999, e.g. 3/64".into(),
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count || count > 99_999 {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The shard's file name in the Hugging Face layout.
    pub fn file_name(self) -> String {
        format!("model-{:05}-of-{:05}.safetensors", self.index, self.count)
    }
}

/// The shard (1-based) of every tensor, balanced by bytes, order kept: shard k starts
/// at the first tensor whose first byte lies at or past (k−1)/N of the model's bytes,
/// moved so that every shard holds at least one tensor.
pub fn assign(tensors: &[ResolvedTensor], count: usize) -> Result<Vec<usize>> {
    let n = tensors.len();
    if n < count {
        return Err(Error::Usage(format!(
            "{count} shards for {n} tensors: every shard needs at least one tensor"
        )));
    }
    let mut starts = Vec::with_capacity(n);
    let mut total = 0u128;
    for t in tensors {
        starts.push(total);
        total += u128::from(t.data_bytes());
    }
    let mut first = vec![0usize; count];
    for k in 1..count {
        let target = total * k as u128 / count as u128;
        first[k] = starts
            .partition_point(|&s| s < target)
            .max(first[k - 1] + 1)
            .min(n - (count - k));
    }
    Ok((0..n).map(|i| first.partition_point(|&f| f <= i)).collect())
}

/// The file (1-based) of every tensor and the number of files, split as
/// `huggingface_hub.split_state_dict_into_shards_factory` (what `save_pretrained` calls)
/// does: tensors in order fill the current file until the next would take it past
/// `max_bytes`, which then starts a new file; a tensor larger than `max_bytes` gets a
/// file of its own, placed at once — before the file being filled, which is closed only
/// later (huggingface_hub's own order, kept so that the file names match).
pub fn split_by_size(tensors: &[ResolvedTensor], max_bytes: u64) -> (Vec<usize>, usize) {
    // Files in the order they are closed; each holds tensor indices.
    let mut files: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_bytes = 0u64;
    for (i, t) in tensors.iter().enumerate() {
        let bytes = t.data_bytes();
        if bytes > max_bytes {
            files.push(vec![i]);
            continue;
        }
        if current_bytes + bytes > max_bytes && !current.is_empty() {
            files.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current.push(i);
        current_bytes += bytes;
    }
    if !current.is_empty() {
        files.push(current);
    }
    let mut file_of = vec![0usize; tensors.len()];
    for (k, members) in files.iter().enumerate() {
        for &i in members {
            file_of[i] = k + 1;
        }
    }
    (file_of, files.len())
}

/// The name of file `index` (1-based) of `count`: `model-0000k-of-0000K.safetensors`,
/// or `model.safetensors` when there is only one (as `save_pretrained` names it, with no
/// index beside it).
pub fn file_name(index: usize, count: usize) -> String {
    if count == 1 {
        "model.safetensors".to_string()
    } else {
        Shard { index, count }.file_name()
    }
}

/// `model.safetensors.index.json`: total size and which file holds each tensor.
pub fn index_json(tensors: &[ResolvedTensor], shards: &[usize], count: usize) -> Vec<u8> {
    let total: u64 = tensors.iter().map(|t| t.data_bytes()).sum();
    let weight_map: BTreeMap<&str, String> = tensors
        .iter()
        .zip(shards)
        .map(|(t, &k)| (t.spec.name.as_str(), file_name(k, count)))
        .collect();
    let doc = serde_json::json!({
        "metadata": {"total_size": total, "generator": concat!("weightinit ", env!("CARGO_PKG_VERSION"))},
        "weight_map": weight_map,
    });
    let mut text = serde_json::to_vec_pretty(&doc).expect("index serializes");
    text.push(b'\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::dtype::DType;
    use crate::array::fan::Layout;
    use crate::tensor::TensorSpec;
    use crate::tensor::rng::RngMode;

    /// huggingface_hub's rule on a model with an oversized tensor in the middle: the big
    /// one gets file 1 at once, the file being filled is closed later.
    #[test]
    fn size_split_follows_huggingface_hub() {
        // f32 sizes in bytes: 40, 40, 400 (over 100), 40, 40, 40
        let model = tensors(&[10, 10, 100, 10, 10, 10]);
        let (file_of, count) = split_by_size(&model, 100);
        assert_eq!((file_of, count), (vec![2, 2, 1, 3, 3, 4], 4));
        // Exactly full files close when the next tensor would overflow them.
        let (file_of, count) = split_by_size(&tensors(&[10, 15, 10, 25]), 100);
        assert_eq!((file_of, count), (vec![1, 1, 2, 3], 3));
        // Everything fits: one file, named without a shard suffix.
        let (file_of, count) = split_by_size(&tensors(&[1, 2, 3]), 1 << 20);
        assert_eq!((file_of, count), (vec![1, 1, 1], 1));
        assert_eq!(file_name(1, 1), "model.safetensors");
        assert_eq!(file_name(2, 3), "model-00002-of-00003.safetensors");
    }

    fn tensors(sizes: &[usize]) -> Vec<ResolvedTensor> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                TensorSpec {
                    name: format!("t{i}"),
                    shape: n.to_string().parse().unwrap(),
                    layout: Layout::Io,
                    scheme: "zeros".parse().unwrap(),
                    dtype: DType::F32,
                    seed: 0,
                    rng: RngMode::Native,
                    jax: Default::default(),
                }
                .resolve()
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn balanced_ordered_and_never_empty() {
        assert_eq!(
            assign(&tensors(&[10, 10, 10, 10]), 2).unwrap(),
            [1, 1, 2, 2]
        );
        assert_eq!(
            assign(&tensors(&[10, 10, 10, 10]), 4).unwrap(),
            [1, 2, 3, 4]
        );
        // A huge tensor first: the small ones are spread so no shard is empty.
        assert_eq!(assign(&tensors(&[1000, 1, 1, 1]), 3).unwrap(), [1, 2, 3, 3]);
        assert_eq!(assign(&tensors(&[1, 1, 1, 1000]), 2).unwrap(), [1, 1, 1, 2]);
        assert!(assign(&tensors(&[1, 1]), 3).is_err());
        assert_eq!(
            "3/64".parse::<Shard>().unwrap(),
            Shard {
                index: 3,
                count: 64
            }
        );
        for bad in ["0/4", "5/4", "x/4", "4", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(
            Shard {
                index: 3,
                count: 64
            }
            .file_name(),
            "model-00003-of-00064.safetensors"
        );
    }
}
