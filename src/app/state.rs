//! Everything the terminal UI shows, in one place. `update` changes it; drawing only reads it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::agenda::AgendaState;
use super::drafts::Draft;
use super::finder::FinderState;
use super::first_run::FirstRunState;
use super::form::{Confirm, FormState, Lookups};
use super::health::HealthState;
use super::login::{LoginState, PickerState};
use super::remember::Remembered;
use super::search_types::{Hit, MatchCount, SearchPage, Sort};
use super::trash::TrashState;
use crate::domain::histogram::MonthCount;
use crate::domain::interaction::Field;
use crate::domain::users::Role;

/// Which bindings apply: the key map is looked up by mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// The first-run screen (no user yet): printable keys type into the focused field.
    Setup,
    /// The Login screen: printable keys type into the focused field.
    Login,
    /// The Site picker: printable keys type into the filter.
    Picker,
    /// The query line has the cursor: printable keys type.
    Query,
    /// The result list has the focus.
    List,
    /// A single-line field of the interaction form has the cursor: printable keys type.
    Form,
    /// A multi-line field of the form (description, notes): Enter and arrows edit the text.
    FormText,
    /// The site's trash.
    Trash,
    /// The database's health.
    Health,
    /// The agenda's list.
    Agenda,
    /// The agenda's query line has the cursor: printable keys type.
    AgendaQuery,
    /// A question is on screen (discard changes? restore a draft?).
    Confirm,
    /// Two edits changed the same fields: mine or theirs, field by field.
    Conflict,
    /// The help overlay is open.
    Help,
}

impl Mode {
    /// Every mode, in help order.
    pub const ALL: [Mode; 14] = [
        Mode::Setup,
        Mode::Login,
        Mode::Picker,
        Mode::Query,
        Mode::List,
        Mode::Form,
        Mode::FormText,
        Mode::Trash,
        Mode::Health,
        Mode::Agenda,
        Mode::AgendaQuery,
        Mode::Confirm,
        Mode::Conflict,
        Mode::Help,
    ];

    /// A mode where printable keys type text instead of acting.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Mode::Query
                | Mode::Setup
                | Mode::Login
                | Mode::Picker
                | Mode::Form
                | Mode::FormText
                | Mode::AgendaQuery
        )
    }

    /// What the help overlay calls this mode.
    pub fn title(self) -> &'static str {
        match self {
            Mode::Setup => "on the first-run screen",
            Mode::Login => "on the login screen",
            Mode::Picker => "in the site picker",
            Mode::Query => "in the query line",
            Mode::List => "in the result list",
            Mode::Form => "in a form field",
            Mode::FormText => "in a multi-line form field",
            Mode::Trash => "in the trash",
            Mode::Health => "on the health screen",
            Mode::Agenda => "in the agenda",
            Mode::AgendaQuery => "in the agenda's query line",
            Mode::Confirm => "when asked a question",
            Mode::Conflict => "when two edits clash",
            Mode::Help => "in this help",
        }
    }
}

/// The screen in front.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Creating the first administrator and site (no user yet).
    FirstRun,
    Login,
    SitePicker,
    Finder,
    /// The interaction form (create or edit), over the Finder it came from.
    Form,
    /// The site's deleted interactions (site admins).
    Trash,
    /// The database dashboard (admins).
    Health,
    /// What is coming up at the site, by day.
    Agenda,
}

/// Where keys go on the Finder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Query,
    List,
}

/// What the app knows about its database connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connection {
    /// No answer yet.
    Connecting,
    /// The last search answered.
    Connected,
    /// The last search failed.
    Failing,
    /// The database does not answer: `attempt` checks in a row failed, the next one comes
    /// at `retry_at` (the pause doubles up to a few seconds); the status line counts down.
    Lost { attempt: u32, retry_at: Instant },
}

/// Who is working where: shown on the status line, and the site every search is scoped to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub site_id: i32,
    pub site: String,
    pub role: Role,
}

