//! Key sequences through the form: opening, typing, inline problems, saving, drafts and
//! questions. No terminal, no database: effects are checked as values.

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::app::state::Mode;
use crate::app::test_support::{App, ch, code, ctrl, hit, searches};
use crate::app::update::{Event, Msg};
use crate::domain::interaction::ValidInteraction;
use crate::domain::interaction::merge::Side;

/// Loaded Finder with the list focused and the wall clock at 2026-11-21 13:20 UTC.
fn finder() -> App {
    let mut app = App::loaded(5, false);
    app.press(code(KeyCode::Esc));
    assert_eq!(app.state.mode(), Mode::List);
    let now = Utc
        .with_ymd_and_hms(2026, 11, 21, 13, 20, 0)
        .single()
        .expect("a valid time");
    app.update(Event::Msg(Msg::WallClock(now)));
    app
}

fn form(app: &App) -> &FormState {
    app.state.form().expect("the form is open")
}

fn drafts(effects: &[Effect]) -> Vec<&Draft> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::WriteDraft(d) => Some(d),
            _ => None,
        })
        .collect()
}

fn saves(effects: &[Effect]) -> Vec<(u64, FormTarget, ValidInteraction)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Save {
                request_id,
                target,
                interaction,
                ..
            } => Some((*request_id, *target, interaction.clone())),
            _ => None,
        })
        .collect()
}

fn deletes_draft(effects: &[Effect]) -> bool {
    effects
        .iter()
        .any(|e| matches!(e, Effect::DeleteDraft { user, site_id: 7, .. } if user == "maria"))
}

/// Types `text` into the focused field, key by key (`\n` is Enter).
fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| {
            if c == '\n' {
                app.press(code(KeyCode::Enter))
            } else {
                app.press(ch(c))
            }
        })
        .collect()
}

fn tab(app: &mut App) -> Vec<Effect> {
    app.press(code(KeyCode::Tab))
}

fn backtab(app: &mut App) -> Vec<Effect> {
    app.press(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT))
}

/// Opens a new form and fills it completely and correctly.
fn fill_new(app: &mut App) {
    app.press(ch('n'));
    for (text, clear) in [
        ("Harbour inspection", false),
        ("Visit", false),
        ("Mira Okafor", false),
        ("2026-12-01 09:30", true),
        ("2026-12-01 10:15", true),
        ("Europe/Berlin", true),
        ("Pier 4", false),
        ("Checked the cranes.\nAll fine.", false),
        ("Follow up in March.", false),
    ] {
        if clear {
            app.press(ctrl('u'));
        }
        type_text(app, text);
        if form(app).focused() != Field::Notes {
            tab(app);
        }
    }
}

fn answer_save(
    app: &mut App,
    request_id: u64,
    result: Result<Interaction, SaveError>,
) -> Vec<Effect> {
    app.update(Event::Msg(Msg::SaveDone {
        request_id,
        result: result.map(Box::new),
    }))
}

#[test]
fn n_opens_a_new_form_with_useful_defaults() {
    let mut app = finder();
    app.press(ch('n'));
    assert_eq!(app.state.screen(), Screen::Form);
    assert_eq!(app.state.mode(), Mode::Form);
    let f = form(&app);
    assert_eq!(f.target, FormTarget::New);
    assert_eq!(f.focused(), Field::Title);
    let input = f.input();
    // The selected result is in Europe/London (UTC+0 in November): the next full hour there.
    assert_eq!(input.timezone, "Europe/London");
    assert_eq!(input.start, "2026-11-21 14:00");
    assert_eq!(input.end, "2026-11-21 15:00");
    assert_eq!(input.title, "");
    assert!(!f.changed(), "defaults alone are nothing to lose");
    assert_eq!(
        f.problems(Field::Title).count(),
        0,
        "no problem shown before leaving a field"
    );
}

#[test]
fn viewers_get_no_form() {
    let mut app = finder();
    app.state.session.role = crate::domain::users::Role::Viewer;
    app.press(ch('n'));
    assert_eq!(app.state.screen(), Screen::Finder);
    assert!(app.state.form().is_none());
    let notice = app.state.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("you are a viewer at Leeds") && notice.contains("editor role"),
        "{notice}"
    );
    app.press(ch('e'));
    assert!(app.state.form().is_none());
}

