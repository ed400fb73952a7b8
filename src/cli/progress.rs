//! Progress on long work and the global `--quiet` / `--verbose` flags.
//!
//! Progress bars and spinners go to stderr only when stderr is a terminal and `--quiet` is not
//! given; otherwise (pipes, files, CI, in-process tests with captured output) they draw
//! nothing. They never write to the `stdout` / `stderr` writers a command receives, so a
//! command's output is the same with and without a terminal. Verbose lines, in contrast, are
//! ordinary diagnostics: written to the command's `stderr` writer when `--verbose` is given,
//! terminal or not, so tests can see them.
//!
//! Bars are drawn on the calling thread only (no steady-tick thread): the `sxplan` binary holds
//! the stderr lock for the whole run, and a drawing thread would wait on it forever. A bar
//! therefore moves when the command calls [`Progress::inc`] or [`Progress::message`].

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

thread_local! {
    /// The display the simulator's recycle hook draws on ([`Progress::recycle_hook`]): the
    /// hook is a plain function, so the bar it updates lives here, on the thread that draws.
    static RECYCLE_BAR: std::cell::RefCell<Option<ProgressBar>> =
        const { std::cell::RefCell::new(None) };
}

/// The simulator's progress hook: the recycle iteration, residual and elapsed time as the
/// message of the display [`Progress::recycle_hook`] installed.
fn draw_recycle(p: &sxplan_sim::RecycleProgress) {
    RECYCLE_BAR.with(|b| {
        if let Some(bar) = &*b.borrow() {
            bar.set_message(format!(
                "recycle iteration {}, residual {:.2e}, {:.1} s",
                p.iteration, p.residual, p.elapsed_s
            ));
        }
    });
}

/// Flags every subcommand accepts (`sxplan --quiet simulate ...` or `sxplan simulate -q ...`).
///
/// A subcommand that wants them in its own arguments flattens this struct into its `Args`
/// (`#[command(flatten)] pub global: GlobalOpts`); clap fills in the values given before or
/// after the subcommand name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::Args)]
pub struct GlobalOpts {
    /// No progress display and no notes on stderr; errors and warnings still print.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Extra lines on stderr about what is being done (inputs read, solver statistics, timing).
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    /// Read included files outside the main flowsheet's directory tree (absolute paths, `..`,
    /// links leading out); refused by default.
    #[arg(long, global = true)]
    pub allow_outside_includes: bool,
}

impl GlobalOpts {
    /// True when progress should be drawn: stderr is a terminal and `--quiet` was not given.
    pub fn progress_visible(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// How the flowsheet readers treat `include` entries.
    pub(crate) fn include_policy(&self) -> crate::api::LoadOptions {
        crate::api::LoadOptions {
            allow_outside_includes: self.allow_outside_includes,
        }
    }

    /// True when notes (informational, not warnings) should be written.
    pub fn notes(&self) -> bool {
        !self.quiet
    }

    /// True when verbose lines should be written (`--verbose` and not `--quiet`).
    pub fn verbose(&self) -> bool {
        self.verbose && !self.quiet
    }
}

/// Writes `line` (plus a newline) to `stderr` when `--verbose` is in force.
pub fn verbose_line(opts: &GlobalOpts, stderr: &mut dyn Write, line: &str) {
    if opts.verbose() {
        let _ = writeln!(stderr, "{line}");
    }
}

/// Writes `line` (plus a newline) to `stderr` unless `--quiet` is in force; for notes such as
/// "simulating the flowsheet to get the feed of circuit X".
pub fn note_line(opts: &GlobalOpts, stderr: &mut dyn Write, line: &str) {
    if opts.notes() {
        let _ = writeln!(stderr, "{line}");
    }
}

/// A progress bar (known total) or spinner (unknown total) on stderr, or nothing.
///
/// ```ignore
/// let p = Progress::new(&global, Some(13), "design");
/// p.message("rigorous search");
/// p.inc();
/// p.finish();
/// ```
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar of `total` steps, or a spinner when `total` is `None`, labelled `label`. Draws
    /// nothing unless [`GlobalOpts::progress_visible`].
    pub fn new(opts: &GlobalOpts, total: Option<u64>, label: &str) -> Progress {
        if !opts.progress_visible() {
            return Progress::hidden();
        }
        // 60 Hz instead of indicatif's 20: a step's label must show even when the previous
        // step ended a few milliseconds earlier
        Progress::on(ProgressDrawTarget::stderr_with_hz(60), total, label)
    }

    /// A spinner labelled `label` (shorthand for `new(opts, None, label)`).
    pub fn spinner(opts: &GlobalOpts, label: &str) -> Progress {
        Progress::new(opts, None, label)
    }

    /// A progress display that draws nothing.
    pub fn hidden() -> Progress {
        Progress { bar: None }
    }

