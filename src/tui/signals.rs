//! What the process is told from outside while the terminal UI runs, and suspending it: the
//! signals that end it (SIGTERM, SIGHUP, SIGINT) end it the way `q` does, so the terminal is
//! given back and every draft is on disk; Ctrl-Z (or SIGTSTP) gives the terminal back and stops
//! the process until the shell's `fg` (SIGCONT), which takes the terminal again and redraws.

use std::io::stdout;

use anyhow::{Context, Result};
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{Clear, ClearType, EnterAlternateScreen, enable_raw_mode};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use ratatui::backend::CrosstermBackend;
use ratatui::{DefaultTerminal, Terminal};
use tokio::signal::unix::{SignalKind, signal};

/// What a signal asks of the terminal UI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// SIGTERM, SIGHUP (the terminal closed) or SIGINT: end, keeping the drafts.
    End,
    /// SIGTSTP: give the terminal back and stop until continued.
    Suspend,
    /// SIGCONT after a stop this process did not arrange (`kill -STOP`): take the terminal again.
    Resumed,
}

/// The signals the terminal UI listens to.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
    stop: tokio::signal::unix::Signal,
    resume: tokio::signal::unix::Signal,
}

impl Signals {
    /// Starts listening. Must be called inside the tokio runtime.
    pub fn listen() -> Result<Signals> {
        let on = |kind: SignalKind| signal(kind).context("cannot listen for signals");
        Ok(Signals {
            term: on(SignalKind::terminate())?,
            hangup: on(SignalKind::hangup())?,
            interrupt: on(SignalKind::interrupt())?,
            stop: on(SignalKind::from_raw(Signal::SIGTSTP as i32))?,
            resume: on(SignalKind::from_raw(Signal::SIGCONT as i32))?,
        })
    }

    /// The next signal.
    pub async fn next(&mut self) -> Asked {
        tokio::select! {
            _ = self.term.recv() => Asked::End,
            _ = self.hangup.recv() => Asked::End,
            _ = self.interrupt.recv() => Asked::End,
            _ = self.stop.recv() => Asked::Suspend,
            _ = self.resume.recv() => Asked::Resumed,
        }
    }
}

/// Gives the terminal back as the process found it (what `Restore` does on the way out): no
/// bracketed paste or mouse reporting, the cursor shown (the list hides it), cooked mode and
/// the main screen.
pub fn release(mouse: bool) {
    let _ = crossterm::execute!(stdout(), DisableBracketedPaste, crossterm::cursor::Show);
    if mouse {
        let _ = crossterm::execute!(stdout(), DisableMouseCapture);
    }
    ratatui::restore();
}

/// Takes the terminal again after a stop: raw mode, the alternate screen, mouse capture (when
/// on) and bracketed paste, and a blank screen for the next frame to draw on whole.
pub fn take(terminal: &mut DefaultTerminal, mouse: bool) -> Result<()> {
    enable_raw_mode().context("cannot take the terminal back after the stop")?;
    crossterm::execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)
        .context("cannot take the terminal back after the stop")?;
    if mouse {
        crossterm::execute!(stdout(), EnableMouseCapture)
            .context("cannot turn mouse capture back on after the stop")?;
    }
    // Blank the screen and start a new terminal value, whose first frame draws every cell
    // (`Terminal::clear` would ask the terminal for the cursor position, and the event stream
    // already reads the answers).
    crossterm::execute!(stdout(), Clear(ClearType::All))
        .context("cannot clear the terminal after the stop")?;
    *terminal = Terminal::new(CrosstermBackend::new(stdout()))
        .context("cannot take the terminal back after the stop")?;
    Ok(())
}

/// Ctrl-Z: gives the terminal back, stops the process (SIGSTOP, which the shell's `fg`
/// continues), then takes the terminal again.
pub fn suspend(terminal: &mut DefaultTerminal, mouse: bool) -> Result<()> {
    release(mouse);
    tracing::info!("suspended");
    kill(Pid::this(), Signal::SIGSTOP).context("cannot stop the process")?;
    // Here once continued.
    tracing::info!("continued");
    take(terminal, mouse)
}
