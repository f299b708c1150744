//! `ifind search`, `import`, `export` and `seed`.

use super::say;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use super::output::{clip, table, thousands};
use super::{Ctx, interactive};
use crate::cli::{ExportFormat, OutputFormat, SearchArgs, SortArg};
use crate::db::search::{self, MatchCount, SearchPage, SearchRequest, Sort};
use crate::db::sites::Site;
use crate::db::{Db, access, users};
use crate::domain::format::{counted, escape_json};
use crate::domain::interaction::ValidInteraction;
use crate::domain::interaction::{Interaction, format_in};

async fn site_named(db: &Db, name: &str) -> Result<Site> {
    let mut conn = db.pool.acquire().await?;
    super::admin::find_site(&mut conn, name).await
}

/// The site named `name` for a `what` command (search, export, import) on `db`. A user logged
/// in as themselves sees only the sites they have a role at: any other name, whether or not a
/// site has it, is refused with the same words, and the database logs the attempt (it alone
/// resolves the name, so the answer reveals nothing).
async fn site_for(ctx: &Ctx, db: &Db, name: &str, what: &str) -> Result<Site> {
    let Some(user) = ctx.logged_in(db).await? else {
        return site_named(db, name).await;
    };
    let mut conn = db.pool.acquire().await?;
    let near = match crate::db::sites::resolve(&mut conn, name).await? {
        Ok(site) => return Ok(site),
        Err(near) => near,
    };
    if let Err(e) = sqlx::query("SELECT ifind_log_refusal_named($1, $2)")
        .bind(name)
        .bind(what)
        .execute(&mut *conn)
        .await
    {
        tracing::warn!("could not write the refused {what} to the access log: {e}");
    }
    bail!(
        "{} has no role at a site named {name:?}, so the {what} was refused (and logged){}; \
         check the name (`ifind site list` shows your sites) or ask an administrator for a \
         role (`ifind grant {} {name:?} viewer`)",
        user.username,
        crate::db::sites::did_you_mean(&near),
        user.username
    )
}

/// The acting user of a read command: `--as USER` must name an active user; without it, the
/// first global administrator, or none before any user exists.
async fn reader(ctx: &Ctx, db: &Db) -> Result<Option<users::User>> {
    match ctx.acting_user(db).await {
        Ok(user) => Ok(Some(user)),
        Err(e) if ctx.acting_user.is_some() => Err(e),
        Err(_) => Ok(None),
    }
}

/// Refuses a data command at `site` by an acting user who has no role there (a global
/// administrator has every site; no acting user at all is the system, before any user exists).
/// The refusal is written to the access log first.
async fn check_site_access(
    db: &Db,
    actor: Option<&users::User>,
    site: &Site,
    what: &str,
    needs_edit: bool,
) -> Result<()> {
    let Some(user) = actor else {
        return Ok(());
    };
    let mut conn = db.pool.acquire().await?;
    let allowed = if needs_edit {
        users::may_edit(&mut conn, user.user_id, site.site_id).await?
    } else {
        user.is_global_admin
            || users::role_at(&mut conn, user.user_id, site.site_id)
                .await?
                .is_some()
    };
    drop(conn);
    if allowed {
        return Ok(());
    }
    if let Err(e) = access::record_refusal(db, user.user_id, site.site_id, what).await {
        tracing::warn!("could not write the refused {what} to the access log: {e}");
    }
    let (kind, role) = if needs_edit {
        ("editor or admin role", "editor")
    } else {
        ("role", "viewer")
    };
    bail!(
        "{} has no {kind} at site {}, so the {what} was refused (and logged); ask an \
         administrator for one (`ifind grant {} {:?} {role}`), or act as another user with --as",
        user.username,
        site.name,
        user.username,
        site.name
    )
}

fn sort_of(arg: SortArg) -> Sort {
    match arg {
        SortArg::Relevance => Sort::Relevance,
        SortArg::Newest => Sort::Newest,
        SortArg::Oldest => Sort::Oldest,
    }
}

/// The acting user (`--as`, else the first global admin) and the named site as that user may
/// read it, on the application connection: row-level security decides, and a site the user may
/// not read is refused with the same words as one that does not exist.
async fn user_and_site(ctx: &Ctx, db: &Db, site_name: &str) -> Result<(users::User, Site)> {
    let actor = ctx.acting_user(db).await?;
    let mut tx = db.begin_as(None).await?;
    let site = crate::db::sites::resolve(&mut tx, site_name).await?;
    tx.commit().await?;
    let site = site.map_err(|near| {
        anyhow::anyhow!(
            "there is no site named {site_name:?} that {} may read{}; check the name, or ask \
             an admin for a role there (--as chooses another user)",
            actor.username,
            crate::db::sites::did_you_mean(&near)
        )
    })?;
    Ok((actor, site))
}

