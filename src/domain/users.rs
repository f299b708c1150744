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

/// Checks a name (a site's, a user's): present, at most `max` characters, no control or
/// direction characters. The message names `what` and the fix.
pub fn check_name(what: &str, value: &str, max: usize) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("the {what} is empty; give one"));
    }
    if value.chars().count() > max {
        return Err(format!(
            "the {what} is longer than {max} characters; shorten it"
        ));
    }
    if let Some(message) =
        crate::domain::format::forbidden_message(&format!("the {what}"), value, false)
    {
        return Err(message);
    }
    Ok(())
}

/// The longest site name (the design document's `sites.name`).
pub const SITE_NAME_MAX: usize = 100;

/// Checks a new site's name (already trimmed).
pub fn check_site_name(name: &str) -> Result<(), String> {
    check_name("site name", name, SITE_NAME_MAX)
}

/// Checks a new user's name (already trimmed): up to 50 characters, one word.
pub fn check_username(username: &str) -> Result<(), String> {
    check_name("username", username, 50)?;
    if username.chars().any(char::is_whitespace) {
        return Err(format!(
            "the username {username:?} contains spaces; use one word such as j.smith"
        ));
    }
    Ok(())
}

/// Checks an email address (already trimmed): up to 100 characters, with an @ after something.
pub fn check_email(email: &str) -> Result<(), String> {
    if let Some(message) = crate::domain::format::forbidden_message("the email", email, false) {
        return Err(message);
    }
    if email.chars().count() > 100 || !email.contains('@') || email.starts_with('@') {
        return Err(format!(
            "{email:?} is not an email address (up to 100 characters, with an @)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod check_tests {
    use super::*;

    #[test]
    fn names_and_emails_are_checked_with_the_fix_in_the_message() {
        assert!(check_site_name("Harbor Street Office").is_ok());
        assert!(check_site_name("").unwrap_err().contains("empty"));
        assert!(
            check_site_name(&"x".repeat(101))
                .unwrap_err()
                .contains("100")
        );
        assert!(check_username("j.smith").is_ok());
        assert!(check_username("j smith").unwrap_err().contains("one word"));
        assert!(check_username(&"x".repeat(51)).unwrap_err().contains("50"));
        assert!(check_email("a@example.org").is_ok());
        assert!(
            check_email("example.org")
                .unwrap_err()
                .contains("not an email")
        );
        assert!(check_email("@example.org").is_err());
        assert!(check_email("a\u{1b}@example.org").is_err());
    }
}
