//! The interaction form (create and edit): its state, and its part of `update`.
//!
//! Every field is a `ratatui_textarea::TextArea`; description and notes take several lines, the
//! others one. Problems found by [`validate`] show under a field once the person has left it (or
//! tried to save), and follow their typing from then on. Every change is written to a draft
//! ([`Effect::WriteDraft`]) so nothing typed is lost to a crash; saving
//! ([`Effect::Save`]) removes the draft only once the database has the record. A failed save
//! keeps the form, its text and the reason on screen.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Timelike, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, TextArea};

use super::action::Action;
use super::drafts::{Draft, Found};
use super::finder::search_now;
use super::pane::{Command, Hint};
use super::state::{Mode, Pane, Screen, State};
use super::update::{Effect, next_id};
use crate::domain::interaction::merge::same_value;
use crate::domain::interaction::{
    Field, FieldError, Interaction, InteractionInput, parse_timezone, timezone_suggestions,
    validate,
};
/// What the form saves and why a save did not happen: the service's (`crate::service::records`),
/// named here for the screens.
pub use crate::service::records::{FormTarget, SaveError};

/// A question on screen; it takes the keys until it is answered.
#[derive(Clone, Debug, PartialEq)]
pub enum Confirm {
    /// Esc on a form with unsaved changes: discard them?
    Discard,
    /// A draft left by an earlier run: restore it?
    RestoreDraft(Box<Draft>),
    /// Someone saved first and both changed some fields: mine or theirs, field by field?
    Conflict(Box<ConflictView>),
    /// Move this interaction to the trash?
    Delete {
        interaction_id: i32,
        version: i32,
        title: String,
    },
}

pub use conflict::{CONFLICT_COMMANDS, ConflictView};

/// How many suggestions the form offers at once.
pub const SUGGESTIONS: usize = 5;

/// An open form.
#[derive(Clone, Debug)]
pub struct FormState {
    pub target: FormTarget,
    /// One editor per field, in [`Field::ALL`] order.
    fields: Vec<TextArea<'static>>,
    /// Index into [`Field::ALL`] of the field with the cursor.
    focus: usize,
    /// Every problem of the current text.
    errors: Vec<FieldError>,
    /// Fields whose problems are on screen.
    shown: BTreeSet<Field>,
    /// The text the form opened with: changed text asks before it is thrown away.
    initial: InteractionInput,
    /// For an edit, the stored version's text the edit started from: what a conflict is merged
    /// against. None for a new record (and for a draft written before drafts kept it).
    pub base: Option<InteractionInput>,
    /// What a merge with someone else's version kept of whom, told when the save succeeds.
    pub merge_note: Option<String>,
    /// Opened from a draft: its text is unsaved even before any key.
    from_draft: bool,
    /// The save in flight: its request id and the text it saves.
    pub saving: Option<(u64, InteractionInput)>,
    /// Why the last save failed.
    pub failure: Option<String>,
    /// The last conflict, until the form is saved or reloaded: Ctrl-S asks about it again.
    pub conflict: Option<Box<ConflictView>>,
    /// Timezone names for the typed text, while the Timezone field has the cursor.
    pub suggestions: Vec<String>,
    /// Index into `suggestions` of the highlighted one, if any: the Timezone field highlights
    /// the first at once (its value must be a real name); free-text fields only after Down, so
    /// Tab never replaces what was typed unasked.
    pub suggestion: Option<usize>,
    /// The site's types, leads and locations, for completion.
    pub lookups: Option<Arc<Lookups>>,
    /// The id of this create, made when the form opens (or kept from its draft): every save
    /// attempt carries it, so a retry never stores the record twice. None for edits.
    pub client_id: Option<String>,
    /// Whose draft file this form writes ([`Draft::form_id`]): made when the form opens, kept
    /// from a restored draft.
    pub form_id: String,
}

