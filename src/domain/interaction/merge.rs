//! Two edits of one interaction, merged field by field against the version both started from
//! (a three-way merge): a field only one side changed takes that side's value, a field both
//! changed to the same value takes it, and only a field both changed to different values is a
//! clash for the person to settle.

use super::{Field, InteractionInput};

/// Which of the two edits a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The edit in this form.
    Mine,
    /// The version someone else saved first.
    Theirs,
}

/// A field both edits changed, to different values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clash {
    pub field: Field,
    pub mine: String,
    pub theirs: String,
}

/// The outcome of [`merge`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merge {
    /// Every field settled: the base's text, each field's changed value where one side (or both
    /// alike) changed it, and my value for each clash (until the person chooses otherwise).
    pub merged: InteractionInput,
    /// Fields only they changed (their value is in `merged`), in form order.
    pub theirs_only: Vec<Field>,
    /// Fields only I changed (my value is in `merged`), in form order.
    pub mine_only: Vec<Field>,
    /// Fields both changed to different values, in form order.
    pub clashes: Vec<Clash>,
}

impl Merge {
    /// The merged text with `take(field)`'s value for each clash.
    pub fn resolved(&self, take: impl Fn(Field) -> Side) -> InteractionInput {
        let mut input = self.merged.clone();
        for clash in &self.clashes {
            let value = match take(clash.field) {
                Side::Mine => &clash.mine,
                Side::Theirs => &clash.theirs,
            };
            input.set(clash.field, value.clone());
        }
        input
    }
}

/// True when `a` and `b` are the same value of `field` as it would be stored: one-line fields
/// are trimmed when saved, and an all-blank description or note is stored as absent.
pub fn same_value(field: Field, a: &str, b: &str) -> bool {
    if field.is_multi_line() {
        a == b || (a.trim().is_empty() && b.trim().is_empty())
    } else {
        a.trim() == b.trim()
    }
}

/// Merges my edit and theirs, both made from `base`. Without a base (a draft written before
/// drafts kept one) nobody can tell who changed what: every field where the two differ is a
/// clash.
pub fn merge(
    base: Option<&InteractionInput>,
    mine: &InteractionInput,
    theirs: &InteractionInput,
) -> Merge {
    let mut merged = InteractionInput::default();
    let (mut theirs_only, mut mine_only, mut clashes) = (Vec::new(), Vec::new(), Vec::new());
    for field in Field::ALL {
        let (m, t) = (mine.get(field), theirs.get(field));
        let changed = |value: &str| base.is_none_or(|b| !same_value(field, b.get(field), value));
        let value = if same_value(field, m, t) {
            m
        } else {
            match (changed(m), changed(t)) {
                (true, true) => {
                    clashes.push(Clash {
                        field,
                        mine: m.to_string(),
                        theirs: t.to_string(),
                    });
                    m
                }
                (false, true) => {
                    theirs_only.push(field);
                    t
                }
                (true, false) => {
                    mine_only.push(field);
                    m
                }
                // Both the same as the base yet different from each other: only whitespace
                // differs, which `same_value` already called equal; keep mine.
                (false, false) => m,
            }
        };
        merged.set(field, value.to_string());
    }
    Merge {
        merged,
        theirs_only,
        mine_only,
        clashes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> InteractionInput {
        InteractionInput {
            title: "Budget review with Delta Shipping".into(),
            kind: "Meeting".into(),
            lead: "Ana Souza".into(),
            start: "2026-12-01 09:30".into(),
            end: "2026-12-01 10:30".into(),
            timezone: "Europe/London".into(),
            location: "Room 4".into(),
            description: "Figures for Q4.".into(),
            notes: String::new(),
        }
    }

    #[test]
    fn fields_only_one_side_changed_are_kept_from_that_side() {
        let mut mine = base();
        mine.title = "Budget review with Delta Shipping (moved)".into();
        let mut theirs = base();
        theirs.location = "Room 5".into();
        theirs.notes = "bring the contract".into();
        let m = merge(Some(&base()), &mine, &theirs);
        assert!(m.clashes.is_empty(), "{:?}", m.clashes);
        assert_eq!(m.theirs_only, vec![Field::Location, Field::Notes]);
        assert_eq!(m.mine_only, vec![Field::Title]);
        assert_eq!(m.merged.title, "Budget review with Delta Shipping (moved)");
        assert_eq!(
            m.merged.location, "Room 5",
            "their location is not reverted"
        );
        assert_eq!(m.merged.notes, "bring the contract");
        assert_eq!(m.merged.description, "Figures for Q4.");
    }

    #[test]
    fn only_fields_both_changed_differently_clash_and_each_side_can_be_taken() {
        let mut mine = base();
        mine.location = "Room 6".into();
        mine.lead = "Jun Park".into();
        mine.description = "Figures for Q4.\nAnd Q1.".into();
        let mut theirs = base();
        theirs.location = "Room 5".into();
        theirs.lead = "Jun Park ".into();
        theirs.description = "Figures for Q4, revised.".into();
        let m = merge(Some(&base()), &mine, &theirs);
        let clashing: Vec<Field> = m.clashes.iter().map(|c| c.field).collect();
        assert_eq!(
            clashing,
            vec![Field::Location, Field::Description],
            "the same new lead on both sides (but for a trailing space) is no clash"
        );
        assert_eq!(m.clashes[0].mine, "Room 6");
        assert_eq!(m.clashes[0].theirs, "Room 5");
        assert_eq!(m.merged.location, "Room 6", "mine until chosen otherwise");
        let chosen = m.resolved(|f| {
            if f == Field::Location {
                Side::Theirs
            } else {
                Side::Mine
            }
        });
        assert_eq!(chosen.location, "Room 5");
        assert_eq!(chosen.description, "Figures for Q4.\nAnd Q1.");
        assert_eq!(chosen.lead, "Jun Park");
    }

    #[test]
    fn without_a_base_every_difference_is_a_clash() {
        let mut mine = base();
        mine.title = "Mine".into();
        let mut theirs = base();
        theirs.location = "Room 5".into();
        let m = merge(None, &mine, &theirs);
        let clashing: Vec<Field> = m.clashes.iter().map(|c| c.field).collect();
        assert_eq!(clashing, vec![Field::Title, Field::Location]);
        assert!(m.theirs_only.is_empty() && m.mine_only.is_empty());
    }

    #[test]
    fn blank_notes_and_padded_one_line_fields_are_the_values_they_are_stored_as() {
        assert!(same_value(Field::Notes, "", "  \n"));
        assert!(!same_value(Field::Notes, "a", "a\n"));
        assert!(same_value(Field::Title, " Budget ", "Budget"));
        assert!(!same_value(Field::Title, "Budget", "budget"));
    }
}
