//! `sxplan sweep MANIFEST --out DIR` and `sxplan merge DIR...`: Monte Carlo uncertainty sweeps
//! (docs/sweep.md).
//!
//! A sweep draws `samples` points of its manifest's distributions (Latin hypercube or random,
//! from the seed alone), runs each (simulate, or optimize then simulate) on `--jobs` threads
//! and streams one JSON line per sample to `DIR/samples.jsonl`, in index order, after a header
//! line. Sample `i` depends on the manifest, the flowsheet and `i` only, so the records, and
//! the aggregates computed from them, are the same whatever the thread count or sharding.
//!
//! - `--shard I/N` (or `SLURM_ARRAY_TASK_ID` / `SLURM_ARRAY_TASK_COUNT`, less
//!   `SLURM_ARRAY_TASK_MIN`, inside a Slurm job array) runs the samples with `index % N == I`
//!   into `DIR/samples.shard-I-of-N.jsonl` and writes no aggregates; `sxplan merge` combines
//!   the shards.
//! - A rerun into the same DIR resumes: samples already in the file are kept and skipped, a
//!   half-written last line (a killed run) is dropped, and nothing is written twice.
//! - A whole run (one shard) and `merge` write the aggregates and the report with the one
//!   report writer (`output::write_report_dir`), which keeps the sample files in DIR.
//!
//! Exit codes: 0 the sweep ran (samples that did not converge are outcomes, counted in the
//! aggregates); 1 a bad manifest, flowsheet or sample file, or no sample ended well; 2 usage or
//! I/O error.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use sxplan_report::sweep::{SampleRecord, SweepHeader};

use crate::api::sweep::SweepSetupError;
use crate::api::{read_capped, shown_path};

use super::progress::{GlobalOpts, Progress};
use super::Exit;

/// Largest sample file read, in bytes.
const MAX_SAMPLES_BYTES: u64 = 1 << 30;

/// What `sweep` and `merge` print on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SweepFormat {
    /// The odds per product, the spreads and the drivers as text.
    Text,
    /// The aggregates document (`aggregates.json`).
    Json,
}

/// Arguments of `sxplan sweep`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    sxplan sweep flowsheets/sweeps/minamitorishima.toml --out mc --jobs 2\n  \
    sxplan sweep flowsheets/sweeps/minamitorishima.toml --out mc --shard 0/4   (then 1/4 .. 3/4)\n  \
    sxplan merge mc --out mc/merged\n\n\
    The manifest, the targets and the outputs: docs/sweep.md; on a Slurm cluster: docs/cluster.md.")]
pub struct SweepArgs {
    /// The sweep manifest (TOML): the flowsheet, the samples, the seed and the uncertain inputs.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// Directory of the sample file and (for a whole run) the aggregates and the report.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Threads; 0 = one per core.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub jobs: usize,
    /// Run only the samples with index % N == I, into their own file (0 <= I < N); default
    /// from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT when set, else the whole sweep.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// What to print on stdout (a whole run only).
    #[arg(long, value_enum, default_value_t = SweepFormat::Text)]
    pub format: SweepFormat,
    /// --quiet, --verbose and the include policy.
    #[command(flatten)]
    pub global: GlobalOpts,
}

/// Arguments of `sxplan merge`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  sxplan merge mc --out mc/merged\n\n\
    Every samples*.jsonl file directly in the directories is read; together they must hold \
    every sample of one sweep exactly once (docs/sweep.md).")]
pub struct MergeArgs {
    /// Directories holding sample files of one sweep (`samples*.jsonl`, e.g. the shards).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the aggregates and the report (default: the first DIR).
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = SweepFormat::Text)]
    pub format: SweepFormat,
}

/// The shard `[I, N]` of `--shard I/N`.
fn parse_shard(s: &str) -> Result<[usize; 2], String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard {s}: expected I/N, e.g. 0/4"))?;
    let i: usize = i
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s}: I is not a whole number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s}: N is not a whole number"))?;
    check_shard(i, n, &format!("--shard {s}"))
}

