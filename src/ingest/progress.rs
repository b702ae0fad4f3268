//! The progress bar on standard error: files done of total, rows, rows and bytes per second.
//! Drawn only when standard error is a terminal and `--no-progress` is not given.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    rows: u64,
    bytes: u64,
    /// None until rows are first drawn: the first batch shows at once, later ones at most
    /// every 100 ms.
    last_draw: Option<Instant>,
}

impl Progress {
    pub fn new(enabled: bool, files: usize) -> Progress {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(files as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} files  {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            rows: 0,
            bytes: 0,
            last_draw: None,
        }
    }

    /// A file is starting.
    pub fn file(&mut self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} {name}", self.rates()));
        }
    }

    pub fn rows(&mut self, rows: u64, bytes: u64) {
        self.rows += rows;
        self.bytes += bytes;
        if let Some(bar) = &self.bar
            && self
                .last_draw
                .is_none_or(|last| last.elapsed() > Duration::from_millis(100))
        {
            self.last_draw = Some(Instant::now());
            bar.set_message(self.rates());
        }
    }

    pub fn file_done(&mut self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn rates(&self) -> String {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        format!(
            "{} rows, {:.0} rows/s, {:.1} MB/s",
            self.rows,
            self.rows as f64 / seconds,
            self.bytes as f64 / seconds / 1e6
        )
    }
}
