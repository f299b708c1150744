//! Key sequences on the first-run screen, driving `update`: no terminal, no database.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::app::keymap::KeyMap;
use crate::app::login::LoginField;
use crate::app::remember::Remembered;
use crate::app::state::{Screen, Settings};
use crate::app::test_support::{press_key, type_keys};
use crate::app::update::{Event, Msg, update};

pub struct App {
    pub state: State,
    keymap: KeyMap,
}

impl App {
    pub fn new() -> App {
        App {
            state: State::first_run(Settings::default(), Instant::now(), Remembered::default()),
            keymap: KeyMap::defaults(),
        }
    }

    pub fn form(&self) -> &FirstRunState {
        self.state
            .first_run_form()
            .expect("the first-run screen is in front")
    }

    pub fn press(&mut self, code: KeyCode) -> Vec<Effect> {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        press_key(&mut self.state, &self.keymap, key)
    }

    pub fn keys(&mut self, text: &str) -> Vec<Effect> {
        type_keys(&mut self.state, &self.keymap, text)
    }

    /// Types each value and presses Enter after it (Enter moves on, and creates on the last).
    pub fn fill(&mut self, values: [&str; 5]) -> Vec<Effect> {
        let mut effects = Vec::new();
        for value in values {
            effects.extend(self.keys(value));
            effects.extend(self.press(KeyCode::Enter));
        }
        effects
    }

    pub fn answer(&mut self, request_id: u64, result: Result<FirstCreated, String>) {
        let result = result.map_err(crate::domain::failure::Failure::from);
        update(
            &mut self.state,
            Event::Msg(Msg::FirstRunDone { request_id, result }),
        );
    }
}

const GOOD: [&str; 5] = [
    "Harbor Street Office",
    "ada",
    "ada@example.org",
    "correct horse",
    "correct horse",
];

#[test]
fn the_screen_types_into_its_fields_and_enter_moves_on_then_creates() {
    let mut app = App::new();
    assert_eq!(app.state.screen(), Screen::FirstRun);
    assert_eq!(app.state.mode(), Mode::Setup);
    assert!(Mode::Setup.is_text(), "q and j type");
    let effects = app.fill(GOOD);
    let [
        Effect::CreateFirst {
            request_id,
            setup,
            password,
        },
    ] = effects.as_slice()
    else {
        panic!("expected one creation, got {effects:?}");
    };
    assert_eq!(
        setup,
        &FirstSetup {
            site: "Harbor Street Office".into(),
            username: "ada".into(),
            email: "ada@example.org".into(),
        }
    );
    assert_eq!(password, &Secret("correct horse".into()));
    assert!(!format!("{effects:?}").contains("correct horse"));
    assert!(!format!("{:?}", app.state).contains("correct horse"));
    assert_eq!(app.form().pending, Some(*request_id));
    // While it is under way, keys change nothing and Enter sends nothing more.
    app.keys("x");
    assert!(app.press(KeyCode::Enter).is_empty());
    assert_eq!(app.form().repeat.value(), "correct horse");
    // Done: the Login, with the name filled in and the cursor on the password.
    let id = *request_id;
    app.answer(
        id,
        Ok(FirstCreated {
            username: "ada".into(),
            site: "Harbor Street Office".into(),
        }),
    );
    assert_eq!(app.state.screen(), Screen::Login);
    let login = app.state.login_form().expect("the login");
    assert_eq!(login.username.value(), "ada");
    assert_eq!(login.field, LoginField::Password);
    assert_eq!(
        login.password.value(),
        "",
        "the password is typed again at the login"
    );
    assert!(
        app.state
            .notice
            .as_deref()
            .unwrap_or("")
            .contains("created ada"),
        "{:?}",
        app.state.notice
    );
    // The new site is ada's, so her login opens it.
    assert_eq!(
        app.state.picker.remembered.site_of("ada"),
        Some("Harbor Street Office")
    );
}