fn check_shard(i: usize, n: usize, what: &str) -> Result<[usize; 2], String> {
    if n == 0 {
        return Err(format!("{what}: N must be at least 1"));
    }
    if i >= n {
        return Err(format!(
            "{what}: shard {i} of {n} does not exist (shards are numbered 0 to {})",
            n - 1
        ));
    }
    Ok([i, n])
}

/// The shard from the Slurm array variables, when they are set.
fn slurm_shard(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<[usize; 2]>, String> {
    let (Some(id), Some(count)) = (env("SLURM_ARRAY_TASK_ID"), env("SLURM_ARRAY_TASK_COUNT"))
    else {
        return Ok(None);
    };
    let num = |name: &str, v: &str| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| format!("{name}={v}: not a whole number"))
    };
    let id = num("SLURM_ARRAY_TASK_ID", &id)?;
    let count = num("SLURM_ARRAY_TASK_COUNT", &count)?;
    let min = match env("SLURM_ARRAY_TASK_MIN") {
        Some(m) => num("SLURM_ARRAY_TASK_MIN", &m)?,
        None => 0,
    };
    let i = id
        .checked_sub(min)
        .ok_or_else(|| format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"))?;
    check_shard(
        i,
        count,
        &format!("SLURM_ARRAY_TASK_ID={id} (from {min}), SLURM_ARRAY_TASK_COUNT={count}"),
    )
    .map(|s| if count > 1 { Some(s) } else { None })
    .map_err(|e| format!("{e}; use --array=0-{} or pass --shard", count.max(1) - 1))
}

/// The sample file of shard `[i, n]` in its directory.
fn samples_file(shard: [usize; 2]) -> String {
    if shard[1] == 1 {
        "samples.jsonl".to_string()
    } else {
        format!("samples.shard-{}-of-{}.jsonl", shard[0], shard[1])
    }
}

/// A sample file read back: its header, its records, and the byte length of its complete
/// lines (what a resumed run keeps).
struct SampleFile {
    header: SweepHeader,
    records: Vec<SampleRecord>,
    good_len: u64,
    /// A half-written last line was found (and is not counted).
    torn_tail: bool,
}

/// Reads a sample file; `Ok(None)` when it is empty. A last line without its newline that
/// does not parse is a torn write (a killed run) and is left out; any other bad line is an
/// error naming its line.
fn read_sample_file(path: &Path) -> Result<Option<SampleFile>, String> {
    let shown = shown_path(path);
    let bytes = read_capped(path, MAX_SAMPLES_BYTES, "sample file").map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{shown}: not UTF-8 text (invalid byte at offset {}); the file is damaged: delete it and rerun",
            e.utf8_error().valid_up_to()
        )
    })?;
    if text.is_empty() {
        return Ok(None);
    }
    let mut header: Option<SweepHeader> = None;
    let mut records = Vec::new();
    let mut good_len = 0u64;
    let mut torn_tail = false;
    for (k, line) in text.split_inclusive('\n').enumerate() {
        let Some(body) = line.strip_suffix('\n') else {
            // the last line, cut short: a run killed while writing it; it is run again
            torn_tail = true;
            break;
        };
        let parsed = if k == 0 {
            serde_json::from_str::<SweepHeader>(body).map(|h| header = Some(h))
        } else {
            serde_json::from_str::<SampleRecord>(body).map(|r| records.push(r))
        };
        if let Err(e) = parsed {
            return Err(format!(
                "{shown}:{}: not a {} line of sxplan sweep ({e}); the file is damaged: delete it (or that line) and rerun",
                k + 1,
                if k == 0 { "header" } else { "sample" }
            ));
        }
        good_len += line.len() as u64;
    }
    let Some(header) = header else {
        if torn_tail {
            return Ok(None);
        }
        return Err(format!("{shown}: no header line"));
    };
    Ok(Some(SampleFile {
        header,
        records,
        good_len,
        torn_tail,
    }))
}

fn json_line<T: serde::Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string(v).unwrap_or_default();
    s.push('\n');
    s
}

/// Writes `error: msg` and returns `code`.
fn fail(stderr: &mut dyn Write, msg: &str, code: Exit) -> Exit {
    let _ = writeln!(stderr, "error: {msg}");
    code
}

