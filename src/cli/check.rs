//! `sxplan check`: validate flowsheets and report every problem at its line and column.

use std::io::Write;
use std::path::{Path, PathBuf};

use sxplan_model::{
    check_sources, codes, include_entries, render_sources, render_text, CheckOutput, Diagnostic,
    Severity, Source,
};
use sxplan_report::check::{check_json, FlowsheetSummary};

use super::input::{io_reason, read_capped, shown_path};
use super::progress::{verbose_line, GlobalOpts};
use super::Exit;

/// Output format of `sxplan check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// rustc-style diagnostics on stderr, one summary line per file on stdout.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Arguments of `sxplan check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Flowsheet file(s).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Also print the size of the stage graph (stages, streams, recycles) of each clean file.
    #[arg(long)]
    pub graph: bool,
    /// Write the stage graph as Graphviz DOT to this file (one flowsheet only).
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,
}

/// One checked flowsheet: its name, its sources (name, text; main file first), the result.
type Checked = (String, Vec<(String, String)>, CheckOutput);

/// Why a flowsheet file could not be turned into text.
///
/// The rule every command that reads a flowsheet follows (check, simulate, design, optimize,
/// report --flowsheet, scenarios): a file that cannot be read (missing, a directory, a FIFO, a
/// device, a socket, no permission, over the size limit) is an I/O failure, exit 2; a file that
/// was read but whose bytes are not UTF-8, and an include the flowsheet may not name (outside
/// the main file's directory tree), are errors in the input, exit 1, reported like any other
/// input error with the file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The file could not be read (exit 2); a one-line message.
    Io(String),
    /// An error in the input itself (exit 1): bytes that are not UTF-8, a refused include; a
    /// located diagnostic, several lines.
    Located(String),
}

impl ReadError {
    /// The exit status the error leads to.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            ReadError::Io(_) => Exit::Usage,
            ReadError::Located(_) => Exit::Failure,
        }
    }

    /// Writes the error to `stderr`.
    pub(crate) fn write_to(&self, stderr: &mut dyn Write) {
        match self {
            ReadError::Io(msg) => {
                let _ = writeln!(stderr, "error: {msg}");
            }
            ReadError::Located(diag) => {
                let _ = write!(stderr, "{diag}");
            }
        }
    }

    fn included_by(self, main: &Path) -> ReadError {
        let main = shown_path(main);
        match self {
            ReadError::Io(msg) => ReadError::Io(format!("{msg} (included by `{main}`)")),
            ReadError::Located(diag) => ReadError::Located(format!(
                "{}  = note: included by `{main}`\n\n",
                diag.trim_end_matches('\n')
            )),
        }
    }
}

/// How included files may be named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IncludePolicy {
    /// Read included files outside the main file's directory tree (`--allow-outside-includes`).
    pub allow_outside: bool,
}

