//! Transfer progress: one bar with bytes and rate when a person is watching (a terminal,
//! not CI), nothing otherwise. Blob transfers report every chunk they move.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Clone, Default)]
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar on stderr; `None` when `visible` is false.
    pub fn new(visible: bool) -> Self {
        if !visible {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} {msg} {bytes}/{total_bytes} {binary_bytes_per_sec} {wide_bar}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message("copying");
        bar.enable_steady_tick(Duration::from_millis(200));
        Self(Some(bar))
    }

    pub fn add_total(&self, bytes: u64) {
        if let Some(b) = &self.0 {
            b.inc_length(bytes);
        }
    }

    pub fn advance(&self, bytes: u64) {
        if let Some(b) = &self.0 {
            b.inc(bytes);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
