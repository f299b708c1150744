//! Deleting and the Trash: their state and their part of `update`.
//!
//! Only site admins delete and restore (the database checks it again). Delete asks first, then
//! sends [`Effect::Delete`] with the version the admin saw, so a record changed meanwhile is not
//! deleted unseen. The Trash lists the site's deleted interactions still within their restore
//! window; `r` restores the selected one.

use super::action::Action;
use super::finder::search_now;
use super::form::{Confirm, SaveError};
use super::pane::Command;
use super::state::Mode;
use super::state::{Pane, Screen, State};
use super::update::{Effect, next_id};
use crate::domain::interaction::Interaction;
use crate::domain::trash::TrashItem;
use crate::domain::users::Role;

/// The Trash screen.
#[derive(Clone, Debug, Default)]
pub struct TrashState {
    pub items: Vec<TrashItem>,
    pub selected: usize,
    /// The listing in flight.
    pub loading: Option<u64>,
    /// The restore in flight.
    pub restoring: Option<u64>,
    /// Why the listing failed.
    pub error: Option<String>,
}

impl TrashState {
    /// The highlighted item.
    pub fn selected_item(&self) -> Option<&TrashItem> {
        self.items.get(self.selected)
    }
}

fn is_admin(state: &mut State, what: &str) -> bool {
    if state.session.role == Role::Admin {
        return true;
    }
    state.notice = Some(format!(
        "only site admins {what}; you are {} at {}",
        state.session.role.with_article(),
        state.session.site
    ));
    false
}

/// `d` on the list: asks before moving the selected interaction to the trash.
pub fn ask_delete(state: &mut State) {
    let Some(hit) = state.finder.selected_hit() else {
        state.notice = Some("select an interaction to delete".into());
        return;
    };
    if hit.archived {
        state.notice = Some("archived interactions are read-only".into());
        return;
    }
    let i = &hit.interaction;
    let question = Confirm::Delete {
        interaction_id: i.interaction_id,
        version: i.version,
        title: i.title.clone(),
    };
    if is_admin(state, "delete interactions") {
        state.confirm = Some(question);
    }
}

/// The admin said yes: delete it.
pub fn delete(
    state: &mut State,
    interaction_id: i32,
    version: i32,
    title: String,
    effects: &mut Vec<Effect>,
) {
    let request_id = next_id(state);
    state.deleting = Some((request_id, title));
    effects.push(Effect::Delete {
        request_id,
        site_id: state.session.site_id,
        interaction_id,
        version,
    });
}

/// The answer to a delete.
pub fn deleted(
    state: &mut State,
    request_id: u64,
    result: Result<Box<Interaction>, SaveError>,
    effects: &mut Vec<Effect>,
) {
    let Some((_, title)) = state.deleting.take_if(|(id, _)| *id == request_id) else {
        return;
    };
    if result.is_ok() {
        state.finder.cache.invalidate(state.session.site_id);
    }
    state.notice = Some(match result {
        Ok(_) => format!(
            "moved \"{title}\" to the trash; t shows the trash, where it can be restored for {} days",
            state.settings.trash_days
        ),
        Err(SaveError::Conflict { by, .. }) => format!(
            "not deleted: {} changed \"{title}\" since you looked; check it and delete again",
            by.as_deref().unwrap_or("someone")
        ),
        Err(SaveError::Gone) => format!("\"{title}\" was already deleted"),
        Err(SaveError::Archived) => format!(
            "not deleted: \"{title}\" was moved to the archive meanwhile, where it is read-only"
        ),
        Err(e) => format!("not deleted: {}", e.reason()),
    });
    if state.screen() == Screen::Finder {
        search_now(state, effects);
    }
}

/// `t` on the list: opens the trash and loads it.
pub fn open(state: &mut State, effects: &mut Vec<Effect>) {
    if !is_admin(state, "see the trash") {
        return;
    }
    state.help_open = false;
    state.pane = Pane::Trash(TrashState::default());
    load(state, effects);
}

