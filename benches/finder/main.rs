//! The Finder benchmark: the app against raw PostgreSQL on data made by `ifind seed`.
//!
//! ```text
//! cargo bench --bench finder [-- OPTIONS]
//!   --rows N          interactions to seed (default 100000; 1000000 for the headline)
//!   --url URL         use this database (or IFIND_BENCH_URL); default: the embedded cluster's
//!                     database ifind_bench_<rows>, created and seeded on first use
//!   --sites N         sites to seed (default 200)      --seed N     seed (default 1)
//!   --reps N          repetitions per query (default 10)
//!   --budget-secs N   time per class before repetitions stop (default 20)
//!   --scale A,B,...   only the first-page mix at each size (embedded databases), as a curve
//!   --quick           fewer repetitions, loads and frames (a few minutes at 100,000 rows)
//!   --sections LIST   only these: first,tenth,keys,terminal,detail,import,cold,explain
//!   --classes LIST    only these classes of the query mix (names as in the tables)
//!   --no-write        print only; by default the section in BENCHMARKS.md is replaced
//! Environment: IFIND_BENCH_URL (as --url), IFIND_BENCH_PGBIN (where psql and pgbench are;
//! default /usr/lib/postgresql/15/bin).
//! ```
//!
//! A database that already holds exactly `--rows` interactions is reused as it is; an empty one
//! is seeded; any other count is an error (drop it, or pass its row count).

mod harness;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use harness::{Config, report, setup};

struct Args {
    rows: u64,
    url: Option<String>,
    sites: u32,
    seed: u64,
    reps: Option<usize>,
    budget: Option<u64>,
    scale: Vec<u64>,
    sections: Option<Vec<String>>,
    classes: Option<Vec<String>>,
    quick: bool,
    write: bool,
    command: String,
}

fn parse() -> Result<Args> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut a = Args {
        rows: 100_000,
        url: std::env::var("IFIND_BENCH_URL")
            .ok()
            .filter(|u| !u.is_empty()),
        sites: 200,
        seed: 1,
        reps: None,
        budget: None,
        scale: Vec::new(),
        sections: None,
        classes: None,
        quick: false,
        write: true,
        command: String::new(),
    };
    let mut it = raw.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<String> {
            it.next()
                .with_context(|| format!("{name} needs a value; see benches/finder/main.rs"))
        };
        let num = |v: String, name: &str| -> Result<u64> {
            v.replace('_', "")
                .parse()
                .with_context(|| format!("{name} takes a whole number, not {v:?}"))
        };
        match flag.as_str() {
            "--bench" => continue,
            "--rows" => a.rows = num(value("--rows")?, "--rows")?,
            "--url" => a.url = Some(value("--url")?),
            "--sites" => a.sites = num(value("--sites")?, "--sites")? as u32,
            "--seed" => a.seed = num(value("--seed")?, "--seed")?,
            "--reps" => a.reps = Some(num(value("--reps")?, "--reps")? as usize),
            "--budget-secs" => a.budget = Some(num(value("--budget-secs")?, "--budget-secs")?),
            "--scale" => {
                for part in value("--scale")?.split(',') {
                    a.scale.push(num(part.to_string(), "--scale")?);
                }
            }
            "--sections" => {
                let list: Vec<String> = value("--sections")?
                    .split(',')
                    .map(str::to_string)
                    .collect();
                if let Some(bad) = list
                    .iter()
                    .find(|s| !harness::SECTIONS.contains(&s.as_str()))
                {
                    bail!(
                        "unknown section {bad:?}; the sections are {:?}",
                        harness::SECTIONS
                    );
                }
                a.sections = Some(list);
            }
            "--classes" => {
                let list: Vec<String> =
                    value("--classes")?.split(',').map(str::to_string).collect();
                if let Some(bad) = list
                    .iter()
                    .find(|s| !harness::mix::CLASSES.contains(&s.as_str()))
                {
                    bail!(
                        "unknown class {bad:?}; the classes are {:?}",
                        harness::mix::CLASSES
                    );
                }
                a.classes = Some(list);
            }
            "--quick" => a.quick = true,
            "--no-write" => a.write = false,
            other => {
                bail!("unknown option {other:?}; the options are listed in benches/finder/main.rs")
            }
        }
    }
    // Rebuild the shown command with values (URLs left out: they may hold a password).
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut cmd = Vec::new();
    let mut skip = false;
    for arg in &args {
        if skip {
            cmd.push("URL".to_string());
            skip = false;
            continue;
        }
        skip = arg == "--url";
        cmd.push(arg.clone());
    }
    a.command = if cmd.is_empty() {
        "cargo bench --bench finder".into()
    } else {
        format!("cargo bench --bench finder -- {}", cmd.join(" "))
    };
    Ok(a)
}