impl FormState {
    /// A form on `input`, with the cursor in the first field.
    pub fn new(target: FormTarget, input: &InteractionInput, from_draft: bool) -> FormState {
        let fields = Field::ALL
            .iter()
            .map(|&field| {
                let lines = input.get(field).split('\n').map(String::from).collect();
                let mut area = TextArea::new(lines);
                area.set_cursor_line_style(Style::default());
                if field.is_multi_line() {
                    area.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
                }
                if let Some(hint) = placeholder(field) {
                    area.set_placeholder_text(hint);
                    area.set_placeholder_style(Style::default().add_modifier(Modifier::DIM));
                }
                area.move_cursor(CursorMove::Bottom);
                area.move_cursor(CursorMove::End);
                area
            })
            .collect();
        let mut form = FormState {
            target,
            fields,
            focus: 0,
            errors: Vec::new(),
            shown: BTreeSet::new(),
            initial: input.clone(),
            base: None,
            merge_note: None,
            from_draft,
            saving: None,
            failure: None,
            conflict: None,
            suggestions: Vec::new(),
            suggestion: None,
            lookups: None,
            client_id: None,
            form_id: String::new(),
        };
        form.revalidate(input);
        form.focus_on(0);
        form
    }

    /// The field with the cursor.
    pub fn focused(&self) -> Field {
        Field::ALL.get(self.focus).copied().unwrap_or(Field::Title)
    }

    /// The editor of `field`.
    pub fn editor(&self, field: Field) -> Option<&TextArea<'static>> {
        Field::ALL
            .iter()
            .position(|f| *f == field)
            .and_then(|i| self.fields.get(i))
    }

    /// Everything typed, one string per field (lines joined by `\n`).
    pub fn input(&self) -> InteractionInput {
        let mut input = InteractionInput::default();
        for (field, area) in Field::ALL.iter().zip(&self.fields) {
            input.set(*field, area.lines().join("\n"));
        }
        input
    }

    /// The text of one field (lines joined by `\n`).
    fn text(&self, field: Field) -> String {
        self.editor(field)
            .map(|area| area.lines().join("\n"))
            .unwrap_or_default()
    }

    /// The form holds text that is not saved.
    pub fn changed(&self) -> bool {
        self.changed_from(&self.input())
    }

    /// [`FormState::changed`] for `input`, the form's text already read.
    fn changed_from(&self, input: &InteractionInput) -> bool {
        self.from_draft || *input != self.initial
    }

    /// The problems of `field` that are on screen.
    pub fn problems(&self, field: Field) -> impl Iterator<Item = &FieldError> {
        let shown = self.shown.contains(&field);
        self.errors
            .iter()
            .filter(move |e| shown && e.field == field)
    }

    fn revalidate(&mut self, input: &InteractionInput) {
        self.errors = validate(input).err().unwrap_or_default();
    }

    /// Moves the cursor to field `index`; the field it leaves shows its problems from now on.
    fn focus_on(&mut self, index: usize) {
        let index = index.min(Field::ALL.len() - 1);
        if index != self.focus {
            self.shown.insert(self.focused());
        }
        self.focus = index;
        for (i, area) in self.fields.iter_mut().enumerate() {
            let style = if i == index {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            };
            area.set_cursor_style(style);
        }
        self.refresh_suggestions();
    }

    /// Completion values arrived (or changed): suggest from them.
    pub fn set_lookups(&mut self, lookups: Arc<Lookups>) {
        self.lookups = Some(lookups);
        self.refresh_suggestions();
    }

    /// Puts the cursor in `field` (a click on it).
    pub fn focus_field(&mut self, field: Field) {
        if let Some(i) = Field::ALL.iter().position(|f| *f == field) {
            self.focus_on(i);
        }
    }

    fn refresh_suggestions(&mut self) {
        let field = self.focused();
        let text = self.text(field);
        self.suggestions = match field {
            Field::Timezone if parse_timezone(&text).is_err() => {
                timezone_suggestions(&text, SUGGESTIONS)
                    .into_iter()
                    .map(String::from)
                    .collect()
            }
            Field::Type | Field::Lead | Field::Location => match &self.lookups {
                Some(lookups) => complete(lookups.values(field), &text),
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        self.suggestion = (field == Field::Timezone && !self.suggestions.is_empty()).then_some(0);
    }

    fn focused_area(&mut self) -> Option<&mut TextArea<'static>> {
        self.fields.get_mut(self.focus)
    }

    /// Replaces the text of the focused field.
    fn set_focused_text(&mut self, text: &str) {
        if let Some(area) = self.focused_area() {
            replace(area, text);
        }
    }

    /// Replaces the text of every field that differs from `input` (the others keep their
    /// cursor).
    fn replace_text(&mut self, input: &InteractionInput) {
        for (field, area) in Field::ALL.iter().zip(&mut self.fields) {
            let text = input.get(*field);
            if area.lines().join("\n") != text {
                replace(area, text);
            }
        }
    }
}

