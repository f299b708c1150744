//! The runner against fake backends: answers come back tagged, cancelling aborts the task and
//! calls the backend's hook. No sleeping: a search that never ends is `pending()`.

use std::sync::Mutex;

use tokio::sync::mpsc;

use super::*;
use crate::app::search_types::Sort;
use crate::app::test_support::page;

/// Answers every search with two hits, except query "hang", which never answers.
#[derive(Default)]
struct Fake {
    cancelled: Mutex<Vec<u64>>,
}

impl Finder for Fake {
    fn search(
        &self,
        _request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<SearchPage, Failure>> {
        Box::pin(async move {
            match request.query.as_str() {
                "hang" => std::future::pending().await,
                "fail" => Err("the database is unreachable".into()),
                _ => Ok(page(0, 2, false)),
            }
        })
    }

    fn count(
        &self,
        _request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<MatchCount, Failure>> {
        Box::pin(async move {
            match request.query.as_str() {
                "hang" => std::future::pending().await,
                "fail" => Err("the database is unreachable".into()),
                _ => Ok(MatchCount::AtLeast(request.count_cap)),
            }
        })
    }

    fn histogram(
        &self,
        _request_id: u64,
        request: SearchRequest,
        _budget_ms: u32,
    ) -> BoxFuture<'_, Result<Option<Vec<MonthCount>>, Failure>> {
        Box::pin(async move {
            match request.query.as_str() {
                "hang" => std::future::pending().await,
                "fail" => Err("the database is unreachable".into()),
                _ => Ok(Some(Vec::new())),
            }
        })
    }

    fn cancel(&self, request_id: u64) {
        if let Ok(mut c) = self.cancelled.lock() {
            c.push(request_id);
        }
    }
}

impl Records for Fake {
    fn save(
        &self,
        site_id: i32,
        target: FormTarget,
        v: ValidInteraction,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async move {
            if v.title == "fail" {
                return Err(SaveError::Failed("the database is unreachable".into()));
            }
            let mut stored = crate::app::test_support::hit(0).interaction;
            stored.site_id = site_id;
            stored.title = v.title;
            if let FormTarget::Edit {
                interaction_id,
                version,
            } = target
            {
                stored.interaction_id = interaction_id;
                stored.version = version + 1;
            }
            Ok(stored)
        })
    }

    fn lookups(&self, site_id: i32) -> BoxFuture<'_, Result<Lookups, Failure>> {
        Box::pin(async move {
            Ok(Lookups {
                site_id,
                ..Lookups::default()
            })
        })
    }

    fn history(
        &self,
        _site_id: i32,
        _interaction_id: i32,
    ) -> BoxFuture<'_, Result<Vec<AuditEntry>, Failure>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn trash(&self, _site_id: i32, _days: u32) -> BoxFuture<'_, Result<Vec<TrashItem>, Failure>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn delete(
        &self,
        _site_id: i32,
        _interaction_id: i32,
        _version: i32,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async { Err(SaveError::Gone) })
    }

    fn restore(
        &self,
        _site_id: i32,
        interaction_id: i32,
        _days: u32,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async move {
            let mut i = crate::app::test_support::hit(0).interaction;
            i.interaction_id = interaction_id;
            Ok(i)
        })
    }
}

impl Health for Fake {
    fn health(&self) -> BoxFuture<'_, Result<Vec<Check>, Failure>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

fn search(request_id: u64, query: &str) -> Effect {
    Effect::Search {
        request_id,
        request: SearchRequest {
            site_id: 7,
            query: query.into(),
            sort: Sort::Relevance,
            limit: 50,
            after: None,
            count_cap: 1000,
            count_if_free: false,
            archive: false,
            from_end: false,
            starts_from: None,
        },
    }
}

#[tokio::test]
async fn answers_come_back_tagged_with_their_request_id() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut runner = Runner::new(Arc::new(Fake::default()), tx);
    let rest = runner.perform(vec![search(4, "meet"), Effect::Quit, search(5, "fail")]);
    assert_eq!(rest, vec![Effect::Quit]);
    let mut got = Vec::new();
    for _ in 0..2 {
        match rx.recv().await {
            Some(Msg::SearchDone {
                request_id, result, ..
            }) => got.push((request_id, result.hits.len().to_string())),
            Some(Msg::SearchFailed {
                request_id,
                message,
            }) => got.push((request_id, message.to_string())),
            other => panic!("unexpected {other:?}"),
        }
    }
    got.sort();
    assert_eq!(
        got,
        vec![
            (4, "2".to_string()),
            (5, "the database is unreachable".to_string())
        ]
    );
}