/// The site `--site` names, or, left out, the one site the connection may read; with more, an
/// error that lists them.
async fn named_or_only(db: &Db, site: Option<&str>, what: &str) -> Result<String> {
    if let Some(name) = site {
        return Ok(name.to_string());
    }
    // The names only: listing the sites (`sites::list`) would count each one's interactions.
    let mut tx = db.begin_as(None).await?;
    let mut names = crate::db::sites::names(&mut tx).await?;
    tx.commit().await?;
    names.sort();
    match names.as_slice() {
        [only] => Ok(only.clone()),
        [] => bail!("there is no site you may {what}; ask an administrator for a role at one"),
        many => {
            let names: Vec<String> = many.iter().take(5).map(|s| format!("{s:?}")).collect();
            let more = if many.len() > 5 { ", …" } else { "" };
            bail!(
                "which site? add --site NAME (you may read {} sites: {}{more}; `ifind site list` \
                 shows them all)",
                many.len(),
                names.join(", ")
            )
        }
    }
}

/// `ifind search`: the Finder's search on the application connection, as a user.
pub async fn search(ctx: &Ctx, args: SearchArgs) -> Result<()> {
    // The application connection first: it refuses to run on a role that could bypass the
    // policies. Then the owner's view: a site the user has no role at is refused by name and
    // logged.
    let db = ctx.data_db().await?;
    let site_name = named_or_only(&db, args.site.as_deref(), "search").await?;
    let owner = ctx.db().await?;
    let named = site_for(ctx, &owner, &site_name, "search").await?;
    let reader_user = reader(ctx, &owner).await?;
    check_site_access(&owner, reader_user.as_ref(), &named, "search", false).await?;
    owner.pool.close().await;
    let (_actor, site) = user_and_site(ctx, &db, &site_name).await?;
    // The connection is the user's own (the database knows who acts) or the owner's (who acts
    // as itself): no user is named to the database.
    let actor = None;
    let request = SearchRequest {
        site_id: site.site_id,
        query: args.query.clone().unwrap_or_default(),
        sort: sort_of(args.sort),
        limit: args.limit,
        after: args.after.clone(),
        count_cap: i64::from(ctx.config.search.count_cap),
        count_if_free: false,
        archive: args.archive,
        from_end: false,
        starts_from: None,
    };
    let started = Instant::now();
    let searcher =
        crate::service::search::Searcher::new(db.clone(), actor).with_reads(ctx.read_router(&db)?);
    let page = searcher
        .search_page(0, request.clone())
        .await
        .map_err(anyhow::Error::msg)?;
    let elapsed = started.elapsed();
    for note in &page.ignored {
        eprintln!("note: {note}");
    }
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        OutputFormat::Table => {
            print_table(&mut out, &page, ctx.config.display_zone(), request.archive)
        }
        OutputFormat::Json => print_json(&mut out, &page, &site.name, &request),
        OutputFormat::Csv => {
            // The CSV is what `import` takes back: no column of its own for the archive.
            let archived = page.hits.iter().filter(|h| h.archived).count();
            if archived > 0 {
                eprintln!(
                    "note: {} from the archive (read-only); the CSV does not say which,                      --format json or table does",
                    counted(archived as u64, "row comes", "rows come")
                );
            }
            let rows: Vec<Interaction> = page.hits.iter().map(|h| h.interaction.clone()).collect();
            crate::csvio::write_csv(&mut out, &rows).map_err(anyhow::Error::from)
        }
    };
    written
        .and_then(|()| Ok(out.flush()?))
        .context("cannot write the output")?;
    if !matches!(args.format, OutputFormat::Json) {
        if let Some(count) = &page.count {
            eprintln!(
                "{} {} in {:.1} ms",
                count,
                if matches!(count, MatchCount::Exact(1)) {
                    "match"
                } else {
                    "matches"
                },
                elapsed.as_secs_f64() * 1000.0
            );
        }
        if let Some(cursor) = &page.next_cursor {
            eprintln!("more: add --after {cursor}");
        }
    }
    Ok(())
}