fn replace(area: &mut TextArea<'static>, text: &str) {
    area.select_all();
    area.cut();
    area.insert_str(text);
}

fn placeholder(field: Field) -> Option<&'static str> {
    match field {
        Field::Start | Field::End => Some("YYYY-MM-DD HH:MM"),
        Field::Timezone => Some("an IANA name, e.g. Europe/London"),
        _ => None,
    }
}

/// Editors and admins may create and edit; viewers get no form.
fn may_edit(state: &mut State) -> bool {
    if state.session.role.may_edit() {
        return true;
    }
    state.notice = Some(format!(
        "you are {} at {}: only editors and admins create and edit interactions; ask a site \
         admin for the editor role",
        state.session.role.with_article(),
        state.session.site
    ));
    false
}

/// Parked drafts must be answered, one at a time, before another form opens over them.
fn draft_first(state: &mut State) -> bool {
    if state.parked_drafts.is_empty() {
        return false;
    }
    let draft = state.parked_drafts.remove(0);
    state.confirm = Some(Confirm::RestoreDraft(draft));
    true
}

/// Opens an empty form for a new interaction: its timezone that of the selected result (or UTC),
/// its start the next full hour there, one hour long.
pub fn open_new(state: &mut State) {
    if !may_edit(state) || draft_first(state) {
        return;
    }
    let timezone = state
        .finder
        .selected_hit()
        .map_or_else(|| "UTC".to_string(), |h| h.interaction.timezone.clone());
    let (start, end) = next_hour(state.wall_clock, &timezone);
    let input = InteractionInput {
        start,
        end,
        timezone,
        ..InteractionInput::default()
    };
    let mut form = FormState::new(FormTarget::New, &input, false);
    form.client_id = Some(state.client_ids.next_id());
    form.form_id = state.client_ids.next_id();
    open(state, form);
}

/// Opens the selected interaction in the form.
pub fn open_edit(state: &mut State) {
    let Some(hit) = state.finder.selected_hit() else {
        state.notice = Some("select an interaction to edit".into());
        return;
    };
    if hit.archived {
        state.notice = Some("archived interactions are read-only".into());
        return;
    }
    let i = hit.interaction.clone();
    if !may_edit(state) || draft_first(state) {
        return;
    }
    let target = FormTarget::Edit {
        interaction_id: i.interaction_id,
        version: i.version,
    };
    let input = InteractionInput::from_interaction(&i);
    let mut form = FormState::new(target, &input, false);
    form.base = Some(input);
    form.form_id = state.client_ids.next_id();
    open(state, form);
}

fn open(state: &mut State, mut form: FormState) {
    state.help_open = false;
    form.lookups = state
        .lookups
        .clone()
        .filter(|l| l.site_id == state.session.site_id);
    state.pane = Pane::Form(Box::new(form));
}

/// The next full hour after `now` on the wall clock of `timezone`, and an hour after it.
fn next_hour(now: DateTime<Utc>, timezone: &str) -> (String, String) {
    let Ok(tz) = parse_timezone(timezone) else {
        return (String::new(), String::new());
    };
    let local = now.with_timezone(&tz).naive_local();
    let Some(hour) = local
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
    else {
        return (String::new(), String::new());
    };
    let start = hour + Duration::hours(1);
    let end = start + Duration::hours(1);
    let show = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M").to_string();
    (show(start), show(end))
}