#[test]
fn each_bad_value_is_named_with_its_fix_and_nothing_typed_is_lost() {
    let mut app = App::new();
    // A username with a space: refused on Enter at the last field, focus back on it.
    let effects = app.fill([
        "Harbor Street Office",
        "ada lovelace",
        "ada@example.org",
        "correct horse",
        "correct horse",
    ]);
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(app.form().field, SetupField::Username);
    let (field, message) = app.form().error.clone().expect("an error");
    assert_eq!(field, Some(SetupField::Username));
    assert!(message.contains("one word"), "{message}");
    assert_eq!(app.form().site.value(), "Harbor Street Office");
    assert_eq!(app.form().password.value(), "correct horse");
    // Fixing the field clears its message.
    app.press(KeyCode::End);
    for _ in 0.." lovelace".len() {
        app.press(KeyCode::Backspace);
    }
    assert_eq!(app.form().username.value(), "ada");
    assert_eq!(app.form().error, None);
    // A short password, then two that differ.
    let mut app = App::new();
    let effects = app.fill(["North", "ada", "ada@example.org", "short", "short"]);
    assert!(effects.is_empty());
    assert_eq!(app.form().field, SetupField::Password);
    let (_, message) = app.form().error.clone().expect("an error");
    assert!(message.contains("at least 8"), "{message}");
    let mut app = App::new();
    let effects = app.fill([
        "North",
        "ada",
        "ada@example.org",
        "correct horse",
        "correct horsf",
    ]);
    assert!(effects.is_empty());
    assert_eq!(app.form().field, SetupField::Repeat);
    let (_, message) = app.form().error.clone().expect("an error");
    assert!(message.contains("differ"), "{message}");
    // An email without @, and an empty site name.
    let mut app = App::new();
    assert!(
        app.fill(["", "ada", "ada", "correct horse", "correct horse"])
            .is_empty()
    );
    assert_eq!(app.form().field, SetupField::Site);
    assert!(app.form().error.clone().expect("error").1.contains("empty"));
}

#[test]
fn tab_and_arrows_move_round_the_fields_and_esc_quits() {
    let mut app = App::new();
    app.press(KeyCode::Tab);
    assert_eq!(app.form().field, SetupField::Username);
    app.press(KeyCode::Down);
    assert_eq!(app.form().field, SetupField::Email);
    app.press(KeyCode::BackTab);
    app.press(KeyCode::Up);
    assert_eq!(app.form().field, SetupField::Site);
    app.press(KeyCode::Up);
    assert_eq!(app.form().field, SetupField::Repeat, "round to the last");
    app.press(KeyCode::F(1));
    assert!(app.state.help_open);
    assert!(
        app.press(KeyCode::Esc).is_empty(),
        "Esc closes the help first"
    );
    assert!(!app.state.help_open);
    assert_eq!(app.press(KeyCode::Esc), vec![Effect::Quit]);
    assert!(app.state.quit);
}

#[test]
fn a_refusal_stays_on_the_screen_with_everything_typed_and_a_late_answer_is_dropped() {
    let mut app = App::new();
    let effects = app.fill(GOOD);
    let Some(Effect::CreateFirst { request_id, .. }) = effects.first() else {
        panic!("{effects:?}");
    };
    let id = *request_id;
    app.answer(id + 7, Err("stale".into()));
    assert_eq!(
        app.form().pending,
        Some(id),
        "another request's answer is dropped"
    );
    app.answer(id, Err("the database has users now".into()));
    assert_eq!(app.state.screen(), Screen::FirstRun);
    assert_eq!(app.form().pending, None);
    assert_eq!(
        app.form().error,
        Some((None, "the database has users now".to_string()))
    );
    assert_eq!(app.form().username.value(), "ada");
    assert_eq!(app.form().password.value(), "correct horse");
    // Enter on the last field tries again.
    assert!(matches!(
        app.press(KeyCode::Enter).as_slice(),
        [Effect::CreateFirst { .. }]
    ));
}

#[test]
fn pasted_text_lands_in_the_focused_field_on_one_line() {
    let mut app = App::new();
    update(&mut app.state, Event::Paste("Harbor\nStreet".into()));
    assert_eq!(app.form().site.value(), "Harbor Street");
}