/// `ifind search --format table`: the hits as a table, starts in the display zone `zone`
/// (`ui.timezone`, else the machine's), which the START heading names (a note on standard
/// error when there are none, or when they are near matches); with `--archive`, an ARCHIVED
/// column says `archived` on the rows that come from the archive.
fn print_table(
    out: &mut impl Write,
    page: &SearchPage,
    zone: chrono_tz::Tz,
    archive: bool,
) -> Result<()> {
    if (page.fuzzy || page.approximate) && !page.hits.is_empty() {
        eprintln!(
            "{}",
            crate::domain::similar::announcement(&page.highlight, &page.similar)
        );
    }
    let rows: Vec<Vec<String>> = page
        .hits
        .iter()
        .map(|h| {
            let i = &h.interaction;
            let mut row = vec![
                i.interaction_id.to_string(),
                format_in(i.start_datetime, zone),
                clip(&i.kind, 16),
                clip(&i.lead, 22),
                clip(&i.title, 48),
                clip(i.location.as_deref().unwrap_or(""), 24),
            ];
            if archive {
                row.push(if h.archived { "archived" } else { "" }.into());
            }
            row
        })
        .collect();
    let start = format!("START ({})", zone.name());
    let mut headers = vec!["ID", start.as_str(), "TYPE", "LEAD", "TITLE", "LOCATION"];
    if archive {
        headers.push("ARCHIVED");
    }
    if rows.is_empty() {
        if page.count.is_none() {
            eprintln!("no interactions match");
        }
    } else {
        write!(out, "{}", table(&headers, &rows))?;
    }
    Ok(())
}

/// `ifind search --format json`: one document with the count, the notes, the cursor and the
/// hits (each with its rank).
fn print_json(
    out: &mut impl Write,
    page: &SearchPage,
    site: &str,
    request: &SearchRequest,
) -> Result<()> {
    let hits: Vec<serde_json::Value> = page
        .hits
        .iter()
        .map(|h| {
            let mut v = serde_json::to_value(&h.interaction).unwrap_or(serde_json::Value::Null);
            if let Some(obj) = v.as_object_mut() {
                if let Some(rank) = h.rank {
                    obj.insert("rank".into(), serde_json::json!(rank));
                }
                // From the archive (read-only; only `--archive` finds such rows).
                obj.insert("archived".into(), serde_json::json!(h.archived));
            }
            v
        })
        .collect();
    let (count, exact) = match &page.count {
        Some(MatchCount::Exact(n)) => (Some(*n), true),
        Some(MatchCount::AtLeast(n)) => (Some(*n), false),
        None => (None, false),
    };
    let doc = serde_json::json!({
        "site": site,
        "query": request.query,
        "sort": request.sort.to_string(),
        "count": count,
        "count_exact": exact,
        "fuzzy": page.fuzzy,
        "approximate": page.approximate,
        "similar": page.similar,
        "ignored": page.ignored,
        "next_cursor": page.next_cursor,
        "hits": hits,
    });
    // serde_json escapes C0; DEL, C1 and bidirectional controls are escaped too.
    let text = escape_json(serde_json::to_string_pretty(&doc)?);
    writeln!(out, "{text}")?;
    Ok(())
}

pub async fn import(
    ctx: &Ctx,
    file: &Path,
    site_name: &str,
    again: bool,
    update: bool,
) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| {
        format!(
            "cannot open {}; check the path and its permissions",
            file.display()
        )
    })?;
    // Parse and validate every row before touching the database.
    let read = crate::csvio::read_auto_with_ids(std::io::Cursor::new(&bytes))
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let db = ctx.db().await?;
    let import = Import {
        file,
        site_name,
        again,
        update,
        read: &read,
        id: crate::csvio::ImportedFile {
            import_id: crate::db::faults::new_client_id(),
            sha256: sha256_hex(&bytes),
            name: crate::domain::format::escape(&file.display().to_string()).into_owned(),
        },
    };
    // The import id makes a retry safe: a lost answer is looked up before anything is
    // imported again.
    let done = super::reconnect::retrying(&db, "importing", async || {
        import_once(ctx, &db, &import).await
    })
    .await;
    match done {
        Err(e) if super::reconnect::is_lost(&e) => bail!(
            "the connection to the database was lost ({e:#}) and nothing was imported; run the \
             same command again once the database answers"
        ),
        other => other,
    }
}

/// One import as `ifind import` asked for it.
struct Import<'a> {
    file: &'a Path,
    site_name: &'a str,
    again: bool,
    update: bool,
    read: &'a crate::csvio::FileRows,
    id: crate::csvio::ImportedFile,
}

