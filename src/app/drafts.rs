//! Drafts: what a person typed into the form, kept in a local file as they type, so that a
//! crash, a kill or a lost terminal never loses it. The next start on the same site offers it
//! back. One draft per form: each form has its own id ([`Draft::form_id`]), so two windows of
//! the same user on the same site never write over each other's draft, a save in one removes
//! only its own, and after a crash every unsaved draft is offered. A successful save or an
//! explicit "discard" removes the form's draft.
//!
//! Files are written whole to a temporary name and renamed into place, so a kill in the middle of
//! a write leaves the previous draft, never half of one. They are readable by their owner only:
//! notes can be confidential.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::form::FormTarget;
use crate::domain::interaction::InteractionInput;

/// The unsaved content of one form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// The user who typed it: only they are offered it.
    pub user: String,
    pub site_id: i32,
    /// The site's name when the draft was written, for the offer.
    pub site: String,
    /// A new interaction, or the edit of one (with the version the edit started from).
    pub target: FormTarget,
    pub input: InteractionInput,
    /// The id of the create (see [`crate::db::faults::new_client_id`]), kept so that saving
    /// the draft after a restart cannot store it a second time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// When it was last written; set by [`DraftStore::write`].
    #[serde(default)]
    pub saved_at: Option<DateTime<Utc>>,
    /// The form it belongs to (made when the form opens, kept when it is restored); empty for a
    /// draft written before drafts had one (its file is `user@site.json`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub form_id: String,
    /// For an edit, the stored version's text the edit started from: a conflict at save is
    /// merged against it. None for a new record and in drafts written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Box<InteractionInput>>,
}

/// The drafts of a user on a site, as [`DraftStore::read_all`] found them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// Oldest first.
    pub drafts: Vec<Draft>,
    /// What was wrong with files that could not be read (each moved aside, named).
    pub damaged: Vec<String>,
}

/// The directory of draft files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftStore {
    dir: PathBuf,
}

impl DraftStore {
    /// Drafts kept in `dir` (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> DraftStore {
        DraftStore { dir: dir.into() }
    }

    /// The file for `user`'s draft of form `form_id` on site `site_id`: `user@site~form.json`
    /// (`user@site.json` for a draft from before forms had ids). Any character of the name or
    /// the id that is not a plain ASCII letter, digit, `_` or `-` is written as its code, so
    /// every draft maps to its own file and none can leave the directory.
    pub fn path(&self, user: &str, site_id: i32, form_id: &str) -> PathBuf {
        let prefix = Self::prefix(user, site_id);
        if form_id.is_empty() {
            self.dir.join(format!("{prefix}.json"))
        } else {
            self.dir.join(format!("{prefix}~{}.json", encoded(form_id)))
        }
    }

    /// What the file names of `user`'s drafts on `site_id` start with.
    fn prefix(user: &str, site_id: i32) -> String {
        format!("{}@{site_id}", encoded(user))
    }

    /// Writes `draft` (stamped with `now`) in place of any earlier one for its user and site.
    pub fn write(&self, draft: &Draft, now: DateTime<Utc>) -> std::io::Result<()> {
        let mut draft = draft.clone();
        draft.saved_at = Some(now);
        let json = serde_json::to_vec_pretty(&draft).map_err(std::io::Error::other)?;
        // The folder is 0700 and the file 0600 (see `crate::private_files`).
        crate::private_files::ensure_private_dir(&self.dir)?;
        let path = self.path(&draft.user, draft.site_id, &draft.form_id);
        crate::private_files::write_private(&path, &json)
    }

    /// Every draft of `user` on site `site_id`, oldest first. A file that cannot be understood
    /// is moved aside whole (see [`DraftStore::read`]) and said in [`Found::damaged`].
    pub fn read_all(&self, user: &str, site_id: i32) -> Result<Found, String> {
        let prefix = Self::prefix(user, site_id);
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::default()),
            Err(e) => return Err(unreadable(&self.dir, &e.to_string())),
        };
        let mut found = Found::default();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(rest) = name.strip_prefix(&prefix) else {
                continue;
            };
            let form_id = match rest.strip_suffix(".json") {
                Some("") => String::new(),
                Some(id) if id.starts_with('~') => id[1..].to_string(),
                _ => continue,
            };
            match self.read_file(&entry.path(), user, site_id, &form_id) {
                Ok(Some(draft)) => found.drafts.push(draft),
                Ok(None) => {}
                Err(message) => found.damaged.push(message),
            }
        }
        found.drafts.sort_by_key(|d| d.saved_at);
        Ok(found)
    }

    /// The draft of `user` on site `site_id`, if there is one. A file that cannot be understood
    /// is moved aside whole (beside it, `.damaged-<time>` added to its name), so that the next
    /// form's draft cannot overwrite it, and is an error naming where it went.
    pub fn read(&self, user: &str, site_id: i32, form_id: &str) -> Result<Option<Draft>, String> {
        self.read_file(&self.path(user, site_id, form_id), user, site_id, form_id)
    }

    fn read_file(
        &self,
        path: &Path,
        user: &str,
        site_id: i32,
        form_id: &str,
    ) -> Result<Option<Draft>, String> {
        let path = path.to_path_buf();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unreadable(&path, &e.to_string())),
        };
        let draft: Draft = match serde_json::from_slice(&bytes) {
            Ok(draft) => draft,
            Err(e) => return Err(move_aside(&path, &e.to_string())),
        };
        if draft.user != user || draft.site_id != site_id || draft.form_id != form_id {
            return Ok(None);
        }
        Ok(Some(draft))
    }

    /// Removes the draft of form `form_id` of `user` on site `site_id`; a draft that is not
    /// there is fine.
    pub fn remove(&self, user: &str, site_id: i32, form_id: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(user, site_id, form_id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Moves the damaged draft at `path` aside and says where it is now (or, if it cannot be
/// moved, that it was left in place).
fn move_aside(path: &Path, why: &str) -> String {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".damaged-{stamp}"));
    let aside = PathBuf::from(aside);
    match std::fs::rename(path, &aside) {
        Ok(()) => format!(
            "a saved draft cannot be read ({why}); it was moved whole to {}: open it in an \
             editor to rescue the text, then delete it",
            aside.display()
        ),
        Err(e) => format!(
            "{}; moving it aside failed too ({e})",
            unreadable(path, why)
        ),
    }
}

/// `text` with every character that is not a plain ASCII letter, digit, `_` or `-` written as
/// `%` and its code.
fn encoded(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            out.push(c);
        } else {
            out.push_str(&format!("%{:x}", u32::from(c)));
        }
    }
    out
}