#[test]
fn every_change_is_kept_in_a_draft() {
    let mut app = finder();
    app.press(ch('n'));
    let effects = type_text(&mut app, "Bud");
    let written = drafts(&effects);
    assert_eq!(written.len(), 3, "one write per changed key");
    let last = written[2];
    assert_eq!(last.input.title, "Bud");
    assert_eq!((last.user.as_str(), last.site_id), ("maria", 7));
    assert_eq!(last.target, FormTarget::New);
    // Back to the text it opened with: nothing to keep.
    let effects = app.press(ctrl('u'));
    assert!(deletes_draft(&effects) && drafts(&effects).is_empty());
}

#[test]
fn problems_show_once_a_field_is_left_and_follow_the_typing() {
    let mut app = finder();
    app.press(ch('n'));
    tab(&mut app);
    assert_eq!(form(&app).focused(), Field::Type);
    let shown: Vec<String> = form(&app)
        .problems(Field::Title)
        .map(|p| p.message.clone())
        .collect();
    assert_eq!(shown, vec!["Title is required.".to_string()]);
    assert_eq!(form(&app).problems(Field::Type).count(), 0, "not left yet");
    backtab(&mut app);
    type_text(&mut app, "Budget call");
    assert_eq!(
        form(&app).problems(Field::Title).count(),
        0,
        "fixed as typed"
    );
}

#[test]
fn saving_an_incomplete_form_marks_every_problem_and_sends_nothing() {
    let mut app = finder();
    app.press(ch('n'));
    type_text(&mut app, "Budget call");
    let effects = app.press(ctrl('s'));
    assert!(saves(&effects).is_empty());
    let f = form(&app);
    assert_eq!(
        f.focused(),
        Field::Type,
        "the cursor goes to the first problem"
    );
    assert!(
        f.problems(Field::Lead).count() > 0,
        "all problems are shown"
    );
    assert!(
        app.state
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("2 problems")),
        "{:?}",
        app.state.notice
    );
}

#[test]
fn a_complete_form_saves_and_closes_only_when_the_database_answers() {
    let mut app = finder();
    fill_new(&mut app);
    let effects = app.press(ctrl('s'));
    let sent = saves(&effects);
    assert_eq!(sent.len(), 1, "{effects:?}");
    let (id, target, v) = sent[0].clone();
    assert_eq!(target, FormTarget::New);
    assert_eq!(v.title, "Harbour inspection");
    assert_eq!(v.timezone, "Europe/Berlin");
    assert_eq!(
        v.start_datetime,
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 30, 0)
            .single()
            .expect("time")
    );
    assert_eq!(
        v.description.as_deref(),
        Some("Checked the cranes.\nAll fine.")
    );
    assert_eq!(v.notes.as_deref(), Some("Follow up in March."));
    assert_eq!(app.state.screen(), Screen::Form, "open until the answer");
    assert!(
        saves(&app.press(ctrl('s'))).is_empty(),
        "a second Ctrl-S while saving sends nothing more"
    );

    let mut stored = hit(3).interaction;
    stored.title = v.title.clone();
    let effects = answer_save(&mut app, id, Ok(stored.clone()));
    assert_eq!(app.state.screen(), Screen::Finder);
    assert!(app.state.form().is_none());
    assert!(deletes_draft(&effects), "the draft goes once saved");
    let refresh = searches(&effects);
    assert_eq!(refresh.len(), 1, "the list is refreshed");
    assert_eq!(
        app.state.notice.as_deref(),
        Some("saved \"Harbour inspection\"")
    );
    // The refreshed list selects the record just saved.
    app.done(refresh[0].0, crate::app::test_support::page(0, 5, false));
    assert_eq!(
        app.state
            .finder
            .selected_hit()
            .map(|h| h.interaction.interaction_id),
        Some(stored.interaction_id)
    );
}

