use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;

fn key(text: &str) -> Key {
    text.parse()
        .unwrap_or_else(|()| panic!("cannot parse {text:?}"))
}

fn overrides(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(a, keys)| (a.to_string(), keys.iter().map(|k| k.to_string()).collect()))
        .collect()
}

#[test]
fn keys_parse_and_print_back() {
    for text in [
        "j",
        "G",
        "?",
        "/",
        "-",
        "ctrl-s",
        "alt-x",
        "ctrl-alt-d",
        "down",
        "pagedown",
        "enter",
        "esc",
        "f1",
        "f12",
        "space",
        "backtab",
        "home",
    ] {
        assert_eq!(key(text).to_string(), text);
    }
    assert_eq!(key("shift-g"), key("G"));
    assert_eq!(key("Ctrl-S"), key("ctrl-s"));
    assert_eq!(key("DOWN"), key("down"));
    assert_eq!(key("escape"), key("esc"));
    for bad in ["", "ctrl-", "ctrl", "f13", "upp", "jk"] {
        assert!(bad.parse::<Key>().is_err(), "{bad:?} should not parse");
    }
}

#[test]
fn events_match_as_terminals_report_them() {
    let map = KeyMap::defaults();
    let shifted_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
    assert_eq!(map.action(Mode::List, &shifted_g), Some(Action::Bottom));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    for mode in Mode::ALL {
        assert_eq!(
            map.action(mode, &ctrl_c),
            Some(Action::ForceQuit),
            "{mode:?}"
        );
    }
    let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(map.action(Mode::Query, &q), None);
    assert_eq!(map.action(Mode::List, &q), Some(Action::Quit));
}

#[test]
fn no_printable_key_is_bound_in_a_text_mode() {
    let map =
        KeyMap::with_overrides(&overrides(&[("cycle_sort", &["x", "ctrl-t"])])).unwrap_or_default();
    assert!(
        map.bindings
            .iter()
            .all(|(m, k, _)| !(m.is_text() && k.is_printable()))
    );
    assert_eq!(
        map.keys_for(Mode::Query, Action::CycleSort),
        vec![key("ctrl-t")]
    );
    assert_eq!(
        map.keys_for(Mode::List, Action::CycleSort),
        vec![key("x"), key("ctrl-t")]
    );
}

#[test]
fn an_override_replaces_the_keys_and_takes_the_key_from_others() {
    let map = KeyMap::with_overrides(&overrides(&[("copy", &["e"])])).unwrap_or_default();
    let e = KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE);
    assert_eq!(map.action(Mode::List, &e), Some(Action::Copy));
    assert!(map.keys_for(Mode::List, Action::Edit).is_empty());
    let y = KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE);
    assert_eq!(map.action(Mode::List, &y), None);
    let unbound = KeyMap::with_overrides(&overrides(&[("help", &[])])).unwrap_or_default();
    assert!(
        unbound
            .help_rows(Mode::List)
            .iter()
            .all(|(_, d)| !d.contains("help"))
    );
}

#[test]
fn bad_overrides_name_what_is_wrong() {
    let err = KeyMap::with_overrides(&overrides(&[("fly", &["f"])])).unwrap_err();
    assert!(err.contains("unknown action \"fly\""), "{err}");
    assert!(err.contains("move_down"), "{err}");
    let err = KeyMap::with_overrides(&overrides(&[("quit", &["ctrl-"])])).unwrap_err();
    assert!(
        err.contains("\"ctrl-\"") && err.contains("\"quit\""),
        "{err}"
    );
}

#[test]
fn help_rows_list_bound_actions_in_order() {
    let rows = KeyMap::defaults().help_rows(Mode::List);
    assert_eq!(
        rows[0],
        ("/".to_string(), "search: type a query".to_string())
    );
    assert!(rows.contains(&("j, down".to_string(), "next result".to_string())));
    assert!(rows.contains(&("q".to_string(), "quit".to_string())));
    let query_rows = KeyMap::defaults().help_rows(Mode::Query);
    assert!(!query_rows.iter().any(|(k, _)| k == "q"));
}

#[test]
fn a_letter_for_an_action_of_text_fields_only_is_refused() {
    let overrides = std::collections::BTreeMap::from([(
        "save".to_string(),
        vec!["ctrl-s".to_string(), "q".to_string()],
    )]);
    let err = KeyMap::with_overrides(&overrides).expect_err("q would only ever type");
    assert!(err.contains("\"q\"") && err.contains("save"), "{err}");
}

#[test]
fn ctrl_c_always_quits_and_cannot_be_given_to_another_action() {
    let unbound = BTreeMap::from([
        ("quit".to_string(), Vec::new()),
        ("force_quit".to_string(), Vec::new()),
        ("back".to_string(), Vec::new()),
    ]);
    let map = KeyMap::checked(&unbound).expect("unbinding is allowed");
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    for mode in Mode::ALL {
        assert_eq!(
            map.action(mode, &ctrl_c),
            Some(Action::ForceQuit),
            "{mode:?} has a way out"
        );
    }
    let taken = BTreeMap::from([("copy".to_string(), vec!["ctrl-c".to_string()])]);
    let err = KeyMap::checked(&taken).expect_err("ctrl-c is taken");
    assert_eq!(err.entry.as_deref(), Some("copy"));
    assert!(
        err.message.contains("ctrl-c always quits"),
        "{}",
        err.message
    );
}
