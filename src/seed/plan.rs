//! The plan of a seed run: sites, users, their roles and each site's pools of leads and clients,
//! and how many rows every site gets. Everything comes from one ChaCha8 stream seeded by the
//! seed, so the same options always give the same plan.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::lists;
use super::text::Zipf;

/// Rows per generated chunk; every chunk has its own random stream, so chunks can be generated
/// (and loaded) in any order with the same result.
pub const CHUNK_ROWS: u64 = 2000;

/// One site to create.
#[derive(Debug, Clone)]
pub struct SitePlan {
    pub name: String,
    pub description: String,
    pub timezone: &'static str,
    pub town: &'static str,
    pub rows: u64,
    /// Interaction types with cumulative weights.
    pub types: Vec<(&'static str, u32)>,
    /// People who lead this site's interactions, drawn with `lead_zipf`.
    pub leads: Vec<String>,
    pub lead_zipf: Zipf,
    /// Client organisations, drawn with `company_zipf`.
    pub companies: Vec<String>,
    pub company_zipf: Zipf,
    /// Users (indices into `Plan::users`) who may create and edit this site's interactions.
    pub writers: Vec<usize>,
}

/// One user to create.
#[derive(Debug, Clone)]
pub struct UserPlan {
    pub username: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

/// One role of a user at a site.
#[derive(Debug, Clone)]
pub struct MappingPlan {
    pub user: usize,
    pub site: usize,
    pub role: &'static str,
    pub assigned_at: DateTime<Utc>,
}

/// Everything but the interaction rows themselves.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    /// The instant the data is relative to: "now" for the generated history.
    pub anchor: DateTime<Utc>,
    pub sites: Vec<SitePlan>,
    pub users: Vec<UserPlan>,
    pub mappings: Vec<MappingPlan>,
    /// Per chunk, its number of rows (the sum of every site's share).
    pub chunk_rows: Vec<u64>,
    /// Per chunk, the number of rows in the chunks before it.
    pub chunk_first: Vec<u64>,
    pub total_rows: u64,
}

/// The users and their roles at sites, as the plan makes them (names unique and not `taken`).
struct People<'a> {
    anchor: DateTime<Utc>,
    taken: &'a HashSet<String>,
    used: HashSet<String>,
    users: Vec<UserPlan>,
    mappings: Vec<MappingPlan>,
}

impl People<'_> {
    /// Site `i` (`name`, town, kind) with `site_rows` rows: its staff (one admin, editors growing
    /// with the site's size, a few viewers), types, leads and companies.
    fn site(
        &mut self,
        rng: &mut ChaCha8Rng,
        i: usize,
        (name, town, kind): (String, &'static str, usize),
        site_rows: u64,
    ) -> SitePlan {
        let anchor = self.anchor;
        let timezone = home_timezone(rng);
        let domain = slug(&name);
        let description = site_description(rng, &name, town, kind, timezone);
        let editors = 1 + rng.gen_range(0..3) + (site_rows / 50_000).min(4) as usize;
        let viewers = rng.gen_range(0..4);
        let mut staff_names = Vec::new();
        let mut writers = Vec::new();
        for k in 0..(1 + editors + viewers) {
            let role = if k == 0 {
                "admin"
            } else if k <= editors {
                "editor"
            } else {
                "viewer"
            };
            let (full, user) = new_user(rng, &domain, anchor, self.taken, &mut self.used);
            let idx = self.users.len();
            self.users.push(user);
            self.mappings.push(mapping(rng, idx, i, role, anchor));
            if role != "viewer" {
                writers.push(idx);
            }
            staff_names.push(full);
        }
        let types = site_types(rng, kind);
        let pool = (5 + (site_rows as f64).sqrt() as usize / 2).min(400);
        let mut leads = staff_names;
        while leads.len() < pool {
            leads.push(person(rng));
        }
        leads.shuffle(rng);
        let lead_zipf = Zipf::new(leads.len(), 1.0);
        let ncomp = (8 + (site_rows as f64).sqrt() as usize / 5).min(120);
        let companies: Vec<String> = (0..ncomp).map(|_| company(rng)).collect();
        let company_zipf = Zipf::new(companies.len(), 0.8);
        SitePlan {
            name,
            description,
            timezone,
            town,
            rows: site_rows,
            types,
            leads,
            lead_zipf,
            companies,
            company_zipf,
            writers,
        }
    }

    /// Regional staff: people who work at several sites (one per eight sites).
    fn regional_staff(&mut self, rng: &mut ChaCha8Rng, plans: &mut [SitePlan]) {
        let n = plans.len();
        for _ in 0..n / 8 {
            let (_, user) = new_user(rng, "head-office", self.anchor, self.taken, &mut self.used);
            let idx = self.users.len();
            self.users.push(user);
            let k = rng.gen_range(2..6).min(n);
            let mut chosen: Vec<usize> = rand::seq::index::sample(rng, n, k).into_vec();
            chosen.sort_unstable();
            let role = if rng.gen_bool(0.5) {
                "editor"
            } else {
                "viewer"
            };
            for s in chosen {
                self.mappings.push(mapping(rng, idx, s, role, self.anchor));
                if role == "editor" {
                    plans[s].writers.push(idx);
                }
            }
        }
    }
}

