//! `rssd watch` as a library: continuous intake of files as partners drop them into inboxes.
//!
//! The file system tells of changes (inotify on Linux through the `notify` crate, or its
//! polling watcher where events are not delivered, as on network file systems); a file is
//! taken once it is complete ([`settle`]); files that settle within the batch window
//! ([`batch`]) are ingested as one session by [`crate::ingest::ingest`]; after the session
//! committed, files move to the archive or the quarantine ([`archive`]). While nothing is
//! settling the loop blocks on the event channel: no CPU is used when idle.
//!
//! ```no_run
//! use rssd::watch::{WatchOptions, watch};
//! let db = rssd::state::StateDb::open("hub.sqlite.db", &Default::default())?;
//! let options = WatchOptions { archive: Some("archive".into()), ..WatchOptions::default() };
//! watch(&db, &["inbox".into()], &options, &rssd::ingest::NoHook, &mut |event| {
//!     eprintln!("{}", serde_json::to_string(event).unwrap_or_default());
//! })?;
//! # Ok::<(), rssd::Error>(())
//! ```

mod archive;
mod batch;
mod scope;
mod settle;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode};
use notify::{Config, Event, EventKind, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};
use serde::Serialize;

use crate::ingest::{EntryHook, IngestOptions, IngestSummary, ingest};
use crate::state::StateDb;
use crate::{Error, Result};
use batch::Batch;
use scope::Scope;
use settle::Tracker;

pub use settle::is_in_progress_name;

/// The polling interval used when inotify cannot watch an inbox and `--poll` was not given.
pub const FALLBACK_POLL: Duration = Duration::from_secs(2);

/// Options of `rssd watch`.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// How each batch is ingested (`--include` / `--exclude` also choose the files watched).
    pub ingest: IngestOptions,
    /// How long size and modification time must hold before a file is taken.
    pub settle: Duration,
    /// Files that settle within this long of the first one go into one session.
    pub batch_window: Duration,
    /// Poll every so often instead of using inotify.
    pub poll: Option<Duration>,
    /// Where files go after their session committed (under `YYYY/MM/DD/`).
    pub archive: Option<PathBuf>,
    /// Where files with error issues go after their session committed.
    pub quarantine: Option<PathBuf>,
    /// Take what is in the inboxes now, as one session, and return.
    pub once: bool,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            ingest: IngestOptions::default(),
            settle: Duration::from_secs(5),
            batch_window: Duration::from_secs(10),
            poll: None,
            archive: None,
            quarantine: None,
            once: false,
        }
    }
}

/// What the watcher tells as it goes; the CLI prints each as one log line.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WatchEvent {
    /// Watching began.
    Watching {
        inboxes: Vec<PathBuf>,
        /// `inotify`, `poll`, or `once` (no watcher).
        mode: String,
        poll_secs: Option<f64>,
        settle_secs: f64,
        batch_window_secs: f64,
    },
    /// A session ended.
    Session(SessionLog),
    /// Something went wrong that does not stop the watch (a file that could not be moved,
    /// a watcher error).
    Problem { message: String },
}