/// Handles an action on the form.
pub fn act_form(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    let Some(form) = state.form_mut() else {
        return;
    };
    let last = Field::ALL.len() - 1;
    match action {
        Action::NextField => {
            let took = take_suggestion(form);
            form.focus_on(if form.focus == last {
                0
            } else {
                form.focus + 1
            });
            if took {
                edited(state, effects);
            }
        }
        Action::PrevField => form.focus_on(if form.focus == 0 {
            last
        } else {
            form.focus - 1
        }),
        Action::MoveDown if !form.suggestions.is_empty() => {
            let last = form.suggestions.len() - 1;
            form.suggestion = Some(form.suggestion.map_or(0, |i| (i + 1).min(last)));
        }
        Action::MoveUp if form.suggestion.is_some() => {
            form.suggestion = match form.suggestion {
                Some(0) if form.focused() != Field::Timezone => None,
                other => other.map(|i| i.saturating_sub(1)),
            };
        }
        Action::MoveDown => form.focus_on((form.focus + 1).min(last)),
        Action::MoveUp => form.focus_on(form.focus.saturating_sub(1)),
        Action::ClearField => {
            form.set_focused_text("");
            edited(state, effects);
        }
        Action::Save => save(state, effects),
        Action::Back => {
            if form.changed() {
                state.confirm = Some(Confirm::Discard);
            } else {
                close(state, effects);
            }
        }
        Action::Help => state.help_open = true,
        Action::Quit | Action::ForceQuit => {
            // The draft stays on disk and is offered at the next start.
            state.quit = true;
            effects.push(Effect::Quit);
        }
        _ => {}
    }
}

/// Puts the highlighted suggestion into the field; true if it did.
fn take_suggestion(form: &mut FormState) -> bool {
    match form
        .suggestion
        .and_then(|i| form.suggestions.get(i))
        .cloned()
    {
        Some(value) => {
            form.set_focused_text(&value);
            true
        }
        None => false,
    }
}

/// The values of the site a field can complete from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lookups {
    pub site_id: i32,
    pub types: Vec<String>,
    pub leads: Vec<String>,
    pub locations: Vec<String>,
}

impl Lookups {
    fn values(&self, field: Field) -> &[String] {
        match field {
            Field::Type => &self.types,
            Field::Lead => &self.leads,
            Field::Location => &self.locations,
            _ => &[],
        }
    }
}

/// Up to [`SUGGESTIONS`] of `values` for `text`: those starting with it first, then those
/// containing it (any case); nothing for empty text or an exact match.
fn complete(values: &[String], text: &str) -> Vec<String> {
    let needle = text.trim().to_lowercase();
    if needle.is_empty() || values.iter().any(|v| v.to_lowercase() == needle) {
        return Vec::new();
    }
    let lower: Vec<(String, &String)> = values.iter().map(|v| (v.to_lowercase(), v)).collect();
    let starts = lower.iter().filter(|(l, _)| l.starts_with(&needle));
    let contains = lower
        .iter()
        .filter(|(l, _)| !l.starts_with(&needle) && l.contains(&needle));
    starts
        .chain(contains)
        .take(SUGGESTIONS)
        .map(|(_, v)| (*v).clone())
        .collect()
}

/// Feeds a key to the focused field. A single-line field takes no line breaks.
pub fn type_key(state: &mut State, key: KeyEvent, effects: &mut Vec<Effect>) {
    let Some(form) = state.form_mut() else {
        return;
    };
    let multi = form.focused().is_multi_line();
    let line_break = key.code == KeyCode::Enter
        || matches!(key.code, KeyCode::Char('\n' | '\r'))
        || (key.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(key.code, KeyCode::Char('m' | 'j')));
    if line_break && !multi {
        return;
    }
    let changed = form.focused_area().is_some_and(|area| area.input(key));
    if changed {
        edited(state, effects);
    }
}

