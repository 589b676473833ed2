//! [`Region`]: the part of a tensor one rank (one device, one shard) holds, as the global
//! indices it holds along each axis. Every sharding a framework makes is of this form:
//! PyTorch's `Shard`, `_StridedShard` and `Replicate` placements on any mesh, JAX's
//! `NamedSharding` blocks, Megatron's tensor-parallel splits. The local array is the
//! Cartesian product of the axes' index lists, in row-major order.
//!
//! A region is drawn as runs: within the last axis, consecutive global indices are one
//! run of consecutive global elements, so a row-sharded matrix is a few long runs and a
//! column-sharded one a run per row. Nothing here draws; [`crate::draw`] does, run by run.

use std::ops::Range;

use super::shape::dims_text;

/// One stretch of consecutive elements along the last axis: local columns
/// `local .. local + len` hold global columns `global .. global + len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub local: usize,
    pub global: usize,
    pub len: usize,
}

/// The global indices a part of a tensor holds along each axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The global tensor's dimensions.
    dims: Vec<usize>,
    /// For each axis, the global indices held, in local order.
    axes: Vec<Vec<usize>>,
    /// The last axis's index list as runs.
    runs: Vec<Run>,
}

impl Region {
    /// The part of a tensor of `dims` holding `axes[k]` along axis k; fails with one line
    /// when an axis is missing or an index falls outside its axis.
    pub fn new(dims: &[usize], axes: Vec<Vec<usize>>) -> Result<Region, String> {
        if axes.len() != dims.len() {
            return Err(format!(
                "the region gives {} axes for a tensor of {} ({} dimensions)",
                axes.len(),
                dims_text(dims),
                dims.len()
            ));
        }
        for (k, (axis, &dim)) in axes.iter().zip(dims).enumerate() {
            if let Some(&bad) = axis.iter().find(|&&i| i >= dim) {
                return Err(format!(
                    "index {bad} on axis {k} is outside the tensor's {dim} (shape {})",
                    dims_text(dims)
                ));
            }
        }
        let mut local_len: usize = 1;
        for axis in &axes {
            local_len = local_len
                .checked_mul(axis.len())
                .ok_or_else(|| "the region holds more elements than memory can".to_string())?;
        }
        let runs = axes.last().map(|last| runs_of(last)).unwrap_or_default();
        Ok(Region {
            dims: dims.to_vec(),
            axes,
            runs,
        })
    }

    /// The whole tensor of `dims`.
    pub fn whole(dims: &[usize]) -> Region {
        let axes = dims.iter().map(|&d| (0..d).collect()).collect();
        Region::new(dims, axes).expect("every index of the whole tensor is inside it")
    }

    /// The global tensor's dimensions.
    pub fn global_dims(&self) -> &[usize] {
        &self.dims
    }

    /// The local array's dimensions.
    pub fn local_dims(&self) -> Vec<usize> {
        self.axes.iter().map(Vec::len).collect()
    }

