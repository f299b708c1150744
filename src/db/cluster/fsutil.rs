//! File-system helpers for the embedded cluster: who can reach a directory, creating directories
//! owned by the server's OS user, and paths PostgreSQL's configuration can carry.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Uid};

use super::ClusterError;

/// The OS user the server runs as when ifind itself runs as root.
#[derive(Clone, Debug)]
pub(super) struct RunAs {
    pub name: String,
    pub uid: Uid,
    pub gid: Gid,
    pub home: PathBuf,
    /// The primary group plus the supplementary groups.
    pub groups: Vec<Gid>,
}

/// The first existing ancestor of `dir` (not `dir` itself) that `user` cannot search, if any.
/// Missing ancestors do not block: ifind creates them and hands them to the user. The check
/// follows the kernel's rule: the owner bits apply to the owner, else the group bits to group
/// members, else the other bits.
pub(super) fn first_blocker(dir: &Path, user: &RunAs) -> Option<PathBuf> {
    let mut ancestors: Vec<&Path> = dir.ancestors().skip(1).collect();
    ancestors.reverse();
    for ancestor in ancestors {
        let meta = match fs::metadata(ancestor) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(_) => return Some(ancestor.to_path_buf()),
        };
        if !meta.is_dir() || !searchable(&meta, user) {
            return Some(ancestor.to_path_buf());
        }
    }
    None
}

fn searchable(meta: &fs::Metadata, user: &RunAs) -> bool {
    let mode = meta.mode();
    if meta.uid() == user.uid.as_raw() {
        mode & 0o100 != 0
    } else if user.groups.iter().any(|g| g.as_raw() == meta.gid()) {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// Creates `dir` and any missing ancestors. Directories created here, and `dir` itself, are
/// owned by `owner` (when ifind runs as root); `dir` gets `mode`.
pub(super) fn ensure_dir(dir: &Path, owner: Option<&RunAs>, mode: u32) -> Result<(), ClusterError> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|p| !p.exists()).collect();
    for path in missing.iter().rev() {
        match fs::create_dir(path) {
            Ok(()) => {}
            // Another process may create it at the same moment.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error("create the directory", path, e)),
        }
        chown_to(path, owner)?;
    }
    if let Some(user) = owner {
        let meta = fs::metadata(dir).map_err(|e| io_error("inspect", dir, e))?;
        if meta.uid() != user.uid.as_raw() || meta.gid() != user.gid.as_raw() {
            chown_to(dir, owner)?;
        }
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(mode))
        .map_err(|e| io_error("set the permissions of", dir, e))
}

/// Hands `path` to `owner`, if ifind runs as root.
pub(super) fn chown_to(path: &Path, owner: Option<&RunAs>) -> Result<(), ClusterError> {
    match owner {
        Some(user) => {
            std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(|e| io_error("change the owner of", path, e))
        }
        None => Ok(()),
    }
}

/// Writes `contents` to `path` (if it differs) and hands the file to `owner`.
pub(super) fn write_owned(
    path: &Path,
    contents: &str,
    owner: Option<&RunAs>,
) -> Result<(), ClusterError> {
    if fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    fs::write(path, contents).map_err(|e| io_error("write", path, e))?;
    chown_to(path, owner)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .map_err(|e| io_error("set the permissions of", path, e))
}

/// True if `path` contains a character that PostgreSQL's configuration or pg_ctl's shell
/// command line cannot carry safely.
pub(super) fn is_unsafe_path(path: &Path) -> bool {
    let text = path.to_string_lossy();
    matches!(text, std::borrow::Cow::Owned(_))
        || text
            .chars()
            .any(|c| c.is_control() || matches!(c, '\'' | '"' | ',' | '\\' | '$' | '`'))
}

/// True if `dir` exists and holds at least one entry.
pub(super) fn is_non_empty_dir(dir: &Path) -> Result<bool, ClusterError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error("list", dir, e)),
    }
}

/// The last `lines` lines a text file gained after it was `since` bytes long (the last lines
/// of the whole file if it gained none), or a note saying why there are none.
pub(super) fn tail(path: &Path, since: u64, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let start = usize::try_from(since).unwrap_or(0);
            let fresh = bytes
                .get(start..)
                .filter(|b| !b.is_empty())
                .unwrap_or(&bytes);
            let text = String::from_utf8_lossy(fresh);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(could not read {}: {e})", path.display()),
    }
}

pub(super) fn io_error(action: &'static str, path: &Path, err: io::Error) -> ClusterError {
    ClusterError::Io {
        action,
        path: path.to_path_buf(),
        err,
    }
}
