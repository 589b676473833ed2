//! Aligned text tables for `schemes` and `probe`.

/// Rows of cells as aligned text: every column but the last padded to its widest cell
/// (counted in characters: cells may hold non-ASCII symbols) plus two spaces.
pub(crate) fn text_table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (k, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if k + 1 < row.len() {
                line.extend(std::iter::repeat_n(
                    ' ',
                    widths[k] - cell.chars().count() + 2,
                ));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
