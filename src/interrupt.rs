//! Ctrl-C and SIGTERM: the first asks the running command to stop at the next safe point (the
//! current file's transaction rolls back, the session is recorded `INTERRUPTED`); a second one
//! ends the process at once, which SQLite's transactions also survive.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Error, Result};

static REQUESTED: AtomicBool = AtomicBool::new(false);
/// Called when a stop is asked for, to wake a loop that is blocked waiting (`rssd watch`).
static WAKERS: Mutex<Vec<Box<dyn Fn() + Send>>> = Mutex::new(Vec::new());

/// Exit status after an interruption, as shells report a process ended by SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Installs the handler; harmless if one is already installed.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        if let Ok(wakers) = WAKERS.lock() {
            wakers.iter().for_each(|wake| wake());
        }
    });
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// `Err(Error::Interrupted)` once a stop was asked for: call it at safe points.
pub fn check() -> Result<()> {
    if requested() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// Calls `wake` (on the signal handler's thread) when a stop is asked for, so that a loop
/// blocked on a channel hears of it at once instead of polling [`requested`].
pub fn on_request(wake: impl Fn() + Send + 'static) {
    if let Ok(mut wakers) = WAKERS.lock() {
        wakers.push(Box::new(wake));
    }
}