/// Tunables of the Finder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Quiet time after the last keystroke before a search starts.
    pub debounce: Duration,
    /// Rows per page.
    pub page_size: i64,
    /// The match count stops here ("1,000+").
    pub count_cap: i64,
    /// Load the next page when the selection comes this close to the end of the loaded rows.
    pub load_more_within: usize,
    /// The month histogram may take this long on the server before it is given up.
    pub histogram_budget_ms: u32,
    /// Deleted interactions can be restored for this many days.
    pub trash_days: u32,
    /// The longest any one database operation may take on the client side (zero: no limit);
    /// bounds a stalled network, which the server's statement timeout cannot.
    pub query_timeout: Duration,
    /// The zone every time is shown in (`ui.timezone`, else the machine's); a time shown in
    /// another zone carries that zone's name.
    pub display_zone: Tz,
}

/// The default client-side bound on one database operation of the terminal UI, in milliseconds
/// (`database.query_timeout_ms`).
pub const DEFAULT_QUERY_TIMEOUT_MS: u64 = 10_000;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            debounce: Duration::from_millis(120),
            page_size: 50,
            count_cap: 1000,
            load_more_within: 10,
            histogram_budget_ms: 250,
            trash_days: 30,
            query_timeout: Duration::from_millis(DEFAULT_QUERY_TIMEOUT_MS),
            display_zone: Tz::UTC,
        }
    }
}

/// The results of one query generation: its first page and the pages appended to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    /// The request id of the first page: the query generation these results belong to.
    pub generation: u64,
    /// The query line these results answer.
    pub query: String,
    pub sort: Sort,
    pub hits: Vec<Hit>,
    /// Where the next page starts; None when every row is loaded.
    pub next_cursor: Option<String>,
    /// The loaded rows are the end of the results (`G` read them from the last one) and more
    /// come before them: where the reading from the end continues. None when the loaded rows
    /// start at the first result.
    pub earlier_cursor: Option<String>,
    pub count: Option<MatchCount>,
    /// Near matches from the typo-tolerant fallback.
    pub fuzzy: bool,
    /// The last word as typed matched nothing; the hits are its shorter forms'.
    pub approximate: bool,
    /// With `fuzzy`: the words taken for the typed ones.
    pub similar: Vec<String>,
    /// Notes on parts of the query that were not used.
    pub ignored: Vec<String>,
    /// Words to highlight.
    pub highlight: Vec<String>,
    /// Shown from the page cache, without a query.
    pub cached: bool,
}

impl Results {
    /// The results of a first page.
    pub fn first(generation: u64, query: String, sort: Sort, page: SearchPage) -> Results {
        Results {
            generation,
            query,
            sort,
            hits: page.hits,
            next_cursor: page.next_cursor,
            earlier_cursor: None,
            count: page.count,
            fuzzy: page.fuzzy,
            approximate: page.approximate,
            similar: page.similar,
            ignored: page.ignored,
            highlight: page.highlight,
            cached: false,
        }
    }
}

/// How the current results spread over the months.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    /// The results generation it belongs to.
    pub generation: u64,
    pub months: Vec<MonthCount>,
}

/// A search the runner is working on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    pub request_id: u64,
    /// The generation its answer belongs to (its own id for a first page).
    pub generation: u64,
    pub query: String,
    pub sort: Sort,
}

/// Where the form's client ids come from (what they are for: `crate::db::faults::new_client_id`):
/// UUIDs made from a random seed and a counter, so that `update` stays deterministic. The seed
/// is the effect layer's ([`crate::tui::run`] draws it); a state made in a test has all zeros.
#[derive(Clone, Debug, Default)]
pub struct ClientIds {
    seed: [u8; 16],
    next: u64,
}

impl ClientIds {
    /// Ids from `seed` (random per process, so that no two windows make the same id).
    pub fn from_seed(seed: [u8; 16]) -> ClientIds {
        ClientIds { seed, next: 0 }
    }

    /// The next id: the seed with the counter mixed into its last six bytes.
    pub fn next_id(&mut self) -> String {
        let mut bytes = self.seed;
        let counter = self.next.to_be_bytes();
        for (b, c) in bytes[10..].iter_mut().zip(&counter[2..]) {
            *b ^= c;
        }
        self.next += 1;
        crate::domain::format::uuid_v4_text(bytes)
    }
}