fn config(a: &Args) -> Config {
    let mut cfg = Config::standard(PathBuf::from(env!("CARGO_BIN_EXE_ifind")));
    if a.quick {
        cfg.latency.reps = 4;
        cfg.latency.budget = Duration::from_secs(8);
        cfg.typed_queries = 4;
        cfg.frames = 100;
        cfg.import_reps = 1;
        cfg.import_rows = 5_000;
        cfg.detail_loads = 5_000;
        cfg.starts = 3;
    }
    if let Some(r) = a.reps {
        cfg.latency.reps = r;
    }
    if let Some(b) = a.budget {
        cfg.latency.budget = Duration::from_secs(b);
    }
    cfg.sections = a.sections.clone();
    cfg.classes = a.classes.clone();
    cfg
}

async fn url_for(a: &Args, rows: u64) -> Result<String> {
    match &a.url {
        Some(u) => Ok(u.clone()),
        None => setup::embedded_url(&format!("ifind_bench_{rows}")).await,
    }
}

async fn run(a: Args) -> Result<()> {
    let cfg = config(&a);
    let write = a.write && a.sections.is_none() && a.classes.is_none();
    if a.write && !write {
        eprintln!("a partial run (--sections or --classes) only prints its figures");
    }
    let benchmarks = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    if !a.scale.is_empty() {
        if a.url.is_some() && a.scale.len() > 1 {
            bail!("--scale with several sizes uses the embedded cluster; leave out --url");
        }
        let mut runs = Vec::new();
        for &rows in &a.scale {
            let url = url_for(&a, rows).await?;
            let env = setup::prepare(&url, rows, a.sites, a.seed).await?;
            let mut conn = setup::connect(&url).await?;
            let backend =
                ifind::app::db_backend::DbSearchBackend::new(env.db.clone(), Some(env.user_id));
            let mut raw = harness::latency::raw_connection(&url).await?;
            let fixed = env.closest(2_000).clone();
            let mut sites = Vec::new();
            for (label, site) in [
                ("largest", env.largest().clone()),
                ("typical", env.typical().clone()),
                ("~2,000 rows", fixed),
            ] {
                eprintln!("{rows} rows, {label} site ({} rows)...", site.rows);
                let mut m = harness::mix::build(&mut conn, &site, cfg.per_class).await?;
                if let Some(classes) = &cfg.classes {
                    m.cases.retain(|c| classes.iter().any(|x| x == c.class));
                }
                let rows_ =
                    harness::latency::first_pages(&backend, &mut raw, &m, label, cfg.latency)
                        .await?;
                sites.push((label.to_string(), site.rows, rows_));
            }
            runs.push((env.rows, sites));
        }
        let md = report::scale_markdown(&runs, &a.command);
        println!("{md}");
        if write {
            report::write_section(&benchmarks, "scale", &md)?;
            eprintln!("wrote the scale curve to {}", benchmarks.display());
        }
        return Ok(());
    }
    let url = url_for(&a, a.rows).await?;
    let env = setup::prepare(&url, a.rows, a.sites, a.seed).await?;
    let machine = setup::machine(&url).await?;
    eprintln!(
        "{} rows; largest site {} ({} rows), typical site {} ({} rows)",
        env.rows,
        env.largest().name,
        env.largest().rows,
        env.typical().name,
        env.typical().rows
    );
    let results = harness::run(&env, &cfg).await?;
    let info = report::RunInfo {
        machine,
        command: a.command.clone(),
        seed: a.seed,
        started: started_at,
        elapsed: started.elapsed(),
        debounce: cfg.typing.debounce,
    };
    let md = report::markdown(&env, &results, &info);
    println!("{md}");
    if write {
        report::write_section(&benchmarks, &format!("rows={}", env.rows), &md)?;
        eprintln!("wrote the results to {}", benchmarks.display());
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("finder bench: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("finder bench: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("finder bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
