//! The run as markdown, the issue's targets checked against it, and BENCHMARKS.md updated.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use super::stats::{Table, int, ms, ratio, summarize};
use super::{Results, latency, setup::Env};

/// Facts about the run that are not measurements.
pub struct RunInfo {
    pub machine: String,
    pub command: String,
    pub seed: u64,
    pub started: chrono::DateTime<chrono::Utc>,
    pub elapsed: Duration,
    pub debounce: Duration,
}

fn latency_table(rows: &[&latency::Row]) -> Table {
    let mut t = Table::new(&[
        "class",
        "sort",
        "n",
        "matches",
        "app p50",
        "app p95",
        "app p99",
        "raw p50",
        "raw p95",
        "raw p99",
        "app/raw p50",
        "ref p50",
        "ref p95",
        "app/ref p50",
        "count p50",
        "count p95",
        "count p99",
        "count raw p50",
        "ranking exact",
    ]);
    for r in rows {
        let (Some(a), Some(w), Some(f)) = (
            summarize(&r.app),
            summarize(&r.raw),
            summarize(&r.reference),
        ) else {
            continue;
        };
        t.row(vec![
            r.class.clone(),
            r.sort.to_string(),
            a.n.to_string(),
            int(r.matches.max(0) as u64),
            ms(a.p50),
            ms(a.p95),
            ms(a.p99),
            ms(w.p50),
            ms(w.p95),
            ms(w.p99),
            ratio(a.p50, w.p50),
            ms(f.p50),
            ms(f.p95),
            ratio(a.p50, f.p50),
            summarize(&r.count_app).map_or("-".into(), |c| ms(c.p50)),
            summarize(&r.count_app).map_or("-".into(), |c| ms(c.p95)),
            summarize(&r.count_app).map_or("-".into(), |c| ms(c.p99)),
            summarize(&r.count_raw).map_or("-".into(), |c| ms(c.p50)),
            r.exact
                .map_or("-".into(), |(exact, checked)| format!("{exact}/{checked}")),
        ]);
    }
    t
}

/// One checked target: what, the measured figure, met or not.
struct Check {
    target: String,
    measured: String,
    met: bool,
}

fn worst<'a>(
    rows: impl Iterator<Item = &'a latency::Row>,
    f: impl Fn(&latency::Row) -> Option<f64>,
    limit: f64,
) -> Option<(String, f64, usize, usize)> {
    let mut worst: Option<(String, f64)> = None;
    let (mut over, mut all) = (0, 0);
    for r in rows {
        let Some(v) = f(r) else { continue };
        all += 1;
        if v > limit {
            over += 1;
        }
        if worst.as_ref().is_none_or(|(_, w)| v > *w) {
            worst = Some((format!("{} site, {}, {}", r.site, r.class, r.sort), v));
        }
    }
    worst.map(|(label, v)| (label, v, over, all))
}

