//! Fixed word lists the seed data is composed from. Order matters (it feeds the deterministic
//! generator): append only, or the data for a given seed changes.

/// Home zones for sites and the zones interactions happen in (all real IANA names).
#[rustfmt::skip]
pub const TIMEZONES: &[&str] = &[
    "Europe/London", "America/New_York", "America/Los_Angeles", "America/Chicago", "Asia/Tokyo",
    "Australia/Sydney", "Europe/Berlin", "Asia/Kolkata", "America/Sao_Paulo", "Africa/Johannesburg",
    "Pacific/Auckland", "Europe/Paris", "Asia/Singapore", "America/Toronto", "Europe/Madrid",
    "Asia/Dubai", "America/Mexico_City", "Europe/Stockholm",
];

/// Place names for site names ("Northbridge Clinic").
#[rustfmt::skip]
pub const TOWNS: &[&str] = &[
    "Northbridge", "Ashford", "Millbrook", "Riverside", "Oakham", "Westfield", "Kingsbury",
    "Elmstead", "Fairhaven", "Glenwood", "Hollowell", "Ironbridge", "Juniper Hill", "Kestrel Bay",
    "Lakeside", "Maple Grove", "Newhaven", "Old Mill", "Pinecrest", "Queensway", "Redcliffe",
    "Stonebridge", "Thornbury", "Upton", "Valley View", "Whitby", "Yarrow", "Ambleside",
    "Briarwood", "Cedar Falls", "Dunmore", "Eastgate", "Foxley", "Greenhill", "Harrowgate",
    "Highfield", "Larkspur", "Marlow", "Norwood", "Oakridge", "Parkview", "Rosedale", "Sandringham",
    "Silverton", "Southport", "Summerfield", "Tamworth", "Wexford", "Willowdale", "Windermere",
    "Aldergate", "Beacon Hill", "Brookfield", "Castleton", "Clearwater", "Copperfield", "Crestview",
    "Deepdale", "Eden Park", "Fernhill", "Goldcrest", "Hartwell", "Heathrow", "Kenwood",
    "Lindenfield", "Moorside", "Newbury", "Northgate", "Orchard Park", "Pembroke", "Ravensworth",
    "Seabrook", "Springvale", "Sunnyside", "Trenton", "Westbrook", "Whitehaven", "Woodlands",
    "Bayswater", "Blackwater", "Bramley", "Carlisle", "Chester Hill", "Claremont", "Eastwood",
    "Elmhurst", "Harbourne", "Hillcrest", "Lancaster Park", "Lowfield", "Mayfair", "Midvale",
    "Northfield", "Pine Ridge", "Redwood", "Rushmere", "Shelford", "Stanmore", "Tidewater",
    "Westmoor",
];

/// Street names for site names ("Harbor Street Office").
#[rustfmt::skip]
pub const STREETS: &[&str] = &[
    "Harbor", "Mill", "Church", "High", "Station", "Market", "Bridge", "Park", "Victoria", "King",
    "Queen", "Elm", "Oak", "Cedar", "Maple", "Willow", "Chestnut", "Walnut", "Spring", "River",
    "Lake", "Hill", "Union", "Franklin", "Washington", "Lincoln", "Jefferson", "Grant", "Madison",
    "Adams", "Chapel", "Castle", "Abbey", "College", "Grove", "Orchard", "Garden", "Meadow",
    "Forest", "Canal", "Wharf", "Dock", "Ferry", "Tower", "Albert", "George", "Regent", "Granville",
    "Clifton", "Stanley",
];

/// Street kinds.
pub const STREET_KINDS: &[&str] = &["Street", "Road", "Avenue", "Lane", "Square"];

/// Kinds of site, each with its extra interaction types.
pub const SITE_KINDS: &[(&str, &[&str])] = &[
    ("Clinic", &["Patient intake", "Case review", "Consultation"]),
    ("Office", &[]),
    ("Branch", &["Customer meeting"]),
    ("Studio", &["Design review", "Client presentation"]),
    ("Centre", &["Community event"]),
    ("Library", &["Reading group", "Community event"]),
    ("Medical Centre", &["Patient intake", "Case review"]),
    (
        "Law Office",
        &["Client consultation", "Deposition", "Case review"],
    ),
    ("Dental Practice", &["Patient intake", "Consultation"]),
    ("Community Hub", &["Community event", "Volunteer briefing"]),
    ("Service Centre", &["Customer meeting", "Repair assessment"]),
    ("Regional Office", &[]),
    ("Depot", &["Safety briefing", "Delivery review"]),
    ("Warehouse", &["Safety briefing", "Stock count"]),
    ("Campus", &["Lecture", "Open day"]),
    ("Lab", &["Experiment review", "Safety briefing"]),
    ("Health Centre", &["Patient intake", "Consultation"]),
    ("Advice Centre", &["Client consultation", "Drop-in session"]),
    ("Business Park", &[]),
    ("Hub", &[]),
];