#[test]
fn a_failed_save_keeps_the_form_its_text_and_the_reason() {
    let mut app = finder();
    fill_new(&mut app);
    let (id, _, _) = saves(&app.press(ctrl('s')))[0].clone();
    let before = form(&app).input();
    let effects = answer_save(
        &mut app,
        id,
        Err(SaveError::Failed("connection refused".into())),
    );
    assert!(!deletes_draft(&effects), "the draft stays");
    assert_eq!(app.state.screen(), Screen::Form);
    let f = form(&app);
    assert_eq!(f.input(), before);
    let failure = f.failure.clone().unwrap_or_default();
    assert!(
        failure.contains("connection refused") && failure.contains("Ctrl-S"),
        "{failure}"
    );
    assert_eq!(
        saves(&app.press(ctrl('s'))).len(),
        1,
        "it can be tried again"
    );
}

#[test]
fn an_answer_to_another_save_is_ignored() {
    let mut app = finder();
    fill_new(&mut app);
    let (id, _, _) = saves(&app.press(ctrl('s')))[0].clone();
    answer_save(&mut app, id + 100, Ok(hit(0).interaction));
    assert_eq!(app.state.screen(), Screen::Form);
    assert!(form(&app).saving.is_some());
}

#[test]
fn text_typed_while_saving_is_kept_and_the_form_becomes_an_edit() {
    let mut app = finder();
    fill_new(&mut app);
    let (id, _, _) = saves(&app.press(ctrl('s')))[0].clone();
    type_text(&mut app, " Bring boots.");
    let mut stored = hit(0).interaction;
    stored.interaction_id = 4242;
    stored.version = 1;
    let effects = answer_save(&mut app, id, Ok(stored));
    let f = form(&app);
    assert_eq!(
        f.target,
        FormTarget::Edit {
            interaction_id: 4242,
            version: 1
        }
    );
    assert_eq!(f.input().notes, "Follow up in March. Bring boots.");
    assert!(f.changed());
    assert_eq!(drafts(&effects).len(), 1, "the extra text is in the draft");
}

#[test]
fn e_edits_the_selected_interaction() {
    let mut app = finder();
    app.press(ch('j'));
    app.press(ch('e'));
    let f = form(&app);
    let original = hit(1).interaction;
    assert_eq!(
        f.target,
        FormTarget::Edit {
            interaction_id: original.interaction_id,
            version: original.version
        }
    );
    let input = f.input();
    assert_eq!(input.title, original.title);
    assert_eq!(input.timezone, "Europe/Berlin");
    assert_eq!(input.description, original.description.unwrap_or_default());
    assert!(!f.changed());
    app.press(code(KeyCode::Esc));
    assert_eq!(app.state.screen(), Screen::Finder, "unchanged: Esc closes");
    assert!(app.state.confirm.is_none());
}

#[test]
fn saving_an_edit_that_changed_nothing_writes_nothing() {
    let mut app = finder();
    app.press(ch('j'));
    app.press(ch('e'));
    // A space typed and taken back: the text is what it was.
    type_text(&mut app, " ");
    app.press(code(KeyCode::Backspace));
    let effects = app.press(ctrl('s'));
    assert!(saves(&effects).is_empty(), "no save sent");
    assert!(deletes_draft(&effects), "the draft goes");
    assert_eq!(app.state.screen(), Screen::Finder);
    assert_eq!(
        app.state.notice.as_deref(),
        Some("nothing changed, so nothing was saved")
    );
}

#[test]
fn esc_on_unsaved_changes_asks_first() {
    let mut app = finder();
    app.press(ch('n'));
    type_text(&mut app, "Half a thought");
    app.press(code(KeyCode::Esc));
    assert_eq!(app.state.confirm, Some(Confirm::Discard));
    assert_eq!(app.state.mode(), Mode::Confirm);
    app.press(ch('n'));
    assert!(app.state.confirm.is_none(), "n keeps editing");
    assert_eq!(form(&app).input().title, "Half a thought");
    app.press(code(KeyCode::Esc));
    let effects = app.press(ch('y'));
    assert_eq!(app.state.screen(), Screen::Finder);
    assert!(app.state.form().is_none());
    assert!(deletes_draft(&effects));
}