    fn on(target: ProgressDrawTarget, total: Option<u64>, label: &str) -> Progress {
        let bar = match total {
            Some(n) => {
                let bar = ProgressBar::with_draw_target(Some(n), target);
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix:.bold} [{bar:30}] {pos}/{len} {elapsed}, ETA {eta} {wide_msg}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            }
            None => {
                let bar = ProgressBar::with_draw_target(None, target);
                if let Ok(style) =
                    ProgressStyle::with_template("{spinner} {prefix:.bold} {elapsed} {wide_msg}")
                {
                    bar.set_style(style);
                }
                bar
            }
        };
        bar.set_prefix(label.to_string());
        bar.tick();
        Progress { bar: Some(bar) }
    }

    /// True when this display draws to the terminal.
    pub fn is_visible(&self) -> bool {
        self.bar.is_some()
    }

    /// One step done (and a spinner turns).
    pub fn inc(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    /// Shows `msg` after the bar, e.g. the step now running.
    pub fn message(&self, msg: impl Into<String>) {
        if let Some(b) = &self.bar {
            b.set_message(msg.into());
        }
    }

    /// Runs `f` with the display taken off the terminal, for writing lines to stderr while a
    /// bar is shown (e.g. `p.suspend(|| verbose_line(&global, stderr, "..."))`).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// A hook for [`sxplan_sim::SimOptions::progress`] that shows the recycle iteration,
    /// residual and elapsed time on this display; `None` when the display is hidden (not a
    /// terminal, or `--quiet`).
    pub fn recycle_hook(&self) -> Option<sxplan_sim::ProgressFn> {
        let bar = self.bar.clone()?;
        RECYCLE_BAR.with(|b| *b.borrow_mut() = Some(bar));
        Some(sxplan_sim::ProgressFn(draw_recycle))
    }

    /// Removes the display from the terminal.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
            RECYCLE_BAR.with(|r| *r.borrow_mut() = None);
        }
    }

    /// Time since the display was created (zero when hidden).
    pub fn elapsed(&self) -> Duration {
        self.bar
            .as_ref()
            .map_or(Duration::ZERO, ProgressBar::elapsed)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // a command that returns early (an error) must not leave a bar on the terminal
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_progress_accepts_every_call() {
        let p = Progress::hidden();
        p.message("step");
        p.inc();
        assert_eq!(p.suspend(|| 7), 7);
        assert!(!p.is_visible());
        assert_eq!(p.elapsed(), Duration::ZERO);
        p.finish();
    }

    #[test]
    fn quiet_hides_progress_and_verbose_lines() {
        let quiet = GlobalOpts {
            quiet: true,
            verbose: true,
            ..GlobalOpts::default()
        };
        assert!(!quiet.progress_visible());
        assert!(!Progress::new(&quiet, Some(3), "x").is_visible());
        let mut err = Vec::new();
        verbose_line(&quiet, &mut err, "hello");
        note_line(&quiet, &mut err, "note");
        assert!(err.is_empty());
        let verbose = GlobalOpts {
            quiet: false,
            verbose: true,
            ..GlobalOpts::default()
        };
        verbose_line(&verbose, &mut err, "hello");
        note_line(&verbose, &mut err, "note");
        assert_eq!(String::from_utf8(err).unwrap(), "hello\nnote\n");
        let plain = GlobalOpts::default();
        let mut err = Vec::new();
        verbose_line(&plain, &mut err, "hello");
        assert!(err.is_empty());
    }

    #[derive(Debug, clap::Parser)]
    struct Top {
        #[command(flatten)]
        global: GlobalOpts,
        #[command(subcommand)]
        cmd: Sub,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Sub {
        /// Takes the flags in its own arguments too.
        Own(OwnArgs),
        /// Relies on the top-level flags.
        Plain,
    }

    #[derive(Debug, clap::Args)]
    struct OwnArgs {
        #[command(flatten)]
        global: GlobalOpts,
    }

    fn parse(args: &[&str]) -> Top {
        <Top as clap::Parser>::try_parse_from(args).unwrap()
    }

    #[test]
    fn flags_reach_the_top_level_and_a_flattening_subcommand() {
        let t = parse(&["sxplan", "--quiet", "own"]);
        let Sub::Own(own) = &t.cmd else {
            panic!("{t:?}")
        };
        assert!(t.global.quiet && own.global.quiet, "{t:?}");
        let t = parse(&["sxplan", "own", "-v"]);
        let Sub::Own(own) = &t.cmd else {
            panic!("{t:?}")
        };
        assert!(t.global.verbose && own.global.verbose, "{t:?}");
        let t = parse(&["sxplan", "plain", "--verbose", "-q"]);
        assert!(t.global.verbose && t.global.quiet);
        assert!(!t.global.verbose(), "--quiet wins over --verbose");
        let t = parse(&["sxplan", "plain"]);
        assert_eq!(t.global, GlobalOpts::default());
    }
}
