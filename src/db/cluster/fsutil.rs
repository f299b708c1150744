//! File-system helpers for the embedded cluster: who can reach a directory, and a directory
//! handle ([`Dir`]) through which every file of the cluster is made, read, written and removed.
//!
//! When ifind runs as root the cluster belongs to another OS user (the server's, `postgres` by
//! default), who can write everything inside the cluster's root folder. So, as root, ifind
//! - reaches the cluster root only through folders that root owns and no one else can write
//!   (world-writable ones only with the sticky bit, like /tmp), never through a symbolic link;
//! - works inside it only relative to open folder descriptors (`openat`, `O_NOFOLLOW`): a
//!   symbolic link where ifind expects a file or folder stops the start with
//!   [`ClusterError::SymlinkRefused`] naming it, before anything is changed;
//! - reads and replaces only regular files with one link, owned by root or the server's user,
//!   and writes a file by creating a new one and renaming it into place, never through the old;
//! - gives the server's user only the cluster root (and its own subfolders); folders it creates
//!   on the way to the root stay root's (mode 0711).
//!
//! Run as anyone else, the cluster is the caller's own and these checks are skipped.

use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat, renameat};
use nix::sys::stat::{FileStat, Mode, fstatat, mkdirat};
use nix::unistd::{Gid, Uid, UnlinkatFlags, geteuid, unlinkat};

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
/// Missing ancestors do not block: ifind creates them searchable by everyone (0711). The check
/// follows the kernel's rule: the owner bits apply to the owner, else the group bits to group
/// members, else the other bits. It only reads metadata.
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

const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_ISVTX: u32 = 0o1000;

/// An open folder of the cluster, and the rules for what is done inside it.
#[derive(Debug)]
pub(super) struct Dir {
    fd: OwnedFd,
    path: PathBuf,
    /// Some when ifind runs as root: the server's OS user, and every check applies.
    owner: Option<RunAs>,
}

/// The names of the plain absolute path `root`, from the top (an error names a `.` or `..`).
fn plain_components(root: &Path) -> Result<Vec<&std::ffi::OsStr>, ClusterError> {
    root.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(Ok(name)),
            Component::RootDir => None,
            _ => Some(Err(())),
        })
        .collect::<Result<_, ()>>()
        .map_err(|()| ClusterError::UnsafeEntry {
            path: root.to_path_buf(),
            problem: "is not a plain absolute path (it has `.` or `..` in it)".to_string(),
        })
}