impl Plan {
    /// Plans `sites` sites and `rows` interactions. `taken` holds lower-cased usernames and
    /// emails already in the database, which generated users avoid (an empty database gives the
    /// same plan every time).
    pub fn build(
        seed: u64,
        sites: u32,
        rows: u64,
        anchor: DateTime<Utc>,
        taken: &HashSet<String>,
    ) -> Plan {
        let mut rng = stream(seed, 0);
        let n = sites.max(1) as usize;
        let names = site_names(&mut rng, n);
        let counts = allocate(&mut rng, n, rows);
        let mut people = People {
            anchor,
            taken,
            used: HashSet::new(),
            users: Vec::new(),
            mappings: Vec::new(),
        };
        let mut plans = Vec::with_capacity(n);
        for (i, site) in names.into_iter().enumerate() {
            plans.push(people.site(&mut rng, i, site, counts[i]));
        }
        people.regional_staff(&mut rng, &mut plans);
        let People {
            users, mappings, ..
        } = people;
        let chunks = rows.div_ceil(CHUNK_ROWS).max(1);
        let chunk_rows = (0..chunks)
            .map(|c| plans.iter().map(|s| share(s.rows, c, chunks)).sum())
            .collect::<Vec<u64>>();
        let chunk_first = chunk_rows
            .iter()
            .scan(0, |acc, &n| {
                let first = *acc;
                *acc += n;
                Some(first)
            })
            .collect();
        Plan {
            seed,
            anchor,
            sites: plans,
            users,
            mappings,
            chunk_rows,
            chunk_first,
            total_rows: rows,
        }
    }

    /// The rows of site `site` in chunk `chunk`.
    pub fn site_rows_in_chunk(&self, site: usize, chunk: usize) -> u64 {
        let chunks = self.chunk_rows.len() as u64;
        self.sites
            .get(site)
            .map(|s| share(s.rows, chunk as u64, chunks))
            .unwrap_or(0)
    }
}

/// The random stream `index` of a seed (0 for the plan, chunk + 1 for the rows of a chunk).
pub fn stream(seed: u64, index: u64) -> ChaCha8Rng {
    use rand::SeedableRng;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// The part of `total` that falls in chunk `c` of `chunks`, spread evenly.
fn share(total: u64, c: u64, chunks: u64) -> u64 {
    let total = u128::from(total);
    let (c, chunks) = (u128::from(c), u128::from(chunks));
    (total * (c + 1) / chunks - total * c / chunks) as u64
}

/// Splits `rows` among `n` sites with a Zipf skew (exponent 1, random ranks) after giving every
/// site a floor of up to three rows.
fn allocate(rng: &mut ChaCha8Rng, n: usize, rows: u64) -> Vec<u64> {
    let floor = (rows / n as u64).min(3);
    let rest = rows - floor * n as u64;
    let mut ranks: Vec<usize> = (0..n).collect();
    ranks.shuffle(rng);
    // Integer weights: 1e9 / rank.
    let weights: Vec<u128> = ranks
        .iter()
        .map(|&r| 1_000_000_000 / (r as u128 + 1))
        .collect();
    let total: u128 = weights.iter().sum();
    let mut counts: Vec<u64> = weights
        .iter()
        .map(|w| floor + (u128::from(rest) * w / total) as u64)
        .collect();
    let mut left = rows - counts.iter().sum::<u64>();
    // Largest sites take the rounding remainder, one row each.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| ranks[i]);
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        counts[i] += 1;
        left -= 1;
    }
    counts
}

/// Unique site names such as "Northbridge Clinic" or "Harbor Street Office".
fn site_names(rng: &mut ChaCha8Rng, n: usize) -> Vec<(String, &'static str, usize)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let town = pick(rng, lists::TOWNS);
        let kind = rng.gen_range(0..lists::SITE_KINDS.len());
        let kind_name = lists::SITE_KINDS[kind].0;
        let mut name = match rng.gen_range(0..10) {
            0..=4 => format!("{town} {kind_name}"),
            5..=7 => format!(
                "{} {} {kind_name}",
                pick(rng, lists::STREETS),
                pick(rng, lists::STREET_KINDS)
            ),
            _ => format!(
                "{} {town} {kind_name}",
                pick(
                    rng,
                    &[
                        "North", "South", "East", "West", "Central", "Upper", "Lower"
                    ]
                )
            ),
        };
        let mut k = 2;
        while seen.contains(&name) {
            if k == 2 && rng.gen_bool(0.8) {
                break;
            }
            name = format!("{name} {k}");
            k += 1;
        }
        if seen.insert(name.clone()) {
            out.push((name, town, kind));
        }
    }
    out
}

fn site_description(
    rng: &mut ChaCha8Rng,
    name: &str,
    town: &str,
    kind: usize,
    timezone: &str,
) -> String {
    let kind_name = lists::SITE_KINDS[kind].0.to_lowercase();
    let year = rng.gen_range(1978..2022);
    let staff = rng.gen_range(6..180);
    let focus = pick(rng, lists::TOPICS);
    let article = if kind_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!(
        "{name} is {article} {kind_name} serving the {town} area since {year}, with about {staff} \
         staff. Current focus: {focus}. Local time: {timezone}."
    )
}

