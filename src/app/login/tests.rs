//! Key sequences on the Login screen and the Site picker, driving `update`: no terminal, no
//! database.

use crate::domain::users::Role;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::app::keymap::KeyMap;
use crate::app::state::{Mode, Settings};
use crate::app::test_support::{press_key, type_keys};
use crate::app::update::{Event, Msg, key_event, update};

/// Sites as the database would list them for "maria".
pub fn sites() -> Vec<SiteChoice> {
    [
        (3, "Berlin office", "viewer", 120),
        (7, "Leeds", "editor", 48_210),
        (9, "Leeds warehouse", "admin", 5),
        (12, "Sydney", "editor", 1_034),
    ]
    .into_iter()
    .map(|(site_id, name, role, interactions)| SiteChoice {
        site_id,
        name: name.into(),
        role: Role::parse(role).expect("a role"),
        interactions,
    })
    .collect()
}

pub struct App {
    pub state: State,
    keymap: KeyMap,
}

impl App {
    /// The Login screen of a machine where maria last opened `last_site` (and no name is
    /// remembered).
    pub fn new(last_site: Option<&str>) -> App {
        let mut remembered = Remembered::default();
        if let Some(site) = last_site {
            remembered.sites.insert("maria".into(), site.into());
        }
        App::remembering(remembered)
    }

    pub fn remembering(remembered: Remembered) -> App {
        App {
            state: State::login(Settings::default(), Instant::now(), remembered),
            keymap: KeyMap::defaults(),
        }
    }

    /// The Login screen's fields (the test fails if another screen is in front).
    pub fn login(&self) -> &LoginState {
        self.state
            .login_form()
            .expect("the login screen is in front")
    }

    pub fn press(&mut self, code: KeyCode) -> Vec<Effect> {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        press_key(&mut self.state, &self.keymap, key)
    }

    pub fn keys(&mut self, text: &str) -> Vec<Effect> {
        type_keys(&mut self.state, &self.keymap, text)
    }

    /// Types the credentials and presses Enter; returns the login request id.
    pub fn submit(&mut self, username: &str, password: &str) -> u64 {
        self.keys(username);
        self.press(KeyCode::Tab);
        self.keys(password);
        let effects = self.press(KeyCode::Enter);
        match effects.as_slice() {
            [Effect::Login { request_id, .. }] => *request_id,
            other => panic!("expected one login effect, got {other:?}"),
        }
    }

    pub fn answer(&mut self, request_id: u64, result: Result<LoginOk, String>) -> Vec<Effect> {
        let result = result.map_err(crate::domain::failure::Failure::from);
        update(
            &mut self.state,
            Event::Msg(Msg::LoginDone { request_id, result }),
        )
    }

    /// Logged in as maria, on the picker.
    pub fn picking(last_site: Option<&str>) -> App {
        let mut app = App::new(last_site);
        let id = app.submit("maria", "s3cret-pass");
        app.answer(id, Ok(ok()));
        app
    }

    fn selected_name(&self) -> Option<&str> {
        self.state.picker.selected_site().map(|s| s.name.as_str())
    }
}

pub fn ok() -> LoginOk {
    LoginOk {
        user_id: 42,
        username: "maria".into(),
        sites: sites(),
    }
}

#[test]
fn the_app_starts_on_the_login_screen_in_a_text_mode() {
    let app = App::new(None);
    assert_eq!(app.state.screen(), Screen::Login);
    assert_eq!(app.state.mode(), Mode::Login);
    assert!(Mode::Login.is_text());
}

#[test]
fn submit_sends_the_credentials_and_clears_the_password() {
    let mut app = App::new(None);
    app.keys("maria");
    assert_eq!(app.login().username.value(), "maria");
    app.press(KeyCode::Tab);
    app.keys("qj s3cret");
    assert_eq!(app.login().password.value(), "qj s3cret");
    assert_eq!(
        app.login().username.value(),
        "maria",
        "typing went to the password"
    );
    let effects = app.press(KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Login {
            request_id: 1,
            username: "maria".into(),
            password: Secret("qj s3cret".into()),
        }]
    );
    assert_eq!(app.login().password.value(), "");
    assert_eq!(app.login().pending, Some(1));
    assert!(!format!("{effects:?}").contains("s3cret"));
    assert!(!format!("{:?}", app.state).contains("s3cret"));
}