#[test]
fn enter_moves_on_in_one_line_fields_and_breaks_lines_in_long_ones() {
    let mut app = finder();
    app.press(ch('n'));
    type_text(&mut app, "A\nB");
    let input = form(&app).input();
    assert_eq!((input.title.as_str(), input.kind.as_str()), ("A", "B"));
    for _ in 0..6 {
        tab(&mut app);
    }
    assert_eq!(form(&app).focused(), Field::Description);
    assert_eq!(app.state.mode(), Mode::FormText);
    type_text(&mut app, "one\ntwo");
    assert_eq!(form(&app).input().description, "one\ntwo");
}

#[test]
fn the_timezone_field_completes() {
    let mut app = finder();
    app.press(ch('n'));
    for _ in 0..5 {
        tab(&mut app);
    }
    assert_eq!(form(&app).focused(), Field::Timezone);
    app.press(ctrl('u'));
    type_text(&mut app, "new_y");
    assert_eq!(
        form(&app).suggestions.first().map(String::as_str),
        Some("America/New_York")
    );
    tab(&mut app);
    assert_eq!(form(&app).input().timezone, "America/New_York");
    assert_eq!(form(&app).focused(), Field::Location);

    backtab(&mut app);
    app.press(ctrl('u'));
    type_text(&mut app, "Europe/L");
    let second = form(&app).suggestions[1].clone();
    app.press(code(KeyCode::Down));
    tab(&mut app);
    assert_eq!(form(&app).input().timezone, second, "Down picks another");
}

#[test]
fn a_paste_lands_whole_in_the_focused_field() {
    let mut app = finder();
    app.press(ch('n'));
    app.update(Event::Paste("line one\nline two".into()));
    assert_eq!(form(&app).input().title, "line one line two");
    assert_eq!(form(&app).focused(), Field::Title, "no Enter was pressed");
    for _ in 0..7 {
        tab(&mut app);
    }
    let effects = app.update(Event::Paste("a\r\nb".into()));
    assert_eq!(form(&app).input().description, "a\nb");
    // A terminal that pastes line ends as CR alone (tmux) keeps the lines apart too.
    app.update(Event::Paste("\rannual\rbudget".into()));
    assert_eq!(form(&app).input().description, "a\nb\nannual\nbudget");
    assert_eq!(drafts(&effects).len(), 1);
}

fn a_draft() -> Draft {
    Draft {
        user: "maria".into(),
        site_id: 7,
        site: "Leeds".into(),
        target: FormTarget::New,
        input: InteractionInput {
            title: "Typed before the crash".into(),
            notes: "every word".into(),
            ..InteractionInput::default()
        },
        client_id: None,
        saved_at: None,
        form_id: String::new(),
        base: None,
    }
}

fn found(app: &mut App, draft: Result<Option<Draft>, String>) {
    let found = draft
        .map(|d| crate::app::drafts::Found {
            drafts: d.into_iter().collect(),
            damaged: Vec::new(),
        })
        .map_err(crate::domain::failure::Failure::from);
    app.update(Event::Msg(Msg::DraftFound(found)));
}

#[test]
fn the_finder_looks_for_a_draft_and_offers_it_back() {
    let mut app = App::new();
    let effects = crate::app::update::start(&mut app.state);
    assert!(effects.contains(&Effect::LookForDraft {
        user: "maria".into(),
        site_id: 7
    }));
    found(&mut app, Ok(Some(a_draft())));
    assert_eq!(app.state.mode(), Mode::Confirm);
    app.press(ch('y'));
    assert_eq!(app.state.screen(), Screen::Form);
    let f = form(&app);
    assert_eq!(f.input().title, "Typed before the crash");
    assert_eq!(f.input().notes, "every word");
    assert!(f.changed(), "restored text is unsaved text");
}

#[test]
fn a_draft_for_someone_else_or_another_site_is_not_offered() {
    let mut app = App::new();
    let mut other = a_draft();
    other.user = "tom".into();
    found(&mut app, Ok(Some(other)));
    let mut elsewhere = a_draft();
    elsewhere.site_id = 8;
    found(&mut app, Ok(Some(elsewhere)));
    assert!(app.state.confirm.is_none());
}