fn home_timezone(rng: &mut ChaCha8Rng) -> &'static str {
    // The first zones are the most common homes.
    let zipf_rank = rng.gen_range(0..100);
    let i = match zipf_rank {
        0..=19 => 0,
        20..=34 => 1,
        35..=44 => 2,
        _ => rng.gen_range(0..lists::TIMEZONES.len()),
    };
    lists::TIMEZONES[i]
}

fn site_types(rng: &mut ChaCha8Rng, kind: usize) -> Vec<(&'static str, u32)> {
    let mut acc = 0;
    let mut out = Vec::new();
    let extras = lists::SITE_KINDS[kind].1;
    for &(t, w) in lists::TYPES {
        if extras.contains(&t) {
            continue;
        }
        acc += (w * rng.gen_range(25..200) / 100).max(1);
        out.push((t, acc));
    }
    for &t in extras {
        acc += rng.gen_range(5..25);
        out.push((t, acc));
    }
    out
}

fn mapping(
    rng: &mut ChaCha8Rng,
    user: usize,
    site: usize,
    role: &'static str,
    anchor: DateTime<Utc>,
) -> MappingPlan {
    let days = rng.gen_range(3 * 365 + 1..4 * 365);
    MappingPlan {
        user,
        site,
        role,
        assigned_at: anchor - Duration::days(days) + Duration::seconds(rng.gen_range(0..86_400)),
    }
}

/// A new user with a unique username (`first.last`, numbered on collision) and an email at the
/// site's domain. Returns the person's display name too.
fn new_user(
    rng: &mut ChaCha8Rng,
    domain: &str,
    anchor: DateTime<Utc>,
    taken: &HashSet<String>,
    used: &mut HashSet<String>,
) -> (String, UserPlan) {
    let first = pick(rng, lists::FIRST_NAMES);
    let last = pick(rng, lists::LAST_NAMES);
    let base = format!("{}.{}", ascii_fold(first), ascii_fold(last));
    let mut username = base.clone();
    let mut k = 2;
    loop {
        let email = format!("{username}@{domain}.example");
        if !taken.contains(&username) && !taken.contains(&email) && !used.contains(&username) {
            used.insert(username.clone());
            let days = rng.gen_range(4 * 365..5 * 365);
            let user = UserPlan {
                username,
                email,
                created_at: anchor - Duration::days(days)
                    + Duration::seconds(rng.gen_range(28_800..64_800)),
            };
            return (format!("{first} {last}"), user);
        }
        username = format!("{base}{k}");
        k += 1;
    }
}

/// A random person's name.
pub fn person(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{} {}",
        pick(rng, lists::FIRST_NAMES),
        pick(rng, lists::LAST_NAMES)
    )
}

fn company(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{} {}",
        pick(rng, lists::COMPANY_STEMS),
        pick(rng, lists::COMPANY_KINDS)
    )
}

/// A uniformly chosen element of a non-empty list.
pub fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

/// Lower-case ASCII for usernames: accents dropped, other characters removed.
fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let mapped = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => "a",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' => "o",
            'ú' | 'ù' | 'û' | 'ü' => "u",
            'ñ' => "n",
            'ç' => "c",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => continue,
        };
        out.push_str(mapped);
    }
    out
}

/// A domain label from a name: "Harbor Street Office" -> "harbor-street-office".
fn slug(name: &str) -> String {
    let folded: Vec<String> = name
        .split_whitespace()
        .map(ascii_fold)
        .filter(|w| !w.is_empty())
        .collect();
    folded.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact_skewed_and_floored() {
        let mut rng = stream(1, 0);
        let counts = allocate(&mut rng, 200, 1_000_000);
        assert_eq!(counts.iter().sum::<u64>(), 1_000_000);
        assert!(counts.iter().all(|&c| c >= 3));
        assert!(counts.iter().max().copied().unwrap_or(0) > 100_000);
        let few = allocate(&mut rng, 10, 4);
        assert_eq!(few.iter().sum::<u64>(), 4);
    }

    #[test]
    fn chunk_shares_add_up() {
        for total in [0, 1, 7, 1999, 2000, 123_457] {
            let chunks = 13;
            let sum: u64 = (0..chunks).map(|c| share(total, c, chunks)).sum();
            assert_eq!(sum, total);
        }
    }

    #[test]
    fn names_are_unique_and_ascii_where_needed() {
        let mut rng = stream(5, 0);
        let names = site_names(&mut rng, 3_000);
        let unique: BTreeSet<&String> = names.iter().map(|n| &n.0).collect();
        assert_eq!(unique.len(), 3_000);
        assert!(names.iter().all(|n| n.0.chars().count() <= 100));
        assert_eq!(ascii_fold("Sørensen"), "sorensen");
        assert_eq!(ascii_fold("O'Brien"), "obrien");
        assert_eq!(slug("Harbor Street Office"), "harbor-street-office");
    }
}