/// Interactions to write over: the id and the new values.
type Updates = Vec<(i32, ValidInteraction)>;

/// The rows of `import` split into new ones and those to write over interactions of `site`
/// (with `--update`); refused when rows carry the `interaction_id` of interactions already in
/// the site and neither `--update` nor `--again` says what to do with them.
async fn split_rows(
    db: &Db,
    site: &Site,
    import: &Import<'_>,
) -> Result<(Vec<ValidInteraction>, Updates)> {
    let read = import.read;
    let carried: Vec<i32> = read.ids.iter().flatten().copied().collect();
    let live = if carried.is_empty() || import.again {
        Vec::new()
    } else {
        let mut conn = db.pool.acquire().await?;
        crate::db::interactions::live_ids(&mut conn, site.site_id, &carried).await?
    };
    if !live.is_empty() && !import.update {
        bail!(
            "{} of {} carry the interaction_id of interactions already in {} (it looks like an \
             export of this site); importing would store them a second time. Add --update to \
             write the file's values over those interactions (rows without one are added), or \
             --again to add every row as a new interaction",
            counted(live.len() as u64, "row", "rows"),
            import.file.display(),
            site.name
        );
    }
    let live: std::collections::HashSet<i32> = live.into_iter().collect();
    let mut new = Vec::new();
    let mut updates = Vec::new();
    for (row, id) in read.rows.iter().zip(&read.ids) {
        match id {
            Some(id) if live.contains(id) => updates.push((*id, row.clone())),
            _ => new.push(row.clone()),
        }
    }
    Ok((new, updates))
}

/// One attempt at `import`: fails with the lost connection's error when it is known that
/// nothing was imported (the caller tries again), says what was imported otherwise.
async fn import_once(ctx: &Ctx, db: &Db, import: &Import<'_>) -> Result<()> {
    let site = site_for(ctx, db, import.site_name, "import").await?;
    let actor = ctx.acting_user(db).await?;
    check_site_access(db, Some(&actor), &site, "import", true).await?;
    if !import.again {
        refuse_a_second_import(db, &site, import.file, &import.id.sha256).await?;
    }
    let (rows, updates) = split_rows(db, &site, import).await?;
    let bar = progress_bar(rows.len() as u64, "importing");
    let loaded = crate::csvio::import_file_updating(
        db,
        site.site_id,
        actor.user_id,
        &rows,
        &updates,
        &import.id,
        &|done, _| bar.set_position(done),
    )
    .await;
    bar.finish_and_clear();
    let report = match loaded {
        Ok(report) => report,
        Err(crate::csvio::ImportError::Db(e)) if crate::db::faults::is_connection_lost(&e) => {
            return lost_import(db, &site, &import.id, e).await;
        }
        Err(e) => bail!("{}: {e}", import.file.display()),
    };
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let updated = if report.updated > 0 {
        format!(
            " and updated {} by their interaction_id",
            counted(report.updated, "interaction", "interactions")
        )
    } else {
        String::new()
    };
    say!(
        "imported {} into {}{updated} in {:.2} s ({} rows/s)",
        counted(report.rows, "interaction", "interactions"),
        site.name,
        secs,
        thousands(((report.rows + report.updated) as f64 / secs) as u64)
    )?;
    Ok(())
}

/// The SHA-256 of `bytes`, lower-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Refuses to import into `site` a file it already holds (by SHA-256): every row would be
/// stored twice.
async fn refuse_a_second_import(db: &Db, site: &Site, file: &Path, sha256: &str) -> Result<()> {
    let mut conn = db.pool.acquire().await?;
    if let Some(earlier) = crate::db::imports::of_file(&mut conn, site.site_id, sha256).await? {
        bail!(
            "{} was imported into {} on {} as import {} ({} interactions); importing it again \
             would store every row a second time. Add --again to import it twice anyway",
            file.display(),
            site.name,
            earlier.imported_at.format("%Y-%m-%d %H:%M UTC"),
            earlier.import_id,
            thousands(u64::try_from(earlier.row_count).unwrap_or(0))
        );
    }
    Ok(())
}

