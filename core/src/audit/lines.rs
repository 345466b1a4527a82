//! Line numbers of byte offsets, from one scan of the text.
//!
//! Every importer that reports lines (NSC, XML plists) indexes where lines
//! start once and finds a line by binary search, so locating every element
//! of a large file is linear in its size (issue 9, item 7: counting lines
//! from the start of the file at each element was quadratic). roxmltree's
//! own `text_pos_at` rescans the text on each call.

/// Where lines start in a text.
pub(crate) struct LineIndex(Vec<usize>);

impl LineIndex {
    /// Indexes `text` (one pass).
    pub(crate) fn new(text: &str) -> Self {
        Self(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    /// The 1-based line of byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> u32 {
        self.0.partition_point(|s| *s <= offset) as u32
    }
}
