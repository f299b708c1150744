//! Which words of a near match are near what was typed: the typo fallback shows rows whose title
//! or lead holds a word within a few edits of a typed word (the trigram search that finds them
//! is looser: "café" was similar enough to "Catherine"), and says which words it took instead.

/// The edits (insert, delete, substitute, swap two neighbours) between `a` and `b`, by
/// character, ignoring case (optimal string alignment).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// The single-character insertions, deletions and substitutions that turn `a` into `b`
/// (Levenshtein; case counts): the "did you mean" of site names and timezones.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Whether `word` is a near spelling of `typed`: at most one edit for up to five letters, two
/// up to eight, three beyond.
pub fn is_near(typed: &str, word: &str) -> bool {
    let allowed = match typed.chars().count() {
        0 => return false,
        1..=5 => 1,
        6..=8 => 2,
        _ => 3,
    };
    edit_distance(typed, word) <= allowed
}

/// The words of `text` (letters and digits) near one of `typed`, lower-cased, in order.
pub fn near_words(typed: &[String], text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter(|w| typed.iter().any(|t| is_near(t, w)))
        .map(str::to_lowercase)
        .collect()
}

/// What the typo fallback says it did: "no match for budgte; showing similar: budget".
/// Whether `text` holds a word starting with `prefix` (any case; words are runs of letters and
/// digits).
pub fn has_word_starting(text: &str, prefix: &str) -> bool {
    let prefix = prefix.to_lowercase();
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| !w.is_empty() && w.to_lowercase().starts_with(&prefix))
}

/// The distinct words (lower-cased, in order, at most `max`) of `texts` that start with
/// `prefix`.
pub fn words_starting<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    prefix: &str,
    max: usize,
) -> Vec<String> {
    let prefix = prefix.to_lowercase();
    let mut out: Vec<String> = Vec::new();
    for text in texts {
        for w in text.split(|c: char| !c.is_alphanumeric()) {
            let w = w.to_lowercase();
            if !w.is_empty() && w.starts_with(&prefix) && !out.contains(&w) {
                if out.len() == max {
                    return out;
                }
                out.push(w);
            }
        }
    }
    out
}

pub fn announcement(typed: &[String], similar: &[String]) -> String {
    let typed = if typed.is_empty() {
        "the query".to_string()
    } else {
        typed.join(" ")
    };
    if similar.is_empty() {
        format!("no match for {typed}; showing near matches")
    } else {
        format!(
            "no match for {typed}; showing similar: {}",
            similar.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_found_by_their_start() {
        assert!(has_word_starting("Budget review", "budg"));
        assert!(has_word_starting("The follow-up", "up"));
        assert!(!has_word_starting("Rebudget", "budg"));
        assert_eq!(
            words_starting(["Budget and budgets", "BUDGET, budgeting"], "budg", 2),
            vec!["budget".to_string(), "budgets".to_string()]
        );
    }

    #[test]
    fn the_announcement_names_the_typed_and_the_similar_words() {
        let typed = vec!["budgte".to_string()];
        assert_eq!(
            announcement(&typed, &["budget".to_string()]),
            "no match for budgte; showing similar: budget"
        );
    }

    #[test]
    fn edits_count_swaps_as_one() {
        assert_eq!(edit_distance("budgte", "budget"), 1);
        assert_eq!(edit_distance("reveiw", "Review"), 1);
        assert_eq!(edit_distance("contrakt", "contract"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn near_means_a_few_edits_for_the_length() {
        assert!(is_near("budgte", "budget"));
        assert!(is_near("café", "cafe"));
        assert!(!is_near("café", "catherine"));
        assert!(!is_near("café", "meeting"));
        assert!(is_near("inspektion", "inspection"));
        assert!(!is_near("", "a"));
    }

    #[test]
    fn near_words_are_taken_from_the_text_in_order() {
        let typed = vec!["budgte".to_string(), "reveiw".to_string()];
        assert_eq!(
            near_words(&typed, "Quarterly Budget review (draft)"),
            ["budget", "review"]
        );
        assert!(near_words(&typed, "Meeting with Catherine Ahmed").is_empty());
    }
}