/// Loads the trash again (someone changed something on the site).
pub fn reload(state: &mut State, effects: &mut Vec<Effect>) {
    if state.trash().is_some_and(|t| t.loading.is_none()) {
        load(state, effects);
    }
}

fn load(state: &mut State, effects: &mut Vec<Effect>) {
    let request_id = next_id(state);
    if let Some(trash) = state.trash_mut() {
        trash.loading = Some(request_id);
        trash.error = None;
    }
    effects.push(Effect::LoadTrash {
        request_id,
        site_id: state.session.site_id,
        days: state.settings.trash_days,
    });
}

/// The answer to [`Effect::LoadTrash`].
pub fn loaded(state: &mut State, request_id: u64, result: Result<Vec<TrashItem>, String>) {
    let Some(trash) = state.trash_mut() else {
        return;
    };
    if trash.loading != Some(request_id) {
        return;
    }
    trash.loading = None;
    match result {
        Ok(items) => {
            trash.items = items;
            trash.selected = trash.selected.min(trash.items.len().saturating_sub(1));
        }
        Err(message) => trash.error = Some(message),
    }
}

/// Keys on the Trash screen.
pub fn act(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    let Some(trash) = state.trash_mut() else {
        return;
    };
    let last = trash.items.len().saturating_sub(1);
    match action {
        Action::MoveDown => trash.selected = (trash.selected + 1).min(last),
        Action::MoveUp => trash.selected = trash.selected.saturating_sub(1),
        Action::Top => trash.selected = 0,
        Action::Bottom => trash.selected = last,
        Action::Restore => restore(state, effects),
        Action::Back => {
            state.pane = Pane::Finder;
            // Restored records are back in the results.
            search_now(state, effects);
        }
        Action::Help => state.help_open = true,
        Action::Quit | Action::ForceQuit => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        _ => {}
    }
}

fn restore(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(item) = state.trash().and_then(TrashState::selected_item) else {
        state.notice = Some("the trash is empty".into());
        return;
    };
    let interaction_id = item.interaction.interaction_id;
    let request_id = next_id(state);
    if let Some(trash) = state.trash_mut() {
        trash.restoring = Some(request_id);
    }
    effects.push(Effect::Restore {
        request_id,
        site_id: state.session.site_id,
        interaction_id,
        days: state.settings.trash_days,
    });
}

/// The answer to [`Effect::Restore`].
pub fn restored(state: &mut State, request_id: u64, result: Result<Box<Interaction>, SaveError>) {
    let Some(trash) = state.trash_mut() else {
        return;
    };
    if trash.restoring.take_if(|id| *id == request_id).is_none() {
        return;
    }
    if result.is_ok() {
        state.finder.cache.invalidate(state.session.site_id);
    }
    let Some(trash) = state.trash_mut() else {
        return;
    };
    match result {
        Ok(i) => {
            trash
                .items
                .retain(|t| t.interaction.interaction_id != i.interaction_id);
            trash.selected = trash.selected.min(trash.items.len().saturating_sub(1));
            state.notice = Some(format!("restored \"{}\"", i.title));
        }
        Err(SaveError::Gone) => {
            state.notice = Some(
                "not restored: it is no longer in the trash (restored by someone else, or past \
                 its restore window)"
                    .into(),
            );
        }
        Err(e) => state.notice = Some(format!("not restored: {}", e.reason())),
    }
}

/// The trash's commands.
pub const COMMANDS: &[Command] = &[
    Command::new(Mode::Trash, Action::MoveDown, &["j", "down"]),
    Command::new(Mode::Trash, Action::MoveUp, &["k", "up"]),
    Command::new(Mode::Trash, Action::Top, &["g", "home"]),
    Command::new(Mode::Trash, Action::Bottom, &["G", "end"]),
    Command::new(Mode::Trash, Action::Restore, &["r"]),
    Command::new(Mode::Trash, Action::Back, &["esc"]),
    Command::new(Mode::Trash, Action::Help, &["?", "f1"]),
    Command::new(Mode::Trash, Action::Quit, &["q"]),
    Command::new(Mode::Trash, Action::ForceQuit, &["ctrl-c"]),
];

#[cfg(test)]
mod tests;
