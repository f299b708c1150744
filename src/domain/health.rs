//! The database dashboard's lines: a value, a plain verdict and the threshold behind it
//! (`crate::db::health` measures them).

use serde::Serialize;

/// How a check stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Degraded,
    Critical,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Degraded => "degraded",
            Verdict::Critical => "critical",
        }
    }
}

/// One line of the dashboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub value: String,
    pub verdict: Verdict,
    /// When the verdict changes, in words.
    pub threshold: String,
}
