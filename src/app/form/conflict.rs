//! Someone saved the interaction while this form had it open: the two edits are merged field by
//! field against the version the form opened from ([`merge`]). Fields only one side changed are
//! settled without asking and the merge is saved at once, against their version (so a third
//! save in between is met the same way); only fields both changed to different values are put
//! to the person, each with both values in full, to choose mine or theirs field by field.

use super::{Confirm, FormTarget, SaveError, edited, save};
use crate::app::action::Action;
use crate::app::pane::Command;
use crate::app::state::{Mode, State};
use crate::app::update::Effect;
use crate::domain::interaction::merge::{Merge, Side, merge};
use crate::domain::interaction::{Field, Interaction, InteractionInput};

/// Rows one [`Action::PageDown`] scrolls the values by.
pub const SCROLL_STEP: u16 = 5;

/// The question when two edits clash: their version, who saved it, the merge, and the side
/// taken for each field both changed.
#[derive(Clone, Debug, PartialEq)]
pub struct ConflictView {
    pub theirs: Interaction,
    pub by: Option<String>,
    pub merge: Merge,
    /// The side taken for each clash, in `merge.clashes` order: mine until changed.
    pub takes: Vec<Side>,
    /// Index into `merge.clashes` of the field with the cursor.
    pub selected: usize,
    /// Rows scrolled down within the selected field's values (for long ones).
    pub scroll: u16,
}

impl ConflictView {
    /// Merges `mine` with their version, both from `base`; a field both changed keeps the side
    /// chosen for it in `earlier` (the same question about the same version of theirs, asked
    /// before), else mine.
    pub fn new(
        theirs: Interaction,
        by: Option<String>,
        base: Option<&InteractionInput>,
        mine: &InteractionInput,
        earlier: Option<&ConflictView>,
    ) -> ConflictView {
        let earlier = earlier.filter(|e| e.theirs.version == theirs.version);
        let merge = merge(base, mine, &InteractionInput::from_interaction(&theirs));
        let takes = merge
            .clashes
            .iter()
            .map(|c| earlier.and_then(|e| e.taken(c.field)).unwrap_or(Side::Mine))
            .collect();
        let last = merge.clashes.len().saturating_sub(1);
        ConflictView {
            theirs,
            by,
            merge,
            takes,
            selected: earlier.map_or(0, |e| e.selected).min(last),
            scroll: 0,
        }
    }

    /// The side taken for `field`, if it is a clash.
    pub fn taken(&self, field: Field) -> Option<Side> {
        self.merge
            .clashes
            .iter()
            .zip(&self.takes)
            .find(|(c, _)| c.field == field)
            .map(|(_, side)| *side)
    }

    /// Who saved their version, for sentences.
    pub fn who(&self) -> &str {
        self.by.as_deref().unwrap_or("someone else")
    }

    /// The record to save: the merge with the chosen side of each clash.
    pub fn resolved(&self) -> InteractionInput {
        self.merge
            .resolved(|field| self.taken(field).unwrap_or(Side::Mine))
    }