/// One session of the watch: what the ingest did and where its files went.
#[derive(Debug, Clone, Serialize)]
pub struct SessionLog {
    pub session_id: String,
    pub state: String,
    pub files: usize,
    pub entries: usize,
    pub loaded: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub skipped: usize,
    pub rows: u64,
    pub issues_error: usize,
    pub issues_warning: usize,
    pub duration_ms: f64,
    /// Files moved to the archive: (from, to).
    pub archived: Vec<Moved>,
    /// Files with error issues moved to the quarantine.
    pub quarantined: Vec<Moved>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Moved {
    pub from: PathBuf,
    pub to: PathBuf,
}

/// What reaches the loop: changed paths, a request to scan everything again, a watcher's
/// error, or Ctrl-C / SIGTERM.
enum Signal {
    Paths(Vec<PathBuf>),
    Rescan,
    Problem(String),
    Stop,
}

/// Watches `inboxes` and ingests their files into `db` until Ctrl-C or SIGTERM
/// (`Err(Error::Interrupted)`), or, with `once`, until what was there is ingested.
pub fn watch(
    db: &StateDb,
    inboxes: &[PathBuf],
    options: &WatchOptions,
    hook: &dyn EntryHook,
    log: &mut dyn FnMut(&WatchEvent),
) -> Result<()> {
    if inboxes.is_empty() {
        return Err(Error::Invalid("watch needs at least one inbox".into()));
    }
    let mut left_out = Vec::new();
    for dir in [&options.archive, &options.quarantine]
        .into_iter()
        .flatten()
    {
        std::fs::create_dir_all(dir).map_err(|err| {
            Error::Invalid(format!("folder {} cannot be made: {err}", dir.display()))
        })?;
        left_out.push(dir.clone());
    }
    let scope = Scope::new(
        inboxes,
        &left_out,
        db.path(),
        &options.ingest.include,
        &options.ingest.exclude,
    )?;
    let (sender, signals) = mpsc::channel();
    let waker = sender.clone();
    crate::interrupt::on_request(move || {
        let _ = waker.send(Signal::Stop);
    });
    // The watcher starts before the first scan, so that no file slips between the two.
    let (_watcher, mode) = if options.once {
        (None, "once".to_string())
    } else {
        let (watcher, mode) = start_watcher(scope.inboxes(), options.poll, sender, log)?;
        (Some(watcher), mode)
    };
    log(&WatchEvent::Watching {
        inboxes: scope.inboxes().to_vec(),
        poll_secs: (mode == "poll").then(|| options.poll.unwrap_or(FALLBACK_POLL).as_secs_f64()),
        mode,
        settle_secs: options.settle.as_secs_f64(),
        batch_window_secs: options.batch_window.as_secs_f64(),
    });
    // A file left in the inbox or taken again after a restart never loads twice, even when
    // validation would otherwise load (and check) an unchanged file again.
    let ingest_options = IngestOptions {
        reload_unchanged_when_checking: false,
        ..options.ingest.clone()
    };
    let mut intake = Intake {
        db,
        options,
        ingest_options,
        hook,
        scope,
        tracker: Tracker::new(options.settle),
        batch: Batch::new(options.batch_window),
        new_folders: Vec::new(),
        log,
    };
    intake.run(&signals)
}

/// The running watch: what is settling, the open batch, and where things go.
struct Intake<'a> {
    db: &'a StateDb,
    options: &'a WatchOptions,
    ingest_options: IngestOptions,
    hook: &'a dyn EntryHook,
    scope: Scope,
    tracker: Tracker,
    batch: Batch,
    /// Folders that appeared, walked again when their time comes: a file written in one
    /// before the watch on it was in place has no event of its own.
    new_folders: Vec<(PathBuf, Instant)>,
    log: &'a mut dyn FnMut(&WatchEvent),
}

