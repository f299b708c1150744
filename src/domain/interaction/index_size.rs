//! How large the search index entry (`search_vector`, a `tsvector`) of an interaction can get,
//! from above: PostgreSQL refuses a `tsvector` over 1 MB ("string is too long for tsvector"),
//! which only the database would otherwise notice, without a line number. The bound counts
//! every word (letter and digit run) and every compound token (`multi-word`, a URL, an address)
//! as a lexeme of its own, 4 bytes of entry each, and 2 bytes per occurrence up to the 256
//! positions a lexeme keeps; stemming and stop words only make the real entry smaller.

use std::collections::HashMap;

/// The most a `tsvector` may hold, in bytes.
pub const MAX_INDEX_BYTES: usize = 1_048_575;

/// An upper bound of the bytes of the `tsvector` of `texts` together.
pub fn index_bytes_at_most(texts: &[&str]) -> usize {
    let mut occurrences: HashMap<String, usize> = HashMap::new();
    for text in texts {
        for chunk in text.split_whitespace() {
            let core = chunk.trim_matches(|c: char| !c.is_alphanumeric());
            let mut runs = 0;
            for run in core
                .split(|c: char| !c.is_alphanumeric())
                .filter(|r| !r.is_empty())
            {
                *occurrences.entry(run.to_lowercase()).or_default() += 1;
                runs += 1;
            }
            if runs > 1 {
                // A compound: itself, and for a URL or a path its host and path as well.
                let whole = core.to_lowercase();
                let parts = if core.contains('/') { 3 } else { 1 };
                for part in 0..parts {
                    *occurrences
                        .entry(format!("{whole}\u{0}{part}"))
                        .or_default() += 1;
                }
            }
        }
    }
    occurrences
        .iter()
        .map(|(lexeme, n)| lexeme.len() + 4 + 2 * (*n).min(256))
        .sum::<usize>()
        + 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_is_small_and_many_different_words_are_not() {
        let sentence = "The quarterly review went through the figures, and the regional \
                        office agreed to meet again in January. ";
        let prose = sentence.repeat(20_000);
        assert!(prose.len() > 2_000_000);
        assert!(index_bytes_at_most(&[&prose]) < 10_000);
        let many: Vec<String> = (0..120_000u32).map(|n| format!("w{n:07x}")).collect();
        let many = many.join(" ");
        assert!(index_bytes_at_most(&[&many]) > MAX_INDEX_BYTES);
        assert!(index_bytes_at_most(&["a multi-word http://example.org/path"]) < 200);
    }
}