#[test]
fn a_draft_left_for_later_comes_back_before_the_next_form() {
    let mut app = finder();
    found(&mut app, Ok(Some(a_draft())));
    let effects = app.press(code(KeyCode::Esc));
    assert!(!deletes_draft(&effects), "later is not never");
    assert!(app.state.confirm.is_none());
    app.press(ch('n'));
    assert!(
        matches!(app.state.confirm, Some(Confirm::RestoreDraft(_))),
        "asked again before a new form could overwrite it"
    );
    let effects = app.press(ch('n'));
    assert!(deletes_draft(&effects), "n discards it");
    app.press(ch('n'));
    assert_eq!(app.state.screen(), Screen::Form);
    assert_eq!(form(&app).input().title, "");
}

#[test]
fn a_damaged_draft_is_reported() {
    let mut app = App::new();
    found(&mut app, Err("a saved draft in /x cannot be read".into()));
    assert!(
        app.state
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("/x"))
    );
}

#[test]
fn ctrl_c_quits_from_the_form_and_keeps_the_draft() {
    let mut app = finder();
    app.press(ch('n'));
    type_text(&mut app, "Unsaved");
    let effects = app.press(ctrl('c'));
    assert!(app.state.quit);
    assert!(!deletes_draft(&effects));
}

#[test]
fn a_click_on_a_field_puts_the_cursor_there() {
    let mut app = finder();
    app.press(ch('n'));
    // At 80x24 with no problems shown: header, then one row per single-line field.
    app.update(Event::Click { column: 2, row: 3 });
    assert_eq!(form(&app).focused(), Field::Lead);
    // Leaving Title shows its problem on a row of its own: Location moves down to row 8.
    assert_eq!(form(&app).problems(Field::Title).count(), 1);
    app.update(Event::Click { column: 40, row: 8 });
    assert_eq!(form(&app).focused(), Field::Location);
}

/// Opens hit 1 (version 2) for editing, changes its location to "Room 6" and saves: the answer
/// is that `tom` saved version 3 first, changed by `theirs`. Returns the app and the effects of
/// that answer.
fn conflicted_with(theirs: impl FnOnce(&mut Interaction)) -> (App, Vec<Effect>) {
    let mut app = finder();
    app.press(ch('j'));
    app.press(ch('e'));
    for _ in 0..6 {
        tab(&mut app);
    }
    app.press(ctrl('u'));
    type_text(&mut app, "Room 6");
    let (id, _, _) = saves(&app.press(ctrl('s')))[0].clone();
    let mut current = hit(1).interaction;
    current.version = 3;
    theirs(&mut current);
    let effects = answer_save(
        &mut app,
        id,
        Err(SaveError::Conflict {
            current: Box::new(current),
            by: Some("tom".into()),
        }),
    );
    (app, effects)
}

/// Both changed the location (to different rooms); they also added notes.
fn conflicted() -> App {
    conflicted_with(|t| {
        t.location = Some("Room 5".into());
        t.notes = Some("moved upstairs".into());
    })
    .0
}

fn the_view(app: &App) -> ConflictView {
    match &app.state.confirm {
        Some(Confirm::Conflict(view)) => (**view).clone(),
        other => panic!("expected the conflict question, got {other:?}"),
    }
}

#[test]
fn edits_of_different_fields_are_merged_and_saved_without_asking() {
    let (mut app, effects) = conflicted_with(|t| t.notes = Some("moved upstairs".into()));
    assert!(app.state.confirm.is_none(), "nothing to ask");
    let sent = saves(&effects);
    assert_eq!(sent.len(), 1, "the merge is saved at once: {effects:?}");
    let (id, target, v) = sent[0].clone();
    assert_eq!(
        target,
        FormTarget::Edit {
            interaction_id: hit(1).interaction.interaction_id,
            version: 3
        },
        "still checked against their version"
    );
    assert_eq!(v.location.as_deref(), Some("Room 6"), "mine");
    assert_eq!(v.notes.as_deref(), Some("moved upstairs"), "theirs, kept");
    assert_eq!(v.title, hit(1).interaction.title);
    let written = drafts(&effects);
    let draft = written.last().expect("the merged text is in the draft");
    assert_eq!(draft.input.notes, "moved upstairs");
    assert_eq!(
        draft.base.as_ref().map(|b| b.notes.as_str()),
        Some("moved upstairs"),
        "the draft's base is their version now"
    );

    let mut stored = hit(1).interaction;
    stored.version = 4;
    let effects = answer_save(&mut app, id, Ok(stored));
    assert!(deletes_draft(&effects));
    assert_eq!(app.state.screen(), Screen::Finder);
    let notice = app.state.notice.clone().unwrap_or_default();
    assert!(
        notice.ends_with("merged with tom's version 3: kept their notes"),
        "{notice}"
    );
}

