//! The sync progress bar, drawn when stdout is a terminal, and the log writer that keeps
//! log lines from tearing it: a line is written with the bar cleared and redrawn after.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar while one is shown (only while behind, only on a terminal).
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

const TEMPLATE: &str = "sync {pos}/{len} blocks [{wide_bar}] {percent}% {per_sec} ETA {eta} {msg}";

/// Shows where the sync stands: `height` of `target` blocks. Draws a bar when stdout is a
/// terminal and we are behind; clears it once caught up.
pub fn update(height: u64, target: u64) {
    let Ok(mut bar) = BAR.lock() else { return };
    if height >= target {
        if let Some(b) = bar.take() {
            b.finish_and_clear();
        }
        return;
    }
    if bar.is_none() && std::io::stdout().is_terminal() {
        let b = ProgressBar::with_draw_target(Some(target), ProgressDrawTarget::stdout());
        if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
            b.set_style(style);
        }
        // Rate and ETA count from where this run started.
        b.set_position(height);
        b.reset_elapsed();
        b.reset_eta();
        *bar = Some(b);
    }
    if let Some(b) = bar.as_ref() {
        b.set_length(target);
        b.set_position(height);
    }
}

/// A `tracing` writer to stdout that clears the progress bar while a line is written.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = BAR.lock().ok().and_then(|b| b.clone());
        match bar {
            Some(b) => b.suspend(|| std::io::stdout().write(buf)),
            None => std::io::stdout().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> LogWriter {
        LogWriter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Off a terminal (as under `cargo test`) no bar is made and logs pass straight
    /// through; caught up, any bar is gone.
    #[test]
    fn no_bar_off_a_terminal() {
        if std::io::stdout().is_terminal() {
            return;
        }
        update(10, 100);
        assert!(BAR.lock().unwrap().is_none());
        let mut w = LogWriter;
        assert_eq!(w.write(b"").unwrap(), 0);
        update(100, 100);
        assert!(BAR.lock().unwrap().is_none());
    }
}