fn unreadable(path: &Path, why: &str) -> String {
    format!(
        "a saved draft in {} cannot be read ({why}); it was left there, open it in an editor to \
         rescue the text, then delete it",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::drafts::erase_name;

    fn draft(user: &str) -> Draft {
        Draft {
            user: user.into(),
            site_id: 7,
            site: "Leeds".into(),
            target: FormTarget::Edit {
                interaction_id: 12,
                version: 3,
            },
            input: InteractionInput {
                title: "Budget call".into(),
                notes: "line one\nline two\n".into(),
                ..InteractionInput::default()
            },
            client_id: None,
            saved_at: None,
            form_id: String::new(),
            base: None,
        }
    }

    #[test]
    fn a_draft_round_trips_and_is_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = DraftStore::new(dir.path().join("drafts"));
        assert_eq!(store.read("maria", 7, ""), Ok(None));
        let now = DateTime::UNIX_EPOCH;
        store.write(&draft("maria"), now).expect("write");
        let back = store.read("maria", 7, "").expect("read").expect("a draft");
        assert_eq!(back.input, draft("maria").input);
        assert_eq!(back.target, draft("maria").target);
        assert_eq!(back.saved_at, Some(now));
        assert_eq!(
            store.read("maria", 8, ""),
            Ok(None),
            "another site has none"
        );
        assert_eq!(store.read("tom", 7, ""), Ok(None), "another user has none");
        store.remove("maria", 7, "").expect("remove");
        assert_eq!(store.read("maria", 7, ""), Ok(None));
        store
            .remove("maria", 7, "")
            .expect("removing twice is fine");
    }

    #[test]
    fn erasure_rewrites_the_name_in_every_draft_and_nothing_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = DraftStore::new(dir.path().join("ifind_db"));
        let mut d = draft("maria");
        d.input.lead = "Zebulon Quist".into();
        d.input.notes = "Call zebulon quist back; Zebulon Quistes is someone else".into();
        store.write(&d, DateTime::UNIX_EPOCH).expect("write");
        let other = DraftStore::new(dir.path().join("other_db"));
        other
            .write(&draft("tom"), DateTime::UNIX_EPOCH)
            .expect("write");
        let n = erase_name(dir.path(), "Zebulon Quist", "[erased]").expect("erase");
        assert_eq!(n, 1);
        let back = store
            .read("maria", 7, "")
            .expect("read")
            .expect("still a draft");
        assert_eq!(back.input.lead, "[erased]");
        assert_eq!(
            back.input.notes,
            "Call [erased] back; Zebulon Quistes is someone else"
        );
        assert_eq!(back.user, "maria");
        let untouched = other.read("tom", 7, "").expect("read").expect("a draft");
        assert_eq!(untouched.input, draft("tom").input);
        assert_eq!(
            erase_name(&dir.path().join("none"), "x y z", "[erased]").expect("no dir"),
            0
        );
    }

    #[test]
    fn names_cannot_escape_or_collide() {
        let store = DraftStore::new("/d");
        let a = store.path("../etc/x", 1, "");
        assert_eq!(a.parent(), Some(Path::new("/d")));
        assert_ne!(store.path("a.b", 1, ""), store.path("a%2eb", 1, ""));
        assert_ne!(store.path("ana", 1, ""), store.path("ana", 2, ""));
    }

    #[test]
    fn a_damaged_draft_is_moved_aside_whole_and_its_new_path_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = DraftStore::new(dir.path());
        std::fs::write(store.path("maria", 7, ""), b"{ half a dra").expect("write");
        let err = store.read("maria", 7, "").expect_err("damaged");
        let moved: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(moved.len(), 1, "{moved:?}");
        let aside = moved[0].to_str().expect("utf-8").to_string();
        assert!(aside.contains("maria@7.json.damaged-"), "{aside}");
        assert!(err.contains(&aside), "the full path is named: {err}");
        assert_eq!(std::fs::read(&moved[0]).expect("read"), b"{ half a dra");
        // The next form's draft goes to the usual file and leaves the damaged one alone.
        let mut next = draft("maria");
        next.input.title = "New text".into();
        store.write(&next, Utc::now()).expect("write");
        assert_eq!(std::fs::read(&moved[0]).expect("read"), b"{ half a dra");
        assert!(store.read("maria", 7, "").expect("readable").is_some());
    }

    #[cfg(unix)]
    #[test]
    fn drafts_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = DraftStore::new(dir.path());
        store
            .write(&draft("maria"), DateTime::UNIX_EPOCH)
            .expect("write");
        let mode = std::fs::metadata(store.path("maria", 7, ""))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
