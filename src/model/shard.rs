//! Sharded output (`gen --shard I/N`): a model's tensors split into N `.safetensors` files
//! in the Hugging Face layout (`model-0000I-of-0000N.safetensors` and
//! `model.safetensors.index.json`), one shard per machine.
//!
//! The split depends only on the tensor list: tensors stay in order and shard k takes
//! those whose first byte falls in the k-th N-th of the model's bytes. Since every
//! tensor's bytes depend only on (seed, name, scheme, shape, layout, dtype) with the
//! native stream, any shard can run anywhere and the shards together equal one run
//! doing everything.

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

/// `model.safetensors.index.json`: total size and which file holds each tensor.
pub fn index_json(tensors: &[ResolvedTensor], shards: &[usize], count: usize) -> Vec<u8> {
    let total: u64 = tensors.iter().map(|t| t.data_bytes()).sum();
    let weight_map: BTreeMap<&str, String> = tensors
        .iter()
        .zip(shards)
        .map(|(t, &k)| (t.spec.name.as_str(), Shard { index: k, count }.file_name()))
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
    use crate::rng::RngMode;
    use crate::tensor::TensorSpec;
    use crate::tensor::dtype::DType;
    use crate::tensor::fan::Layout;

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