impl Dir {
    /// Opens the cluster root `root` (absolute). With `create`, makes it (and any missing
    /// ancestor) first; as root the ancestors ifind makes stay root's (0711) and only the root
    /// itself is handed to the server's user (0700). Ok(None): it does not exist (`create` off).
    pub fn open_root(
        root: &Path,
        owner: Option<&RunAs>,
        create: bool,
    ) -> Result<Option<Dir>, ClusterError> {
        let Some(user) = owner else {
            return Self::open_root_as_owner(root, create);
        };
        let names = plain_components(root)?;
        let Some(last) = names.len().checked_sub(1) else {
            return Err(ClusterError::UnsafeEntry {
                path: root.to_path_buf(),
                problem: "is the file-system root".to_string(),
            });
        };
        let slash = Path::new("/");
        let fd = openat(None, slash, dir_flags(true), Mode::empty())
            .map_err(|e| errno_error("open", slash, e))?;
        // SAFETY: openat returned a new descriptor that nothing else owns.
        let mut dir = Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: slash.to_path_buf(),
            owner: Some(user.clone()),
        };
        dir.check_trusted_ancestor()?;
        for (i, name) in names.iter().enumerate() {
            let name = Path::new(name);
            let path = dir.path.join(name);
            let is_root = i == last;
            let created = match dir.lstat(name)? {
                Some(_) => false,
                None if !create => return Ok(None),
                None => {
                    let mode = if is_root { 0o700 } else { 0o711 };
                    match mkdirat(
                        Some(dir.fd.as_raw_fd()),
                        name,
                        Mode::from_bits_truncate(mode),
                    ) {
                        Ok(()) => true,
                        // Another ifind process made it at the same moment.
                        Err(Errno::EEXIST) => false,
                        Err(e) => return Err(errno_error("create the directory", &path, e)),
                    }
                }
            };
            let next = dir.open_subdir(name)?;
            if is_root {
                next.claim_root(path, user, create)?;
            } else {
                if created {
                    // Whatever the umask: the server's user must be able to pass through.
                    next.set_mode(0o711)?;
                }
                next.check_trusted_ancestor()?;
            }
            dir = next;
        }
        Ok(Some(dir))
    }

    /// The cluster's own folder, just opened as `path`: the server's user owns it, mode 0700
    /// (made so only with `create`, when starting; status and stop change nothing). A folder of
    /// root's becomes the cluster's only if it holds nothing else.
    fn claim_root(&self, path: PathBuf, user: &RunAs, create: bool) -> Result<(), ClusterError> {
        let meta = self.metadata()?;
        if meta.uid() != user.uid.as_raw() {
            if meta.uid() != geteuid().as_raw() {
                return Err(ClusterError::UnsafeEntry {
                    path,
                    problem: format!(
                        "is owned by uid {}, neither root nor OS user {}",
                        meta.uid(),
                        user.name
                    ),
                });
            }
            // Say embedded.data_dir names a folder with other files in it.
            if let Some(other) = self.first_foreign_entry()? {
                return Err(ClusterError::UnsafeEntry {
                    path,
                    problem: format!(
                        "is root's and holds {other}, which is not the embedded cluster's, \
                         so ifind will not give it to OS user {}",
                        user.name
                    ),
                });
            }
            if create {
                self.chown_to_server()?;
            }
        }
        if create && meta.mode() & 0o7777 != 0o700 {
            self.set_mode(0o700)?;
        }
        Ok(())
    }

    /// The cluster root of a cluster that runs as the caller: no ownership rules.
    fn open_root_as_owner(root: &Path, create: bool) -> Result<Option<Dir>, ClusterError> {
        if create {
            fs::create_dir_all(root).map_err(|e| io_error("create the directory", root, e))?;
        }
        let fd = match openat(None, root, dir_flags(false), Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if !create => return Ok(None),
            Err(e) => return Err(errno_error("open", root, e)),
        };
        // SAFETY: openat returned a new descriptor that nothing else owns.
        let dir = Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: root.to_path_buf(),
            owner: None,
        };
        if create && dir.metadata()?.mode() & 0o777 != 0o700 {
            dir.set_mode(0o700)?;
        }
        Ok(Some(dir))
    }

    /// The first entry of this folder that is not one of the cluster root's own, if any.
    fn first_foreign_entry(&self) -> Result<Option<String>, ClusterError> {
        const OURS: [&str; 5] = [
            "data",
            "data.initdb",
            "socket",
            "server.log",
            "cluster.lock",
        ];
        let entries = fs::read_dir(self.fd_path()).map_err(|e| io_error("list", &self.path, e))?;
        for entry in entries {
            let name = entry
                .map_err(|e| io_error("list", &self.path, e))?
                .file_name()
                .to_string_lossy()
                .into_owned();
            if !OURS.contains(&name.as_str()) {
                return Ok(Some(name));
            }
        }
        Ok(None)
    }

    /// The folder's path, for messages and for the server's command lines.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path that names exactly this open folder (`/proc/self/fd/N`), whatever has been
    /// renamed since it was opened; its plain path where there is no /proc.
    fn fd_path(&self) -> PathBuf {
        if Path::new("/proc/self/fd").is_dir() {
            PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
        } else {
            self.path.clone()
        }
    }

    /// Where the open folder really is now (for comparing with a process's working directory).
    pub fn real_path(&self) -> PathBuf {
        fs::read_link(self.fd_path()).unwrap_or_else(|_| self.path.clone())
    }

    fn strict(&self) -> bool {
        self.owner.is_some()
    }

    fn metadata(&self) -> Result<fs::Metadata, ClusterError> {
        // A duplicate, so the File can be dropped without closing our descriptor.
        let fd = self
            .fd
            .try_clone()
            .map_err(|e| io_error("inspect", &self.path, e))?;
        fs::File::from(fd)
            .metadata()
            .map_err(|e| io_error("inspect", &self.path, e))
    }

    fn set_mode(&self, mode: u32) -> Result<(), ClusterError> {
        nix::sys::stat::fchmod(self.fd.as_raw_fd(), Mode::from_bits_truncate(mode))
            .map_err(|e| errno_error("set the permissions of", &self.path, e))
    }

    fn chown_to_server(&self) -> Result<(), ClusterError> {
        match &self.owner {
            Some(user) => nix::unistd::fchown(self.fd.as_raw_fd(), Some(user.uid), Some(user.gid))
                .map_err(|e| errno_error("change the owner of", &self.path, e)),
            None => Ok(()),
        }
    }

    /// As root: a folder on the way to the cluster root must be a folder root owns that no one
    /// else can write (world- or group-writable only with the sticky bit, as /tmp).
    fn check_trusted_ancestor(&self) -> Result<(), ClusterError> {
        let meta = self.metadata()?;
        let mode = meta.mode();
        let sticky = mode & S_ISVTX != 0;
        let problem = if meta.uid() != 0 {
            Some(format!("is owned by uid {}, not root", meta.uid()))
        } else if mode & 0o002 != 0 && !sticky {
            Some("can be written by every user".to_string())
        } else if mode & 0o020 != 0 && meta.gid() != 0 && !sticky {
            Some(format!("can be written by group {}", meta.gid()))
        } else {
            None
        };
        match problem {
            Some(problem) => Err(ClusterError::UntrustedFolder {
                path: self.path.clone(),
                problem,
            }),
            None => Ok(()),
        }
    }

    /// lstat of `name` in this folder (not following a link); None if it does not exist.
    fn lstat(&self, name: &Path) -> Result<Option<FileStat>, ClusterError> {
        let flags = if self.strict() {
            AtFlags::AT_SYMLINK_NOFOLLOW
        } else {
            AtFlags::empty()
        };
        match fstatat(Some(self.fd.as_raw_fd()), name, flags) {
            Ok(st) if self.strict() && st.st_mode & S_IFMT == S_IFLNK => {
                Err(ClusterError::SymlinkRefused {
                    path: self.path.join(name),
                })
            }
            Ok(st) => Ok(Some(st)),
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(errno_error("inspect", &self.path.join(name), e)),
        }
    }

    /// True if `name` exists here (a link counts, and as root is refused).
    pub fn exists(&self, name: &str) -> Result<bool, ClusterError> {
        Ok(self.lstat(Path::new(name))?.is_some())
    }

    /// Opens the existing subfolder `name` without following a link.
    fn open_subdir(&self, name: &Path) -> Result<Dir, ClusterError> {
        let path = self.path.join(name);
        match self.lstat(name)? {
            Some(st) if st.st_mode & S_IFMT != S_IFDIR => {
                return Err(ClusterError::UnsafeEntry {
                    path,
                    problem: "is not a folder".to_string(),
                });
            }
            Some(_) => {}
            None => return Err(errno_error("open", &path, Errno::ENOENT)),
        }
        let fd = openat(
            Some(self.fd.as_raw_fd()),
            name,
            dir_flags(self.strict()),
            Mode::empty(),
        )
        .map_err(|e| errno_error("open", &path, e))?;
        // SAFETY: openat returned a new descriptor that nothing else owns.
        Ok(Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path,
            owner: self.owner.clone(),
        })
    }

    /// Opens the subfolder `name`: Ok(None) if it does not exist and `create` is None, else it
    /// is made with mode `create` (owned by the server's user). As root the folder must be the
    /// server user's or root's (then it is handed to the server's user only if `create`).
    pub fn subdir(&self, name: &str, create: Option<u32>) -> Result<Option<Dir>, ClusterError> {
        let name_path = Path::new(name);
        if self.lstat(name_path)?.is_none() {
            let Some(mode) = create else {
                return Ok(None);
            };
            match mkdirat(
                Some(self.fd.as_raw_fd()),
                name_path,
                Mode::from_bits_truncate(mode),
            ) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => {
                    return Err(errno_error(
                        "create the directory",
                        &self.path.join(name),
                        e,
                    ));
                }
            }
        }
        let dir = self.open_subdir(name_path)?;
        let meta = dir.metadata()?;
        if let Some(user) = &self.owner
            && meta.uid() != user.uid.as_raw()
        {
            if meta.uid() != geteuid().as_raw() {
                return Err(ClusterError::UnsafeEntry {
                    path: dir.path.clone(),
                    problem: format!(
                        "is owned by uid {}, neither root nor OS user {}",
                        meta.uid(),
                        user.name
                    ),
                });
            }
            if create.is_some() {
                dir.chown_to_server()?;
            }
        }
        if let Some(mode) = create
            && meta.mode() & 0o7777 != mode
        {
            dir.set_mode(mode)?;
        }
        Ok(Some(dir))
    }

    /// Opens the regular file `name` with `flags` (plus no-follow as root) and checks it: as
    /// root it must be a regular file with one link, owned by root or the server's user.
    fn open_file(&self, name: &str, flags: OFlag) -> Result<Option<fs::File>, ClusterError> {
        let path = self.path.join(name);
        let mut flags = flags | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
        if self.strict() {
            flags |= OFlag::O_NOFOLLOW;
        }
        let fd = match openat(
            Some(self.fd.as_raw_fd()),
            name,
            flags,
            Mode::from_bits_truncate(0o600),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(Errno::ELOOP) if self.strict() => {
                return Err(ClusterError::SymlinkRefused { path });
            }
            Err(e) => return Err(errno_error("open", &path, e)),
        };
        // SAFETY: openat returned a new descriptor that nothing else owns.
        let file = fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let meta = file.metadata().map_err(|e| io_error("inspect", &path, e))?;
        if let Some(user) = &self.owner {
            let problem = if meta.mode() & S_IFMT != S_IFREG {
                Some("is not a regular file".to_string())
            } else if meta.nlink() != 1 {
                Some(format!("has {} hard links", meta.nlink()))
            } else if meta.uid() != user.uid.as_raw() && meta.uid() != geteuid().as_raw() {
                Some(format!(
                    "is owned by uid {}, neither root nor OS user {}",
                    meta.uid(),
                    user.name
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(ClusterError::UnsafeEntry { path, problem });
            }
        }
        Ok(Some(file))
    }

    /// The bytes of file `name`, None if it does not exist.
    pub fn read_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, ClusterError> {
        let Some(mut file) = self.open_file(name, OFlag::O_RDONLY)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| io_error("read", &self.path.join(name), e))?;
        Ok(Some(bytes))
    }

    /// The text of file `name`, None if it does not exist.
    pub fn read(&self, name: &str) -> Result<Option<String>, ClusterError> {
        Ok(self
            .read_bytes(name)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Replaces file `name` with `contents` (unless it already holds them): a new file (mode
    /// 0600, the server user's) renamed over the old, so nothing is ever written through a link.
    pub fn write(&self, name: &str, contents: &str) -> Result<(), ClusterError> {
        if self.read(name)?.is_some_and(|old| old == contents) {
            return Ok(());
        }
        let tmp = format!(".{name}.ifind-new");
        let tmp_path = self.path.join(&tmp);
        self.remove_file(&tmp)?;
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = openat(
            Some(self.fd.as_raw_fd()),
            tmp.as_str(),
            flags,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| errno_error("create", &tmp_path, e))?;
        // SAFETY: openat returned a new descriptor that nothing else owns.
        let mut file = fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        file.write_all(contents.as_bytes())
            .map_err(|e| io_error("write", &tmp_path, e))?;
        if let Some(user) = &self.owner {
            std::os::unix::fs::fchown(&file, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(|e| io_error("change the owner of", &tmp_path, e))?;
        }
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| io_error("set the permissions of", &tmp_path, e))?;
        drop(file);
        self.rename(&tmp, name)
    }

    /// Opens (creating it, mode 0600) the lock file `name`, for flock.
    pub fn open_lock(&self, name: &str) -> Result<fs::File, ClusterError> {
        self.open_file(name, OFlag::O_RDWR | OFlag::O_CREAT)?
            .ok_or_else(|| errno_error("open", &self.path.join(name), Errno::ENOENT))
    }

    /// Removes the file (or link) `name` itself; nothing if it does not exist.
    pub fn remove_file(&self, name: &str) -> Result<(), ClusterError> {
        match unlinkat(Some(self.fd.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(errno_error("remove", &self.path.join(name), e)),
        }
    }

    /// Removes the subfolder `name` if it is empty: Ok(false) if it holds anything.
    pub fn remove_empty_dir(&self, name: &str) -> Result<bool, ClusterError> {
        self.lstat(Path::new(name))?;
        match unlinkat(Some(self.fd.as_raw_fd()), name, UnlinkatFlags::RemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(true),
            Err(Errno::ENOTEMPTY | Errno::EEXIST) => Ok(false),
            Err(e) => Err(errno_error("remove", &self.path.join(name), e)),
        }
    }

    /// Removes the subfolder `name` and everything in it (std's removal never follows links).
    pub fn remove_tree(&self, name: &str) -> Result<(), ClusterError> {
        if self.lstat(Path::new(name))?.is_none() {
            return Ok(());
        }
        // Through /proc the folder is exactly the open one; std's removal follows no link.
        fs::remove_dir_all(self.fd_path().join(name))
            .map_err(|e| io_error("remove", &self.path.join(name), e))
    }

    /// Renames `from` to `to` within this folder.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), ClusterError> {
        let fd = Some(self.fd.as_raw_fd());
        renameat(fd, from, fd, to).map_err(|e| errno_error("rename", &self.path.join(from), e))
    }

    /// Moves `from` (here) to `to` in the folder `dest` (on the same file system), through the
    /// two open folders: no path is walked, so no link on the way is followed.
    pub fn move_to(&self, from: &str, dest: &Dir, to: &str) -> Result<(), ClusterError> {
        renameat(
            Some(self.fd.as_raw_fd()),
            from,
            Some(dest.fd.as_raw_fd()),
            to,
        )
        .map_err(|e| errno_error("move", &self.path.join(from), e))
    }

    /// The last `lines` lines that file `name` gained after it was `since` bytes long (the last
    /// lines of the whole file if it gained none), or a note saying why there are none.
    pub fn tail(&self, name: &str, since: u64, lines: usize) -> String {
        match self.read_bytes(name) {
            Ok(Some(bytes)) => {
                let start = usize::try_from(since).unwrap_or(0);
                let fresh = bytes
                    .get(start..)
                    .filter(|b| !b.is_empty())
                    .unwrap_or(&bytes);
                let text = String::from_utf8_lossy(fresh);
                let all: Vec<&str> = text.lines().collect();
                all[all.len().saturating_sub(lines)..].join("\n")
            }
            Ok(None) => format!("(there is no {})", self.path.join(name).display()),
            Err(e) => format!("(could not read it: {e})"),
        }
    }

    /// The size of file `name` (0 if it does not exist or cannot be checked).
    pub fn file_len(&self, name: &str) -> u64 {
        match self.lstat(Path::new(name)) {
            Ok(Some(st)) if st.st_mode & S_IFMT == S_IFREG => {
                u64::try_from(st.st_size).unwrap_or(0)
            }
            _ => 0,
        }
    }
}

fn dir_flags(no_follow: bool) -> OFlag {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    if no_follow {
        flags | OFlag::O_NOFOLLOW
    } else {
        flags
    }
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

pub(super) fn io_error(action: &'static str, path: &Path, err: io::Error) -> ClusterError {
    ClusterError::Io {
        action,
        path: path.to_path_buf(),
        err,
    }
}

/// An errno from a `*at` call; ELOOP (a link where none may be) names the link.
fn errno_error(action: &'static str, path: &Path, errno: Errno) -> ClusterError {
    if errno == Errno::ELOOP {
        return ClusterError::SymlinkRefused {
            path: path.to_path_buf(),
        };
    }
    io_error(action, path, io::Error::from(errno))
}
