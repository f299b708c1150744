//! The opaque cursor of a search's later pages: URL-safe base64 (no padding) of a small JSON
//! with the last row's sort key and a fingerprint of the search it belongs to, so that a cursor
//! used with another search is refused instead of silently skipping rows. The JSON keeps its
//! one-letter keys (cursors handed out before stay valid); the fields have names.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{SearchError, SearchRequest, Sort};

pub(super) const CURSOR_OTHER: &str =
    "the cursor belongs to another search; start from the first page";
pub(super) const CURSOR_INVALID: &str = "the cursor is not one this program made (it may have been cut short); start from the first page";

/// The cursor format written now.
pub(super) const VERSION: u8 = 2;

/// Where a search continues: the last row's sort key, and which search it belongs to.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Cursor {
    /// The format: 2 (relevance ranks by tier); 1 (before) is still read for newest and
    /// oldest, whose keys have not changed.
    #[serde(rename = "v")]
    pub(super) version: u8,
    /// Fingerprint of site, sort, archive and query text ([`fingerprint`]).
    #[serde(rename = "h")]
    pub(super) search: String,
    /// The sort actually used (relevance without text terms runs as newest); None for a
    /// position that is never encoded.
    #[serde(rename = "s", with = "sort_name")]
    pub(super) sort: Option<Sort>,
    /// Whether the relaxed prefix query was in use.
    #[serde(rename = "x")]
    pub(super) relaxed: bool,
    /// The last row's rank (its tier's weight, as PostgreSQL returned it); None outside
    /// relevance.
    #[serde(rename = "r")]
    pub(super) rank: Option<f32>,
    /// The last row's start.
    #[serde(rename = "t")]
    pub(super) start: DateTime<Utc>,
    /// The last row's id.
    #[serde(rename = "i")]
    pub(super) id: i32,
}

/// The sort as its name ("" for none), as cursors have always carried it.
mod sort_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Sort;

    pub(super) fn serialize<S: Serializer>(sort: &Option<Sort>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(sort.map_or("", Sort::as_str))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Sort>, D::Error> {
        let name = String::deserialize(d)?;
        if name.is_empty() {
            return Ok(None);
        }
        name.parse().map(Some).map_err(serde::de::Error::custom)
    }
}

impl Cursor {
    /// A position only (no search fingerprint): for continuing inside this module, never
    /// encoded.
    pub(super) fn position(rank: Option<f32>, start: DateTime<Utc>, id: i32) -> Cursor {
        Cursor {
            version: VERSION,
            search: String::new(),
            sort: None,
            relaxed: false,
            rank,
            start,
            id,
        }
    }

    pub(super) fn encode(&self) -> Option<String> {
        serde_json::to_vec(self)
            .ok()
            .map(|j| URL_SAFE_NO_PAD.encode(j))
    }

    pub(super) fn decode(text: &str, fingerprint: &str) -> Result<Cursor, SearchError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| SearchError::BadCursor(CURSOR_INVALID))?;
        let c: Cursor =
            serde_json::from_slice(&bytes).map_err(|_| SearchError::BadCursor(CURSOR_INVALID))?;
        let current = c.version == VERSION || (c.version == 1 && c.sort != Some(Sort::Relevance));
        if !current {
            return Err(SearchError::BadCursor(CURSOR_INVALID));
        }
        if c.search != fingerprint {
            return Err(SearchError::BadCursor(CURSOR_OTHER));
        }
        Ok(c)
    }
}

/// FNV-1a of the site, the sort, the archive flag and the exact query text.
pub(super) fn fingerprint(req: &SearchRequest) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let starts_from = req.starts_from.map_or(i64::MIN, |t| t.timestamp_micros());
    let parts: [&[u8]; 6] = [
        &req.site_id.to_le_bytes(),
        req.sort.as_str().as_bytes(),
        &[0],
        &[u8::from(req.archive)],
        &starts_from.to_le_bytes(),
        req.query.as_bytes(),
    ];
    // Read backwards: a byte more, so that forward cursors keep the fingerprint they had.
    let backwards: &[u8] = if req.from_end { b"\0from_end" } else { b"" };
    for b in parts.into_iter().flatten().chain(backwards) {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_cursors_are_rejected() {
        assert!(matches!(
            Cursor::decode("not base64!", "x"),
            Err(SearchError::BadCursor(CURSOR_INVALID))
        ));
        let c = Cursor {
            version: 1,
            search: "aaaa".into(),
            sort: Some(Sort::Newest),
            relaxed: false,
            rank: Some(0.1),
            start: Utc::now(),
            id: 7,
        };
        let text = c.encode().unwrap_or_default();
        assert!(Cursor::decode(&text, "aaaa").is_ok());
        assert!(matches!(
            Cursor::decode(&text, "bbbb"),
            Err(SearchError::BadCursor(CURSOR_OTHER))
        ));
    }

    #[test]
    fn cursors_handed_out_before_decode_unless_they_ranked_the_old_way() {
        // The JSON of a cursor as the one-letter fields wrote it (format 1).
        let json = r#"{"v":1,"h":"aaaa","s":"newest","x":true,"w":false,"r":null,"t":"2026-01-02T03:04:05Z","i":42}"#;
        let text = URL_SAFE_NO_PAD.encode(json);
        let c = Cursor::decode(&text, "aaaa").expect("decodes");
        assert_eq!(c.sort, Some(Sort::Newest));
        assert!(c.relaxed);
        assert_eq!((c.rank, c.id), (None, 42));
        assert_eq!(c.start.to_rfc3339(), "2026-01-02T03:04:05+00:00");
        // A relevance cursor of format 1 holds a rank of the old ranking: refused, not
        // continued at a wrong place.
        let old = URL_SAFE_NO_PAD.encode(json.replace("newest", "relevance"));
        assert!(matches!(
            Cursor::decode(&old, "aaaa"),
            Err(SearchError::BadCursor(CURSOR_INVALID))
        ));
        let unknown = URL_SAFE_NO_PAD.encode(json.replace("newest", "best"));
        assert!(matches!(
            Cursor::decode(&unknown, "aaaa"),
            Err(SearchError::BadCursor(CURSOR_INVALID))
        ));
    }
}
