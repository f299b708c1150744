//! The Finder benchmark (`cargo bench --bench finder`) in CI: its measuring code at its default
//! size (100,000 interactions over 200 sites, seed 1, seeded into the test harness's database),
//! with one repetition per query and short loads, in a debug build. It proves that every
//! section still runs and produces figures at the size the benchmark is run at; the figures are
//! printed (`--nocapture`) but not judged: speed is judged by `cargo bench --bench finder`.

mod common;

#[allow(dead_code)]
#[path = "../benches/finder/harness/mod.rs"]
mod harness;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use harness::{Config, mix, report, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_section_produces_figures() {
    let started = Instant::now();
    let t = common::fresh_db().await;
    let env = setup::prepare(&t.url, 100_000, 200, 1)
        .await
        .expect("seed the benchmark data");
    assert_eq!(env.rows, 100_000);

    let mut cfg = Config::standard(PathBuf::from(env!("CARGO_BIN_EXE_ifind")));
    cfg.per_class = 2;
    cfg.latency.reps = 1;
    cfg.latency.budget = Duration::from_millis(1);
    cfg.typed_queries = 1;
    cfg.typing.pause = Duration::from_millis(300);
    cfg.frames = 10;
    cfg.import_rows = 200;
    cfg.import_reps = 1;
    cfg.detail_clients = vec![1, 4];
    cfg.detail_loads = 200;
    cfg.starts = 1;
    let r = harness::run(&env, &cfg).await.expect("the benchmark runs");

    for (label, m) in &r.mixes {
        for class in mix::CLASSES {
            assert!(
                !m.class(class).is_empty(),
                "the {label} site's mix has no {class} query"
            );
            for sort in ifind::db::search::Sort::ALL {
                let row = r
                    .first_pages
                    .iter()
                    .find(|x| x.site == *label && x.class == class && x.sort == sort)
                    .unwrap_or_else(|| panic!("no first-page figures for {label} {class} {sort}"));
                assert!(!row.app.is_empty() && !row.raw.is_empty() && !row.reference.is_empty());
            }
        }
    }
    assert!(
        r.tenth_pages.iter().any(|x| !x.app.is_empty()),
        "no 10th-page figures"
    );
    assert!(
        !r.keystrokes.to_screen.is_empty(),
        "no keystroke-to-screen figures"
    );
    assert!(!r.frames_list.is_empty() && !r.frames_detail.is_empty());
    assert_eq!(r.imports.len(), 2, "one ifind import and one psql \\copy");
    assert!(r.imports.iter().all(|l| l.rows == 200));
    assert_eq!(r.detail.len(), 2);
    assert!(
        r.detail
            .iter()
            .all(|l| l.app_plain > 0.0 && l.app_tx > 0.0 && l.pgbench > 0.0)
    );
    assert!(!r.terminal.warm_starts.is_empty());
    assert_eq!(
        r.terminal.typed.len(),
        1,
        "one line typed in the terminal, its results seen in the frame log"
    );
    assert!(r.terminal.memory.iter().all(|m| m.1 > 0.0));
    assert_eq!(r.cold.len(), 3, "initdb and start, create, migrate");
    assert!(!r.explains.is_empty());

    let info = report::RunInfo {
        machine: "test".into(),
        command: "cargo test --test bench_smoke".into(),
        seed: 1,
        started: chrono::Utc::now(),
        elapsed: started.elapsed(),
        debounce: cfg.typing.debounce,
    };
    let md = report::markdown(&env, &r, &info);
    println!("{md}");
    assert!(md.contains("### Targets") && md.contains("| common word | relevance |"));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("BENCHMARKS.md");
    std::fs::write(&file, "# Benchmarks\n\nhand-written text\n").expect("write");
    report::write_section(&file, "rows=4000", "first\n").expect("add a section");
    report::write_section(&file, "rows=4000", "second\n").expect("replace it");
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.contains("hand-written text") && text.contains("second\n"));
    assert!(!text.contains("first\n"), "{text}");
    eprintln!("the benchmark at 100,000 rows took {:?}", started.elapsed());
}

#[test]
fn percentiles_are_nearest_rank() {
    let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
    let s = harness::stats::summarize(&d).expect("samples");
    assert_eq!((s.p50, s.p95, s.p99, s.max), (50.0, 95.0, 99.0, 100.0));
    let one = harness::stats::summarize(&[Duration::from_millis(3)]).expect("one sample");
    assert_eq!((one.p50, one.p99), (3.0, 3.0));
    assert!(harness::stats::summarize(&[]).is_none());
}
