//! The effects on local files: writing, removing and reading the person's draft, and
//! remembering the last login and site. One task performs them in the order they were asked for (a draft
//! written and then removed stays removed), each on tokio's blocking pool, so the terminal loop
//! never waits for a disk; answers come back as [`Msg`]s like every other effect's.
//! [`Files::finish`] waits until everything asked for is on disk: the terminal loop calls it on
//! every way out, so quitting right after typing keeps the draft.

use std::path::{Path, PathBuf};

use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinHandle;

use super::drafts::DraftStore;
use super::update::{Effect, Msg};

/// The file effects' task; see the module documentation.
pub struct Files {
    jobs: UnboundedSender<Effect>,
    task: JoinHandle<()>,
}

impl Files {
    /// Starts the task: drafts in `drafts`, the remembered login in `login_file` (None: not
    /// remembered; see [`super::remember`]), answers on `answers`. Must be called inside a tokio runtime.
    pub fn start(
        drafts: DraftStore,
        login_file: Option<PathBuf>,
        answers: UnboundedSender<Msg>,
    ) -> Files {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Effect>();
        let task = tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut waiting = vec![first];
                while let Ok(next) = queue.try_recv() {
                    waiting.push(next);
                }
                for effect in coalesce(waiting) {
                    let (drafts, login_file) = (drafts.clone(), login_file.clone());
                    let done = tokio::task::spawn_blocking(move || {
                        perform(effect, &drafts, login_file.as_deref())
                    })
                    .await;
                    match done {
                        // The app is closing when nobody listens; the work itself is done.
                        Ok(Some(msg)) => drop(answers.send(msg)),
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!("a draft or login-memory write did not finish: {e}")
                        }
                    }
                }
            }
        });
        Files { jobs, task }
    }

    /// Queues a file effect (other effects are not this task's and are dropped with a warning).
    pub fn send(&self, effect: Effect) {
        if self.jobs.send(effect).is_err() {
            tracing::warn!("the file task has stopped; a draft or the last site was not written");
        }
    }

    /// Waits until every effect sent so far is performed.
    pub async fn finish(self) {
        drop(self.jobs);
        if let Err(e) = self.task.await {
            tracing::warn!("the file task ended badly: {e}");
        }
    }
}

/// The draft an effect writes, removes or reads: its user, site and form ("*" for a look,
/// which reads them all).
fn draft_key(effect: &Effect) -> Option<(&str, i32, &str)> {
    match effect {
        Effect::WriteDraft(draft) => {
            Some((draft.user.as_str(), draft.site_id, draft.form_id.as_str()))
        }
        Effect::DeleteDraft {
            user,
            site_id,
            form_id,
        } => Some((user.as_str(), *site_id, form_id.as_str())),
        // A look reads every draft of the user on the site.
        Effect::LookForDraft { user, site_id } => Some((user.as_str(), *site_id, "*")),
        _ => None,
    }
}

/// The effects that waited, without the draft writes a later write or removal of the same
/// draft makes pointless (a fast typist queues one per key; with a long note each is a large
/// file): only what the disk must end up holding, and what a look must see, is written.
fn coalesce(waiting: Vec<Effect>) -> Vec<Effect> {
    let superseded = |at: usize| {
        let Some(key) = waiting
            .get(at)
            .filter(|e| matches!(e, Effect::WriteDraft(_)))
        else {
            return false;
        };
        let Some((user, site_id, form_id)) = draft_key(key) else {
            return false;
        };
        waiting[at + 1..]
            .iter()
            .find(|later| {
                draft_key(later).is_some_and(|(u, s, f)| {
                    u == user && s == site_id && (f == form_id || f == "*")
                })
            })
            .is_some_and(|later| !matches!(later, Effect::LookForDraft { .. }))
    };
    let keep: Vec<bool> = (0..waiting.len()).map(|at| !superseded(at)).collect();
    waiting
        .into_iter()
        .zip(keep)
        .filter_map(|(effect, keep)| keep.then_some(effect))
        .collect()
}