#[test]
fn arrows_and_shift_tab_switch_fields_too() {
    let mut app = App::new(None);
    app.press(KeyCode::Down);
    assert_eq!(app.login().field, LoginField::Password);
    app.press(KeyCode::BackTab);
    assert_eq!(app.login().field, LoginField::Username);
    app.press(KeyCode::Up);
    assert_eq!(app.login().field, LoginField::Password);
}

#[test]
fn an_empty_username_is_not_sent() {
    let mut app = App::new(None);
    assert!(app.press(KeyCode::Enter).is_empty());
    assert_eq!(app.login().error.as_deref(), Some("type your username"));
}

#[test]
fn a_failed_login_says_only_invalid_and_stays() {
    let mut app = App::new(None);
    let id = app.submit("maria", "wrong");
    let effects = app.answer(id, Err(INVALID.into()));
    assert!(effects.is_empty());
    assert_eq!(app.state.screen(), Screen::Login);
    assert_eq!(app.login().error.as_deref(), Some(INVALID));
    assert_eq!(app.login().pending, None);
    assert_eq!(app.login().field, LoginField::Password);
    assert_eq!(app.login().username.value(), "maria");
    // Trying again works.
    app.keys("right");
    assert!(matches!(
        app.press(KeyCode::Enter).as_slice(),
        [Effect::Login { .. }]
    ));
}

#[test]
fn a_successful_login_opens_the_picker_and_starts_the_session() {
    let mut app = App::new(None);
    let id = app.submit("maria", "s3cret-pass");
    let effects = app.answer(id, Ok(ok()));
    let remembered = Remembered {
        user: Some("maria".into()),
        ..Remembered::default()
    };
    assert_eq!(
        effects,
        vec![
            Effect::BeginSession { user_id: 42 },
            Effect::Remember(remembered)
        ]
    );
    assert_eq!(app.state.screen(), Screen::SitePicker);
    assert_eq!(app.state.mode(), Mode::Picker);
    assert_eq!(app.state.session.user, "maria");
    assert_eq!(app.state.picker.visible, vec![0, 1, 2, 3]);
    assert_eq!(app.selected_name(), Some("Berlin office"));
}

#[test]
fn a_late_answer_to_an_old_login_is_dropped() {
    let mut app = App::new(None);
    let first = app.submit("maria", "one");
    app.answer(first, Err(INVALID.into()));
    let second = app.submit("", "two");
    assert_ne!(first, second);
    // A stale success for the first request must not log anyone in.
    assert!(app.answer(first, Ok(ok())).is_empty());
    assert_eq!(app.state.screen(), Screen::Login);
    assert_eq!(app.login().pending, Some(second));
    app.answer(second, Err(INVALID.into()));
    assert_eq!(app.login().pending, None);
}

#[test]
fn esc_on_the_login_screen_quits() {
    let mut app = App::new(None);
    assert_eq!(app.press(KeyCode::Esc), vec![Effect::Quit]);
    assert!(app.state.quit);
}

#[test]
fn the_users_last_site_opens_at_once_while_they_may_use_it() {
    let app = App::picking(Some("Sydney"));
    assert_eq!(app.state.screen(), Screen::Finder);
    assert_eq!(app.state.session.site, "Sydney");
    assert_eq!(app.state.session.site_id, 12);
    assert_eq!(app.state.session.role, Role::Editor);
    // `s` goes to the picker with it selected.
    let mut app = app;
    app.press(KeyCode::Esc);
    app.press(KeyCode::Char('s'));
    assert_eq!(app.state.screen(), Screen::SitePicker);
    assert_eq!(app.selected_name(), Some("Sydney"));
    // A site the user no longer has (removed, deactivated, role taken away): the picker.
    let app = App::picking(Some("Gone site"));
    assert_eq!(app.state.screen(), Screen::SitePicker);
    assert_eq!(app.selected_name(), Some("Berlin office"));
}