/// Interaction types shared by every site, with weights.
pub const TYPES: &[(&str, u32)] = &[
    ("Meeting", 30),
    ("Phone call", 22),
    ("Video call", 16),
    ("Site visit", 8),
    ("Workshop", 5),
    ("Interview", 5),
    ("Training", 5),
    ("Review", 6),
    ("Inspection", 3),
    ("Consultation", 5),
    ("Presentation", 4),
    ("Follow-up", 6),
    ("Check-in", 5),
    ("Conference", 1),
    ("Audit", 2),
    ("Email", 4),
    ("Lunch meeting", 2),
    ("Planning session", 3),
    ("One-to-one", 5),
    ("Board meeting", 1),
];

/// First names (some with accents, as real data has).
#[rustfmt::skip]
pub const FIRST_NAMES: &[&str] = &[
    "Maria", "James", "Aisha", "Chen", "Olivia", "Mohammed", "Sofia", "Liam", "Priya", "Noah",
    "Emma", "Hiroshi", "Fatima", "Lucas", "Amara", "Ethan", "Isabella", "Mateo", "Zoë", "Daniel",
    "Ananya", "Oliver", "Yuki", "Grace", "Kwame", "Charlotte", "Diego", "Mia", "Arjun", "Harper",
    "José", "Amelia", "Wei", "Evelyn", "Tomás", "Hannah", "Samuel", "Leila", "Benjamin", "Chloe",
    "Ravi", "Ella", "Jack", "Nadia", "William", "Sienna", "Kenji", "Ruby", "Oscar", "Layla",
    "Henry", "Ingrid", "Alexander", "Freya", "Mei", "Thomas", "Aaliyah", "Gabriel", "Elena",
    "David", "Renée", "Michael", "Sarah", "Joseph", "Laura", "Anthony", "Emily", "Andrew",
    "Jessica", "Joshua", "Rachel", "Christopher", "Megan", "Matthew", "Lauren", "Ryan", "Anna",
    "Kevin", "Julia", "Brian", "Victoria", "George", "Natalie", "Edward", "Alice", "Patrick",
    "Rebecca", "Sean", "Catherine", "Peter", "Helen", "Paul", "Margaret", "Mark", "Susan", "Steven",
    "Karen", "Aditya", "Björn", "Søren", "Aroha", "Tane", "Thandiwe", "Sipho", "Ana", "João",
    "Camila", "Rafael", "Beatriz", "Haruto", "Sakura", "Ren", "Aiko", "Lars", "Astrid", "Pierre",
    "Camille", "Hugo", "Léa", "Lukas", "Lena", "Jonas", "Marta", "Pablo", "Lucía", "Omar", "Yara",
    "Ibrahim", "Zainab", "Ming", "Xin", "Sanjay", "Deepa", "Connor", "Niamh",
];

/// Last names.
#[rustfmt::skip]
pub const LAST_NAMES: &[&str] = &[
    "Lopez", "Smith", "Khan", "Wang", "Johnson", "Patel", "Garcia", "Brown", "Nguyen", "Williams",
    "Tanaka", "Okafor", "Müller", "Rossi", "Silva", "Kim", "Martin", "Singh", "Jones", "Dubois",
    "Taylor", "Sato", "Hernández", "Davies", "Mensah", "Wilson", "Kowalski", "Evans", "Ahmed",
    "Thomas", "Andersson", "Roberts", "Chen", "Walker", "Ivanova", "Wright", "Suzuki", "Robinson",
    "Fernandes", "Thompson", "O'Brien", "White", "Novak", "Hughes", "Yamamoto", "Edwards", "Ali",
    "Green", "Costa", "Hall", "Jansen", "Wood", "Lee", "Harris", "Sørensen", "Clarke", "Moreau",
    "Jackson", "Nakamura", "Turner", "Pereira", "Hill", "Schmidt", "Moore", "Das", "Cooper", "Ward",
    "Morris", "King", "Baker", "Reddy", "Campbell", "Murphy", "Kelly", "Fischer", "Bailey", "Gomez",
    "Mitchell", "Ito", "Carter", "Phillips", "Zhang", "Parker", "Collins", "Stewart", "Morgan",
    "Bell", "Rivera", "Lindqvist", "Dlamini", "Nkosi", "Ngata", "Walsh", "Byrne", "Ramos", "Santos",
    "Oliveira", "Rodríguez", "Martínez", "Kaur", "Sharma", "Iyer", "Liu", "Huang", "Park", "Choi",
    "Becker", "Weber", "Wagner", "Bernard", "Petit", "Larsen", "Berg", "Haddad", "Mansour",
    "Adeyemi", "Banda", "Fraser", "MacDonald", "Reid", "Young",
];