#[test]
fn a_third_save_during_the_merge_is_merged_too() {
    let (mut app, effects) = conflicted_with(|t| t.notes = Some("moved upstairs".into()));
    let (id, _, _) = saves(&effects)[0].clone();
    let mut fourth = hit(1).interaction;
    fourth.version = 4;
    fourth.notes = Some("moved upstairs".into());
    fourth.lead = "Jun Park".into();
    let effects = answer_save(
        &mut app,
        id,
        Err(SaveError::Conflict {
            current: Box::new(fourth),
            by: Some("ana".into()),
        }),
    );
    assert!(app.state.confirm.is_none());
    let (_, target, v) = saves(&effects)[0].clone();
    assert!(matches!(target, FormTarget::Edit { version: 4, .. }));
    assert_eq!(
        (v.location.as_deref(), v.notes.as_deref(), v.lead.as_str()),
        (Some("Room 6"), Some("moved upstairs"), "Jun Park")
    );
}

#[test]
fn only_fields_both_changed_are_asked_and_chosen_one_by_one() {
    let mut app = finder();
    app.press(ch('j'));
    app.press(ch('e'));
    type_text(&mut app, " (mine)");
    for _ in 0..6 {
        tab(&mut app);
    }
    app.press(ctrl('u'));
    type_text(&mut app, "Room 6");
    let (id, _, _) = saves(&app.press(ctrl('s')))[0].clone();
    let mut theirs = hit(1).interaction;
    theirs.version = 3;
    theirs.title = format!("{} (theirs)", theirs.title);
    theirs.location = Some("Room 5".into());
    theirs.notes = Some("moved upstairs".into());
    let effects = answer_save(
        &mut app,
        id,
        Err(SaveError::Conflict {
            current: Box::new(theirs),
            by: Some("tom".into()),
        }),
    );
    assert!(saves(&effects).is_empty(), "asked first");
    assert_eq!(app.state.mode(), Mode::Conflict);
    let view = the_view(&app);
    let clashing: Vec<Field> = view.merge.clashes.iter().map(|c| c.field).collect();
    assert_eq!(clashing, vec![Field::Title, Field::Location]);
    assert_eq!(view.merge.theirs_only, vec![Field::Notes]);
    assert_eq!(
        view.takes,
        vec![Side::Mine, Side::Mine],
        "yours until chosen"
    );

    // Down to Location, take theirs; Title stays mine.
    app.press(code(KeyCode::Down));
    app.press(ch('t'));
    assert_eq!(the_view(&app).takes, vec![Side::Mine, Side::Theirs]);
    assert!(
        form(&app).input().location == "Room 6",
        "nothing changes in the form before the save"
    );
    let effects = app.press(code(KeyCode::Enter));
    let (id, target, v) = saves(&effects)[0].clone();
    assert!(matches!(target, FormTarget::Edit { version: 3, .. }));
    assert!(v.title.ends_with("(mine)"), "{}", v.title);
    assert_eq!(v.location.as_deref(), Some("Room 5"));
    assert_eq!(v.notes.as_deref(), Some("moved upstairs"));
    answer_save(&mut app, id, Ok(hit(1).interaction));
    let notice = app.state.notice.clone().unwrap_or_default();
    assert!(
        notice.ends_with(
            "merged with tom's version 3: kept their location, notes; yours over theirs for title"
        ),
        "{notice}"
    );
}