/// Reads a flowsheet and the files its `include` list names. Each include resolves relative
/// to the directory of the including file (the main file: included files cannot include) and
/// must stay inside that directory tree, symbolic links resolved, unless
/// `policy.allow_outside`; a refused include is reported at its entry in the main file and is
/// never opened, so nothing of its content can appear in a message.
pub(crate) fn read_with_includes(
    path: &Path,
    policy: IncludePolicy,
) -> Result<Vec<(String, String)>, ReadError> {
    let main = read_source(path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let root = std::fs::canonicalize(&dir).map_err(|e| {
        ReadError::Io(format!(
            "cannot read `{}`: {}",
            shown_path(&dir),
            io_reason(&e)
        ))
    })?;
    let entries = include_entries(&main);
    let mut out = vec![(path.display().to_string(), main)];
    for inc in entries {
        let p = path.parent().unwrap_or(Path::new("")).join(&inc.path);
        if !policy.allow_outside && !inside(&root, &dir.join(&inc.path)) {
            let shown = sxplan_model::diagnostic::escape_name(&inc.path);
            let mut d = Diagnostic::new(
                Severity::Error,
                codes::INCLUDE_REFUSED,
                format!(
                    "include \"{shown}\" is outside the directory of `{}` (not read)",
                    shown_path(path)
                ),
                inc.span.clone(),
                &out[0].1,
            );
            d.help = Some(
                "move the file under the main file's directory, or pass --allow-outside-includes"
                    .into(),
            );
            let name = path.display().to_string();
            return Err(ReadError::Located(render_text(&name, &out[0].1, &[d])));
        }
        let text = read_source(&p).map_err(|e| e.included_by(path))?;
        out.push((p.display().to_string(), text));
    }
    Ok(out)
}

/// True when `p` lies inside the directory `root` (canonical): the nearest existing ancestor
/// of `p` is resolved (symbolic links, `..`) and the remaining components may not climb.
fn inside(root: &Path, p: &Path) -> bool {
    let mut existing = p.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let resolved = loop {
        match std::fs::canonicalize(&existing) {
            Ok(c) => break c,
            Err(_) => {
                let Some(name) = existing.file_name() else {
                    return false;
                };
                rest.push(name.to_os_string());
                if !existing.pop() {
                    return false;
                }
                if existing.as_os_str().is_empty() {
                    existing = PathBuf::from(".");
                }
            }
        }
    };
    // `file_name` is None for `..`, so what remains holds plain names only
    let mut full = resolved;
    for name in rest.iter().rev() {
        full.push(name);
    }
    full.starts_with(root)
}

/// Largest file `check` reads, in bytes.
const MAX_FILE_BYTES: u64 = sxplan_model::MAX_SOURCE_BYTES as u64;

/// Reads a flowsheet file as UTF-8 text, with a clean message for every failure: only a
/// regular file is read, and never more than [`MAX_FILE_BYTES`] (see [`read_capped`]).
pub(crate) fn read_source(path: &Path) -> Result<String, ReadError> {
    let bytes = read_capped(path, MAX_FILE_BYTES, "a flowsheet").map_err(ReadError::Io)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        ReadError::Located(utf8_diagnostic(&shown_path(path), e.as_bytes(), at))
    })
}