#[tokio::test]
async fn cancelling_aborts_the_task_and_tells_the_backend() {
    let fake = Arc::new(Fake::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut runner = Runner::new(fake.clone(), tx);
    runner.perform(vec![search(1, "hang")]);
    assert_eq!(runner.running(), 1);
    runner.perform(vec![Effect::CancelSearch { request_id: 1 }]);
    assert_eq!(runner.running(), 0);
    assert_eq!(
        *fake.cancelled.lock().unwrap_or_else(|e| e.into_inner()),
        vec![1]
    );
    // Cancelling an unknown or finished search is harmless.
    runner.perform(vec![Effect::CancelSearch { request_id: 99 }]);
    drop(runner);
    // Every sender is gone (the aborted task's too), so the channel ends with no answer.
    assert!(rx.recv().await.is_none());
}

#[test]
fn osc52_encodes_the_text() {
    assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
}

/// A database that is down until it is started again: its pings fail while `up` is false.
#[derive(Default)]
struct Down {
    up: Arc<std::sync::atomic::AtomicBool>,
}

impl Finder for Down {
    fn search(
        &self,
        _request_id: u64,
        _request: SearchRequest,
    ) -> BoxFuture<'_, Result<SearchPage, Failure>> {
        Box::pin(async { Err(Failure::Connection("down".into())) })
    }
    fn count(
        &self,
        _request_id: u64,
        _request: SearchRequest,
    ) -> BoxFuture<'_, Result<MatchCount, Failure>> {
        Box::pin(async { Err(Failure::Connection("down".into())) })
    }
    fn histogram(
        &self,
        _request_id: u64,
        _request: SearchRequest,
        _budget_ms: u32,
    ) -> BoxFuture<'_, Result<Option<Vec<MonthCount>>, Failure>> {
        Box::pin(async { Ok(None) })
    }
}

impl Records for Down {
    fn save(
        &self,
        _site_id: i32,
        _target: FormTarget,
        _v: ValidInteraction,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async { Err(SaveError::Failed("down".into())) })
    }
    fn lookups(&self, _site_id: i32) -> BoxFuture<'_, Result<Lookups, Failure>> {
        Box::pin(async { Err(Failure::Connection("down".into())) })
    }
    fn history(&self, _s: i32, _i: i32) -> BoxFuture<'_, Result<Vec<AuditEntry>, Failure>> {
        Box::pin(async { Err(Failure::Connection("down".into())) })
    }
    fn trash(&self, _s: i32, _d: u32) -> BoxFuture<'_, Result<Vec<TrashItem>, Failure>> {
        Box::pin(async { Err(Failure::Connection("down".into())) })
    }
    fn delete(&self, _s: i32, _i: i32, _v: i32) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async { Err(SaveError::Failed("down".into())) })
    }
    fn restore(&self, _s: i32, _i: i32, _d: u32) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async { Err(SaveError::Failed("down".into())) })
    }
}

impl Health for Down {
    fn health(&self) -> BoxFuture<'_, Result<Vec<Check>, Failure>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn ping(&self) -> BoxFuture<'_, Result<(), Failure>> {
        let up = self.up.load(std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            if up {
                Ok(())
            } else {
                Err(Failure::Connection("connection refused".into()))
            }
        })
    }
}

/// With a way to start the database (the embedded cluster), the connection check starts it when
/// it does not answer, and the app hears that it answers again.
#[tokio::test]
async fn the_connection_check_starts_the_embedded_cluster_again() {
    let down = Arc::new(Down::default());
    let up = Arc::clone(&down.up);
    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let revive = {
        let (up, started) = (Arc::clone(&up), Arc::clone(&started));
        crate::service::Revive(Arc::new(move || {
            let (up, started) = (Arc::clone(&up), Arc::clone(&started));
            Box::pin(async move {
                started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                up.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
        }))
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut runner = Runner::new(down, tx).with_revive(Some(revive));
    runner.perform(vec![Effect::CheckConnection]);
    let mut lost = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(Msg::ConnectionLost { .. })) => lost = true,
            Ok(Some(Msg::ConnectionBack { .. })) => break,
            Ok(Some(_)) => {}
            other => panic!("no answer that the database is back: {other:?}"),
        }
    }
    assert!(lost, "the loss was said first");
    assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// With a heartbeat, a database that dies while nothing is asked of it shows as lost within 2 s
/// (two beats, and some slack for a loaded machine), and the embedded cluster is started again
/// without anyone pressing a key.
#[tokio::test]
async fn a_database_lost_while_idle_shows_within_2_s_and_comes_back() {
    let down = Arc::new(Down::default());
    let up = Arc::clone(&down.up);
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    let revive = {
        let up = Arc::clone(&up);
        crate::service::Revive(Arc::new(move || {
            let up = Arc::clone(&up);
            Box::pin(async move {
                up.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
        }))
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let beat = Duration::from_millis(300);
    let _runner = Runner::new(down, tx)
        .with_revive(Some(revive))
        .with_heartbeat(beat);
    // Up: the heartbeat says nothing.
    let quiet = tokio::time::timeout(beat * 3, rx.recv()).await;
    assert!(quiet.is_err(), "nothing to say while it answers: {quiet:?}");
    // The server dies; nothing else happens in the app.
    up.store(false, std::sync::atomic::Ordering::SeqCst);
    let died = Instant::now();
    let mut lost_after = None;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(Msg::ConnectionLost { .. })) => {
                lost_after.get_or_insert(died.elapsed());
            }
            Ok(Some(Msg::ConnectionBack { .. })) => break,
            Ok(Some(_)) => {}
            other => panic!("no answer that the database is back: {other:?}"),
        }
    }
    let lost_after = lost_after.expect("the loss was said");
    assert!(
        lost_after <= Duration::from_secs(2),
        "shown after {lost_after:?}"
    );
}