#[test]
fn keep_editing_then_save_asks_again_with_the_choices_made() {
    let mut app = conflicted();
    app.press(ch('t'));
    app.press(code(KeyCode::Esc));
    assert!(app.state.confirm.is_none());
    assert_eq!(
        form(&app).input().location,
        "Room 6",
        "my text is still here"
    );
    assert!(
        form(&app)
            .failure
            .as_deref()
            .is_some_and(|f| f.contains("tom"))
    );
    let effects = app.press(ctrl('s'));
    assert!(saves(&effects).is_empty());
    assert_eq!(the_view(&app).takes, vec![Side::Theirs], "remembered");

    // Typing their value myself settles the clash: the next Ctrl-S asks nothing; merged with
    // their notes, the text is their stored version, so nothing is written.
    app.press(code(KeyCode::Esc));
    app.press(ctrl('u'));
    type_text(&mut app, "Room 5");
    let effects = app.press(ctrl('s'));
    assert!(app.state.confirm.is_none());
    assert!(saves(&effects).is_empty(), "their version holds it all");
    assert!(
        app.state
            .notice
            .as_deref()
            .is_some_and(|n| n.starts_with("merged with tom's version 3")
                && n.ends_with("nothing changed, so nothing was saved")),
        "{:?}",
        app.state.notice
    );
}

#[test]
fn a_merge_that_does_not_validate_waits_in_the_form() {
    // They moved the start after the end I set.
    let mut app = finder();
    app.press(ch('j'));
    app.press(ch('e'));
    for _ in 0..4 {
        tab(&mut app);
    }
    app.press(ctrl('u'));
    type_text(&mut app, "2026-10-02 13:00");
    let (id, _, _) = saves(&app.press(ctrl('s')))[0].clone();
    let mut theirs = hit(1).interaction;
    theirs.version = 3;
    theirs.start_datetime += chrono::Duration::hours(2);
    let effects = answer_save(
        &mut app,
        id,
        Err(SaveError::Conflict {
            current: Box::new(theirs),
            by: Some("tom".into()),
        }),
    );
    assert!(saves(&effects).is_empty(), "{effects:?}");
    let input = form(&app).input();
    assert_eq!(
        (input.start.as_str(), input.end.as_str()),
        ("2026-10-02 14:30", "2026-10-02 13:00")
    );
    assert!(
        drafts(&effects).len() == 1,
        "the merged text is in the draft"
    );
    let notice = app.state.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("kept their start") && notice.contains("not saved: 1 problem"),
        "{notice}"
    );
}

/// A draft of an edit keeps the version it started from: restored after a restart, its save
/// still merges with what was saved meanwhile instead of asking about every difference.
#[test]
fn a_restored_draft_merges_against_the_version_it_was_opened_from() {
    let original = hit(1).interaction;
    let base = InteractionInput::from_interaction(&original);
    let mut typed = base.clone();
    typed.location = "Room 6".into();
    let draft = Draft {
        target: FormTarget::Edit {
            interaction_id: original.interaction_id,
            version: original.version,
        },
        input: typed,
        base: Some(Box::new(base)),
        ..a_draft()
    };
    let mut app = finder();
    found(&mut app, Ok(Some(draft)));
    app.press(ch('y'));
    let (id, _, _) = saves(&app.press(ctrl('s')))[0].clone();
    let mut theirs = original.clone();
    theirs.version = 3;
    theirs.notes = Some("moved upstairs".into());
    let effects = answer_save(
        &mut app,
        id,
        Err(SaveError::Conflict {
            current: Box::new(theirs),
            by: Some("tom".into()),
        }),
    );
    assert!(app.state.confirm.is_none(), "{:?}", app.state.confirm);
    let (_, _, v) = saves(&effects)[0].clone();
    assert_eq!(
        (v.location.as_deref(), v.notes.as_deref()),
        (Some("Room 6"), Some("moved upstairs"))
    );
}

#[test]
fn taking_theirs_reloads_the_form_from_their_version() {
    let mut app = conflicted();
    let effects = app.press(ch('n'));
    assert!(deletes_draft(&effects));
    let f = form(&app);
    assert_eq!(f.input().location, "Room 5");
    assert_eq!(f.input().notes, "moved upstairs");
    assert!(!f.changed());
    assert_eq!(
        f.target,
        FormTarget::Edit {
            interaction_id: hit(1).interaction.interaction_id,
            version: 3
        }
    );
}