    /// What the save keeps of whom, truthfully: "merged with tom's version 3: kept their
    /// location, notes; yours over theirs for title".
    pub fn summary(&self) -> String {
        let taken = |side: Side| -> Vec<Field> {
            self.merge
                .clashes
                .iter()
                .zip(&self.takes)
                .filter(|(_, s)| **s == side)
                .map(|(c, _)| c.field)
                .collect()
        };
        let mut theirs = self.merge.theirs_only.clone();
        theirs.extend(taken(Side::Theirs));
        theirs.sort();
        let mine = taken(Side::Mine);
        let names = |fields: &[Field]| {
            fields
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !theirs.is_empty() {
            parts.push(format!("kept their {}", names(&theirs)));
        }
        if !mine.is_empty() {
            parts.push(format!("yours over theirs for {}", names(&mine)));
        }
        let version = format!("{}'s version {}", self.who(), self.theirs.version);
        if parts.is_empty() {
            format!("merged with {version}, which changed only what you changed too")
        } else {
            format!("merged with {version}: {}", parts.join("; "))
        }
    }
}

/// A save was refused because `theirs` is newer. `typed_more`: the form changed while the save
/// was on its way, so a clean merge goes into the form without being saved.
pub fn met(
    state: &mut State,
    theirs: Interaction,
    by: Option<String>,
    typed_more: bool,
    effects: &mut Vec<Effect>,
) {
    let Some(form) = state.form_mut() else {
        return;
    };
    let mine = form.input();
    let earlier = form.conflict.take();
    let view = ConflictView::new(theirs, by, form.base.as_ref(), &mine, earlier.as_deref());
    if view.merge.clashes.is_empty() {
        settle(state, view, !typed_more, effects);
    } else {
        ask(state, view);
    }
}

/// Puts the clashes to the person; the form keeps its text and says why it was not saved.
pub fn ask(state: &mut State, view: ConflictView) {
    if let Some(form) = state.form_mut() {
        form.failure = Some(
            SaveError::Conflict {
                current: Box::new(view.theirs.clone()),
                by: view.by.clone(),
            }
            .message(),
        );
        form.conflict = Some(Box::new(view.clone()));
    }
    state.confirm = Some(Confirm::Conflict(Box::new(view)));
}

/// Puts the merge (with the chosen sides) into the form, now an edit of their version, and
/// saves it when `send`.
pub fn settle(state: &mut State, view: ConflictView, send: bool, effects: &mut Vec<Effect>) {
    let merged = view.resolved();
    let note = view.summary();
    let Some(form) = state.form_mut() else {
        return;
    };
    form.replace_text(&merged);
    let theirs = InteractionInput::from_interaction(&view.theirs);
    form.initial = theirs.clone();
    form.base = Some(theirs);
    form.target = FormTarget::Edit {
        interaction_id: view.theirs.interaction_id,
        version: view.theirs.version,
    };
    form.conflict = None;
    form.failure = None;
    form.merge_note = Some(note.clone());
    state.confirm = None;
    edited(state, effects);
    if !send {
        state.notice = Some(format!(
            "{note}, in the form; you typed more since, press Ctrl-S to save"
        ));
        return;
    }
    let sent = effects.len();
    save(state, effects);
    let saving = effects[sent..]
        .iter()
        .any(|e| matches!(e, Effect::Save { .. }));
    if !saving {
        // The merge does not validate (their start after my end, say): it waits in the form.
        let why = state.notice.take().unwrap_or_default();
        state.notice = Some(format!("{note}, in the form; {why}"));
    }
}

/// Handles a key on the conflict question.
pub fn act(state: &mut State, mut view: ConflictView, action: Action, effects: &mut Vec<Effect>) {
    let last = view.merge.clashes.len().saturating_sub(1);
    match action {
        Action::MoveDown => {
            view.selected = (view.selected + 1).min(last);
            view.scroll = 0;
        }
        Action::MoveUp => {
            view.selected = view.selected.saturating_sub(1);
            view.scroll = 0;
        }
        Action::PickMine | Action::PickTheirs => {
            if let Some(side) = view.takes.get_mut(view.selected) {
                *side = if action == Action::PickMine {
                    Side::Mine
                } else {
                    Side::Theirs
                };
            }
        }
        Action::PageDown => {
            let most = state.drawn.conflict_scroll;
            view.scroll = view.scroll.saturating_add(SCROLL_STEP).min(most);
        }
        Action::PageUp => view.scroll = view.scroll.saturating_sub(SCROLL_STEP),
        Action::Yes => return settle(state, view, true, effects),
        Action::No => return super::take_theirs(state, &view, effects),
        Action::Back => {
            // Keep editing: Ctrl-S asks again, with these choices.
            if let Some(form) = state.form_mut() {
                form.conflict = Some(Box::new(view));
            }
            return;
        }
        _ => {}
    }
    if let Some(form) = state.form_mut() {
        form.conflict = Some(Box::new(view.clone()));
    }
    state.confirm = Some(Confirm::Conflict(Box::new(view)));
}

/// The conflict question's commands.
pub const CONFLICT_COMMANDS: &[Command] = &[
    Command::new(Mode::Conflict, Action::MoveDown, &["down", "j"]).says("next field both changed"),
    Command::new(Mode::Conflict, Action::MoveUp, &["up", "k"]).says("previous field both changed"),
    Command::new(Mode::Conflict, Action::PickMine, &["left", "m"]),
    Command::new(Mode::Conflict, Action::PickTheirs, &["right", "t"]),
    Command::new(Mode::Conflict, Action::PageDown, &["pagedown", "space"])
        .says("scroll long values down"),
    Command::new(Mode::Conflict, Action::PageUp, &["pageup"]).says("scroll long values up"),
    Command::new(Mode::Conflict, Action::Yes, &["enter", "y"]).says("save with these choices"),
    Command::new(Mode::Conflict, Action::No, &["n"]).says("drop your changes, load theirs"),
    Command::new(Mode::Conflict, Action::Back, &["esc"]).says("keep editing"),
    Command::new(Mode::Conflict, Action::ForceQuit, &["ctrl-c"]),
];
