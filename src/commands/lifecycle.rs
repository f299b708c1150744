//! The data lifecycle for admins: `ifind trash`, `ifind restore`, `ifind purge`.
//!
//! Trash and restore act as a user (`--as`, else the first global administrator) who must be a
//! site admin, through the same functions as the TUI. Purge is maintenance: it removes for good
//! what has been in the trash longer than `retention.trash_days`, in short batches, so it can be
//! stopped at any moment and run again.

use super::{say, say_inline};
use anyhow::{Result, bail};
use chrono::Utc;
use futures::future::BoxFuture;
use sqlx::PgConnection;

use super::Ctx;
use super::admin::find_site;
use super::data::progress_bar;
use super::output::{table, thousands};
use super::reconnect::{self, retrying};
use crate::cli::ListFormat;
use crate::db::{Db, archive, erase, trash};
use crate::domain::failure::Failure;
use crate::domain::format::{escape, escape_json};
use crate::domain::interaction::Interaction;
use crate::service::records::{self, SaveError};

/// `ifind trash --site NAME`: the site's deleted interactions still restorable.
pub async fn list(ctx: &Ctx, site: &str, format: ListFormat) -> Result<()> {
    let db = ctx.db().await?;
    let login = ctx.logged_in(&db).await?;
    let mut conn = db.pool.acquire().await?;
    let site = find_site(&mut conn, site).await?;
    drop(conn);
    let days = ctx.config.retention.trash_days;
    let items = match login {
        Some(user) => records::list_trash(&db, Some(user.user_id), site.site_id, days)
            .await
            .map_err(|e| anyhow::anyhow!(e.to_string()))?,
        // The owner's own connection: it reads every site's trash as itself.
        None => {
            let since = Utc::now() - chrono::Duration::days(i64::from(days));
            let mut tx = db.begin_as(None).await?;
            let items = trash::list(&mut tx, site.site_id, since, 500).await?;
            tx.commit().await?;
            items
        }
    };
    match format {
        ListFormat::Json => {
            let rows: Vec<serde_json::Value> = items
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "interaction": t.interaction,
                        "deleted_at": t.deleted_at,
                        "deleted_by": t.deleted_by_name,
                    })
                })
                .collect();
            say!("{}", escape_json(serde_json::to_string_pretty(&rows)?))?;
        }
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|t| {
                    vec![
                        t.interaction.interaction_id.to_string(),
                        t.deleted_at.format("%Y-%m-%d %H:%M").to_string(),
                        t.deleted_by_name.clone().unwrap_or_default(),
                        t.interaction.title.clone(),
                    ]
                })
                .collect();
            say_inline!("{}", table(&["ID", "DELETED (UTC)", "BY", "TITLE"], &rows))?;
            say!(
                "{} in the trash of {} (restorable for {days} days: `ifind restore ID --site NAME`)",
                thousands(i64::try_from(items.len()).unwrap_or(i64::MAX)),
                escape(&site.name)
            )?;
        }
    }
    Ok(())
}

