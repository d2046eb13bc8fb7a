//! Text tables' label columns: as wide as their longest cell (and their header), so a long
//! scenario name, sweep configuration or voting-rule label never pushes the other columns out
//! of line, and no label is cut. (Two functions: a table crate would bring a layout engine for
//! what is a maximum over a column.)

/// The width of a column holding `header` and `cells`, in characters (what `{:<w$}` pads).
pub fn width<S: AsRef<str>>(header: &str, cells: impl IntoIterator<Item = S>) -> usize {
    cells
        .into_iter()
        .map(|c| c.as_ref().chars().count())
        .fold(header.chars().count(), usize::max)
}

/// `cells` padded on the left to one width: the column of `header` and `cells`, at least
/// `min` (a numeric column keeps its usual width when its cells are short).
pub fn right_aligned(header: &str, cells: &[String], min: usize) -> (String, Vec<String>) {
    let w = width(header, cells).max(min);
    (
        format!("{header:>w$}"),
        cells.iter().map(|c| format!("{c:>w$}")).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_is_as_wide_as_its_longest_cell_or_its_header() {
        let long = "x".repeat(60);
        assert_eq!(width("configuration", ["base", long.as_str()]), 60);
        assert_eq!(width("configuration", ["base"]), 13);
        assert_eq!(width("rule", Vec::<String>::new()), 4);
        // Characters, not bytes: what the formatter pads.
        assert_eq!(width("", ["\u{b1}\u{b1}"]), 2);
        let (h, cells) = right_aligned("rates %", &["10/20/30/40/50/60/70".into()], 10);
        assert_eq!((h.len(), cells[0].len()), (20, 20));
        let (h, cells) = right_aligned("rates %", &["10/20".into()], 10);
        assert_eq!(
            (h.as_str(), cells[0].as_str()),
            ("   rates %", "     10/20")
        );
    }
}