fn checks(r: &Results, debounce: Duration) -> Vec<Check> {
    let mut out = Vec::new();
    let pages = || r.first_pages.iter().chain(&r.tenth_pages);
    for (name, limit, pick) in [
        ("first page p50 <= 3 ms, every class", 3.0, 0),
        ("first page p95 <= 15 ms, every class", 15.0, 1),
        ("first page p99 <= 50 ms, every class", 50.0, 2),
    ] {
        let f = |row: &latency::Row| summarize(&row.app).map(|s| [s.p50, s.p95, s.p99][pick]);
        if let Some((label, v, over, all)) = worst(pages(), f, limit) {
            out.push(Check {
                target: name.to_string(),
                measured: format!("worst {} ms ({label}); {over} of {all} classes over", ms(v)),
                met: over == 0,
            });
        }
    }
    let f = |row: &latency::Row| {
        let (a, w) = (summarize(&row.app)?, summarize(&row.raw)?);
        Some(a.p50 / w.p50.max(1e-9))
    };
    if let Some((label, v, over, all)) = worst(pages(), f, 1.25) {
        out.push(Check {
            target: "app adds <= 25% to raw SQL at the median".into(),
            measured: format!("worst app/raw {v:.2} ({label}); {over} of {all} classes over"),
            met: over == 0,
        });
    }
    let f = |row: &latency::Row| summarize(&row.count_app).map(|s| s.p95);
    if let Some((label, v, over, all)) = worst(pages(), f, 15.0) {
        out.push(Check {
            target: "count p95 <= 15 ms, every class".into(),
            measured: format!("worst {} ms ({label}); {over} of {all} classes over", ms(v)),
            met: over == 0,
        });
    }
    let (exact, checked) = r
        .first_pages
        .iter()
        .filter_map(|row| row.exact)
        .fold((0, 0), |(e, c), (re, rc)| (e + re, c + rc));
    if checked > 0 {
        out.push(Check {
            target: "relevance: the first page is the exact top of the documented function".into(),
            measured: format!("{exact} of {checked} queries equal to the naive statement's"),
            met: exact == checked,
        });
    }
    if let Some(s) = summarize(&r.keystrokes.to_screen) {
        out.push(Check {
            target: format!(
                "keystroke to results on screen <= 60 ms at p95 (debounce {} ms included)",
                debounce.as_millis()
            ),
            measured: format!("p95 {} ms", ms(s.p95)),
            met: s.p95 <= 60.0,
        });
    }
    if let Some(s) = summarize(&r.terminal.typed) {
        out.push(Check {
            target: "keystroke to results on screen in a real terminal (tmux) <= 60 ms at p95"
                .into(),
            measured: format!("p95 {} ms", ms(s.p95)),
            met: s.p95 <= 60.0,
        });
    }
    let frames = [&r.frames_list, &r.frames_detail]
        .iter()
        .filter_map(|f| summarize(f))
        .map(|s| s.p95)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    if let Some(v) = frames {
        out.push(Check {
            target: "a frame draws in <= 2 ms (p95, 200x50)".into(),
            measured: format!("p95 {} ms", ms(v)),
            met: v <= 2.0,
        });
    }
    if let Some((app, psql)) = import_rates(r) {
        out.push(Check {
            target: "import >= 0.9x raw \\copy".into(),
            measured: format!("{:.2}x ({:.0} vs {:.0} rows/s)", app / psql, app, psql),
            met: app >= 0.9 * psql,
        });
    }
    if !r.detail.is_empty() {
        let worst_plain = r
            .detail
            .iter()
            .map(|l| (l.app_plain / l.pgbench, l.clients))
            .fold((f64::MAX, 0), |a, b| if b.0 < a.0 { b } else { a });
        let worst_tx = r
            .detail
            .iter()
            .map(|l| (l.app_tx / l.pgbench, l.clients))
            .fold((f64::MAX, 0), |a, b| if b.0 < a.0 { b } else { a });
        out.push(Check {
            target: "detail loads >= 0.8x pgbench (pooled get)".into(),
            measured: format!(
                "lowest {:.2}x (at {} clients)",
                worst_plain.0, worst_plain.1
            ),
            met: worst_plain.0 >= 0.8,
        });
        out.push(Check {
            target: "detail loads >= 0.8x pgbench (get in the app's transaction)".into(),
            measured: format!("lowest {:.2}x (at {} clients)", worst_tx.0, worst_tx.1),
            met: worst_tx.0 >= 0.8,
        });
    }
    if let Some(peak) = r
        .terminal
        .memory
        .iter()
        .map(|m| m.1)
        .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))))
    {
        out.push(Check {
            target: "resident memory <= 40 MB".into(),
            measured: format!("VmRSS up to {peak:.1} MiB"),
            met: peak <= 40.0 * 1_000_000.0 / 1_048_576.0,
        });
    }
    if let Some(s) = summarize(&r.terminal.warm_starts) {
        out.push(Check {
            target: "warm start to first frame <= 300 ms".into(),
            measured: format!("p50 {} ms, max {} ms", ms(s.p50), ms(s.max)),
            met: s.max <= 300.0,
        });
    }
    out
}

