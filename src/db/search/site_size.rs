//! Which sites are small enough to walk for a short prefix ([`walk_small_site`]), remembered
//! per process for a minute in [`SiteSizes`].

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use sqlx::PgConnection;

use super::candidates::Text;

/// Sites with at most this many live rows are "small" for [`walk_small_site`].
pub const SMALL_SITE_ROWS: i64 = 2000;
/// How long a site's size is remembered.
const SITE_SIZE_TTL: Duration = Duration::from_secs(60);

/// Whether the tsquery text has a prefix term of at most three characters (`'ho':*`).
pub(super) fn has_short_prefix(tsquery: &str) -> bool {
    let mut chars = tsquery.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut len = 0;
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    break;
                }
            }
            len += 1;
        }
        let prefix = chars.peek() == Some(&':') && {
            let rest: String = chars.clone().take(3).collect();
            rest.starts_with(":*") || rest.contains('*')
        };
        if prefix && len <= 3 {
            return true;
        }
    }
    false
}

/// A short prefix (`h`, `ho`, `hot` as typed) expands in the `(site_id, search_vector)` index
/// to every lexeme of the whole table that starts with it, whatever the site: on a small site
/// a 2-letter prefix read more index pages than the site has rows (BENCHMARKS.md has the
/// figures). Walking the site's own rows is cheaper there, so such texts are matched with a
/// function no index serves and the plan walks the site. Whether a site is
/// small ([`SMALL_SITE_ROWS`]) is counted once a minute per process; a stale answer costs time,
/// never results.
pub(crate) async fn walk_small_site(
    conn: &mut PgConnection,
    sizes: &SiteSizes,
    site_id: i32,
    texts: [&mut Text; 2],
) -> Result<(), sqlx::Error> {
    let short = |t: &Text| t.matches.as_deref().is_some_and(has_short_prefix);
    if !texts.iter().any(|t| short(t)) {
        return Ok(());
    }
    if sizes.is_small(conn, site_id).await? {
        for t in texts {
            t.walk = short(t);
        }
    }
    Ok(())
}

/// Which sites are small ([`SMALL_SITE_ROWS`]), as counted within the last `ttl`. The Finder
/// and the CLI share one per process ([`SiteSizes::shared`]); tests can make their own.
#[derive(Debug)]
pub struct SiteSizes {
    ttl: Duration,
    known: Mutex<HashMap<i32, (bool, Instant)>>,
}

impl SiteSizes {
    /// An empty cache that remembers a size for `ttl`.
    pub fn new(ttl: Duration) -> SiteSizes {
        SiteSizes {
            ttl,
            known: Mutex::default(),
        }
    }

    /// The process's cache (sizes remembered for a minute).
    pub fn shared() -> &'static SiteSizes {
        static SHARED: OnceLock<SiteSizes> = OnceLock::new();
        SHARED.get_or_init(|| SiteSizes::new(SITE_SIZE_TTL))
    }

    fn remembered(&self, site_id: i32) -> Option<bool> {
        self.known
            .lock()
            .ok()
            .and_then(|m| m.get(&site_id).copied())
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(small, _)| small)
    }

    /// Whether the site has at most [`SMALL_SITE_ROWS`] live rows (that this session can
    /// read), counted at most once per `ttl`.
    pub async fn is_small(&self, conn: &mut PgConnection, site_id: i32) -> sqlx::Result<bool> {
        if let Some(small) = self.remembered(site_id) {
            return Ok(small);
        }
        crate::db::pool::enter_site(&mut *conn, site_id).await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM interactions \
              WHERE site_id = $1 AND deleted_at IS NULL LIMIT $2) s",
        )
        .bind(site_id)
        .bind(SMALL_SITE_ROWS + 1)
        .fetch_one(&mut *conn)
        .await?;
        // A site this user cannot read counts 0: not remembered, so it says nothing about
        // the site for anyone else in this process.
        if n > 0
            && let Ok(mut m) = self.known.lock()
        {
            m.insert(site_id, (n <= SMALL_SITE_ROWS, Instant::now()));
        }
        Ok(n <= SMALL_SITE_ROWS)
    }
}

/// Whether a search of `site_id` for the normalised tsquery text `matches` walks the site's
/// rows instead of using the text index (see [`walk_small_site`]); for the benchmark's raw side,
/// which must send the statement the app sends.
pub async fn walks(
    conn: &mut PgConnection,
    site_id: i32,
    matches: Option<&str>,
) -> Result<bool, sqlx::Error> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    let mut text = Text {
        matches: matches.map(str::to_string),
        ..Text::default()
    };
    let mut none = Text::default();
    walk_small_site(conn, SiteSizes::shared(), site_id, [&mut text, &mut none]).await?;
    Ok(text.walk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_prefixes_are_found() {
        assert!(has_short_prefix("'ho':*"));
        assert!(has_short_prefix("'meet' & 'c':*"));
        assert!(has_short_prefix("'o''b':*"));
        assert!(!has_short_prefix("'hote':*"));
        assert!(!has_short_prefix("'ho'"));
        assert!(!has_short_prefix("'ho' <-> 'tel'"));
        assert!(!has_short_prefix(""));
    }
}