#[test]
fn free_text_fields_suggest_the_sites_values_but_tab_takes_one_only_when_picked() {
    let mut app = finder();
    let lookups = Lookups {
        site_id: 7,
        types: vec!["Call".into(), "Conference call".into(), "Meeting".into()],
        leads: vec!["Ana Souza".into()],
        locations: Vec::new(),
    };
    let request_id = app.state.lookups_loading.unwrap_or(0);
    app.update(Event::Msg(Msg::LookupsLoaded {
        request_id,
        result: Ok(lookups),
    }));
    app.press(ch('n'));
    tab(&mut app);
    type_text(&mut app, "cal");
    assert_eq!(form(&app).suggestions, vec!["Call", "Conference call"]);
    assert_eq!(form(&app).suggestion, None, "nothing picked yet");
    tab(&mut app);
    assert_eq!(
        form(&app).input().kind,
        "cal",
        "Tab alone keeps what was typed"
    );
    backtab(&mut app);
    app.press(code(KeyCode::Down));
    app.press(code(KeyCode::Down));
    tab(&mut app);
    assert_eq!(form(&app).input().kind, "Conference call");
    assert_eq!(form(&app).focused(), Field::Lead);
    type_text(&mut app, "Ana Souza");
    assert!(
        form(&app).suggestions.is_empty(),
        "an exact value needs no suggestion"
    );
}

/// Performs the draft effects of `effects` on `store` as the runner's file task does.
fn on_disk(store: &crate::app::drafts::DraftStore, effects: &[Effect]) {
    for effect in effects {
        match effect {
            Effect::WriteDraft(draft) => store.write(draft, Utc::now()).expect("write"),
            Effect::DeleteDraft {
                user,
                site_id,
                form_id,
            } => store.remove(user, *site_id, form_id).expect("remove"),
            _ => {}
        }
    }
}

/// Two windows of the same user on the same site keep a draft each: neither writes over the
/// other's, a save in one removes only its own, and the next start offers every draft left,
/// one at a time.
#[test]
fn two_windows_keep_a_draft_each_and_every_draft_is_offered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = crate::app::drafts::DraftStore::new(dir.path());
    let mut one = finder();
    let mut two = finder();
    one.state.client_ids = crate::app::state::ClientIds::from_seed([1; 16]);
    two.state.client_ids = crate::app::state::ClientIds::from_seed([2; 16]);
    for (app, text) in [(&mut one, "First window"), (&mut two, "Second window")] {
        on_disk(&store, &app.press(ch('n')));
        on_disk(&store, &type_text(app, text));
        for more in ["Visit", "Mira Okafor"] {
            on_disk(&store, &tab(app));
            on_disk(&store, &type_text(app, more));
        }
    }
    let titles = |store: &crate::app::drafts::DraftStore| -> Vec<String> {
        let found = store.read_all("maria", 7).expect("readable");
        assert!(found.damaged.is_empty());
        let mut titles: Vec<String> = found.drafts.iter().map(|d| d.input.title.clone()).collect();
        titles.sort();
        titles
    };
    assert_eq!(titles(&store), ["First window", "Second window"]);

    // The first window saves: only its draft goes.
    let effects = one.press(ctrl('s'));
    let request_id = effects
        .iter()
        .find_map(|e| match e {
            Effect::Save { request_id, .. } => Some(*request_id),
            _ => None,
        })
        .expect("a save");
    let stored = Interaction {
        title: "First window".into(),
        ..hit(0).interaction
    };
    on_disk(&store, &answer_save(&mut one, request_id, Ok(stored)));
    assert_eq!(titles(&store), ["Second window"]);

    // A crash of the second window, and another window writing too: the next start offers both.
    let mut three = finder();
    three.state.client_ids = crate::app::state::ClientIds::from_seed([3; 16]);
    on_disk(&store, &three.press(ch('n')));
    on_disk(&store, &type_text(&mut three, "Third window"));
    let mut next = App::new();
    let found = store.read_all("maria", 7).expect("readable");
    next.update(Event::Msg(Msg::DraftFound(Ok(found))));
    let offered = |app: &App| match &app.state.confirm {
        Some(Confirm::RestoreDraft(draft)) => draft.input.title.clone(),
        other => panic!("no draft offered: {other:?}"),
    };
    let first = offered(&next);
    next.press(code(KeyCode::Esc));
    next.press(code(KeyCode::Esc));
    next.press(ch('n'));
    let second = offered(&next);
    let mut both = [first, second];
    both.sort();
    assert_eq!(
        both,
        ["Second window".to_string(), "Third window".to_string()]
    );
}