/// A rectangle of screen cells, as the last draw placed a pane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Area {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
}

impl Area {
    /// Whether the cell at `column`, `row` is inside.
    pub fn contains(&self, column: u16, row: u16) -> bool {
        (self.x..self.x.saturating_add(self.width)).contains(&column)
            && (self.y..self.y.saturating_add(self.height)).contains(&row)
    }
}

/// What the last draw laid out, as far as keys and clicks depend on it: where the Finder's
/// panes are, how many results its list holds, how far the detail can scroll, where the form's
/// fields are. `ui::draw` hands it back after each frame and the terminal loop passes it in
/// with [`super::update::Msg::Drawn`], so `update` never guesses the screen's geometry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drawn {
    /// The Finder's query line, when the Finder was drawn.
    pub query: Option<Area>,
    /// The Finder's result list, when the Finder was drawn.
    pub list: Option<Area>,
    /// Screen rows each result takes in the list.
    pub rows_per_hit: u16,
    /// The detail pane, when it was drawn.
    pub detail: Option<Area>,
    /// The interaction the detail pane showed, and how many of its lines did not fit (how far
    /// it can scroll).
    pub detail_overflow: Option<(i32, u16)>,
    /// The form's fields and the rows a click focuses each by (label and editor), when the form
    /// was drawn.
    pub form_fields: Vec<(Field, Area)>,
    /// How far the conflict question's values can scroll down from the field with the cursor,
    /// when it was drawn.
    pub conflict_scroll: u16,
}

impl Drawn {
    /// How many results one screen of the list shows (at least one).
    pub fn list_capacity(&self) -> usize {
        match self.list {
            Some(list) if self.rows_per_hit > 0 => usize::from(list.height / self.rows_per_hit),
            _ => 0,
        }
        .max(1)
    }

    /// The result under the cell at `column`, `row`, counted from the first on screen.
    pub fn hit_at(&self, column: u16, row: u16) -> Option<usize> {
        let list = self.list.filter(|l| l.contains(column, row))?;
        (self.rows_per_hit > 0).then(|| usize::from((row - list.y) / self.rows_per_hit))
    }
}

/// The screen in front, owning the state that only it has. The Finder's own state lives in
/// [`State::finder`] (the form, the trash and the health screen open over it and return to it),
/// the site picker's in [`State::picker`] (the user's sites, offered again on every switch).
#[derive(Clone, Debug)]
pub enum Pane {
    /// Creating the first administrator and site (no user yet).
    FirstRun(Box<FirstRunState>),
    Login(LoginState),
    SitePicker,
    Finder,
    /// The interaction form (create or edit), over the Finder it came from.
    Form(Box<FormState>),
    /// The site's deleted interactions (site admins).
    Trash(TrashState),
    /// The database dashboard (admins).
    Health(HealthState),
    /// What is coming up at the site, by day.
    Agenda(Box<AgendaState>),
}

impl Pane {
    /// Which screen this is.
    pub fn screen(&self) -> Screen {
        match self {
            Pane::FirstRun(_) => Screen::FirstRun,
            Pane::Login(_) => Screen::Login,
            Pane::SitePicker => Screen::SitePicker,
            Pane::Finder => Screen::Finder,
            Pane::Form(_) => Screen::Form,
            Pane::Trash(_) => Screen::Trash,
            Pane::Health(_) => Screen::Health,
            Pane::Agenda(_) => Screen::Agenda,
        }
    }
}