/// The connection was lost while importing: finds out whether the import was committed (its id
/// is recorded with its rows) before saying anything, asking again for up to a minute while the
/// database cannot tell yet. Not committed: the lost connection's error, so that the import is
/// tried again.
async fn lost_import(
    db: &Db,
    site: &Site,
    imported: &crate::csvio::ImportedFile,
    lost: sqlx::Error,
) -> Result<()> {
    let until = std::time::Instant::now() + super::reconnect::WAIT_FOR_SERVER;
    let mut pause = std::time::Duration::from_millis(200);
    eprintln!("the connection was lost while importing ({lost}); checking whether it was stored…");
    while std::time::Instant::now() < until {
        if let Ok(Some(known)) = import_outcome(db, site.site_id, &imported.import_id).await {
            return match known {
                Some(record) => {
                    say!(
                        "imported {} into {} (as import {}; the answer to the commit was \
                         lost, the database has it)",
                        counted(record.row_count, "interaction", "interactions"),
                        site.name,
                        record.import_id
                    )?;
                    Ok(())
                }
                None => Err(anyhow::Error::new(lost).context(format!(
                    "import {} is not in the database",
                    imported.import_id
                ))),
            };
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(5));
    }
    bail!(
        "the connection was lost while importing ({lost}), and whether import {} was stored \
         cannot be told yet; run the same command again once the database answers: a file \
         already imported is recognised and not imported twice",
        imported.import_id
    )
}

/// Whether import `import_id` is in the database: Some(record) if committed, None if not;
/// Ok(None) (not yet known) while a write of this login is still open on the server (the import
/// may still be committing, or be replayed by crash recovery) or the database cannot be asked.
async fn import_outcome(
    db: &Db,
    site_id: i32,
    import_id: &str,
) -> Result<Option<Option<crate::db::imports::ImportRecord>>> {
    let mut conn = db.pool.acquire().await?;
    if crate::db::faults::writes_in_flight(&mut conn).await? {
        return Ok(None);
    }
    Ok(Some(
        crate::db::imports::by_id(&mut conn, site_id, import_id).await?,
    ))
}

/// `ifind export`: every match, on the application connection, as a user.
pub async fn export(
    ctx: &Ctx,
    site: Option<&str>,
    query: Option<&str>,
    format: ExportFormat,
    output: Option<&Path>,
) -> Result<()> {
    // The application connection first (the startup check), then the owner's view: a site the
    // user has no role at is refused by name and logged.
    let db = ctx.data_db().await?;
    let site_name = named_or_only(&db, site, "export").await?;
    let site_name = site_name.as_str();
    let owner = ctx.db().await?;
    let named = site_for(ctx, &owner, site_name, "export").await?;
    let reader_user = reader(ctx, &owner).await?;
    check_site_access(&owner, reader_user.as_ref(), &named, "export", false).await?;
    owner.pool.close().await;
    let (_user, site) = user_and_site(ctx, &db, site_name).await?;
    let actor = None;
    let format = match format {
        ExportFormat::Csv => crate::csvio::ExportFormat::Csv,
        ExportFormat::Json => crate::csvio::ExportFormat::Json,
        ExportFormat::Ics => crate::csvio::ExportFormat::Ics,
    };
    let target = Target {
        site_id: site.site_id,
        calendar: &site.name,
        query,
        format,
    };
    let Some(path) = output else {
        let out = BufWriter::new(std::io::stdout().lock());
        export_pages(&db, actor, &target, out).await?;
        return Ok(());
    };
    let rows = match destination(path)? {
        Destination::Stream => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open {} for writing", path.display()))?;
            let out = BufWriter::new(file);
            export_pages(&db, actor, &target, out).await?
        }
        Destination::Replace => {
            // Write beside the target and rename, so a failure never leaves half a file.
            let tmp = path.with_extension("ifind-partial");
            let file = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}; check the directory", tmp.display()))?;
            let out = BufWriter::new(file);
            let result = export_pages(&db, actor, &target, out).await;
            let rows = match result {
                Ok(rows) => rows,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            };
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            rows
        }
    };
    eprintln!(
        "exported {} from {} to {}",
        counted(rows, "interaction", "interactions"),
        site.name,
        path.display()
    );
    Ok(())
}

/// What an export takes: a site's matches of a query, in a format (an iCalendar is named after
/// the site).
#[derive(Clone, Copy)]
struct Target<'a> {
    site_id: i32,
    calendar: &'a str,
    query: Option<&'a str>,
    format: crate::csvio::ExportFormat,
}

/// How `export -o PATH` writes.
#[derive(Debug, PartialEq, Eq)]
enum Destination {
    /// A regular file (or none yet): written beside it and renamed over it.
    Replace,
    /// A FIFO or a character device (`/dev/stdout`, `/dev/null`): written into as a stream,
    /// never replaced by a file.
    Stream,
}