impl Intake<'_> {
    fn run(&mut self, signals: &Receiver<Signal>) -> Result<()> {
        // Files already waiting are taken first, as one session without waiting for a window.
        self.rescan();
        let waiting = self.tracker.take_settled(Instant::now());
        if !waiting.is_empty() && !self.options.once {
            self.session(waiting)?;
        } else {
            self.batch.add(waiting, Instant::now());
        }
        loop {
            crate::interrupt::check()?;
            let now = Instant::now();
            self.walk_new_folders(now);
            let settled = self.tracker.take_settled(now);
            self.batch.add(settled, now);
            if self.options.once && self.tracker.settling() == 0 {
                let files = self.batch.take();
                if !files.is_empty() {
                    self.session(files)?;
                }
                return Ok(());
            }
            if self.batch.is_due(now) {
                let files = self.batch.take();
                self.session(files)?;
                continue;
            }
            let folder_due = self.new_folders.iter().map(|(_, at)| *at).min();
            let wake_at = [self.tracker.next_due(), self.batch.closes_at(), folder_due]
                .into_iter()
                .flatten()
                .min();
            let first = match wake_at {
                None => signals.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(at) => signals.recv_timeout(at.saturating_duration_since(now)),
            };
            match first {
                Ok(signal) => self.handle(signal, signals)?,
                Err(RecvTimeoutError::Timeout) => {}
                // The interrupt waker keeps a sender for the life of the process.
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::Invalid("the watcher's channel closed".into()));
                }
            }
        }
    }

    /// Handles a signal and every one queued behind it, each changed path stat'ed once.
    fn handle(&mut self, first: Signal, signals: &Receiver<Signal>) -> Result<()> {
        let mut paths = BTreeSet::new();
        let mut rescan = false;
        for signal in std::iter::once(first).chain(signals.try_iter()) {
            match signal {
                Signal::Paths(changed) => paths.extend(changed),
                Signal::Rescan => rescan = true,
                Signal::Problem(message) => (self.log)(&WatchEvent::Problem { message }),
                Signal::Stop => return Err(Error::Interrupted),
            }
        }
        if rescan {
            self.rescan();
            return Ok(());
        }
        let now = Instant::now();
        for path in paths {
            if path.is_dir() {
                // A folder made or moved in: its files may predate the watch on it.
                self.observe_folder(&path, now);
                self.new_folders.push((path, now + self.options.settle));
            } else if self.scope.takes(&path) {
                self.tracker.observe(&path, now);
            }
        }
        Ok(())
    }

    /// Walks again the new folders whose time has come.
    fn walk_new_folders(&mut self, now: Instant) {
        let (due, later) = std::mem::take(&mut self.new_folders)
            .into_iter()
            .partition(|(_, at)| *at <= now);
        self.new_folders = later;
        for (folder, _) in due {
            self.observe_folder(&folder, now);
        }
    }

    /// Notes every file under `folder` that the watch takes.
    fn observe_folder(&mut self, folder: &Path, now: Instant) {
        let mut found = Vec::new();
        self.scope.walk(folder, &mut found);
        found
            .iter()
            .for_each(|file| self.tracker.observe(file, now));
    }

    /// Notes every file of the inboxes (at startup, and when the watcher lost events).
    fn rescan(&mut self) {
        let now = Instant::now();
        let inboxes: Vec<PathBuf> = self.scope.inboxes().to_vec();
        for inbox in &inboxes {
            self.observe_folder(inbox, now);
        }
    }

    /// Ingests `files` as one session, then moves them where they go.
    fn session(&mut self, files: Vec<PathBuf>) -> Result<()> {
        // A file whose stamp moved after it settled waits for the next batch.
        let files: Vec<PathBuf> = files
            .into_iter()
            .filter(|file| self.tracker.is_taken(file))
            .collect();
        let paths: Vec<String> = files
            .iter()
            .filter_map(|file| file.to_str().map(str::to_string))
            .collect();
        if paths.len() < files.len() {
            (self.log)(&WatchEvent::Problem {
                message: format!(
                    "{} file names are not UTF-8 and were left in the inbox",
                    files.len() - paths.len()
                ),
            });
        }
        if paths.is_empty() {
            return Ok(());
        }
        let summary = ingest(self.db, &paths, &self.ingest_options, self.hook)?;
        // The session committed: only now may its files leave the inbox.
        let (archived, quarantined) = self.move_files(&paths, &summary);
        let event = WatchEvent::Session(session_log(&summary, paths.len(), archived, quarantined));
        (self.log)(&event);
        Ok(())
    }

    fn move_files(
        &mut self,
        paths: &[String],
        summary: &IngestSummary,
    ) -> (Vec<Moved>, Vec<Moved>) {
        let mut errors: HashMap<&str, usize> = HashMap::new();
        for entry in &summary.entries {
            *errors.entry(entry.source.as_str()).or_default() += entry.issues_error;
        }
        let now = SystemTime::now();
        let (mut archived, mut quarantined) = (Vec::new(), Vec::new());
        for source in paths {
            let bad = errors.get(source.as_str()).copied().unwrap_or(0) > 0;
            let (dir, list) = match (&self.options.quarantine, &self.options.archive) {
                (Some(quarantine), _) if bad => (quarantine, &mut quarantined),
                (_, Some(archive)) => (archive, &mut archived),
                _ => continue,
            };
            let file = Path::new(source);
            let relative = self.scope.relative(file).unwrap_or(file).to_path_buf();
            match archive::move_into(file, &relative, &archive::day_folder(dir, now)) {
                Ok(to) => {
                    self.tracker.forget(file);
                    list.push(Moved {
                        from: file.to_path_buf(),
                        to,
                    });
                }
                Err(err) => (self.log)(&WatchEvent::Problem {
                    message: format!("{source} could not be moved to {}: {err}", dir.display()),
                }),
            }
        }
        (archived, quarantined)
    }
}