/// The diagnostic of a file whose byte `at` starts an invalid UTF-8 sequence, in the layout of
/// the model's diagnostics: message, `--> file:line:column`, the line (invalid bytes shown as
/// U+FFFD) and a caret under the bad byte.
pub(crate) fn utf8_diagnostic(shown: &str, bytes: &[u8], at: usize) -> String {
    let at = at.min(bytes.len());
    let line_start = bytes[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = bytes[at..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |i| at + i);
    let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
    let before: String = String::from_utf8_lossy(&bytes[line_start..at]).into_owned();
    let col = before.chars().count() + 1;
    let clean = |t: &str| -> String {
        t.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    // long lines are shown as a window around the bad byte
    let before_chars: Vec<char> = clean(&before).chars().collect();
    let (lead, shown_before) = if before_chars.len() > 60 {
        let tail: String = before_chars[before_chars.len() - 60..].iter().collect();
        (63, format!("...{tail}"))
    } else {
        (before_chars.len(), before_chars.iter().collect())
    };
    let after: String = clean(&String::from_utf8_lossy(&bytes[at..line_end]))
        .trim_end()
        .chars()
        .take(60)
        .collect();
    let gutter = " ".repeat(line.to_string().len());
    format!(
        "error: `{shown}` is not valid UTF-8 (invalid byte at offset {at}); save the flowsheet as UTF-8 text\n\
         {gutter}--> {shown}:{line}:{col}\n\
         {gutter} |\n\
         {line} | {shown_before}{after}\n\
         {gutter} | {}^\n\n",
        " ".repeat(lead)
    )
}

/// Reads `path` with its included files and checks them together, for `simulate`, `design`,
/// `report --flowsheet` and any other command that needs a flowsheet. Writes every diagnostic
/// (warnings too) to `stderr` and returns the flowsheet. On failure the message is already
/// written and the `Err` is the exit status: 2 when a file cannot be read, 1 when the input
/// has errors (`error: could not <verb> `FILE`: N errors`).
pub(crate) fn load_flowsheet(
    path: &Path,
    verb: &str,
    global: &GlobalOpts,
    stderr: &mut dyn Write,
) -> Result<sxplan_model::Flowsheet, Exit> {
    let texts = read_with_includes(path, global.include_policy()).map_err(|e| {
        e.write_to(stderr);
        e.exit()
    })?;
    let sources: Vec<Source<'_>> = texts
        .iter()
        .map(|(n, t)| Source { name: n, text: t })
        .collect();
    let out = check_sources(&sources);
    let _ = write!(stderr, "{}", render_sources(&sources, &out.diagnostics));
    let name = path.display().to_string();
    verbose_line(
        global,
        stderr,
        &format!(
            "read {name}{}: {} error(s), {} warning(s)",
            match texts.len() {
                1 => String::new(),
                n => format!(" and {} included file(s)", n - 1),
            },
            out.error_count(),
            out.warning_count()
        ),
    );
    match out.flowsheet {
        Some(flowsheet) if out.error_count() == 0 => Ok(flowsheet),
        _ => {
            let e = out.error_count();
            let _ = writeln!(
                stderr,
                "error: could not {verb} `{name}`: {e} error{}",
                if e == 1 { "" } else { "s" }
            );
            Err(Exit::Failure)
        }
    }
}

/// Runs `sxplan check`.
pub fn run(
    args: &CheckArgs,
    global: &GlobalOpts,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Exit {
    if args.dot.is_some() && args.files.len() != 1 {
        let _ = writeln!(
            stderr,
            "error: --dot writes one graph; give exactly one flowsheet file"
        );
        return Exit::Usage;
    }
    let mut io_failed = false;
    let mut any_errors = false;
    let mut results: Vec<Checked> = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        match read_with_includes(path, global.include_policy()) {
            Ok(texts) => {
                let sources: Vec<Source<'_>> = texts
                    .iter()
                    .map(|(n, t)| Source { name: n, text: t })
                    .collect();
                let out = check_sources(&sources);
                any_errors |= out.error_count() > 0;
                results.push((name, texts, out));
            }
            Err(e) => {
                e.write_to(stderr);
                match e {
                    ReadError::Io(_) => io_failed = true,
                    ReadError::Located(_) => any_errors = true,
                }
            }
        }
    }
    match args.format {
        CheckFormat::Json => {
            let files: Vec<(&str, &CheckOutput)> =
                results.iter().map(|(n, _, o)| (n.as_str(), o)).collect();
            let _ = writeln!(stdout, "{}", check_json(&files));
        }
        CheckFormat::Text => {
            for (name, texts, out) in &results {
                let sources: Vec<Source<'_>> = texts
                    .iter()
                    .map(|(n, t)| Source { name: n, text: t })
                    .collect();
                let _ = write!(stderr, "{}", render_sources(&sources, &out.diagnostics));
                match &out.flowsheet {
                    Some(fs) => {
                        let warn = match out.warning_count() {
                            0 => String::new(),
                            1 => ", 1 warning".to_string(),
                            n => format!(", {n} warnings"),
                        };
                        let _ = writeln!(
                            stdout,
                            "ok: {name}: {}{warn}",
                            FlowsheetSummary::of(fs).line()
                        );
                    }
                    None => {
                        let _ = writeln!(stderr, "{}", failure_line(name, out));
                    }
                }
            }
        }
    }
    if args.graph || args.dot.is_some() {
        for (name, _, out) in &results {
            let Some(fs) = &out.flowsheet else {
                continue;
            };
            match sxplan_graph::StageGraph::build(fs) {
                Ok(g) => {
                    if args.graph {
                        let _ = writeln!(
                            stdout,
                            "graph: {name}: {} stages, {} streams, {} recycle{}",
                            g.n_stages(),
                            g.n_streams(),
                            g.n_recycles(),
                            if g.n_recycles() == 1 { "" } else { "s" }
                        );
                    }
                    if let Some(dot) = &args.dot {
                        if let Err(e) = std::fs::write(dot, g.to_dot()) {
                            let _ = writeln!(
                                stderr,
                                "error: cannot write `{}`: {}",
                                dot.display(),
                                io_reason(&e)
                            );
                            io_failed = true;
                        }
                    }
                }
                Err(e) => {
                    let _ = writeln!(stderr, "error: {name}: cannot build the stage graph: {e}");
                    any_errors = true;
                }
            }
        }
    }
    verbose_line(
        global,
        stderr,
        &format!("checked {} flowsheet(s)", args.files.len()),
    );
    if io_failed {
        Exit::Usage
    } else if any_errors {
        Exit::Failure
    } else {
        Exit::Ok
    }
}

/// `error: could not check `x.toml`: 3 errors, 1 warning`.
pub(crate) fn failure_line(name: &str, out: &CheckOutput) -> String {
    let e = out.error_count();
    let w = out.warning_count();
    let mut s = format!(
        "error: could not check `{name}`: {e} error{}",
        if e == 1 { "" } else { "s" }
    );
    if w > 0 {
        s.push_str(&format!(", {w} warning{}", if w == 1 { "" } else { "s" }));
    }
    s
}
