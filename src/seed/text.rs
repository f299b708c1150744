//! Free text for descriptions and notes: words from a large English vocabulary drawn with a
//! Zipf-like frequency skew, so that some words are common, many medium and many rare.

use rand::Rng;

use super::lists;

const WORDS_FILE: &str = include_str!("../../assets/words.txt");

/// Zipf exponent of word frequencies. With about 70 drawn words per row, at a million rows the
/// most frequent content words match 100k+ rows, ranks in the thousands match hundreds to
/// thousands, and the tail of the vocabulary matches tens.
const WORD_EXPONENT: f64 = 1.1;

/// A discrete distribution over `0..n` with weights `1 / (rank + 1)^s`, sampled by binary search
/// over cumulative integer weights (integers keep the draws identical across platforms once the
/// table is built).
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<u64>,
}

impl Zipf {
    /// A Zipf distribution over `n` ranks (at least one) with exponent `s`.
    pub fn new(n: usize, s: f64) -> Zipf {
        let n = n.max(1);
        let mut cumulative = Vec::with_capacity(n);
        let mut total = 0u64;
        for rank in 0..n {
            let w = 1e12 / ((rank + 1) as f64).powf(s);
            total += (w.round() as u64).max(1);
            cumulative.push(total);
        }
        Zipf { cumulative }
    }

    /// Draws a rank in `0..n`; rank 0 is the most likely.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let x = rng.gen_range(0..total);
        self.cumulative.partition_point(|&c| c <= x)
    }
}

/// The vocabulary, most frequent first, with its frequency distribution.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    words: Vec<&'static str>,
    zipf: Zipf,
}

impl Vocabulary {
    /// Loads the embedded word list.
    pub fn load() -> Vocabulary {
        let words: Vec<&'static str> = WORDS_FILE
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let zipf = Zipf::new(words.len(), WORD_EXPONENT);
        Vocabulary { words, zipf }
    }

    /// The word of a frequency rank (0 is the most frequent).
    pub fn word(&self, rank: usize) -> &'static str {
        self.words.get(rank).copied().unwrap_or("note")
    }

    /// Draws one word.
    pub fn draw<R: Rng>(&self, rng: &mut R) -> &'static str {
        self.word(self.zipf.sample(rng))
    }

    /// Appends one sentence of `n` drawn words, capitalised, with an occasional comma.
    fn sentence<R: Rng>(&self, rng: &mut R, n: usize, out: &mut String) {
        let mut previous = "";
        for i in 0..n {
            // No word twice in a row ("the the"): the most frequent words would do it often.
            let mut w = self.draw(rng);
            while w == previous {
                w = self.draw(rng);
            }
            previous = w;
            if i == 0 {
                let mut chars = w.chars();
                if let Some(c) = chars.next() {
                    out.extend(c.to_uppercase());
                    out.push_str(chars.as_str());
                }
            } else {
                out.push(' ');
                out.push_str(w);
            }
            if i + 1 < n && i >= 3 && rng.gen_ratio(1, 9) {
                out.push(',');
            }
        }
        out.push('.');
    }

    /// Appends a paragraph of `sentences` sentences: mostly drawn words, some stock phrases and
    /// mentions of `topic`.
    pub fn paragraph<R: Rng>(&self, rng: &mut R, sentences: usize, topic: &str, out: &mut String) {
        for i in 0..sentences {
            if i > 0 {
                out.push(' ');
            }
            match rng.gen_range(0..10) {
                0 => out.push_str(lists::SENTENCES[rng.gen_range(0..lists::SENTENCES.len())]),
                1 => {
                    out.push_str("Discussed ");
                    out.push_str(topic);
                    out.push_str(" and ");
                    let n = rng.gen_range(3..9);
                    let mut rest = String::new();
                    self.sentence(rng, n, &mut rest);
                    out.push_str(&rest.to_lowercase());
                }
                _ => {
                    let n = rng.gen_range(5..15);
                    self.sentence(rng, n, out);
                }
            }
        }
    }

    /// A description: from one sentence to several paragraphs.
    pub fn description<R: Rng>(&self, rng: &mut R, topic: &str) -> String {
        let mut out = String::new();
        let (paragraphs, per) = match rng.gen_range(0..100) {
            0..=39 => (1, rng.gen_range(1..3)),
            40..=84 => (1, rng.gen_range(3..6)),
            85..=96 => (rng.gen_range(2..4), rng.gen_range(3..6)),
            _ => (rng.gen_range(4..7), rng.gen_range(3..7)),
        };
        for p in 0..paragraphs {
            if p > 0 {
                out.push_str("\n\n");
            }
            self.paragraph(rng, per, topic, &mut out);
        }
        out
    }

    /// Notes: short, one to four sentences.
    pub fn notes<R: Rng>(&self, rng: &mut R, topic: &str) -> String {
        let mut out = String::new();
        let n = rng.gen_range(1..5);
        self.paragraph(rng, n, topic, &mut out);
        out
    }
}
