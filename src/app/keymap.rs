//! The key map: which key means which [`Action`] in which [`Mode`], with defaults, overrides from
//! the config file's `[keys]` table, and the help rows generated from the live bindings.
//!
//! In a text mode ([`Mode::is_text`]) a plain printable key always types itself, so bindings of
//! such keys are left out there: `q` quits from the result list and types `q` in the query line.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::Action;
use super::pane;
use super::state::Mode;

/// Why a `[keys]` table cannot be used ([`KeyMap::checked`]): the entry (action name) at fault,
/// None for the table as a whole, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeysError {
    pub entry: Option<String>,
    pub message: String,
}

/// One key with its modifiers, as written in the config file ("ctrl-s", "j", "down", "G").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl Key {
    /// Ctrl-C, which always quits ([`KeyMap::action`]).
    pub fn ctrl_c() -> Key {
        Key::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
    }

    /// A key with modifiers, normalised the way terminals report it: a character carries its
    /// case, not a SHIFT flag, except with Ctrl, where letters are always lower case.
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Key {
        let mut modifiers =
            modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::Char(c) if modifiers.contains(KeyModifiers::SHIFT) => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c.to_uppercase().next().unwrap_or(c))
            }
            KeyCode::BackTab => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        let code = match code {
            KeyCode::Char(c) if modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        Key { code, modifiers }
    }

    /// The key of a terminal key event.
    pub fn of(event: &KeyEvent) -> Key {
        Key::new(event.code, event.modifiers)
    }

    /// A key that types a character in a text field (no Ctrl or Alt).
    pub fn is_printable(&self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }
}

const NAMED: [(&str, KeyCode); 19] = [
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("enter", KeyCode::Enter),
    ("return", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("del", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("space", KeyCode::Char(' ')),
];

impl FromStr for Key {
    type Err = ();

    fn from_str(text: &str) -> Result<Key, ()> {
        let mut rest = text.trim();
        let mut modifiers = KeyModifiers::NONE;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (flag, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            if rest.len() == len {
                return Err(());
            }
            modifiers |= flag;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err(()),
            (Some(c), None) => KeyCode::Char(c),
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some((_, code)) = NAMED.iter().find(|(name, _)| *name == lower) {
                    *code
                } else if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok())
                    && (1..=12).contains(&n)
                {
                    KeyCode::F(n)
                } else {
                    return Err(());
                }
            }
        };
        Ok(Key::new(code, modifiers))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => {
                let name = NAMED
                    .iter()
                    .find(|(_, c)| *c == code)
                    .map(|(name, _)| *name)
                    .unwrap_or("?");
                f.write_str(name)
            }
        }
    }
}

/// Every binding of every mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyMap {
    bindings: Vec<(Mode, Key, Action)>,
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::defaults()
    }
}

impl KeyMap {
    /// The built-in bindings: the keys each pane declares for its commands ([`pane::all`]).
    pub fn defaults() -> KeyMap {
        let mut bindings = Vec::new();
        for command in pane::all() {
            for text in command.keys {
                if let Ok(key) = text.parse::<Key>() {
                    bindings.push((command.mode, key, command.action));
                }
            }
        }
        KeyMap { bindings }
    }