#[test]
fn the_last_name_is_filled_in_and_the_cursor_waits_on_the_password() {
    let mut remembered = Remembered {
        user: Some("maria".into()),
        ..Remembered::default()
    };
    remembered.sites.insert("ola".into(), "Sydney".into());
    let mut app = App::remembering(remembered.clone());
    assert_eq!(app.login().username.value(), "maria");
    assert_eq!(app.login().field, LoginField::Password);
    app.keys("s3cret-pass");
    assert_eq!(app.login().password.value(), "s3cret-pass");
    assert_eq!(app.login().username.value(), "maria");
    let effects = app.press(KeyCode::Enter);
    let [
        Effect::Login {
            request_id,
            username,
            ..
        },
    ] = effects.as_slice()
    else {
        panic!("expected one login effect, got {effects:?}");
    };
    assert_eq!(username, "maria");
    // Ola's site is Ola's: maria (who never picked one) gets the picker.
    let effects = app.answer(*request_id, Ok(ok()));
    assert_eq!(app.state.screen(), Screen::SitePicker);
    assert!(effects.contains(&Effect::Remember(remembered.clone())));
    // Another person on the same machine: back to the username, which they retype.
    let mut app = App::remembering(remembered);
    app.press(KeyCode::BackTab);
    assert_eq!(app.login().field, LoginField::Username);
    for _ in 0.."maria".len() {
        app.press(KeyCode::Backspace);
    }
    let id = app.submit("ola", "pass-of-ola");
    let mut for_ola = ok();
    for_ola.username = "ola".into();
    let effects = app.answer(id, Ok(for_ola));
    assert_eq!(app.state.screen(), Screen::Finder);
    assert_eq!(app.state.session.site, "Sydney");
    let remembered = effects.iter().rev().find_map(|e| match e {
        Effect::Remember(r) => Some(r.clone()),
        _ => None,
    });
    let remembered = remembered.expect("the login is remembered");
    assert_eq!(remembered.user.as_deref(), Some("ola"));
    assert_eq!(remembered.site_of("ola"), Some("Sydney"));
}

#[test]
fn nothing_is_remembered_of_a_failed_login() {
    let mut app = App::new(None);
    let id = app.submit("mariaa", "wrong");
    let effects = app.answer(id, Err(INVALID.into()));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Remember(_))),
        "{effects:?}"
    );
    assert_eq!(app.state.picker.remembered, Remembered::default());
}

