//! Files only their owner may read: the log, drafts and the last site live in folders that are
//! 0700 and are themselves 0600, whatever the umask.
//!
//! A folder ifind creates is made 0700 (and set so explicitly afterwards, as a umask can only
//! take bits away from what `mkdir` asks for, never add any). An existing folder that others may
//! read or enter is tightened to 0700 when the running user owns it; a folder someone else owns
//! is left as it is (it is theirs to set). Files are opened without following a symbolic link at
//! their own name, so a planted link cannot redirect a write.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};

/// The mode of a private folder.
pub const DIR_MODE: u32 = 0o700;
/// The mode of a private file.
pub const FILE_MODE: u32 = 0o600;

#[cfg(unix)]
fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Makes `dir` a private folder: creates it and any missing parent as 0700 (as the XDG base
/// directory specification asks), or tightens an existing one the running user owns to 0700.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let created = !dir.exists();
        if created {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(dir)?;
        }
        let meta = std::fs::metadata(dir)?;
        if !meta.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a folder",
                dir.display()
            )));
        }
        let loose = meta.mode() & 0o077 != 0;
        if meta.uid() == euid() && (created || loose) {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Opens `path` for appending as a private file: created 0600 when missing, tightened to 0600
/// when the running user owns it and it is looser; never through a symbolic link at `path`.
pub fn open_private_append(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        options
            .mode(FILE_MODE)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits());
    }
    let file = options.open(path)?;
    tighten(&file)?;
    Ok(file)
}

#[cfg(unix)]
fn tighten(file: &File) -> io::Result<()> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if meta.uid() == euid() && meta.mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_file: &File) -> io::Result<()> {
    Ok(())
}

/// Writes `bytes` to `path` as a private file in a private folder: whole, to a temporary name
/// beside it (0600, not through a link) that is then renamed into place, so a kill in the middle
/// leaves the previous content, never half of it.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_private_dir(dir)?;
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            options
                .mode(FILE_MODE)
                .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits());
        }
        let mut file = options.open(&tmp)?;
        tighten(&file)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn folders_are_created_and_tightened_to_0700() {
        let home = tempfile::tempdir().expect("temp dir");
        let dir = home.path().join("state").join("ifind");
        ensure_private_dir(&dir).expect("create");
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("loosen");
        ensure_private_dir(&dir).expect("again");
        assert_eq!(mode(&dir), 0o700, "a loose folder of ours is tightened");
    }

    #[test]
    fn files_are_0600_and_links_are_not_followed() {
        let home = tempfile::tempdir().expect("temp dir");
        let dir = home.path().join("ifind");
        let file = dir.join("last_site");
        write_private(&file, b"North\n").expect("write");
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).expect("read"), b"North\n");

        let log = dir.join("ifind.log");
        std::fs::write(&log, b"old\n").expect("plain write");
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).expect("loosen");
        let mut f = open_private_append(&log).expect("open");
        f.write_all(b"new\n").expect("append");
        assert_eq!(mode(&log), 0o600, "a loose file of ours is tightened");
        assert_eq!(std::fs::read(&log).expect("read"), b"old\nnew\n");

        let target = home.path().join("elsewhere");
        std::fs::write(&target, b"keep").expect("target");
        let link = dir.join("linked.log");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(open_private_append(&link).is_err(), "a link is refused");
        assert_eq!(std::fs::read(&target).expect("read"), b"keep");
    }
}