/// The whole state of the terminal UI: the screen in front with its own state, the Finder under
/// it, and what every screen shares (session, settings, clock, connection, status line).
#[derive(Clone, Debug)]
pub struct State {
    /// The screen in front and its state.
    pub pane: Pane,
    /// The Finder: query, results, selection, detail pane and the searches in flight.
    pub finder: FinderState,
    /// The user's sites and the picker's filter over them.
    pub picker: PickerState,
    /// The form's client ids (see [`ClientIds`]).
    pub client_ids: ClientIds,
    pub help_open: bool,
    /// Rows of the help overlay scrolled past, when it is taller than the screen.
    pub help_scroll: u16,
    /// Terminal size in columns and rows.
    pub size: (u16, u16),
    /// What the last draw laid out (see [`Drawn`]).
    pub drawn: Drawn,
    pub session: Session,
    pub connection: Connection,
    /// A one-line message for the status line, until the next action.
    pub notice: Option<String>,
    pub quit: bool,
    pub settings: Settings,
    /// The latest time the app knows of; every [`super::update::Msg::Tick`] moves it.
    pub clock: Instant,
    /// The open site's types, leads and locations, for the form's completion.
    pub lookups: Option<Arc<Lookups>>,
    /// The lookups request in flight.
    pub lookups_loading: Option<u64>,
    /// The last request id handed out.
    pub last_request_id: u64,
    /// The question on screen, if any; it takes the keys until answered.
    pub confirm: Option<Confirm>,
    /// The delete in flight: its request id and the title, for the answer's message.
    pub deleting: Option<(u64, String)>,
    /// Drafts to decide on later (chosen so, or found while another was offered): offered one
    /// at a time before the next form opens.
    pub parked_drafts: Vec<Box<Draft>>,
    /// The date and time now, for defaults such as a new interaction's start; every
    /// [`super::update::Msg::WallClock`] moves it.
    pub wall_clock: DateTime<Utc>,
}

impl State {
    /// A Finder with an empty query, list focus on nothing yet, query line focused.
    pub fn new(session: Session, settings: Settings, now: Instant) -> State {
        State {
            pane: Pane::Finder,
            finder: FinderState::default(),
            picker: PickerState::default(),
            client_ids: ClientIds::default(),
            help_open: false,
            help_scroll: 0,
            size: (80, 24),
            drawn: Drawn::default(),
            session,
            connection: Connection::Connecting,
            notice: None,
            quit: false,
            settings,
            clock: now,
            lookups: None,
            lookups_loading: None,
            last_request_id: 0,
            confirm: None,
            deleting: None,
            parked_drafts: Vec::new(),
            wall_clock: DateTime::UNIX_EPOCH,
        }
    }

    /// The Login screen, before any site is open: the last user's name filled in (the cursor
    /// on the password), each user's last site opened for them after the login.
    pub fn login(settings: Settings, now: Instant, remembered: Remembered) -> State {
        let session = Session {
            user: String::new(),
            site_id: 0,
            site: String::new(),
            role: Role::Viewer,
        };
        let mut state = State::new(session, settings, now);
        state.pane = Pane::Login(LoginState::remembering(remembered.user.as_deref()));
        state.picker.remembered = remembered;
        state
    }

    /// The first-run screen (the database has no user yet), then the Login; `remembered` as
    /// for [`State::login`].
    pub fn first_run(settings: Settings, now: Instant, remembered: Remembered) -> State {
        let mut state = State::login(settings, now, remembered);
        state.pane = Pane::FirstRun(Box::default());
        state
    }

    /// The first-run screen's fields, while it is in front.
    pub fn first_run_form(&self) -> Option<&FirstRunState> {
        match &self.pane {
            Pane::FirstRun(form) => Some(form),
            _ => None,
        }
    }

    /// The screen in front.
    pub fn screen(&self) -> Screen {
        self.pane.screen()
    }

    /// The Login screen's fields, while it is in front.
    pub fn login_form(&self) -> Option<&LoginState> {
        match &self.pane {
            Pane::Login(login) => Some(login),
            _ => None,
        }
    }

    /// The Login screen's fields to change, while it is in front.
    pub fn login_form_mut(&mut self) -> Option<&mut LoginState> {
        match &mut self.pane {
            Pane::Login(login) => Some(login),
            _ => None,
        }
    }

    /// The open form, while it is in front.
    pub fn form(&self) -> Option<&FormState> {
        match &self.pane {
            Pane::Form(form) => Some(form),
            _ => None,
        }
    }

