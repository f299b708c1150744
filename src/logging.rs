//! Logs go to a file in the state dir, never to the screen.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Keeps the log writer alive; drop it last so buffered lines reach the file.
pub struct LogGuard {
    _guard: Option<WorkerGuard>,
    pub file: Option<PathBuf>,
}

/// Starts logging to `dir/ifind.log` at `level`. When the directory cannot be created, logging
/// is off and the reason is returned with the guard, for the caller to mention once.
pub fn init(dir: &Path, level: &str) -> (LogGuard, Option<String>) {
    if let Err(e) = std::fs::create_dir_all(dir) {
        return (
            LogGuard {
                _guard: None,
                file: None,
            },
            Some(format!(
                "cannot create the log directory {} ({e}); set log.dir in the config",
                dir.display()
            )),
        );
    }
    let appender = tracing_appender::rolling::never(dir, "ifind.log");
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
            file: Some(dir.join("ifind.log")),
        },
        None,
    )
}