/// Runs `sxplan sweep`.
pub fn run(args: &SweepArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    run_with_env(args, &|k| std::env::var(k).ok(), stdout, stderr)
}

/// [`run`] with the environment given (tests set the Slurm variables without touching the
/// process's own).
pub fn run_with_env(
    args: &SweepArgs,
    env: &dyn Fn(&str) -> Option<String>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Exit {
    let shard = match &args.shard {
        Some(s) => parse_shard(s),
        None => slurm_shard(env).map(|s| s.unwrap_or([0, 1])),
    };
    let shard = match shard {
        Ok(s) => s,
        Err(e) => return fail(stderr, &e, Exit::Usage),
    };
    let setup = match crate::api::sweep::load_sweep(&args.manifest, &args.global.include_policy()) {
        Ok(s) => s,
        Err(SweepSetupError::Io(e)) => return fail(stderr, &e, Exit::Usage),
        Err(SweepSetupError::Invalid(rendered)) => {
            let _ = write!(stderr, "{rendered}");
            return Exit::Failure;
        }
    };
    // the flowsheet's warnings, as every command that reads one shows them
    let _ = write!(stderr, "{}", setup.flowsheet.render());
    let sweep = setup.sweep;
    let header = SweepHeader {
        shard,
        ..sweep.header().clone()
    };

    // the sample file: resumed when it holds samples of this sweep and shard
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return fail(
            stderr,
            &format!("cannot create {}: {e}", shown_path(&args.out)),
            Exit::Usage,
        );
    }
    let path = args.out.join(samples_file(shard));
    let mut done: BTreeSet<usize> = BTreeSet::new();
    let mut keep_len = 0u64;
    if path.exists() {
        match read_sample_file(&path) {
            Ok(None) => {}
            Ok(Some(f)) => {
                if f.header != header {
                    return fail(
                        stderr,
                        &format!(
                            "{} holds samples of another sweep (manifest {}, {} samples, seed {}, shard {}/{}; this one: manifest {}, {} samples, seed {}, shard {}/{}): choose another --out or delete the file",
                            shown_path(&path),
                            f.header.manifest_hash,
                            f.header.samples,
                            f.header.seed,
                            f.header.shard[0],
                            f.header.shard[1],
                            header.manifest_hash,
                            header.samples,
                            header.seed,
                            shard[0],
                            shard[1]
                        ),
                        Exit::Failure,
                    );
                }
                for r in &f.records {
                    if r.index >= header.samples || r.index % shard[1] != shard[0] {
                        return fail(
                            stderr,
                            &format!(
                                "{}: sample {} does not belong to shard {}/{} of {} samples; the file is damaged: delete it and rerun",
                                shown_path(&path),
                                r.index,
                                shard[0],
                                shard[1],
                                header.samples
                            ),
                            Exit::Failure,
                        );
                    }
                    done.insert(r.index);
                }
                keep_len = f.good_len;
                let _ = writeln!(
                    stderr,
                    "resuming {}: {} sample(s) already done{}",
                    shown_path(&path),
                    done.len(),
                    if f.torn_tail {
                        ", a half-written last line dropped"
                    } else {
                        ""
                    }
                );
            }
            Err(e) => return fail(stderr, &e, Exit::Failure),
        }
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&path)
        .and_then(|f| f.set_len(keep_len).map(|()| f));
    let mut file = match file {
        Ok(f) => std::io::BufWriter::new(f),
        Err(e) => {
            return fail(
                stderr,
                &format!("cannot write {}: {e}", shown_path(&path)),
                Exit::Usage,
            )
        }
    };
    use std::io::Seek;
    let start = file
        .get_mut()
        .seek(std::io::SeekFrom::End(0))
        .and_then(|_| {
            if keep_len == 0 {
                file.write_all(json_line(&header).as_bytes())
                    .and_then(|()| file.flush())
            } else {
                Ok(())
            }
        });
    if let Err(e) = start {
        return fail(
            stderr,
            &format!("cannot write {}: {e}", shown_path(&path)),
            Exit::Usage,
        );
    }
    let todo: Vec<usize> = (shard[0]..header.samples)
        .step_by(shard[1])
        .filter(|i| !done.contains(i))
        .collect();
    let threads = match crate::api::parallel::pool(args.jobs) {
        Ok(p) => p,
        Err(e) => return fail(stderr, &format!("--jobs {}: {e}", args.jobs), Exit::Usage),
    };
    let bar = Progress::new(
        &args.global,
        Some(todo.len() as u64),
        &if shard[1] == 1 {
            "sweep".to_string()
        } else {
            format!("sweep {}", shard_label(shard))
        },
    );
    let mut not_good = 0usize;
    let result = crate::api::parallel::run_in_order(
        &todo,
        &threads,
        |&i| sweep.run(i),
        |r| {
            if !r.is_good() {
                not_good += 1;
            }
            bar.message(format!("sample {} {}", r.index, r.status));
            bar.inc();
            file.write_all(json_line(&r).as_bytes())
                .and_then(|()| file.flush())
                .map_err(|e| format!("cannot write {}: {e}", shown_path(&path)))
        },
    );
    bar.finish();
    drop(file);
    if let Err(e) = result {
        return fail(stderr, &e, Exit::Usage);
    }
    if args.global.notes() {
        let _ = writeln!(
            stderr,
            "{}: {} sample(s) run ({} did not reach a steady state), {} kept from before, on {} thread(s): {}",
            shard_label(shard),
            todo.len(),
            not_good,
            done.len(),
            threads.current_num_threads(),
            shown_path(&path)
        );
    }
    if shard[1] > 1 {
        let _ = writeln!(
            stderr,
            "shard {} of {} done; when every shard is, combine them: sxplan merge {}",
            shard[0],
            shard[1],
            shown_path(&args.out)
        );
        return Exit::Ok;
    }
    // a whole run: the aggregates from the file as written, like merge's
    finish(
        std::slice::from_ref(&args.out),
        &args.out,
        args.format,
        stdout,
        stderr,
    )
}