fn session_log(
    summary: &IngestSummary,
    files: usize,
    archived: Vec<Moved>,
    quarantined: Vec<Moved>,
) -> SessionLog {
    SessionLog {
        session_id: summary.session_id.clone(),
        state: summary.state.clone(),
        files,
        entries: summary.entries.len(),
        loaded: summary.tables,
        unchanged: summary.unchanged,
        failed: summary.failed,
        skipped: summary.skipped,
        rows: summary.rows,
        issues_error: summary.issues_error,
        issues_warning: summary.issues_warning,
        duration_ms: summary.duration_ms,
        archived,
        quarantined,
    }
}

/// inotify (the platform's watcher), or the polling watcher with `--poll` or when inotify
/// cannot watch an inbox (no inotify, or its watch limit reached).
fn start_watcher(
    inboxes: &[PathBuf],
    poll: Option<Duration>,
    sender: Sender<Signal>,
    log: &mut dyn FnMut(&WatchEvent),
) -> Result<(Box<dyn Watcher>, String)> {
    if poll.is_none() {
        match native_watcher(inboxes, sender.clone()) {
            Ok(watcher) => return Ok((watcher, "inotify".to_string())),
            Err(err) => log(&WatchEvent::Problem {
                message: format!(
                    "inotify cannot watch the inboxes ({err}); polling every {} s instead",
                    FALLBACK_POLL.as_secs_f64()
                ),
            }),
        }
    }
    let config = Config::default().with_poll_interval(poll.unwrap_or(FALLBACK_POLL));
    let mut watcher = PollWatcher::new(handler(sender), config).map_err(watch_error)?;
    for inbox in inboxes {
        watcher
            .watch(inbox, RecursiveMode::Recursive)
            .map_err(watch_error)?;
    }
    Ok((Box::new(watcher), "poll".to_string()))
}

fn native_watcher(inboxes: &[PathBuf], sender: Sender<Signal>) -> notify::Result<Box<dyn Watcher>> {
    let mut watcher = RecommendedWatcher::new(handler(sender), Config::default())?;
    for inbox in inboxes {
        watcher.watch(inbox, RecursiveMode::Recursive)?;
    }
    Ok(Box::new(watcher))
}

/// Turns the watcher's events into signals: paths that may have changed (opening a file
/// and other reads are not changes), or a rescan when the watcher lost events.
fn handler(sender: Sender<Signal>) -> impl FnMut(notify::Result<Event>) + Send + 'static {
    move |event: notify::Result<Event>| {
        let signal = match event {
            Ok(event) if event.need_rescan() => Signal::Rescan,
            Ok(Event {
                kind: EventKind::Access(access),
                ..
            }) if access != AccessKind::Close(AccessMode::Write) => return,
            Ok(event) => Signal::Paths(event.paths),
            Err(err) => Signal::Problem(format!("the watcher failed: {err}")),
        };
        let _ = sender.send(signal);
    }
}

fn watch_error(err: notify::Error) -> Error {
    Error::Invalid(format!("the inboxes cannot be watched: {err}"))
}