    /// The open form to change, while it is in front.
    pub fn form_mut(&mut self) -> Option<&mut FormState> {
        match &mut self.pane {
            Pane::Form(form) => Some(form),
            _ => None,
        }
    }

    /// The trash, while it is in front.
    pub fn trash(&self) -> Option<&TrashState> {
        match &self.pane {
            Pane::Trash(trash) => Some(trash),
            _ => None,
        }
    }

    /// The trash to change, while it is in front.
    pub fn trash_mut(&mut self) -> Option<&mut TrashState> {
        match &mut self.pane {
            Pane::Trash(trash) => Some(trash),
            _ => None,
        }
    }

    /// The agenda, while it is in front.
    pub fn agenda(&self) -> Option<&AgendaState> {
        match &self.pane {
            Pane::Agenda(agenda) => Some(agenda),
            _ => None,
        }
    }

    /// The health checks, while the Health screen is in front.
    pub fn health(&self) -> Option<&HealthState> {
        match &self.pane {
            Pane::Health(health) => Some(health),
            _ => None,
        }
    }

    /// The health checks to change, while the Health screen is in front.
    pub fn health_mut(&mut self) -> Option<&mut HealthState> {
        match &mut self.pane {
            Pane::Health(health) => Some(health),
            _ => None,
        }
    }

    /// The mode the key map is looked up in.
    pub fn mode(&self) -> Mode {
        match &self.confirm {
            Some(Confirm::Conflict(_)) => return Mode::Conflict,
            Some(_) => return Mode::Confirm,
            None => {}
        }
        if self.help_open {
            return Mode::Help;
        }
        self.base_mode()
    }

    /// The mode of the screen itself, ignoring the help overlay and questions: what the help
    /// overlay explains.
    pub fn base_mode(&self) -> Mode {
        match (&self.pane, self.finder.focus) {
            (Pane::FirstRun(_), _) => Mode::Setup,
            (Pane::Login(_), _) => Mode::Login,
            (Pane::SitePicker, _) => Mode::Picker,
            (Pane::Finder, Focus::Query) => Mode::Query,
            (Pane::Finder, Focus::List) => Mode::List,
            (Pane::Trash(_), _) => Mode::Trash,
            (Pane::Health(_), _) => Mode::Health,
            (Pane::Agenda(a), _) if a.focus == Focus::Query => Mode::AgendaQuery,
            (Pane::Agenda(_), _) => Mode::Agenda,
            (Pane::Form(form), _) if form.focused().is_multi_line() => Mode::FormText,
            (Pane::Form(_), _) => Mode::Form,
        }
    }

    /// When the runner must send the next [`super::update::Msg::Tick`], if a search is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        // While the connection is lost, a tick each second counts the retry down on screen.
        let countdown = match self.connection {
            Connection::Lost { retry_at, .. } if retry_at > self.clock => {
                Some((self.clock + Duration::from_secs(1)).min(retry_at))
            }
            _ => None,
        };
        [self.finder.search_due, countdown, super::agenda::due(self)]
            .into_iter()
            .flatten()
            .min()
    }
}

#[cfg(test)]
mod client_id_tests {
    use super::ClientIds;

    #[test]
    fn client_ids_are_distinct_version_4_uuids_that_depend_on_the_seed_only() {
        let mut a = ClientIds::from_seed([7; 16]);
        let ids: Vec<String> = (0..1000).map(|_| a.next_id()).collect();
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in &ids {
            let parts: Vec<&str> = id.split('-').collect();
            assert_eq!(
                parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12],
                "{id}"
            );
            assert!(parts[2].starts_with('4'), "version 4: {id}");
            assert!(
                matches!(&parts[3][..1], "8" | "9" | "a" | "b"),
                "variant: {id}"
            );
        }
        let mut again = ClientIds::from_seed([7; 16]);
        assert_eq!(again.next_id(), ids[0], "the same seed, the same ids");
        let mut other = ClientIds::from_seed([8; 16]);
        assert_ne!(other.next_id(), ids[0], "another seed, other ids");
    }
}