/// Pastes text into the focused field; line breaks become spaces in a single-line field.
pub fn paste(state: &mut State, text: &str, effects: &mut Vec<Effect>) {
    let Some(form) = state.form_mut() else {
        return;
    };
    // Line ends as terminals paste them: CRLF, LF, or CR alone (tmux's default).
    let text = if form.focused().is_multi_line() {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.replace("\r\n", " ").replace(['\n', '\r'], " ")
    };
    if form
        .focused_area()
        .is_some_and(|area| area.insert_str(&text))
    {
        edited(state, effects);
    }
}

/// After any change of the text: check it again and keep the draft in step.
pub(super) fn edited(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(form) = state.form_mut() else {
        return;
    };
    // The text is read once per change: a field may hold a megabyte.
    let input = form.input();
    form.revalidate(&input);
    form.refresh_suggestions();
    let form_id = form.form_id.clone();
    if form.changed_from(&input) {
        let (target, client_id, base) = (form.target, form.client_id.clone(), form.base.clone());
        let mut draft = draft_of(state, target, input);
        draft.client_id = client_id;
        draft.base = base.map(Box::new);
        draft.form_id = form_id;
        effects.push(Effect::WriteDraft(draft));
    } else {
        effects.push(delete_draft(state, form_id));
    }
}

fn draft_of(state: &State, target: FormTarget, input: InteractionInput) -> Draft {
    Draft {
        user: state.session.user.clone(),
        site_id: state.session.site_id,
        site: state.session.site.clone(),
        target,
        input,
        client_id: None,
        saved_at: None,
        form_id: String::new(),
        base: None,
    }
}

/// Removes the draft of form `form_id` (saved, or discarded).
fn delete_draft(state: &State, form_id: String) -> Effect {
    Effect::DeleteDraft {
        user: state.session.user.clone(),
        site_id: state.session.site_id,
        form_id,
    }
}

/// Checks the form and, if it is right, sends it to be saved.
pub(super) fn save(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(form) = state.form_mut() else {
        return;
    };
    if form.saving.is_some() {
        state.notice = Some(if form.failure.is_some() {
            "still finding out whether the last save reached the database; it is told here as \
             soon as the connection is back"
                .into()
        } else {
            "saving…".into()
        });
        return;
    }
    if let Some(earlier) = form.conflict.take() {
        // Saving again would only meet their version again: merge with it first.
        let mine = form.input();
        let (theirs, by) = (earlier.theirs.clone(), earlier.by.clone());
        let view = ConflictView::new(theirs, by, form.base.as_ref(), &mine, Some(&earlier));
        if view.merge.clashes.is_empty() {
            conflict::settle(state, view, true, effects);
        } else {
            conflict::ask(state, view);
        }
        return;
    }
    let input = form.input();
    let unchanged = matches!(form.target, FormTarget::Edit { .. })
        && form.base.as_ref().is_some_and(|base| {
            Field::ALL
                .iter()
                .all(|f| same_value(*f, base.get(*f), input.get(*f)))
        });
    if unchanged {
        // Nothing to write: a save would only make a new version, and anyone editing the
        // record then would meet it as a conflict.
        close(state, effects);
        state.notice = Some("nothing changed, so nothing was saved".into());
        return;
    }
    match validate(&input) {
        Err(errors) => {
            let first = errors.first().map(|e| e.field);
            form.shown.extend(Field::ALL);
            form.errors = errors;
            if let Some(i) = first.and_then(|f| Field::ALL.iter().position(|x| *x == f)) {
                form.focus_on(i);
            }
            let n = form.errors.len();
            state.notice = Some(format!(
                "not saved: {n} problem{} to fix, marked in the form",
                if n == 1 { "" } else { "s" }
            ));
        }
        Ok(interaction) => {
            let target = form.target;
            let client_id = match target {
                FormTarget::New => form.client_id.clone(),
                FormTarget::Edit { .. } => None,
            };
            let request_id = next_id(state);
            if let Some(form) = state.form_mut() {
                form.saving = Some((request_id, input));
                form.failure = None;
            }
            effects.push(Effect::Save {
                request_id,
                site_id: state.session.site_id,
                target,
                interaction,
                client_id,
            });
        }
    }
}