fn shard_label(shard: [usize; 2]) -> String {
    if shard[1] == 1 {
        "whole sweep".to_string()
    } else {
        format!("shard {}/{}", shard[0], shard[1])
    }
}

/// Runs `sxplan merge`.
pub fn run_merge(args: &MergeArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let out = args.out.clone().unwrap_or_else(|| args.dirs[0].clone());
    finish(&args.dirs, &out, args.format, stdout, stderr)
}

/// Reads every sample file in `dirs`, checks they are one sweep with every sample exactly
/// once, and writes the aggregates and the report to `out`.
fn finish(
    dirs: &[PathBuf],
    out: &Path,
    format: SweepFormat,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Exit {
    let mut files: Vec<PathBuf> = Vec::new();
    for d in dirs {
        let entries = match std::fs::read_dir(d) {
            Ok(e) => e,
            Err(e) => {
                return fail(
                    stderr,
                    &format!("cannot read the directory {}: {e}", shown_path(d)),
                    Exit::Usage,
                )
            }
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("samples") && n.ends_with(".jsonl"))
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    if files.is_empty() {
        return fail(
            stderr,
            &format!(
                "no samples*.jsonl file in {}: run sxplan sweep --out DIR first",
                dirs.iter()
                    .map(|d| shown_path(d))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Exit::Failure,
        );
    }
    let mut header: Option<(SweepHeader, PathBuf)> = None;
    let mut by_index: BTreeMap<usize, (SampleRecord, PathBuf)> = BTreeMap::new();
    let mut shards_seen: BTreeSet<[usize; 2]> = BTreeSet::new();
    for f in &files {
        let sf = match read_sample_file(f) {
            Ok(Some(sf)) => sf,
            Ok(None) => continue,
            Err(e) => return fail(stderr, &e, Exit::Failure),
        };
        if sf.torn_tail {
            let _ = writeln!(
                stderr,
                "warning: {} ends in a half-written line (a killed run), left out; rerun that shard to finish it",
                shown_path(f)
            );
        }
        match &header {
            Some((h, first)) if !h.same_sweep(&sf.header) => {
                return fail(
                    stderr,
                    &format!(
                        "{} is of another sweep than {} (manifest {} against {}, {} against {} samples, seed {} against {}): merge only the shards of one manifest",
                        shown_path(f),
                        shown_path(first),
                        sf.header.manifest_hash,
                        h.manifest_hash,
                        sf.header.samples,
                        h.samples,
                        sf.header.seed,
                        h.seed
                    ),
                    Exit::Failure,
                )
            }
            Some(_) => {}
            None => header = Some((sf.header.clone(), f.clone())),
        }
        shards_seen.insert(sf.header.shard);
        for r in sf.records {
            if let Some((_, other)) = by_index.get(&r.index) {
                return fail(
                    stderr,
                    &format!(
                        "sample {} is in both {} and {}: merge each shard once (a whole run's samples.jsonl and its shards do not mix)",
                        r.index,
                        shown_path(other),
                        shown_path(f)
                    ),
                    Exit::Failure,
                );
            }
            by_index.insert(r.index, (r, f.clone()));
        }
    }
    let Some((header, _)) = header else {
        return fail(stderr, "the sample files hold no header", Exit::Failure);
    };
    if let Some((&i, _)) = by_index.iter().find(|(&i, _)| i >= header.samples) {
        return fail(
            stderr,
            &format!(
                "sample {i} is outside the sweep's {} samples",
                header.samples
            ),
            Exit::Failure,
        );
    }
    let missing: Vec<usize> = (0..header.samples)
        .filter(|i| !by_index.contains_key(i))
        .collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(12).map(usize::to_string).collect();
        let n_shards = shards_seen.iter().map(|s| s[1]).max().unwrap_or(1);
        let lacking: BTreeSet<usize> = missing.iter().map(|i| i % n_shards).collect();
        return fail(
            stderr,
            &format!(
                "{} of {} samples are missing ({}{}); rerun shard(s) {} of {} (a rerun resumes where it stopped)",
                missing.len(),
                header.samples,
                shown.join(", "),
                if missing.len() > 12 { ", ..." } else { "" },
                lacking
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                n_shards
            ),
            Exit::Failure,
        );
    }
    let records: Vec<SampleRecord> = by_index.into_values().map(|(r, _)| r).collect();
    let (agg, report) = sxplan_report::sweep::report_files(&header, &records);
    if let Err(e) = super::output::write_report_dir(out, &report) {
        return fail(stderr, &e, Exit::Usage);
    }
    let text = match format {
        SweepFormat::Text => sxplan_report::sweep::render_text(&agg),
        SweepFormat::Json => sxplan_report::sweep::to_json(&agg),
    };
    if let Err(e) = stdout.write_all(text.as_bytes()) {
        return fail(stderr, &format!("writing the aggregates: {e}"), Exit::Usage);
    }
    let _ = writeln!(
        stderr,
        "wrote {} and the report (open {})",
        shown_path(&out.join("aggregates.json")),
        shown_path(&out.join("report.html"))
    );
    if !records.iter().any(SampleRecord::is_good) {
        let first = records
            .iter()
            .find_map(|r| r.reason.clone())
            .unwrap_or_default();
        return fail(
            stderr,
            &format!("no sample ended with a steady state; the first reason: {first}"),
            Exit::Failure,
        );
    }
    Exit::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_from_the_flag_and_from_slurm() {
        assert_eq!(parse_shard("1/4"), Ok([1, 4]));
        assert!(parse_shard("4/4").unwrap_err().contains("numbered 0 to 3"));
        assert!(parse_shard("1").is_err() && parse_shard("a/2").is_err());
        assert!(parse_shard("0/0").is_err());
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(slurm_shard(&env(&[])), Ok(None));
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(slurm_shard(&e), Ok(Some([2, 4])));
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ]);
        assert_eq!(slurm_shard(&e), Ok(Some([3, 4])));
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert!(slurm_shard(&e).unwrap_err().contains("--array=0-3"));
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
        ]);
        assert_eq!(slurm_shard(&e), Ok(None));
    }

    #[test]
    fn file_names_of_shards() {
        assert_eq!(samples_file([0, 1]), "samples.jsonl");
        assert_eq!(samples_file([2, 4]), "samples.shard-2-of-4.jsonl");
    }
}