    /// Elements held.
    pub fn len(&self) -> usize {
        self.axes.iter().map(Vec::len).product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the region is the whole tensor in its own order.
    pub fn is_whole(&self) -> bool {
        self.axes
            .iter()
            .zip(&self.dims)
            .all(|(axis, &d)| axis.len() == d && axis.iter().enumerate().all(|(i, &g)| i == g))
    }

    /// Calls `visit(global_first, local_first, len)` for each run of consecutive global
    /// elements among local elements `local` (a range of the local array in row-major
    /// order), in order. Runs never cross a local row (one combination of the leading
    /// axes), so a caller drawing `local` in pieces gets the same values as in one go.
    pub fn for_each_run(&self, local: Range<usize>, mut visit: impl FnMut(u64, usize, usize)) {
        if local.is_empty() {
            return;
        }
        let Some(row_len) = self.axes.last().map(Vec::len) else {
            // A 0-dimensional tensor: its one element.
            visit(0, 0, 1);
            return;
        };
        if row_len == 0 {
            return;
        }
        let mut position = local.start;
        while position < local.end {
            let row = position / row_len;
            let row_start = row * row_len;
            let (from, to) = (position - row_start, (local.end - row_start).min(row_len));
            let base = self.global_row_start(row);
            // The first run that ends after `from`.
            let first = self.runs.partition_point(|r| r.local + r.len <= from);
            for run in &self.runs[first..] {
                if run.local >= to {
                    break;
                }
                let (lo, hi) = (run.local.max(from), (run.local + run.len).min(to));
                let global = base + (run.global + lo - run.local) as u64;
                visit(global, row_start + lo, hi - lo);
            }
            position = row_start + to;
        }
    }

    /// The global flat index of local row `row`'s column 0 of the global tensor (the
    /// leading axes' global indices; the last axis at 0).
    fn global_row_start(&self, row: usize) -> u64 {
        let leading = self.axes.len() - 1;
        let mut rest = row;
        let mut flat: u64 = 0;
        let mut stride: u64 = self.dims[leading] as u64;
        for k in (0..leading).rev() {
            let n = self.axes[k].len();
            let i = self.axes[k][rest % n];
            rest /= n;
            flat += i as u64 * stride;
            stride *= self.dims[k] as u64;
        }
        flat
    }

    /// Copies the region's elements out of the whole tensor's `whole` (row-major) into
    /// `out` (the local array, row-major).
    pub fn gather<E: Copy>(&self, whole: &[E], out: &mut [E]) {
        self.for_each_run(0..out.len(), |global, local, len| {
            let g = global as usize;
            out[local..local + len].copy_from_slice(&whole[g..g + len]);
        });
    }
}

/// An index list as runs of consecutive values.
fn runs_of(indices: &[usize]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (local, &global) in indices.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.global + run.len == global => run.len += 1,
            _ => runs.push(Run {
                local,
                global,
                len: 1,
            }),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The region's elements one by one, the slow obvious way: the reference the runs are
    /// checked against.
    fn by_element(dims: &[usize], axes: &[Vec<usize>]) -> Vec<u64> {
        let mut out = vec![0u64];
        for (k, axis) in axes.iter().enumerate() {
            let stride: u64 = dims[k + 1..].iter().map(|&d| d as u64).product();
            out = out
                .iter()
                .flat_map(|&base| axis.iter().map(move |&i| base + i as u64 * stride))
                .collect();
        }
        out
    }

    fn by_runs(region: &Region, local: Range<usize>) -> Vec<u64> {
        let mut out = Vec::new();
        let mut next_local = local.start;
        region.for_each_run(local, |global, first, len| {
            assert_eq!(first, next_local, "runs come in local order without gaps");
            next_local += len;
            out.extend(global..global + len as u64);
        });
        out
    }

    #[test]
    fn runs_visit_exactly_the_region_in_local_order() {
        let cases: Vec<(Vec<usize>, Vec<Vec<usize>>)> = vec![
            (vec![7, 5], vec![vec![2, 3, 4], vec![0, 1, 2, 3, 4]]), // rows
            (vec![7, 5], vec![(0..7).collect(), vec![3, 4]]),       // columns
            (vec![4, 6], vec![vec![1, 3], vec![0, 2, 3, 5]]),       // strided, both axes
            (vec![3, 4, 5], vec![vec![2], vec![1, 2], vec![4, 0]]), // out of order
            (vec![9], vec![vec![6, 7, 8]]),                         // 1-D
            (vec![5, 3], vec![vec![], vec![0, 1, 2]]),              // an empty shard
        ];
        for (dims, axes) in cases {
            let region = Region::new(&dims, axes.clone()).unwrap();
            let want = by_element(&dims, &axes);
            assert_eq!(region.len(), want.len());
            assert_eq!(by_runs(&region, 0..region.len()), want, "{dims:?} {axes:?}");
            // Drawn in pieces of every size, the same elements.
            for piece in 1..=region.len().max(1) {
                let mut got = Vec::new();
                let mut start = 0;
                while start < region.len() {
                    let end = (start + piece).min(region.len());
                    got.extend(by_runs(&region, start..end));
                    start = end;
                }
                assert_eq!(got, want, "{dims:?} {axes:?} in pieces of {piece}");
            }
        }
    }

    #[test]
    fn gather_takes_the_region_out_of_the_whole() {
        let dims = [4, 6];
        let whole: Vec<u32> = (0..24).collect();
        let region = Region::new(&dims, vec![vec![3, 0], vec![5, 1, 2]]).unwrap();
        let mut out = vec![0u32; region.len()];
        region.gather(&whole, &mut out);
        assert_eq!(out, [23, 19, 20, 5, 1, 2]);
        assert!(Region::whole(&dims).is_whole());
        assert!(!region.is_whole());
    }

    #[test]
    fn bad_regions_are_refused_in_one_line() {
        let e = Region::new(&[4, 6], vec![vec![0]]).unwrap_err();
        assert!(e.contains("1 axes") && e.contains("4x6"), "{e}");
        let e = Region::new(&[4, 6], vec![vec![0], vec![6]]).unwrap_err();
        assert!(e.contains("index 6 on axis 1"), "{e}");
    }
}