/// Median rows per second of `ifind import` and of `psql \copy`.
fn import_rates(r: &Results) -> Option<(f64, f64)> {
    let median = |tool: &str| {
        let mut v: Vec<f64> = r
            .imports
            .iter()
            .filter(|l| l.tool == tool)
            .map(|l| l.rate())
            .collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    Some((median("ifind import")?, median("psql \\copy")?))
}

/// The whole run as a BENCHMARKS.md section.
pub fn markdown(env: &Env, r: &Results, c: &RunInfo) -> String {
    let mut md = String::new();
    let push = |md: &mut String, s: &str| {
        md.push_str(s);
        md.push('\n');
    };
    push(
        &mut md,
        &format!(
            "## Finder benchmark: {} interactions\n",
            int(env.rows as u64)
        ),
    );
    push(
        &mut md,
        "Generated by `cargo bench --bench finder` (`benches/finder/`); a rerun at the same size \
         replaces this section.\n",
    );
    push(
        &mut md,
        &format!(
            "- Run: {} UTC, {:.0} s; {}; load average at the end {}.",
            c.started.format("%Y-%m-%d %H:%M"),
            c.elapsed.as_secs_f64(),
            c.machine,
            super::setup::load_average()
        ),
    );
    push(&mut md, &format!("- Command: `{}`", c.command));
    let (l, t) = (env.largest(), env.typical());
    push(
        &mut md,
        &format!(
            "- Data: `ifind seed` (seed {}), {} sites; largest site {} ({} rows), typical (median) \
             site {} ({} rows){}.\n",
            c.seed,
            env.sites.len(),
            l.name,
            int(l.rows as u64),
            t.name,
            int(t.rows as u64),
            env.seeded_in
                .map(|d| format!("; seeded by this run in {:.0} s", d.as_secs_f64()))
                .unwrap_or_default()
        ),
    );

    push(
        &mut md,
        "### Targets (issue 5; stated for 1,000,000 rows)\n",
    );
    let mut t = Table::new(&["target", "measured", "met"]);
    for ch in checks(r, c.debounce) {
        t.row(vec![
            ch.target,
            ch.measured,
            if ch.met { "yes" } else { "**no**" }.into(),
        ]);
    }
    push(&mut md, &t.markdown());

    push(
        &mut md,
        "### First page latency (ms; warm cache; one client)\n\n\
         app = `DbSearchBackend::search` as the Finder runs it (pooled connection, transaction \
         with the acting user and cancel tag, tsquery normalisation, the page; relevance ranks \
         every match by its tier, README \"Relevance\"); raw = the app's page statement sent on \
         a plain connection; ref = one hand-written statement (first 50 rows, no count; \
         relevance computes every match's tier and sorts them all: the naive statement). \
         ranking exact = first pages by relevance (queries without filters) equal to ref's, of \
         those checked. count = \
         the capped match count the Finder asks for after a full first page (`DbSearchBackend::\
         count`; timed once per class, under relevance; 0 when the first page brought it, as it \
         does when every match was listed: the Finder then asks for none; count raw = the count \
         statement sent raw). \
         n = timed runs (queries x repetitions); matches = median matches of the class's \
         queries. Relevance without words runs as newest.\n",
    );
    for (label, m) in &r.mixes {
        let rows: Vec<&latency::Row> = r.first_pages.iter().filter(|x| x.site == *label).collect();
        push(
            &mut md,
            &format!(
                "#### {label} site: {} ({} rows)\n",
                m.site.name,
                int(m.site.rows as u64)
            ),
        );
        push(&mut md, &latency_table(&rows).markdown());
    }
    let tenth: Vec<&latency::Row> = r.tenth_pages.iter().collect();
    push(
        &mut md,
        "#### 10th page (app and raw continue after the 9th page's cursor; ref uses OFFSET 450)\n",
    );
    if tenth.is_empty() {
        push(&mut md, "No query of the mix has ten pages.\n");
    } else {
        push(&mut md, &relabel(&tenth).markdown());
    }
    push(&mut md, "#### The queries\n");
    for (label, m) in &r.mixes {
        let mut classes: Vec<String> = Vec::new();
        for class in super::mix::CLASSES {
            let qs: Vec<String> = m
                .class(class)
                .iter()
                .map(|c| format!("`{}`", c.query.trim()))
                .collect();
            if !qs.is_empty() {
                classes.push(format!("{class}: {}", qs.join(", ")));
            }
        }
        push(&mut md, &format!("- {label}: {}", classes.join("; ")));
    }
    push(&mut md, "");

    push(&mut md, "### Keystroke to screen and drawing\n");
    if let Some(s) = summarize(&r.keystrokes.to_screen) {
        push(
            &mut md,
            &format!(
                "Typing into the Finder on the largest site (TestBackend {}x{}, the real `update`, \
                 `Runner` and `DbSearchBackend`), 80 ms between keys and a pause after each word; \
                 from a word's last key to the end of the first frame that shows its results. \
                 Debounce {} ms (the config default).\n",
                super::keys::WIDTH,
                super::keys::HEIGHT,
                c.debounce.as_millis()
            ),
        );
        let mut t = Table::new(&[
            "n",
            "p50",
            "p95",
            "p99",
            "max",
            "results not shown before the next key",
        ]);
        t.row(vec![
            s.n.to_string(),
            ms(s.p50),
            ms(s.p95),
            ms(s.p99),
            ms(s.max),
            r.keystrokes.missed.to_string(),
        ]);
        push(&mut md, &t.markdown());
    }
    let mut t = Table::new(&[
        "frame at 200x50",
        "n",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
    ]);
    for (name, f) in [
        ("Finder, list", &r.frames_list),
        ("Finder, list and detail", &r.frames_detail),
        ("every frame while typing", &r.keystrokes.frames),
    ] {
        if let Some(s) = summarize(f) {
            t.row(vec![
                name.into(),
                s.n.to_string(),
                format!("{:.3}", s.p50),
                format!("{:.3}", s.p95),
                format!("{:.3}", s.p99),
                format!("{:.3}", s.max),
            ]);
        }
    }
    push(&mut md, &t.markdown());

    push(&mut md, "### Import\n");
    push(
        &mut md,
        "The same CSV (written by the exporter from the largest site) into a fresh site each \
         time; whole process wall time. psql: `\\copy` into a temporary table, then one \
         `INSERT ... SELECT` converting the rows' wall-clock times (see import.rs).\n",
    );
    let mut t = Table::new(&[
        "tool",
        "rows",
        "wall s",
        "rows/s",
        "rate ifind printed (COPY only)",
    ]);
    for l in &r.imports {
        t.row(vec![
            l.tool.into(),
            int(l.rows),
            format!("{:.2}", l.wall.as_secs_f64()),
            int(l.rate() as u64),
            l.reported.map(|v| int(v as u64)).unwrap_or_default(),
        ]);
    }
    push(&mut md, &t.markdown());
    if let Some((a, p)) = import_rates(r) {
        push(&mut md, &format!("ifind/psql (medians): {:.2}\n", a / p));
    }

    push(&mut md, "### Detail-pane loads per second\n");
    let mut t = Table::new(&[
        "clients",
        "app get (pooled)",
        "app get in begin_as",
        "pgbench -M prepared",
        "app/pgbench",
        "app tx/pgbench",
    ]);
    for l in &r.detail {
        t.row(vec![
            l.clients.to_string(),
            int(l.app_plain as u64),
            int(l.app_tx as u64),
            int(l.pgbench as u64),
            format!("{:.2}", l.app_plain / l.pgbench),
            format!("{:.2}", l.app_tx / l.pgbench),
        ]);
    }
    push(&mut md, &t.markdown());

    push(&mut md, "### The terminal app\n");
    if let Some(s) = summarize(&r.terminal.warm_starts) {
        push(
            &mut md,
            &format!(
                "Warm start (cluster running) of the release binary in tmux, process start to the \
                 Login screen on the terminal: p50 {} ms, max {} ms over {} starts.\n",
                ms(s.p50),
                ms(s.max),
                s.n
            ),
        );
    }
    if !r.terminal.typed.is_empty() {
        push(
            &mut md,
            &format!(
                "Typing in the terminal: the release binary in tmux at 120x40 on the largest \
                 site, each line key by key {} ms apart (`tmux send-keys`), the app writing a \
                 line to `IFIND_FRAME_LOG` after each frame it flushes to the terminal. From the \
                 moment tmux is asked to send a key (CLOCK_MONOTONIC, shared with the app) to \
                 the first frame that shows the results of the line as typed; for a word inside \
                 a line, only when they came before the next key.\n",
                super::startup::TYPING_INTERVAL.as_millis()
            ),
        );
        let mut t = Table::new(&["from the key to", "n", "p50", "p95", "p99", "max"]);
        for (what, d) in [
            ("a line's results", &r.terminal.typed),
            ("a line's results and count", &r.terminal.typed_count),
            ("a word's results, within a line", &r.terminal.typed_words),
        ] {
            if let Some(s) = summarize(d) {
                t.row(vec![
                    what.into(),
                    s.n.to_string(),
                    ms(s.p50),
                    ms(s.p95),
                    ms(s.p99),
                    ms(s.max),
                ]);
            }
        }
        push(&mut md, &t.markdown());
        push(
            &mut md,
            &format!(
                "Words within a line whose results were not on screen before the next key: {}.\n",
                r.terminal.typed_words_missed
            ),
        );
    }
    let mut t = Table::new(&["moment", "VmRSS MiB", "VmHWM MiB"]);
    for (what, rss, hwm) in &r.terminal.memory {
        t.row(vec![what.clone(), format!("{rss:.1}"), format!("{hwm:.1}")]);
    }
    if !t.is_empty() {
        push(&mut md, &t.markdown());
    }
    if !r.cold.is_empty() {
        push(
            &mut md,
            "Cold start of the embedded cluster in a new directory:\n",
        );
        let mut t = Table::new(&["phase", "s"]);
        let mut total = Duration::ZERO;
        for (phase, d) in &r.cold {
            total += *d;
            t.row(vec![(*phase).into(), format!("{:.2}", d.as_secs_f64())]);
        }
        t.row(vec!["total".into(), format!("{:.2}", total.as_secs_f64())]);
        push(&mut md, &t.markdown());
    }

    if !r.explains.is_empty() {
        push(
            &mut md,
            "### EXPLAIN (ANALYZE, BUFFERS) of the slowest classes\n\n\
             The app's page and count statements for one query of the class (the slowest for \
             the app), run once more after the measurements.\n",
        );
        for (label, plan) in &r.explains {
            push(
                &mut md,
                &format!(
                    "<details><summary>{label}</summary>\n\n```text\n{plan}\n```\n\n</details>\n"
                ),
            );
        }
    }
    md
}

/// Puts the site into the class column of a table of several sites' rows.
fn relabel(rows: &[&latency::Row]) -> Table {
    let owned: Vec<latency::Row> = rows
        .iter()
        .map(|r| {
            let mut r = (*r).clone();
            r.class = format!("{} ({} site)", r.class, r.site);
            r
        })
        .collect();
    latency_table(&owned.iter().collect::<Vec<_>>())
}

/// Replaces the section between `<!-- finder-bench KEY begin -->` and its end marker in
/// `path`, or appends it.
pub fn write_section(path: &Path, key: &str, body: &str) -> Result<()> {
    let begin = format!("<!-- finder-bench {key} begin -->");
    let end = format!("<!-- finder-bench {key} end -->");
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{begin}\n{body}{end}\n");
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(b), Some(e)) if e > b => {
            let tail = &old[e + end.len()..];
            format!(
                "{}{}{}",
                &old[..b],
                section,
                tail.strip_prefix('\n').unwrap_or(tail)
            )
        }
        _ => format!(
            "{}\n{}",
            old.trim_end_matches('\n').to_string() + "\n",
            section
        ),
    };
    std::fs::write(path, new).with_context(|| format!("cannot write {}", path.display()))
}