/// Applies the answer to save `request_id`.
pub fn save_done(
    state: &mut State,
    request_id: u64,
    result: Result<Box<Interaction>, SaveError>,
    effects: &mut Vec<Effect>,
) {
    let Some(form) = state.form_mut() else {
        return;
    };
    let Some((_, saved)) = form.saving.take_if(|(id, _)| *id == request_id) else {
        return;
    };
    match result {
        Ok(stored) => {
            // Our own change: the cached pages of the site are stale now.
            state.finder.cache.invalidate(state.session.site_id);
            let Some(form) = state.form_mut() else {
                return;
            };
            if form.input() == saved {
                let merged = form.merge_note.take();
                close(state, effects);
                state.notice = Some(match merged {
                    Some(note) => format!("saved \"{}\"; {note}", stored.title),
                    None => format!("saved \"{}\"", stored.title),
                });
                if state.screen() == Screen::Finder {
                    // The refreshed results select what was just saved, wherever it is.
                    state.finder.keep_selection = Some(stored.interaction_id);
                    search_now(state, effects);
                }
            } else {
                // Typed more while it was saving: the form stays, now editing the stored record.
                form.target = FormTarget::Edit {
                    interaction_id: stored.interaction_id,
                    version: stored.version,
                };
                form.initial = saved;
                form.base = Some(InteractionInput::from_interaction(&stored));
                form.merge_note = None;
                form.from_draft = false;
                state.notice = Some(format!(
                    "saved \"{}\"; you typed more since, press Ctrl-S to save that too",
                    stored.title
                ));
                edited(state, effects);
            }
        }
        Err(SaveError::Conflict { current, by }) => {
            let typed_more = form.input() != saved;
            conflict::met(state, *current, by, typed_more, effects);
        }
        Err(e) => form.failure = Some(e.message()),
    }
}

/// Closes the form (its text is saved or discarded) and removes its draft.
fn close(state: &mut State, effects: &mut Vec<Effect>) {
    let form_id = state.form().map(|f| f.form_id.clone());
    state.pane = Pane::Finder;
    state.confirm = None;
    if let Some(form_id) = form_id {
        effects.push(delete_draft(state, form_id));
    }
}

/// Handles the answer to the question on screen.
pub fn act_confirm(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    let Some(question) = state.confirm.take() else {
        return;
    };
    match (question, action) {
        (_, Action::ForceQuit) => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        (Confirm::Discard, Action::Yes) => {
            close(state, effects);
            state.notice = Some("changes discarded".into());
        }
        (Confirm::Discard, Action::No | Action::Back) => {}
        (Confirm::RestoreDraft(draft), Action::Yes) => {
            state.notice = Some("draft restored: Ctrl-S saves it, Esc discards it".into());
            let mut form = FormState::new(draft.target, &draft.input, true);
            form.form_id = draft.form_id.clone();
            form.base = draft.base.as_deref().cloned();
            form.client_id = match draft.target {
                // A draft from before client ids: a new id (it was never saved with one).
                FormTarget::New => draft.client_id.or_else(|| Some(state.client_ids.next_id())),
                FormTarget::Edit { .. } => None,
            };
            open(state, form);
        }
        (Confirm::RestoreDraft(draft), Action::No) => {
            effects.push(delete_draft(state, draft.form_id.clone()));
            state.notice = Some("draft discarded".into());
        }
        (Confirm::RestoreDraft(draft), Action::Back) => {
            state.parked_drafts.push(draft);
            state.notice =
                Some("the draft is kept; it is offered again when you open a form".into());
        }
        (Confirm::Conflict(view), action) => conflict::act(state, *view, action, effects),
        (
            Confirm::Delete {
                interaction_id,
                version,
                title,
            },
            Action::Yes,
        ) => super::trash::delete(state, interaction_id, version, title, effects),
        (Confirm::Delete { .. }, Action::No | Action::Back) => {}
        (question, _) => state.confirm = Some(question),
    }
}