/// Performs one file effect; the message to answer with, if any.
fn perform(effect: Effect, drafts: &DraftStore, login_file: Option<&Path>) -> Option<Msg> {
    match effect {
        Effect::WriteDraft(draft) => {
            let written = drafts.write(&draft, chrono::Utc::now());
            written.err().map(|e| {
                tracing::warn!("cannot write the draft: {e}");
                Msg::Notice(format!(
                    "your typing cannot be kept in a draft ({e}); save soon, and check the \
                     state directory {}",
                    drafts
                        .path(&draft.user, draft.site_id, &draft.form_id)
                        .display()
                ))
            })
        }
        Effect::DeleteDraft {
            user,
            site_id,
            form_id,
        } => {
            if let Err(e) = drafts.remove(&user, site_id, &form_id) {
                tracing::warn!("cannot remove the draft of {user} at site {site_id}: {e}");
            }
            None
        }
        Effect::LookForDraft { user, site_id } => Some(Msg::DraftFound(
            drafts
                .read_all(&user, site_id)
                .map_err(crate::domain::failure::Failure::from),
        )),
        Effect::Remember(remembered) => {
            if let Some(path) = login_file
                && let Err(e) = remembered.write(path)
            {
                // Failing to is no reason to stop: it only saves typing next time.
                tracing::warn!("cannot remember the last login in {}: {e}", path.display());
            }
            None
        }
        other => {
            tracing::warn!("not a file effect: {other:?}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::drafts::Draft;
    use crate::app::form::FormTarget;
    use crate::domain::interaction::InteractionInput;

    fn draft(title: &str) -> Draft {
        Draft {
            user: "maria".into(),
            site_id: 7,
            site: "Leeds".into(),
            target: FormTarget::New,
            input: InteractionInput {
                title: title.into(),
                ..InteractionInput::default()
            },
            client_id: None,
            saved_at: None,
            form_id: String::new(),
            base: None,
        }
    }

    #[test]
    fn only_the_last_write_of_a_draft_before_its_next_removal_or_look_is_kept() {
        let look = || Effect::LookForDraft {
            user: "maria".into(),
            site_id: 7,
        };
        let other = {
            let mut d = draft("other site");
            d.site_id = 8;
            Effect::WriteDraft(d)
        };
        let kept = coalesce(vec![
            Effect::WriteDraft(draft("a")),
            other.clone(),
            Effect::WriteDraft(draft("ab")),
            look(),
            Effect::WriteDraft(draft("abc")),
            Effect::WriteDraft(draft("abcd")),
        ]);
        let titles: Vec<String> = kept
            .iter()
            .map(|e| match e {
                Effect::WriteDraft(d) => format!("{}:{}", d.site_id, d.input.title),
                Effect::LookForDraft { .. } => "look".into(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(titles, ["8:other site", "7:ab", "look", "7:abcd"]);
        let removed = coalesce(vec![
            Effect::WriteDraft(draft("x")),
            Effect::DeleteDraft {
                user: "maria".into(),
                site_id: 7,
                form_id: String::new(),
            },
        ]);
        assert!(matches!(removed.as_slice(), [Effect::DeleteDraft { .. }]));
    }

    /// Many writes then a removal, sent at once: performed in order, so the draft is gone; a
    /// write after that is on disk once `finish` returns; a look answers with it.
    #[tokio::test]
    async fn file_effects_run_in_order_and_finish_waits_for_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = DraftStore::new(dir.path());
        let last = dir.path().join("login.json");
        let (tx, mut rx) = mpsc::unbounded_channel();
        let files = Files::start(store.clone(), Some(last.clone()), tx);
        for n in 0..20 {
            files.send(Effect::WriteDraft(draft(&format!("v{n}"))));
        }
        files.send(Effect::DeleteDraft {
            user: "maria".into(),
            site_id: 7,
            form_id: String::new(),
        });
        files.send(Effect::LookForDraft {
            user: "maria".into(),
            site_id: 7,
        });
        files.send(Effect::WriteDraft(draft("kept")));
        let mut remembered = crate::app::remember::Remembered::default();
        remembered.sites.insert("maria".into(), "Leeds".into());
        files.send(Effect::Remember(remembered.clone()));
        files.finish().await;
        match rx.recv().await {
            Some(Msg::DraftFound(Ok(found))) if found.drafts.is_empty() => {}
            other => panic!("the look came after the removal: {other:?}"),
        }
        let kept = store
            .read("maria", 7, "")
            .expect("readable")
            .expect("written");
        assert_eq!(kept.input.title, "kept");
        assert_eq!(crate::app::remember::Remembered::read(&last), remembered);
    }
}