    /// The key map of a `[keys]` table, checked: every entry on its own first (so that an error
    /// names its entry), then that no two entries give the same key to different actions on the
    /// same screen.
    pub fn checked(overrides: &BTreeMap<String, Vec<String>>) -> Result<KeyMap, KeysError> {
        for (name, keys) in overrides {
            if name != Action::ForceQuit.name()
                && keys.iter().any(|k| k.parse::<Key>() == Ok(Key::ctrl_c()))
            {
                return Err(KeysError {
                    entry: Some(name.clone()),
                    message: format!(
                        "key \"ctrl-c\" cannot do \"{name}\": ctrl-c always quits, so that \
                         there is always a way out; give \"{name}\" another key"
                    ),
                });
            }
            let one = BTreeMap::from([(name.clone(), keys.clone())]);
            KeyMap::with_overrides(&one).map_err(|message| KeysError {
                entry: Some(name.clone()),
                message,
            })?;
        }
        let map = KeyMap::with_overrides(overrides).map_err(|message| KeysError {
            entry: None,
            message,
        })?;
        let defaults = KeyMap::defaults();
        for (name, keys) in overrides {
            let Some(action) = Action::from_name(name) else {
                continue;
            };
            for key in keys.iter().filter_map(|k| k.parse::<Key>().ok()) {
                let event = KeyEvent::new(key.code, key.modifiers);
                for mode in Mode::ALL {
                    if defaults.keys_for(mode, action).is_empty()
                        || (mode.is_text() && key.is_printable())
                    {
                        continue;
                    }
                    if let Some(other) = map.action(mode, &event).filter(|a| *a != action) {
                        return Err(KeysError {
                            entry: Some(name.clone()),
                            message: format!(
                                "key \"{key}\" {} is also given to \"{}\" in [keys]; give \
                                 each key to one action",
                                mode.title(),
                                other.name()
                            ),
                        });
                    }
                }
            }
        }
        Ok(map)
    }

    /// The defaults with some actions rebound: `overrides` maps an action name (as in
    /// [`Action::name`]) to its new keys, which replace the action's default keys in every mode
    /// where it is bound (an empty list unbinds it). A new key takes over from any other action
    /// bound to it in the same mode. Plain printable keys are not bound in text modes.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<KeyMap, String> {
        let mut map = KeyMap::defaults();
        for (name, keys) in overrides {
            let action = Action::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                format!(
                    "unknown action \"{name}\" in [keys]; use one of: {}",
                    names.join(", ")
                )
            })?;
            let parsed = keys
                .iter()
                .map(|text| {
                    text.parse::<Key>().map_err(|()| {
                        format!(
                            "cannot read key \"{text}\" for action \"{name}\" in [keys]; \
                             write keys like \"j\", \"G\", \"ctrl-s\", \"down\", \"pagedown\" or \"f1\""
                        )
                    })
                })
                .collect::<Result<Vec<Key>, String>>()?;
            let modes: Vec<Mode> = pane::all()
                .filter(|c| c.action == action)
                .map(|c| c.mode)
                .collect();
            if let Some(key) = parsed.iter().find(|k| k.is_printable())
                && modes.iter().all(|m| m.is_text())
            {
                return Err(format!(
                    "key \"{key}\" cannot do \"{name}\": that action only works in text fields, \
                     where a plain character types itself; use a key with ctrl or alt, or a named \
                     key such as \"f2\""
                ));
            }
            map.bindings.retain(|(_, _, a)| *a != action);
            for mode in modes {
                for key in &parsed {
                    if mode.is_text() && key.is_printable() {
                        continue;
                    }
                    map.bindings.retain(|(m, k, _)| !(*m == mode && k == key));
                    map.bindings.push((mode, *key, action));
                }
            }
        }
        Ok(map)
    }

    /// The action a key press means in `mode`, if any. Key releases mean nothing.
    pub fn action(&self, mode: Mode, event: &KeyEvent) -> Option<Action> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        let key = Key::of(event);
        let bound = self
            .bindings
            .iter()
            .find(|(m, k, _)| *m == mode && *k == key)
            .map(|(_, _, a)| *a);
        // Ctrl-C always quits, whatever `[keys]` unbound: there is always a way out.
        bound.or_else(|| (key == Key::ctrl_c()).then_some(Action::ForceQuit))
    }

    /// The keys bound to `action` in `mode`, in binding order.
    pub fn keys_for(&self, mode: Mode, action: Action) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|(m, _, a)| *m == mode && *a == action)
            .map(|(_, k, _)| *k)
            .collect()
    }

    /// One row per bound action of `mode`, in help order: the keys ("j, down") and what it does
    /// there (as its pane declares, [`pane::what`]). The help overlay shows these.
    pub fn help_rows(&self, mode: Mode) -> Vec<(String, String)> {
        Action::ALL
            .into_iter()
            .filter_map(|action| {
                let keys = self.keys_for(mode, action);
                if keys.is_empty() {
                    return None;
                }
                let keys: Vec<String> = keys.iter().map(Key::to_string).collect();
                Some((keys.join(", "), pane::what(mode, action).to_string()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