/// First halves of client organisation names.
#[rustfmt::skip]
pub const COMPANY_STEMS: &[&str] = &[
    "Acme", "Bluewater", "Northwind", "Summit", "Evergreen", "Pioneer", "Harbourside", "Granite",
    "Silverline", "Redstone", "Crescent", "Horizon", "Keystone", "Lighthouse", "Meridian",
    "Oakleaf", "Pinnacle", "Quantum", "Riverbend", "Sterling", "Trident", "Vantage", "Westwind",
    "Brightwater", "Cobalt", "Driftwood", "Everest", "Falcon", "Greenfield", "Hawthorne",
    "Ironwood", "Juniper", "Kingfisher", "Larch", "Monarch", "Nimbus", "Orion", "Polaris",
    "Sapphire", "Tallis", "Umber", "Vertex", "Wildflower", "Zenith", "Atlas", "Beacon", "Cascade",
    "Delta", "Ember", "Fjord", "Apex", "Birchwood", "Clearview", "Halcyon", "Marigold", "Sequoia",
];

/// Second halves of client organisation names.
#[rustfmt::skip]
pub const COMPANY_KINDS: &[&str] = &[
    "Logistics", "Foods", "Traders", "Health", "Engineering", "Architects", "Consulting",
    "Software", "Builders", "Insurance", "Energy", "Pharmacy", "Legal", "Media", "Properties",
    "Analytics", "Hotels", "Motors", "Textiles", "Partners", "Holdings", "Labs", "Group", "Dental",
    "Farms", "Bank", "Ventures", "Council", "Trust", "School", "University", "Foundation",
    "Catering", "Recruitment", "Security",
];

/// Topics for titles and text.
#[rustfmt::skip]
pub const TOPICS: &[&str] = &[
    "invoices", "the annual budget", "onboarding", "contract renewal", "the safety audit",
    "the product roadmap", "hiring plans", "compliance", "the office move", "staff rotas",
    "quarterly targets", "the pricing proposal", "customer feedback", "the IT upgrade",
    "data protection", "supplier terms", "the marketing campaign", "training needs",
    "the service agreement", "a billing dispute", "the fire drill", "expense claims",
    "the new website", "stock levels", "the partnership", "insurance cover", "the tender",
    "patient records", "the refurbishment", "delivery delays", "performance reviews",
    "the grant application", "parking", "the network outage", "quality checks",
    "the volunteer programme", "risk assessment", "the accessibility review", "payroll",
    "the client portal", "maintenance schedules", "energy costs", "the charity drive",
    "recruitment", "lease renewal", "the migration plan", "security badges", "the open day",
];

/// Title words for recurring reviews.
pub const PERIODS: &[&str] = &[
    "Quarterly",
    "Monthly",
    "Weekly",
    "Annual",
    "Half-yearly",
    "Fortnightly",
];

/// Named rooms and places.
#[rustfmt::skip]
pub const ROOMS: &[&str] = &[
    "Board Room", "Main Lobby", "Conference Room A", "Conference Room B", "Conference Room C",
    "Training Room 1", "Training Room 2", "Cafeteria", "Reception", "Library", "Staff Lounge",
    "Main Hall", "Meeting Room 3", "Meeting Room 4", "Roof Terrace", "Workshop", "Car Park",
    "Warehouse Floor", "Lab 2", "Quiet Room",
];

/// Online places.
pub const ONLINE: &[&str] = &["Online", "Zoom", "Microsoft Teams", "Google Meet", "Phone"];

/// Job roles, for interview titles.
#[rustfmt::skip]
pub const ROLES: &[&str] = &[
    "receptionist", "office manager", "accountant", "nurse", "software engineer", "project manager",
    "sales lead", "administrator", "analyst", "paralegal", "technician", "warehouse supervisor",
    "designer", "volunteer coordinator", "data analyst",
];

/// Realistic sentences mixed into descriptions and notes.
pub const SENTENCES: &[&str] = &[
    "Agreed next steps and owners.",
    "Action items were sent round by email afterwards.",
    "The client asked for a written summary by Friday.",
    "Budget approval is still pending from finance.",
    "We need to follow up within two weeks.",
    "Everyone agreed the current process works well.",
    "Minutes are attached to the shared folder.",
    "The meeting overran by about twenty minutes.",
    "Two attendees joined remotely.",
    "Rescheduled once because of a clash with the board meeting.",
    "Questions about pricing were deferred to the next session.",
    "The contract draft needs a legal review before signing.",
    "Feedback was mostly positive.",
    "Several issues were raised about response times.",
    "Please bring the updated figures next time.",
    "A site tour was included at the end.",
    "Coffee and lunch were provided.",
    "Parking was difficult; suggest public transport next time.",
    "The projector did not work, so we used printed slides.",
    "No decisions were made.",
];
