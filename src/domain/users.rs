//! A user's role at a site.

use serde::Serialize;

/// A role at one site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// The role with its article, as a sentence says it: "a viewer", "an editor", "an admin".
    pub fn with_article(self) -> &'static str {
        match self {
            Role::Viewer => "a viewer",
            Role::Editor => "an editor",
            Role::Admin => "an admin",
        }
    }

    /// Whether the role may create and edit interactions.
    pub fn may_edit(self) -> bool {
        matches!(self, Role::Editor | Role::Admin)
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A site the user may open, with the user's role there and its number of live interactions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteChoice {
    pub site_id: i32,
    pub name: String,
    /// The user's role at the site; admin for a global admin without a mapping there.
    pub role: Role,
    /// Interactions that are not deleted.
    pub interactions: i64,
}