#[test]
fn the_filter_narrows_fuzzily_and_enter_picks() {
    let mut app = App::picking(None);
    app.keys("lds");
    let names: Vec<&str> = app
        .state
        .picker
        .visible
        .iter()
        .map(|&i| app.state.picker.sites[i].name.as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Leeds") && names.contains(&"Leeds warehouse"));
    app.keys(" wh");
    assert_eq!(app.selected_name(), Some("Leeds warehouse"));
    // j and k type into the filter: here they match nothing.
    app.keys("jk");
    assert_eq!(app.selected_name(), None);
    assert!(app.press(KeyCode::Enter).is_empty());
    assert_eq!(app.state.screen(), Screen::SitePicker);
    app.press(KeyCode::Backspace);
    app.press(KeyCode::Backspace);
    let effects = app.press(KeyCode::Enter);
    let Effect::Remember(remembered) = &effects[0] else {
        panic!("the pick is remembered first: {effects:?}");
    };
    assert_eq!(remembered.user.as_deref(), Some("maria"));
    assert_eq!(remembered.site_of("maria"), Some("Leeds warehouse"));
    assert!(matches!(effects[1], Effect::Search { .. }), "{effects:?}");
    assert_eq!(app.state.screen(), Screen::Finder);
    assert_eq!(app.state.session.site_id, 9);
    assert_eq!(app.state.session.site, "Leeds warehouse");
    assert_eq!(app.state.session.role, Role::Admin);
    assert_eq!(app.state.session.user, "maria");
}

#[test]
fn arrows_move_within_the_matches() {
    let mut app = App::picking(None);
    app.press(KeyCode::Down);
    app.press(KeyCode::Down);
    assert_eq!(app.selected_name(), Some("Leeds warehouse"));
    for _ in 0..9 {
        app.press(KeyCode::Down);
    }
    assert_eq!(app.selected_name(), Some("Sydney"));
    app.press(KeyCode::Up);
    assert_eq!(app.selected_name(), Some("Leeds warehouse"));
}

#[test]
fn esc_clears_the_filter_then_returns_to_the_open_site() {
    let mut app = App::picking(None);
    // Before a site is open, Esc with an empty filter stays.
    assert!(app.press(KeyCode::Esc).is_empty());
    assert_eq!(app.state.screen(), Screen::SitePicker);
    app.press(KeyCode::Down);
    app.press(KeyCode::Enter);
    assert_eq!(app.state.screen(), Screen::Finder);
    assert_eq!(app.state.session.site, "Leeds");
    // `s` from the result list returns to the picker, cancelling the search in flight.
    app.press(KeyCode::Esc); // leave the query line
    let effects = app.press(KeyCode::Char('s'));
    assert!(matches!(effects.as_slice(), [Effect::CancelSearch { .. }]));
    assert_eq!(app.state.screen(), Screen::SitePicker);
    assert_eq!(
        app.selected_name(),
        Some("Leeds"),
        "the open site is preselected"
    );
    app.keys("syd");
    app.press(KeyCode::Esc);
    assert_eq!(app.state.picker.filter.value(), "");
    assert_eq!(app.state.screen(), Screen::SitePicker);
    let effects = app.press(KeyCode::Esc);
    assert_eq!(app.state.screen(), Screen::Finder);
    assert_eq!(app.state.session.site, "Leeds");
    assert!(matches!(effects.as_slice(), [Effect::Search { .. }]));
}

#[test]
fn switching_sites_without_a_login_only_says_why() {
    let mut state = State::new(
        crate::app::test_support::session(),
        Settings::default(),
        Instant::now(),
    );
    state.finder.focus = crate::app::state::Focus::List;
    update(&mut state, Event::Action(Action::SwitchSite));
    assert_eq!(state.screen(), Screen::Finder);
    assert!(state.notice.as_deref().unwrap_or("").contains("login"));
}

#[test]
fn f1_opens_help_on_the_login_screen_and_question_mark_still_types() {
    let mut app = App::new(None);
    app.keys("ma?");
    assert_eq!(app.login().username.value(), "ma?");
    assert!(!app.state.help_open);
    assert!(app.press(KeyCode::F(1)).is_empty());
    assert!(app.state.help_open);
    assert_eq!(app.state.mode(), Mode::Help);
    // While help is open keys do not reach the fields, and Esc closes help instead of quitting.
    app.keys("x");
    app.press(KeyCode::Tab);
    assert_eq!(app.login().username.value(), "ma?");
    assert_eq!(app.login().field, LoginField::Username);
    assert!(app.press(KeyCode::Esc).is_empty());
    assert!(!app.state.help_open);
    assert!(!app.state.quit);
    // F1 toggles it, and typing goes on where it was.
    app.press(KeyCode::F(1));
    app.press(KeyCode::F(1));
    assert!(!app.state.help_open);
    app.keys("ria");
    assert_eq!(app.login().username.value(), "ma?ria");
    assert_eq!(app.state.screen(), Screen::Login);
}

#[test]
fn f1_opens_help_in_the_picker_and_question_mark_still_filters() {
    let mut app = App::picking(None);
    app.keys("?");
    assert_eq!(app.state.picker.filter.value(), "?");
    assert!(!app.state.help_open);
    app.press(KeyCode::Backspace);
    app.press(KeyCode::F(1));
    assert!(app.state.help_open);
    assert_eq!(app.state.mode(), Mode::Help);
    // Arrows and Enter wait while help is open.
    assert!(app.press(KeyCode::Down).is_empty());
    assert!(app.press(KeyCode::Enter).is_empty());
    assert_eq!(app.selected_name(), Some("Berlin office"));
    assert_eq!(app.state.screen(), Screen::SitePicker);
    // `?` closes the help it opened (as in the Finder), then types again.
    app.press(KeyCode::Char('?'));
    assert!(!app.state.help_open);
    app.press(KeyCode::F(1));
    assert!(app.press(KeyCode::Esc).is_empty());
    assert!(!app.state.help_open);
    assert_eq!(app.state.screen(), Screen::SitePicker);
    app.keys("syd");
    assert_eq!(app.selected_name(), Some("Sydney"));
}

#[test]
fn help_on_the_login_screen_can_still_force_quit() {
    let mut app = App::new(None);
    app.press(KeyCode::F(1));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    let event = key_event(&app.keymap, &app.state, ctrl_c);
    assert!(matches!(event, Some(Event::Action(Action::ForceQuit))));
    if let Some(event) = event {
        assert_eq!(update(&mut app.state, event), vec![Effect::Quit]);
    }
}
