//! Logs go to a file in the state dir, never to the screen.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Keeps the log writer alive; drop it last so buffered lines reach the file.
pub struct LogGuard {
    _guard: Option<WorkerGuard>,
    pub file: Option<PathBuf>,
}

/// Starts logging to `dir/ifind.log` at `level`. The folder is made 0700 and the file 0600
/// (`crate::private_files`), and a symbolic link at the file's name is refused. When the file
/// cannot be opened so, logging is off and the reason is returned with the guard, for the
/// caller to mention once.
///
/// What is logged at the default level (info) holds no interaction text, no query text and no
/// name typed into a failed login: those reach the file only at debug level.
pub fn init(dir: &Path, level: &str) -> (LogGuard, Option<String>) {
    let off = |why: String| {
        (
            LogGuard {
                _guard: None,
                file: None,
            },
            Some(why),
        )
    };
    if let Err(e) = crate::private_files::ensure_private_dir(dir) {
        return off(format!(
            "cannot create the log directory {} ({e}); set log.dir in the config",
            dir.display()
        ));
    }
    let path = dir.join("ifind.log");
    let appender = match crate::private_files::open_private_append(&path) {
        Ok(file) => file,
        Err(e) => {
            return off(format!(
                "cannot open the log file {} ({e}); set log.dir in the config",
                path.display()
            ));
        }
    };
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter =
        EnvFilter::try_new(format!("{level},sqlx=warn")).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    (
        LogGuard {
            _guard: Some(guard),
            file: Some(path),
        },
        None,
    )
}

/// Logging to standard error at `level` (warnings at least), for a command whose log file
/// cannot be opened: what would have gone to the file is not lost. Not for the terminal UI,
/// whose screen standard error would write over.
pub fn init_stderr(level: &str) {
    let filter =
        EnvFilter::try_new(format!("{level},sqlx=warn")).unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
