//! Bad input everywhere, generated: the query language, wall-clock times, timezone names, CSV and
//! JSON import files and the config file never panic, and every refusal is a sentence that says
//! what is wrong. (The form's fields and resizing are fuzzed in the library's own tests.)

use std::path::Path;

use ifind::config::Config;
use ifind::domain::interaction::{InteractionInput, parse_timezone, parse_wall_clock, validate};
use ifind::domain::query;
use proptest::prelude::*;

/// Text a person (or a paste) might produce: any character, biased towards the ones that break
/// parsers (quotes, colons, minus, control characters, right-to-left marks, combining accents,
/// emoji) and the query language's own words.
fn messy() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(|c| c.to_string()),
        Just("\"".to_string()),
        Just(":".to_string()),
        Just("-".to_string()),
        Just(" or ".to_string()),
        Just("type:".to_string()),
        Just("from:".to_string()),
        Just("to:2026-13-45".to_string()),
        Just("\u{202e}".to_string()),
        Just("e\u{301}".to_string()),
        Just("🦘".to_string()),
        Just("\0".to_string()),
        Just("\r\n".to_string()),
        "[a-z]{1,8}".prop_map(|s| s),
    ];
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_query_language_never_panics(text in messy()) {
        let parsed = query::parse(&text);
        // Whatever was ignored is said in words.
        for note in &parsed.ignored {
            prop_assert!(!note.trim().is_empty());
        }
        prop_assert!(!parsed.tsquery.as_deref().unwrap_or("").contains('\0'));
    }

    #[test]
    fn times_and_zones_never_panic(text in messy(), zone in messy()) {
        if let Err(message) = parse_timezone(&zone) {
            prop_assert!(message.contains("Timezone"), "{message}");
        }
        if let Ok(tz) = parse_timezone("Europe/London")
            && let Err(message) = parse_wall_clock(&text, tz)
        {
            prop_assert!(!message.trim().is_empty());
        }
    }

    #[test]
    fn validation_names_every_problem(title in messy(), start in messy(), tz in messy()) {
        let input = InteractionInput {
            title,
            kind: "Call".into(),
            lead: "Ana".into(),
            start,
            end: "2026-11-21 15:00".into(),
            timezone: tz,
            ..InteractionInput::default()
        };
        if let Err(problems) = validate(&input) {
            for p in problems {
                prop_assert!(p.message.ends_with('.') || p.message.ends_with('?'), "{}", p.message);
            }
        }
    }

    #[test]
    fn import_files_never_panic(body in messy(), rows in 0usize..4) {
        let mut csv = String::from("title,type,lead,start,end,timezone,location,description,notes\n");
        for _ in 0..rows {
            csv.push_str(&body);
            csv.push('\n');
        }
        if let Err(e) = ifind::csvio::read_csv(csv.as_bytes()) {
            prop_assert!(!e.to_string().trim().is_empty());
        }
        if let Err(e) = ifind::csvio::read_json(body.as_bytes()) {
            prop_assert!(!e.to_string().trim().is_empty());
        }
    }

    #[test]
    fn config_files_never_panic(text in messy(), key in "[a-z_]{1,12}", value in messy()) {
        let path = Path::new("/etc/ifind.toml");
        for doc in [text.clone(), format!("[search]\n{key} = {value}\n"), format!("[keys]\n{key} = [\"{value}\"]\n")] {
            if let Err(e) = Config::parse(&doc, path) {
                let message = e.to_string();
                prop_assert!(message.contains("/etc/ifind.toml"), "{message}");
            }
        }
    }
}
