//! Finding the PostgreSQL server binaries and their version.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::ClusterError;
use super::process::run;

/// Where distribution packages install versioned server binaries.
const VERSIONED_BINDIRS: &str = "/usr/lib/postgresql";
const QUICK_TIMEOUT: Duration = Duration::from_secs(15);

/// Finds the server binaries: the configured bindir, then `pg_config --bindir`, then the
/// newest `/usr/lib/postgresql/*/bin`.
pub(super) fn discover_bindir(configured: Option<&Path>) -> Result<PathBuf, ClusterError> {
    if let Some(dir) = configured {
        let missing = missing_binaries(dir);
        if !missing.is_empty() {
            return Err(ClusterError::BinariesMissing {
                bindir: dir.to_path_buf(),
                missing: missing.join(", "),
            });
        }
        return Ok(dir.to_path_buf());
    }
    let mut searched = Vec::new();
    let mut cmd = Command::new("pg_config");
    cmd.arg("--bindir");
    if let Ok(Some(out)) = run(
        cmd,
        "pg_config --bindir",
        QUICK_TIMEOUT,
        Path::new("/dev/null"),
    ) && out.status.success()
    {
        let dir = PathBuf::from(out.stdout.trim());
        if missing_binaries(&dir).is_empty() {
            return Ok(dir);
        }
        searched.push(dir.display().to_string());
    } else {
        searched.push("pg_config (not found)".to_string());
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(VERSIONED_BINDIRS)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let key: Option<Vec<u32>> = name.split('.').map(|part| part.parse().ok()).collect();
            key.map(|key| (key, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions
        .iter()
        .rev()
        .find(|(_, dir)| missing_binaries(dir).is_empty())
    {
        return Ok(dir.clone());
    }
    searched.push(format!("{VERSIONED_BINDIRS}/*/bin"));
    Err(ClusterError::ServerNotInstalled {
        searched: searched.join(", "),
    })
}

fn missing_binaries(dir: &Path) -> Vec<&'static str> {
    ["initdb", "pg_ctl", "postgres"]
        .into_iter()
        .filter(|b| !dir.join(b).is_file())
        .collect()
}

/// The full and the major version of the server binaries, from `postgres --version`
/// (e.g. "postgres (PostgreSQL) 15.14 (Debian 15.14-1)" gives "15.14" and "15").
pub(super) fn server_version(bindir: &Path) -> Result<(String, String), ClusterError> {
    let unknown = |detail: String| ClusterError::UnknownServerVersion {
        bindir: bindir.to_path_buf(),
        detail,
    };
    let mut cmd = Command::new(bindir.join("postgres"));
    cmd.arg("--version");
    let out = run(
        cmd,
        "postgres --version",
        QUICK_TIMEOUT,
        Path::new("/dev/null"),
    )?
    .ok_or_else(|| unknown("it could not be run".to_string()))?;
    let text = out.stdout.trim().to_string();
    let version = text
        .split_once("(PostgreSQL) ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .ok_or_else(|| unknown(format!("it printed {text:?}")))?;
    let numbers: Vec<&str> = version
        .split(|c: char| !c.is_ascii_digit())
        .take(2)
        .filter(|s| !s.is_empty())
        .collect();
    let major = match numbers.as_slice() {
        [first, ..] if first.parse::<u32>().is_ok_and(|n| n >= 10) => first.to_string(),
        [first, second] => format!("{first}.{second}"),
        _ => return Err(unknown(format!("it printed {text:?}"))),
    };
    Ok((version.to_string(), major))
}

/// True if the server's pkglibdir holds `module` (e.g. `auth_delay.so`): see [`pkglibdir`]. A
/// module of other binaries would stop the server from starting.
pub(super) fn has_module(bindir: &Path, module: &str) -> bool {
    pkglibdir(bindir).is_some_and(|lib| lib.join(module).is_file())
}

/// The server's pkglibdir, where its modules live: `BINDIR/../lib` (Debian's layout) when it
/// holds auth_delay.so, else what `pg_config --pkglibdir` names (`BINDIR/pg_config`, or the one
/// on the PATH if it belongs to the same binaries).
pub(super) fn pkglibdir(bindir: &Path) -> Option<PathBuf> {
    if let Some(parent) = bindir.parent()
        && parent.join("lib").join("auth_delay.so").is_file()
    {
        return Some(parent.join("lib"));
    }
    let local = bindir.join("pg_config");
    let program = if local.is_file() {
        local
    } else {
        PathBuf::from("pg_config")
    };
    let mut cmd = Command::new(&program);
    cmd.args(["--bindir", "--pkglibdir"]);
    match run(cmd, "pg_config", QUICK_TIMEOUT, Path::new("/dev/null")) {
        Ok(Some(out)) if out.status.success() => {
            let mut lines = out.stdout.lines().map(str::trim);
            let same = lines.next().is_some_and(|dir| Path::new(dir) == bindir);
            let lib = lines.next().filter(|lib| !lib.is_empty())?;
            same.then(|| PathBuf::from(lib))
        }
        _ => None,
    }
}