/// Drops the form's changes and loads their version (the conflict question's "take theirs").
fn take_theirs(state: &mut State, view: &ConflictView, effects: &mut Vec<Effect>) {
    let target = FormTarget::Edit {
        interaction_id: view.theirs.interaction_id,
        version: view.theirs.version,
    };
    let mut form_id = String::new();
    if let Some(form) = state.form_mut() {
        let focus = form.focus;
        form_id = std::mem::take(&mut form.form_id);
        let theirs = InteractionInput::from_interaction(&view.theirs);
        *form = FormState::new(target, &theirs, false);
        form.base = Some(theirs);
        form.focus_on(focus);
        form.form_id = form_id.clone();
    }
    effects.push(delete_draft(state, form_id));
    state.notice = Some(format!(
        "{}'s version {} is in the form; your changes were dropped",
        view.who(),
        view.theirs.version
    ));
}

/// The drafts looked for when the Finder opened: offer them back, one at a time (the first at
/// once, the others before the next form opens).
pub fn draft_found(state: &mut State, found: Result<Found, String>) {
    let found = match found {
        Ok(found) => found,
        Err(message) => {
            state.notice = Some(message);
            return;
        }
    };
    if !found.damaged.is_empty() {
        state.notice = Some(found.damaged.join("; "));
    }
    let (user, site_id) = (&state.session.user, state.session.site_id);
    let mut drafts: Vec<Box<Draft>> = found
        .drafts
        .into_iter()
        .filter(|d| d.user == *user && d.site_id == site_id)
        .map(Box::new)
        .collect();
    if drafts.is_empty() {
        return;
    }
    if state.confirm.is_none() && state.form().is_none() {
        state.confirm = Some(Confirm::RestoreDraft(drafts.remove(0)));
    }
    state.parked_drafts.extend(drafts);
}

/// The effect that looks for the session's draft (when the Finder opens on a site).
pub fn look_for_draft(state: &State) -> Effect {
    Effect::LookForDraft {
        user: state.session.user.clone(),
        site_id: state.session.site_id,
    }
}

/// The form's commands in a single-line field.
pub const FORM_COMMANDS: &[Command] = &[
    Command::new(Mode::Form, Action::NextField, &["tab", "enter"]),
    Command::new(Mode::Form, Action::PrevField, &["backtab"]),
    Command::new(Mode::Form, Action::MoveDown, &["down"]),
    Command::new(Mode::Form, Action::MoveUp, &["up"]),
    Command::new(Mode::Form, Action::Save, &["ctrl-s"]),
    Command::new(Mode::Form, Action::ClearField, &["ctrl-u"]),
    Command::new(Mode::Form, Action::Back, &["esc"]),
    Command::new(Mode::Form, Action::Help, &["f1"]),
    Command::new(Mode::Form, Action::ForceQuit, &["ctrl-c"]),
];

/// The form's commands in a multi-line field (description, notes).
pub const FORM_TEXT_COMMANDS: &[Command] = &[
    Command::new(Mode::FormText, Action::NextField, &["tab"]),
    Command::new(Mode::FormText, Action::PrevField, &["backtab"]),
    Command::new(Mode::FormText, Action::Save, &["ctrl-s"]),
    Command::new(Mode::FormText, Action::ClearField, &["ctrl-u"]),
    Command::new(Mode::FormText, Action::Back, &["esc"]),
    Command::new(Mode::FormText, Action::Help, &["f1"]),
    Command::new(Mode::FormText, Action::ForceQuit, &["ctrl-c"]),
];

/// The answers to a question on screen (discard changes? restore a draft? a conflict).
pub const CONFIRM_COMMANDS: &[Command] = &[
    Command::new(Mode::Confirm, Action::Yes, &["y", "enter"]),
    Command::new(Mode::Confirm, Action::No, &["n"]),
    Command::new(Mode::Confirm, Action::Back, &["esc"]),
    Command::new(Mode::Confirm, Action::ForceQuit, &["ctrl-c"]),
];

/// The form's hint line.
pub const FORM_HINTS: &[Hint] = &[
    Hint::new(&[Action::Save], "save"),
    Hint::new(&[Action::NextField], "next field"),
    Hint::new(&[Action::ClearField], "clear field"),
    Hint::new(&[Action::Back], "back"),
];

mod conflict;
#[cfg(test)]
mod tests;
