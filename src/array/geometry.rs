//! Where the structured schemes put their values in an array's row-major order: the
//! per-gate blocks of a matrix view, Dirac's identity taps, the centre tap of a
//! delta-orthogonal kernel. Shared by the streams that fill them, the report and
//! `verify`, which check them.

use super::fan::Layout;

/// A weight's 2-D view split into equal blocks along its output side: PyTorch's rows
/// (oi: `out × in·k…`, so a block is `weight.chunk(K, 0)[b]`), Keras' columns (io:
/// `k…·in × out`). Each block is a matrix of its own for orthogonal's per-gate draws.
#[derive(Debug, Clone, Copy)]
pub struct OutputBlocks {
    pub rows: usize,
    pub cols: usize,
    pub blocks: usize,
    layout: Layout,
}

impl OutputBlocks {
    pub fn new((rows, cols): (usize, usize), blocks: usize, layout: Layout) -> Self {
        OutputBlocks {
            rows,
            cols,
            blocks: blocks.max(1),
            layout,
        }
    }

    /// One block's (rows, cols).
    pub fn block_dims(&self) -> (usize, usize) {
        match self.layout {
            Layout::Oi => (self.rows / self.blocks, self.cols),
            Layout::Io => (self.rows, self.cols / self.blocks),
        }
    }

    /// The view's flat index of block `b`'s element (r, c).
    pub fn index(&self, b: usize, r: usize, c: usize) -> usize {
        let (block_rows, block_cols) = self.block_dims();
        match self.layout {
            Layout::Oi => (b * block_rows + r) * self.cols + c,
            Layout::Io => r * self.cols + b * block_cols + c,
        }
    }

    /// Block `b`'s values, row-major, taken from the whole view.
    pub fn take<T: Copy>(&self, whole: &[T], b: usize) -> Vec<T> {
        let (block_rows, block_cols) = self.block_dims();
        (0..block_rows)
            .flat_map(|r| (0..block_cols).map(move |c| (r, c)))
            .map(|(r, c)| whole[self.index(b, r, c)])
            .collect()
    }

    /// Writes block `b`'s row-major values into the whole view.
    pub fn put<T: Copy>(&self, whole: &mut [T], b: usize, block: &[T]) {
        let (_, block_cols) = self.block_dims();
        for (k, &x) in block.iter().enumerate() {
            whole[self.index(b, k / block_cols, k % block_cols)] = x;
        }
    }
}

/// The row-major positions of a Dirac delta kernel's non-zero taps, ascending: as
/// PyTorch's `dirac_(w, groups)` sets them, for g < groups and d < min(out/groups, in),
/// the tap at the centre of every kernel axis (`k // 2`) linking input channel d to
/// output channel g·(out/groups) + d. In `oi` layout that is `w[g·out/G + d, d, k₁//2, …]`,
/// in `io` (k… × in × out) `w[k₁//2, …, d, g·out/G + d]`.
pub fn dirac_positions(dims: &[usize], layout: Layout, groups: usize) -> Vec<usize> {
    let rank = dims.len();
    let (out_axis, in_axis) = match layout {
        Layout::Oi => (0, 1),
        Layout::Io => (rank - 1, rank - 2),
    };
    let per_group = dims[out_axis] / groups.max(1);
    let linked = per_group.min(dims[in_axis]);
    // Row-major strides.
    let mut strides = vec![1usize; rank];
    for axis in (0..rank.saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * dims[axis + 1];
    }
    let centre: usize = (0..rank)
        .filter(|&a| a != out_axis && a != in_axis)
        .map(|a| dims[a] / 2 * strides[a])
        .sum();
    let mut positions: Vec<usize> = (0..groups)
        .flat_map(|g| (0..linked).map(move |d| (g * per_group + d, d)))
        .map(|(o, i)| centre + o * strides[out_axis] + i * strides[in_axis])
        .collect();
    positions.sort_unstable();
    positions
}

/// The channel matrix of a convolution kernel at its centre tap, as JAX's
/// `delta_orthogonal` and Xiao et al. 2018 place it: index `(k − 1) // 2` on every kernel
/// axis. Returns the matrix's (rows, cols) — (out, in) in `oi` layout, (in, out) in `io`
/// — and the row-major positions in the tensor of its entries, in the matrix's own
/// row-major order.
pub fn centre_channels(dims: &[usize], layout: Layout) -> ((usize, usize), Vec<usize>) {
    let rank = dims.len();
    let (row_axis, col_axis) = match layout {
        Layout::Oi => (0, 1),
        Layout::Io => (rank - 2, rank - 1),
    };
    let mut strides = vec![1usize; rank];
    for axis in (0..rank.saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * dims[axis + 1];
    }
    let centre: usize = (0..rank)
        .filter(|&a| a != row_axis && a != col_axis)
        .map(|a| dims[a].saturating_sub(1) / 2 * strides[a])
        .sum();
    let (rows, cols) = (dims[row_axis], dims[col_axis]);
    let positions = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .map(|(r, c)| centre + r * strides[row_axis] + c * strides[col_axis])
        .collect();
    ((rows, cols), positions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The io kernel (k… × in × out) holds the taps of the oi one (out × in × k…) at the
    /// transposed positions; with groups, output g·out/G + d links to input d.
    #[test]
    fn io_taps_are_the_oi_taps_transposed() {
        let (out, inp, kh, kw) = (8usize, 4usize, 3usize, 5usize);
        for groups in [1, 2, 4, 8] {
            let oi = dirac_positions(&[out, inp, kh, kw], Layout::Oi, groups);
            let io = dirac_positions(&[kh, kw, inp, out], Layout::Io, groups);
            let mut transposed: Vec<usize> = oi
                .iter()
                .map(|&p| {
                    let (o, rest) = (p / (inp * kh * kw), p % (inp * kh * kw));
                    let (i, rest) = (rest / (kh * kw), rest % (kh * kw));
                    let (y, x) = (rest / kw, rest % kw);
                    ((y * kw + x) * inp + i) * out + o
                })
                .collect();
            transposed.sort_unstable();
            assert_eq!(io, transposed, "groups {groups}");
            let per_group = out / groups;
            let expected: Vec<(usize, usize)> = (0..groups)
                .flat_map(|g| (0..per_group.min(inp)).map(move |d| (g * per_group + d, d)))
                .collect();
            let got: Vec<(usize, usize)> = oi
                .iter()
                .map(|&p| (p / (inp * kh * kw), p / (kh * kw) % inp))
                .collect();
            let mut expected_sorted = expected.clone();
            expected_sorted.sort_unstable();
            assert_eq!(got, expected_sorted, "groups {groups}");
            // Every tap at the kernel centre (1, 2).
            assert!(oi.iter().all(|&p| p % (kh * kw) == kw + 2));
        }
    }
}
