//! What the Login screen remembers between starts: the name of the last person who logged in
//! on this machine and, per person, the site they opened last. Nothing secret (no password, no
//! query, no interaction text); kept in one small file in the state folder (`login.json`, 0600
//! in a 0700 folder, written whole). Only names that logged in successfully are written, so a
//! mistyped name never reaches the disk.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The file's name in the state folder.
pub const FILE_NAME: &str = "login.json";

/// The remembered login: see the module documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    /// The last user name that logged in.
    #[serde(default)]
    pub user: Option<String>,
    /// The last site each user opened, by user name.
    #[serde(default)]
    pub sites: BTreeMap<String, String>,
}

impl Remembered {
    /// The last site `user` opened, if any.
    pub fn site_of(&self, user: &str) -> Option<&str> {
        self.sites.get(user).map(String::as_str)
    }

    /// Reads `path`; a missing, unreadable or damaged file is remembered as nothing (it only
    /// saves typing) and the reason logged.
    pub fn read(path: &Path) -> Remembered {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Remembered::default(),
            Err(e) => {
                tracing::warn!("cannot read {}: {e}; nothing is remembered", path.display());
                return Remembered::default();
            }
        };
        serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!(
                "{} is not readable ({e}); it is written anew",
                path.display()
            );
            Remembered::default()
        })
    }

    /// Writes it to `path` (0600 in a 0700 folder, whole or not at all).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        crate::private_files::write_private(path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_survives_a_write_and_a_read_and_a_damaged_file_is_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state").join(FILE_NAME);
        assert_eq!(Remembered::read(&path), Remembered::default());
        let mut remembered = Remembered {
            user: Some("maria".into()),
            ..Remembered::default()
        };
        remembered.sites.insert("maria".into(), "Leeds".into());
        remembered.sites.insert("ola".into(), "Sydney".into());
        remembered.write(&path).expect("written");
        let read = Remembered::read(&path);
        assert_eq!(read, remembered);
        assert_eq!(read.site_of("ola"), Some("Sydney"));
        assert_eq!(read.site_of("nobody"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().expect("folder")), 0o700);
        }
        std::fs::write(&path, "{not json").expect("damaged");
        assert_eq!(Remembered::read(&path), Remembered::default());
    }
}