/// What is at `path`, as a destination of an export; a link, a folder, a block device or a
/// socket is refused with the reason (a link's target is not replaced without being named).
fn destination(path: &Path) -> Result<Destination> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Destination::Replace),
        Err(e) => bail!("cannot look at {} ({e}); check the path", path.display()),
    };
    let kind = meta.file_type();
    if kind.is_file() {
        Ok(Destination::Replace)
    } else if kind.is_fifo() || kind.is_char_device() {
        Ok(Destination::Stream)
    } else if kind.is_symlink() {
        bail!(
            "{} is a symbolic link; ifind does not replace what a link points to: give the \
             path it points to, or remove the link",
            path.display()
        )
    } else {
        bail!(
            "{} is not a file ifind can write an export into (a folder, a block device or a \
             socket); give the path of a file",
            path.display()
        )
    }
}

/// Streams every matching row, oldest first, page by page (keyset), into `w`: the same fields
/// every other view shows the person (a site's viewers read its notes, see the README).
async fn export_pages<W: Write>(
    db: &Db,
    actor: Option<i32>,
    target: &Target<'_>,
    w: W,
) -> Result<u64> {
    let Target {
        site_id,
        calendar,
        query,
        format,
    } = *target;
    let stamp = chrono::Utc::now();
    let mut exporter = crate::csvio::Exporter::new_named(w, format, calendar, stamp)?;
    let spinner = progress_bar(0, "exporting");
    let mut after = None;
    let mut first = true;
    loop {
        let request = SearchRequest {
            site_id,
            query: query.unwrap_or("").to_string(),
            sort: Sort::Oldest,
            limit: 500,
            after: after.take(),
            count_cap: 1,
            count_if_free: false,
            archive: false,
            from_end: false,
            starts_from: None,
        };
        let mut tx = db.begin_as(actor).await?;
        let page = search::search(&mut tx, &request).await?;
        tx.commit().await?;
        if first {
            first = false;
            for note in &page.ignored {
                eprintln!("note: {note}");
            }
            if page.fuzzy {
                // Near matches are a suggestion for people, not something to export.
                eprintln!("no interactions match; nothing exported");
                break;
            }
            if page.approximate {
                eprintln!(
                    "note: {}",
                    crate::domain::similar::announcement(&page.highlight, &page.similar)
                );
            }
        }
        for hit in &page.hits {
            exporter.write(&hit.interaction)?;
        }
        spinner.set_position(exporter.rows());
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    spinner.finish_and_clear();
    let rows = exporter.rows();
    let mut w = exporter.finish()?;
    w.flush()?;
    Ok(rows)
}

pub async fn seed(ctx: &Ctx, sites: u32, interactions: u64, seed: u64) -> Result<()> {
    if interactions < u64::from(sites) {
        bail!(
            "--interactions ({interactions}) is smaller than --sites ({sites}); give every site at \
             least one interaction"
        );
    }
    let db = ctx.db().await?;
    let bar = progress_bar(interactions, "seeding");
    let opts = crate::seed::SeedOptions {
        sites,
        interactions,
        seed,
    };
    // A seed that fails removes what it made: trying again is safe.
    let report = super::reconnect::retrying(&db, "seeding", async || {
        crate::seed::seed(&db, &opts, &|done, _| bar.set_position(done)).await
    })
    .await;
    let report = match report {
        Err(e)
            if super::reconnect::is_lost(&e)
                && e.downcast_ref::<crate::seed::SeedStopped>().is_none() =>
        {
            bail!(
                "the connection to the database was lost ({e:#}) and nothing was seeded; run the \
                 same command again once the database answers"
            )
        }
        other => other?,
    };
    bar.finish_and_clear();
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    say!(
        "seeded {} sites, {} users and {} interactions in {:.1} s ({} rows/s)",
        report.sites.len(),
        report.users,
        thousands(report.interactions),
        secs,
        thousands((report.interactions as f64 / secs) as u64)
    )?;
    if let Some((_, name, rows)) = report.sites.iter().max_by_key(|(_, _, n)| *n) {
        say!("largest site: {name} ({} interactions)", thousands(*rows))?;
    }
    Ok(())
}

/// A progress bar with rate and ETA on a terminal; hidden when stderr is piped.
pub(super) fn progress_bar(total: u64, what: &str) -> ProgressBar {
    if !interactive() {
        return ProgressBar::hidden();
    }
    let bar = if total > 0 {
        ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {human_pos}/{human_len} {per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        )
    } else {
        ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{msg} {human_pos} rows {per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        )
    };
    bar.set_message(what.to_string());
    bar
}
