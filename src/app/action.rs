//! What the user means to do: the key map turns keys into these, `update` carries them out.

/// A user intent. Text typed into a focused field is the only input that bypasses this enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Put the cursor in the query line.
    FocusQuery,
    /// Select the next result.
    MoveDown,
    /// Select the previous result.
    MoveUp,
    /// Select the first result.
    Top,
    /// Select the last loaded result.
    Bottom,
    /// Move down one screen of results.
    PageDown,
    /// Move up one screen of results.
    PageUp,
    /// Open the selected interaction.
    Open,
    /// Show or hide the change history in the detail pane.
    History,
    /// Scroll the detail pane down a line.
    DetailDown,
    /// Scroll the detail pane up a line.
    DetailUp,
    /// Back out one level (close help, close the detail, leave the query line).
    Back,
    /// Create a new interaction.
    NewInteraction,
    /// Edit the selected interaction.
    Edit,
    /// Switch to another site.
    SwitchSite,
    /// Copy the selected interaction as text.
    Copy,
    /// Move the selected interaction to the trash (site admins).
    Delete,
    /// Open the site's trash (site admins).
    Trash,
    /// Take the selected interaction out of the trash.
    Restore,
    /// Show the database's health (admins).
    Health,
    /// Change the order of results.
    CycleSort,
    /// Include the archive in the search, or leave it out again.
    ToggleArchive,
    /// Show the agenda: what is coming up at the site, by day.
    Agenda,
    /// Show or hide the key help.
    Help,
    /// Move to the next field of a form.
    NextField,
    /// Move to the previous field of a form.
    PrevField,
    /// Log in, or open the highlighted site.
    Submit,
    /// Save the form.
    Save,
    /// Empty the focused form field.
    ClearField,
    /// Keep my value of the field both edits changed (a conflict).
    PickMine,
    /// Take their value of the field both edits changed (a conflict).
    PickTheirs,
    /// Answer yes to the question on screen.
    Yes,
    /// Answer no to the question on screen.
    No,
    /// Quit (outside text fields).
    Quit,
    /// Quit from anywhere, at once.
    ForceQuit,
}

impl Action {
    /// Every action, in help order.
    pub const ALL: [Action; 35] = [
        Action::FocusQuery,
        Action::MoveDown,
        Action::MoveUp,
        Action::Top,
        Action::Bottom,
        Action::PageDown,
        Action::PageUp,
        Action::Open,
        Action::History,
        Action::DetailDown,
        Action::DetailUp,
        Action::Back,
        Action::NewInteraction,
        Action::Edit,
        Action::SwitchSite,
        Action::Copy,
        Action::Delete,
        Action::Trash,
        Action::Restore,
        Action::Health,
        Action::CycleSort,
        Action::ToggleArchive,
        Action::Agenda,
        Action::Help,
        Action::NextField,
        Action::PrevField,
        Action::Submit,
        Action::Save,
        Action::ClearField,
        Action::PickMine,
        Action::PickTheirs,
        Action::Yes,
        Action::No,
        Action::Quit,
        Action::ForceQuit,
    ];

    /// The name used in the config file's `[keys]` table.
    pub fn name(self) -> &'static str {
        match self {
            Action::FocusQuery => "focus_query",
            Action::MoveDown => "move_down",
            Action::MoveUp => "move_up",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::PageDown => "page_down",
            Action::PageUp => "page_up",
            Action::Open => "open",
            Action::History => "history",
            Action::DetailDown => "detail_down",
            Action::DetailUp => "detail_up",
            Action::Back => "back",
            Action::NewInteraction => "new_interaction",
            Action::Edit => "edit",
            Action::SwitchSite => "switch_site",
            Action::Copy => "copy",
            Action::Delete => "delete",
            Action::Trash => "trash",
            Action::Restore => "restore",
            Action::Health => "health",
            Action::CycleSort => "cycle_sort",
            Action::ToggleArchive => "toggle_archive",
            Action::Agenda => "agenda",
            Action::Help => "help",
            Action::NextField => "next_field",
            Action::PrevField => "prev_field",
            Action::Submit => "submit",
            Action::Save => "save",
            Action::ClearField => "clear_field",
            Action::PickMine => "pick_mine",
            Action::PickTheirs => "pick_theirs",
            Action::Yes => "yes",
            Action::No => "no",
            Action::Quit => "quit",
            Action::ForceQuit => "force_quit",
        }
    }

    /// The action with this config name.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name.trim())
    }

    /// One line for the help screen.
    pub fn description(self) -> &'static str {
        match self {
            Action::FocusQuery => "search: type a query",
            Action::MoveDown => "next result",
            Action::MoveUp => "previous result",
            Action::Top => "first result",
            Action::Bottom => "last result",
            Action::PageDown => "one screen down",
            Action::PageUp => "one screen up",
            Action::Open => "open the selected interaction",
            Action::History => "show or hide the change history",
            Action::DetailDown => "scroll the detail down",
            Action::DetailUp => "scroll the detail up",
            Action::Back => "back out one level",
            Action::NewInteraction => "new interaction",
            Action::Edit => "edit the selected interaction",
            Action::SwitchSite => "switch site",
            Action::Copy => "copy the selected interaction as text",
            Action::Delete => "move the selected interaction to the trash",
            Action::Trash => "show the site's trash",
            Action::Restore => "restore the selected interaction",
            Action::Health => "database health (admins); again to refresh",
            Action::CycleSort => "sort: relevance, newest, oldest",
            Action::ToggleArchive => "include the archive (read-only) or not",
            Action::Agenda => "the agenda: what is coming up at the site, by day",
            Action::Help => "show or hide this help",
            Action::NextField => "next field",
            Action::PrevField => "previous field",
            Action::Submit => "log in, or open the highlighted site",
            Action::Save => "save",
            Action::ClearField => "clear the field",
            Action::PickMine => "keep yours for this field",
            Action::PickTheirs => "take theirs for this field",
            Action::Yes => "yes",
            Action::No => "no",
            Action::Quit => "quit",
            Action::ForceQuit => "quit from anywhere",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
        assert_eq!(Action::from_name("fly"), None);
    }
}