/// `ifind restore ID --site NAME`.
pub async fn restore(ctx: &Ctx, id: i32, site: &str) -> Result<()> {
    let db = ctx.db().await?;
    let login = ctx.logged_in(&db).await?;
    let user = ctx.acting_user(&db).await?;
    let mut conn = db.pool.acquire().await?;
    let site = find_site(&mut conn, site).await?;
    drop(conn);
    let days = ctx.config.retention.trash_days;
    let restored = match &login {
        Some(user) => records::restore(&db, Some(user.user_id), site.site_id, id, days).await,
        // The owner's own connection: the trail records the owner; `updated_by` needs a user
        // and gets the first global administrator, as an import's creator does.
        None => {
            let since = Utc::now() - chrono::Duration::days(i64::from(days));
            let mut tx = db.begin_as(None).await?;
            let row = trash::restore(&mut tx, site.site_id, id, since, user.user_id).await?;
            match tx.commit().await {
                Ok(()) => row.ok_or(SaveError::Gone),
                Err(e) if crate::db::faults::is_connection_lost(&e) => {
                    Err(SaveError::Unknown(crate::db::failure::plain(&e)))
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let restored = match restored {
        Err(SaveError::Unknown(why)) => {
            let user_id = login.as_ref().map(|u| u.user_id);
            lost_restore(&db, user_id, site.site_id, id, &why).await?
        }
        other => other,
    };
    match restored {
        Ok(i) => {
            say!(
                "restored {} \"{}\" in {}",
                i.interaction_id,
                escape(&i.title),
                escape(&site.name)
            )?;
            Ok(())
        }
        Err(SaveError::Gone) => bail!(
            "interaction {id} is not in the trash of {} (or was deleted more than {days} days \
             ago); `ifind trash --site {:?}` lists what can be restored",
            site.name,
            site.name
        ),
        Err(e) => bail!(e.message()),
    }
}

/// The answer to a restore was lost: finds out whether it was made before saying anything,
/// asking again for up to a minute while the database cannot tell yet.
async fn lost_restore(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    id: i32,
    why: &Failure,
) -> Result<Result<Interaction, SaveError>> {
    eprintln!("the connection was lost while restoring ({why}); checking whether it was made…");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut pause = std::time::Duration::from_millis(200);
    while std::time::Instant::now() < until {
        match records::resolve_trash_move(db, user_id, site_id, id, false).await {
            Ok(Some(live)) => return Ok(Ok(live)),
            Ok(None) => bail!(
                "the connection was lost ({why}) before the restore reached the database; \
                 interaction {id} is still in the trash: run the same command again"
            ),
            Err(e) => tracing::debug!("cannot resolve the restore yet: {e}"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(5));
    }
    bail!(
        "the connection was lost while restoring ({why}), and whether interaction {id} was \
         restored cannot be told yet; `ifind trash` shows it once the database answers"
    )
}

/// `ifind purge [--dry-run]`: removes for good what was deleted more than `trash_days` ago.
pub async fn purge(ctx: &Ctx, dry_run: bool) -> Result<()> {
    let db = ctx.db().await?;
    let days = ctx.config.retention.trash_days;
    let before = Utc::now() - chrono::Duration::days(i64::from(days));
    let purgeable = async || -> Result<i64> {
        let mut conn = db.pool.acquire().await?;
        Ok(trash::purgeable(&mut conn, before).await?)
    };
    let waiting = retrying(&db, "counting what to purge", purgeable).await?;
    if dry_run || waiting == 0 {
        say!(
            "{} interaction{} deleted more than {days} days ago{}",
            thousands(waiting),
            if waiting == 1 { "" } else { "s" },
            if dry_run {
                " would be purged"
            } else {
                "; nothing to purge"
            }
        )?;
        return Ok(());
    }
    in_batches(&db, waiting, "purging", |conn| {
        Box::pin(trash::purge_batch(conn, before, 1000))
    })
    .await?;
    // What is gone, counted in the database: a batch whose answer was lost counts too.
    let left = retrying(&db, "counting what was purged", purgeable).await?;
    let total = u64::try_from(waiting - left).unwrap_or(0);
    say!(
        "purged {} interaction{} deleted before {}",
        thousands(i64::try_from(total).unwrap_or(i64::MAX)),
        if total == 1 { "" } else { "s" },
        before.format("%Y-%m-%d %H:%M UTC")
    )?;
    Ok(())
}

/// `ifind retention [--dry-run] [--batch N]`: every rule of `[retention]`, in batches that each
/// commit with their record in `retention_log`; through a lost connection it carries on, and
/// what each rule took is counted in the database (before against after), so it is true also
/// when a batch's answer was lost.
pub async fn retention(ctx: &Ctx, dry_run: bool, batch: i64) -> Result<()> {
    use crate::service::retention as service;
    let db = ctx.db().await?;
    let keep = ctx.config.retention.keep();
    let now = Utc::now();
    let before = retrying(&db, "counting what retention takes", async || {
        Ok(service::due(&db, &keep, now).await?)
    })
    .await?;
    if !dry_run {
        let total: u64 = before.iter().map(|a| a.rows).sum();
        let bar = progress_bar(total, "retention");
        retrying(&db, "applying retention", async || {
            Ok(service::apply(&db, &keep, now, batch, &|_, rows| bar.inc(rows)).await?)
        })
        .await?;
        bar.finish_and_clear();
    }
    let after = if dry_run {
        Vec::new()
    } else {
        retrying(&db, "counting what retention took", async || {
            Ok(service::due(&db, &keep, now).await?)
        })
        .await?
    };
    for (at, rule) in before.iter().enumerate() {
        let left = after.get(at).map_or(0, |a| a.rows);
        let rows = i64::try_from(rule.rows.saturating_sub(left)).unwrap_or(i64::MAX);
        say!(
            "{:<19} {:>9} {}{} (older than {})",
            rule.rule.name(),
            thousands(rows),
            rule.rule.action(),
            if dry_run { ", if run" } else { "" },
            rule.cutoff.format("%Y-%m-%d")
        )?;
    }
    if dry_run {
        say!("nothing was changed (--dry-run)")?;
    }
    Ok(())
}

/// `ifind archive [--dry-run] [--batch N]`: moves interactions untouched for
/// `retention.archive_after_days` to the archive, a batch per transaction. Safe to stop at any
/// moment (a batch is all or nothing) and to run again.
pub async fn archive(ctx: &Ctx, dry_run: bool, batch: i64) -> Result<()> {
    let db = ctx.db().await?;
    let days = ctx.config.retention.archive_after_days;
    let before = Utc::now() - chrono::Duration::days(i64::from(days));
    let counts = async || -> Result<(i64, i64)> {
        let mut conn = db.pool.acquire().await?;
        let waiting = archive::archivable(&mut conn, before).await?;
        Ok((waiting, archive::count(&mut conn).await?))
    };
    let (waiting, held_before) = retrying(&db, "counting what to archive", counts).await?;
    if dry_run || waiting == 0 {
        say!(
            "{} interaction{} untouched for {days} days{}",
            thousands(waiting),
            if waiting == 1 { "" } else { "s" },
            if dry_run {
                " would be archived"
            } else {
                "; nothing to archive"
            }
        )?;
        return Ok(());
    }
    in_batches(&db, waiting, "archiving", |conn| {
        Box::pin(archive::archive_batch(conn, before, batch))
    })
    .await?;
    // What moved, counted in the database: a batch whose answer was lost counts too.
    let (_, held) = retrying(&db, "counting the archive", counts).await?;
    let total = u64::try_from(held - held_before).unwrap_or(0);
    say!(
        "archived {} interaction{} last changed before {} (the archive now holds {}); \
         `ifind search --archive` and the Finder's `a` include them, read-only",
        thousands(i64::try_from(total).unwrap_or(i64::MAX)),
        if total == 1 { "" } else { "s" },
        before.format("%Y-%m-%d"),
        thousands(held)
    )?;
    Ok(())
}

/// `ifind erase --lead NAME [--dry-run]`: anonymises a person everywhere (live, archive, audit
/// values), in one transaction, and says what it changed.
pub async fn erase_lead(ctx: &Ctx, name: &str, dry_run: bool) -> Result<()> {
    let name = name.trim();
    if name.chars().count() < 3 {
        bail!(
            "the name {name:?} is too short to erase safely (it would match inside other words); \
             give the person's full name"
        );
    }
    let db = ctx.db().await?;
    let erased = retrying(&db, "erasing", async || {
        erase_once(&db, name, dry_run).await
    })
    .await;
    let done = match erased {
        Err(e) if reconnect::is_lost(&e) => bail!(
            "the connection to the database was lost ({e:#}) and nothing was erased; run the \
             same command again once the database answers"
        ),
        other => other?,
    };
    let total = done.live + done.archived + done.audit;
    let what = format!(
        "{} live interaction{}, {} archived, {} audit record{}",
        done.live,
        if done.live == 1 { "" } else { "s" },
        done.archived,
        done.audit,
        if done.audit == 1 { "" } else { "s" }
    );
    if dry_run {
        say!("{name:?} is mentioned in {what}; run without --dry-run to erase it")?;
    } else if total == 0 {
        say!("{name:?} is not mentioned anywhere; nothing changed")?;
    } else {
        say!(
            "erased {name:?} from {what}: every mention now reads {}",
            erase::ERASED
        )?;
    }
    if !dry_run {
        // This machine's unsaved drafts may mention the name too (nothing else ifind writes
        // does: the log keeps no names or text at its default level).
        let drafts = ctx.paths.state_dir.join("drafts");
        match crate::service::drafts::erase_name(&drafts, name, erase::ERASED) {
            Ok(0) => {}
            Ok(n) => say!(
                "erased it from {n} unsaved draft{} on this machine",
                if n == 1 { "" } else { "s" }
            )?,
            Err(e) => bail!(
                "the database is erased, but the drafts in {} could not be ({e}); check that folder and run the erase again",
                drafts.display()
            ),
        }
    }
    Ok(())
}

/// One attempt at an erase (counting only when `dry_run`), in one transaction. When the answer
/// to its COMMIT is lost, it is made if nothing mentions the name any more once the database has
/// settled; if something still does, nothing was erased and the lost connection's error is the
/// answer (the caller tries again).
async fn erase_once(db: &Db, name: &str, dry_run: bool) -> Result<erase::Erasure> {
    let mut tx = db.begin_as(None).await?;
    let done = erase::erase(&mut tx, name, !dry_run).await?;
    if dry_run || done.live + done.archived + done.audit == 0 {
        tx.rollback().await?;
        return Ok(done);
    }
    match tx.commit().await {
        Ok(()) => Ok(done),
        Err(e) if crate::db::faults::is_connection_lost(&e) => {
            eprintln!("the connection was lost while erasing ({e}); checking whether it was made…");
            if !reconnect::settled(db).await {
                bail!(
                    "the connection was lost while erasing ({e}), and whether it was made cannot \
                     be told yet; `ifind erase --lead {name:?} --dry-run` shows whether the name \
                     is still mentioned once the database answers"
                );
            }
            let mut tx = db.begin_as(None).await?;
            let left = erase::erase(&mut tx, name, false).await?;
            tx.rollback().await?;
            if left.live + left.archived + left.audit == 0 {
                Ok(done)
            } else {
                Err(e.into())
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Runs `batch` in a transaction of its own, again and again until it touches nothing, with a
/// progress bar over `waiting` rows; returns how many it touched. Every committed batch stays
/// done if the run is stopped.
async fn in_batches(
    db: &Db,
    waiting: i64,
    what: &str,
    batch: impl for<'c> Fn(&'c mut PgConnection) -> BoxFuture<'c, sqlx::Result<u64>>,
) -> Result<u64> {
    let bar = progress_bar(u64::try_from(waiting).unwrap_or(0), what);
    let mut total = 0u64;
    let mut lost = 0;
    loop {
        let step = async {
            let mut tx = db.begin_as(None).await?;
            let n = batch(&mut tx).await?;
            tx.commit().await?;
            Ok::<u64, anyhow::Error>(n)
        };
        match step.await {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                bar.inc(n);
            }
            // A batch is all or nothing, and the next one takes what is left: carry on once the
            // database answers again.
            Err(e) if reconnect::is_lost(&e) && lost < 5 => {
                lost += 1;
                bar.suspend(|| {
                    eprintln!(
                        "the connection to the database was lost while {what} ({e:#}); every \
                         finished batch is kept, carrying on once it answers again…"
                    );
                });
                if !reconnect::settled(db).await {
                    bail!(
                        "the connection to the database was lost while {what} ({e:#}) and it \
                         did not answer again within {} s; every finished batch is kept: run \
                         the same command again to finish",
                        reconnect::WAIT_FOR_SERVER.as_secs()
                    );
                }
            }
            Err(e) => return Err(e),
        }
    }
    bar.finish_and_clear();
    Ok(total)
}