/// One size of the scale curve: its rows, and per site (label, site rows, first-page rows).
pub type ScaleRun = (i64, Vec<(String, i64, Vec<latency::Row>)>);

/// The scale curve: app p50/p95 per class (all sorts together) per size and site.
pub fn scale_markdown(runs: &[ScaleRun], command: &str) -> String {
    let mut header: Vec<String> = vec!["class".into()];
    for (rows, sites) in runs {
        for (label, site_rows, _) in sites {
            header.push(format!(
                "{} @ {} ({} rows)",
                label,
                int(*rows as u64),
                int(*site_rows as u64)
            ));
        }
    }
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = Table::new(&refs);
    for class in super::mix::CLASSES {
        let mut cells = vec![class.to_string()];
        for (_, sites) in runs {
            for (_, _, rows) in sites {
                let all: Vec<Duration> = rows
                    .iter()
                    .filter(|r| r.class == class)
                    .flat_map(|r| r.app.iter().copied())
                    .collect();
                cells.push(
                    summarize(&all)
                        .map(|s| format!("{} / {}", ms(s.p50), ms(s.p95)))
                        .unwrap_or_else(|| "-".into()),
                );
            }
        }
        t.row(cells);
    }
    format!(
        "## Finder benchmark: scale curve\n\n\
         Generated by `{command}`. App first page, p50 / p95 ms over all three sorts, per class; \
         the same seed at each size, so sites keep their share: the largest and the median site \
         grow with the table, the third column of each size is the site closest to a fixed size \
         (a site-scoped search should cost what its site's size makes it cost).\n\n{}\n",
        t.markdown()
    )
}
