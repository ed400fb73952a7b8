//! Stable-toolchain fuzzing that reaches the numeric edges (issue 15): mutations of valid
//! flowsheets and of result JSON that put 1e-320, 1e308, 0, negative, subnormal, NaN and
//! infinite numbers, swapped units, and includes into every numeric field (feeds, mud feeds,
//! units, mixers, splitters, prices, every equilibrium model including the empirical one).
//!
//! Targets (each case runs one, chosen by the PRNG):
//! - `check_edges`: a mutated flowsheet through `check_str`: no panic, every span inside the
//!   input, a flowsheet returned exactly when there is no error, and an accepted flowsheet
//!   holds no non-finite number (`Debug` prints them as `inf` / `NaN`);
//! - `includes`: the same, split into a main file and an included part (`check_sources`);
//! - `report_json`: a mutated simulate / design result document through the report reader
//!   (`ReportInput::from_documents`) and every renderer (`write_report_files`): no panic, no
//!   hang (`SXPLAN_FUZZ_REPORT=0` leaves it out).
//!
//! A second test drives mutated flowsheets that `check` accepts end to end through the CLI:
//! - `simulate_e2e`: `sxplan simulate --format json --time-limit T`: exit 0 only when
//!   converged, with no non-finite number and no impossible one (pH outside [-1.5, 14.5], a
//!   loading beyond its bound, a purity or recovery outside [0, 1], a negative flow); any other
//!   exit prints no `inf` / `NaN`; the wall time against the budget is counted;
//! - `optimize_e2e`: the same for `sxplan optimize` on the seeds with an `[optimize]` table.
//!
//! cargo-fuzz needs a nightly toolchain, which this project's machines do not have; this driver
//! is deterministic (splitmix64, seed printed on failure) and runs on stable.
//! `SXPLAN_FUZZ_EDGE_CASES=N` sets the number of cases (default 3,000); seeds are the shipped
//! flowsheets, `tests/data/ok/*.toml` and `fuzz/corpus/edges/*.toml`. Runs and figures:
//! docs/hardening.md.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use sxplan_model::{check_sources, check_str, CheckOutput, Source};

mod common;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Numbers at and beyond the edges of f64 and of the plausible ranges.
const EDGES: &[&str] = &[
    "1e-320",
    "4.9e-324",
    "2.2250738585072014e-308",
    "1e-30",
    "1e-12",
    "0",
    "-0.0",
    "-1",
    "-1e308",
    "1e308",
    "1.7976931348623157e308",
    "1e400",
    "1e30",
    "1e12",
    "5.9",
    "24",
    "nan",
    "inf",
    "-inf",
    "1",
    "0.5",
    "9223372036854775807",
];

const UNITS: &[&str] = &[
    "m3/h", "L/h", "mol/L", "g/L", "mg/L", "%", "t/h", "t/d", "kg/h", "USD/kg", "h", "min", "m3",
    "M", "",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn seeds() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["flowsheets", "tests/data/ok", "fuzz/corpus/edges"] {
        let Ok(rd) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for p in paths {
            if let Ok(t) = std::fs::read_to_string(&p) {
                // included-file seeds have no `schema`; they enter through `includes`
                if t.contains("schema = 1") {
                    out.push(t);
                }
            }
        }
    }
    assert!(out.len() >= 10, "only {} seeds", out.len());
    out
}

/// Byte ranges of numeric literals (bare or at the start of a quoted quantity).
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start_ok = i == 0 || matches!(b[i - 1], b' ' | b'=' | b'"' | b'[' | b',' | b'{');
        if start_ok
            && (b[i].is_ascii_digit()
                || (b[i] == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
        {
            let s = i;
            i += 1;
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || matches!(b[i], b'.' | b'e' | b'E' | b'-' | b'+' | b'_'))
            {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Replaces 1 to 4 numbers with edge values and perhaps swaps a unit.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut t = text.to_string();
    for _ in 0..1 + rng.below(4) {
        let nums = numbers(&t);
        if nums.is_empty() {
            break;
        }
        let (s, e) = nums[rng.below(nums.len())];
        let v = EDGES[rng.below(EDGES.len())];
        t.replace_range(s..e, v);
    }
    if rng.below(3) == 0 {
        let from = UNITS[rng.below(UNITS.len() - 1)];
        let to = UNITS[rng.below(UNITS.len())];
        let pat = format!(" {from}\"");
        if let Some(at) = t.match_indices(&pat).map(|(i, _)| i).nth(rng.below(3)) {
            let rep = if to.is_empty() {
                "\"".to_string()
            } else {
                format!(" {to}\"")
            };
            t.replace_range(at..at + pat.len(), &rep);
        }
    }
    t
}

/// True when `s` shows a non-finite float as `Debug` prints it.
fn shows_non_finite(s: &str) -> bool {
    // outside string literals (a date or source may read "inf")
    let mut bare = String::with_capacity(s.len());
    let (mut in_str, mut escaped) = (false, false);
    for c in s.chars() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_str = true;
            bare.push(' ');
        } else {
            bare.push(c);
        }
    }
    bare.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .any(|w| w == "inf" || w == "NaN")
}

fn assert_check_output(src_len: &[usize], out: &CheckOutput) -> Result<(), String> {
    for d in &out.diagnostics {
        let len = src_len.iter().copied().max().unwrap_or(0);
        if d.span.start > d.span.end || d.span.end > len {
            return Err(format!(
                "span {:?} outside the input ({len} bytes): {}",
                d.span, d.message
            ));
        }
    }
    let errors = out.error_count() > 0;
    if errors == out.flowsheet.is_some() {
        return Err(format!(
            "flowsheet returned {} with {} errors",
            out.flowsheet.is_some(),
            out.error_count()
        ));
    }
    if let Some(fs) = &out.flowsheet {
        let dbg = format!("{fs:?}");
        if shows_non_finite(&dbg) {
            return Err("an accepted flowsheet holds a non-finite number".into());
        }
    }
    Ok(())
}

/// A mutated result document: numbers set to edge values, a key dropped or retyped.
fn mutate_json(rng: &mut Rng, v: &mut serde_json::Value) {
    let edges = [
        serde_json::json!(1e-320),
        serde_json::json!(1e308),
        serde_json::json!(-1e308),
        serde_json::json!(0),
        serde_json::json!(-1),
        serde_json::Value::Null,
        serde_json::json!("1"),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!(f64::MAX),
        serde_json::json!(4.9e-324),
    ];
    // the n-th leaf, counted in document order
    fn nth_leaf<'a>(
        v: &'a mut serde_json::Value,
        n: &mut usize,
    ) -> Option<&'a mut serde_json::Value> {
        match v {
            serde_json::Value::Array(a) => a.iter_mut().find_map(|x| nth_leaf(x, n)),
            serde_json::Value::Object(m) => m.values_mut().find_map(|x| nth_leaf(x, n)),
            _ => {
                if *n == 0 {
                    Some(v)
                } else {
                    *n -= 1;
                    None
                }
            }
        }
    }
    fn count(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Array(a) => a.iter().map(count).sum(),
            serde_json::Value::Object(m) => m.values().map(count).sum(),
            _ => 1,
        }
    }
    for _ in 0..1 + rng.below(6) {
        let total = count(v);
        let mut n = rng.below(total);
        let e = edges[rng.below(edges.len())].clone();
        if let Some(leaf) = nth_leaf(v, &mut n) {
            *leaf = e;
        }
    }
    if rng.below(8) == 0 {
        if let Some(m) = v.as_object_mut() {
            let keys: Vec<String> = m.keys().cloned().collect();
            if !keys.is_empty() {
                m.remove(&keys[rng.below(keys.len())]);
            }
        }
    }
}

fn result_documents() -> Vec<serde_json::Value> {
    let src = std::fs::read_to_string(root().join("flowsheets/pr-nd.toml")).unwrap();
    let fs = check_str(&src).flowsheet.expect("pr-nd checks clean");
    let sim = sxplan_sim::simulate(&fs, &sxplan_sim::SimOptions::default()).unwrap();
    let sim_doc: serde_json::Value =
        serde_json::from_str(&sxplan_report::simulate::to_json(&sim)).unwrap();
    let design_doc = serde_json::json!({
        "schema_version": 1, "kind": "design", "key_a": "Nd", "key_b": "Pr",
        "beta": 1.5, "feed_phase": "aqueous", "x_a": 0.5, "purity_a": 0.999, "purity_b": 0.999,
        "shortcut": { "extraction_ratio_extraction": 0.8, "extraction_ratio_scrub": 1.2,
                      "n_extraction": 20.0, "n_scrub": 20.0, "n_min": 30.0 },
        "rigorous": { "status": "found", "n_extraction": 21, "n_scrub": 20 }
    });
    vec![sim_doc, design_doc]
}

#[test]
fn edge_numbers_units_includes_and_result_json_never_panic() {
    let cases: u64 = std::env::var("SXPLAN_FUZZ_EDGE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let seeds = seeds();
    let docs = result_documents();
    let part = std::fs::read_to_string(root().join("tests/data/ok/parts/prnd_circuit.toml"))
        .unwrap_or_default();
    // finding 14 (docs/hardening.md): the report renderers hung on documents with numbers
    // near f64::MAX until the report reader bounded them; SXPLAN_FUZZ_REPORT=0 leaves the
    // report_json target out
    let report_target = std::env::var_os("SXPLAN_FUZZ_REPORT").is_none_or(|v| v != "0");
    let trace = std::env::var_os("SXPLAN_FUZZ_TRACE").is_some_and(|v| v == "1");
    let started = std::time::Instant::now();
    let mut counts = [0u64; 3];
    let mut accepted = 0u64;
    let mut refused_e0208 = 0u64;
    let rendered = std::cell::Cell::new(0u64);
    // SXPLAN_FUZZ_START=K reruns from case K (the seed printed on failure is 0x5eed0000 + K)
    let first: u64 = std::env::var("SXPLAN_FUZZ_START")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for case in first..first + cases {
        let seed = 0x5eed_0000_u64 + case;
        if trace {
            eprintln!("case seed {seed:#x}");
        }
        let mut rng = Rng(seed);
        let target = rng.below(if report_target { 10 } else { 8 });
        let result = catch_unwind(AssertUnwindSafe(|| -> Result<(bool, bool), String> {
            if target < 6 || part.is_empty() {
                let k = rng.below(seeds.len());
                let text = mutate(&mut rng, &seeds[k]);
                let out = check_str(&text);
                assert_check_output(&[text.len()], &out).map_err(|e| format!("{e}\n{text}"))?;
                Ok((
                    out.flowsheet.is_some(),
                    out.diagnostics.iter().any(|d| d.code == "E0208"),
                ))
            } else if target < 8 {
                let k = rng.below(seeds.len());
                let main_seed = &seeds[k];
                let main = format!("include = [\"part.toml\"]\n{}", mutate(&mut rng, main_seed));
                let inc = mutate(&mut rng, &part);
                let sources = [
                    Source {
                        name: "main.toml",
                        text: &main,
                    },
                    Source {
                        name: "part.toml",
                        text: &inc,
                    },
                ];
                let out = check_sources(&sources);
                assert_check_output(&[main.len(), inc.len()], &out)
                    .map_err(|e| format!("{e}\n{main}\n--- part\n{inc}"))?;
                Ok((
                    out.flowsheet.is_some(),
                    out.diagnostics.iter().any(|d| d.code == "E0208"),
                ))
            } else {
                let k = rng.below(docs.len());
                let mut doc = docs[k].clone();
                mutate_json(&mut rng, &mut doc);
                if trace {
                    eprintln!("{doc}");
                }
                if let Ok(input) = sxplan_report::ReportInput::from_documents(&[doc]) {
                    let _ = sxplan_report::write_report_files(&input);
                    rendered.set(rendered.get() + 1);
                }
                Ok((false, false))
            }
        }));
        let idx = if target < 6 || part.is_empty() {
            0
        } else if target < 8 {
            1
        } else {
            2
        };
        counts[idx] += 1;
        match result {
            Ok(Ok((ok, e0208))) => {
                accepted += u64::from(ok);
                refused_e0208 += u64::from(e0208);
            }
            Ok(Err(e)) => panic!("seed {seed:#x} (target {idx}): {e}"),
            Err(_) => panic!("seed {seed:#x} (target {idx}): panicked"),
        }
    }
    eprintln!(
        "fuzz_edges: {cases} cases in {:.1} s: check_edges {}, includes {}, report_json {} ({} rendered); {accepted} accepted, {refused_e0208} with E0208",
        started.elapsed().as_secs_f64(),
        counts[0],
        counts[1],
        counts[2],
        rendered.get()
    );
    // the property was exercised: some mutations were accepted, some refused as implausible
    assert!(accepted > cases / 50, "only {accepted} accepted");
    assert!(refused_e0208 > cases / 50, "only {refused_e0208} E0208");
    if report_target && counts[2] >= 100 {
        assert!(
            rendered.get() > 0,
            "no mutated result document was rendered"
        );
    }
}

/// Keys whose numbers are amounts, flows or concentrations and so never negative.
fn non_negative_key(k: &str) -> bool {
    const ELEMENTS: &[&str] = &[
        "Sc", "Y", "La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
        "Lu",
    ];
    ELEMENTS.contains(&k)
        || (k.ends_with("_mol_per_h") && k != "acid_mol_per_h")
        || k.ends_with("kg_per_h")
        || k.starts_with("flow_")
        || matches!(k, "loading_mol_per_l" | "free_extractant" | "t_per_t_reo")
}

/// The physically impossible numbers of a result document (at most 10): a pH outside
/// [-1.5, 14.5], a loading beyond its bound, a purity or recovery outside [0, 1], a negative
/// flow or concentration.
fn impossible_numbers(v: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, key: &str, path: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                let bad = match key {
                    "ph" => !(-1.5..=14.5).contains(&x),
                    "loading_fraction" => !(0.0..=1.0 + 1e-9).contains(&x),
                    "purity_mol" | "purity_reo_mass" | "recovery" => {
                        !(-1e-12..=1.0 + 1e-9).contains(&x)
                    }
                    k if non_negative_key(k) => x < 0.0,
                    _ => false,
                };
                if bad && out.len() < 10 {
                    out.push(format!("{path} = {x}"));
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, key, &format!("{path}[{i}]"), out);
                }
            }
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    walk(x, k, &format!("{path}.{k}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", "", &mut out);
    out
}

/// What one end-to-end run of `simulate` or `optimize` did.
enum Run {
    /// Exit 0 with the status that means a result.
    Result,
    /// Exit 1 (not converged, infeasible, a limit) with finite numbers in what it printed.
    Refused,
    /// Exit 1 from the check diagnostics (an included part made the flowsheet invalid).
    CheckRefused,
}

/// Runs `sxplan CMD case.toml --format json` under a time limit and checks the contract: exit 0
/// only with the command's success status and no non-finite (JSON `null` outside the optional
/// fields) or impossible number; any other exit prints no `inf` / `NaN`.
fn run_end_to_end(
    cmd: &str,
    file: &str,
    out_dir: &str,
    time_limit: f64,
) -> Result<(Run, f64), String> {
    let limit = format!("{time_limit}");
    let mut args = vec![cmd, file, "--format", "json", "--time-limit", &limit];
    if cmd == "optimize" {
        // a plant flowsheet's report goes to reports/NAME/ by default: keep it in the scratch
        args.extend(["--out", out_dir]);
    }
    let t0 = std::time::Instant::now();
    let (exit, out, err) = common::cli(&args);
    let secs = t0.elapsed().as_secs_f64();
    let success = if cmd == "simulate" {
        "converged"
    } else {
        "optimal"
    };
    match exit {
        sxplan::cli::Exit::Ok => {
            let doc: serde_json::Value = serde_json::from_str(&out)
                .map_err(|e| format!("exit 0 with stdout that is not JSON ({e})"))?;
            let status = doc.get("status").and_then(|s| s.as_str()).unwrap_or("");
            if status != success {
                return Err(format!("exit 0 with status {status:?}"));
            }
            let optional = if cmd == "simulate" {
                sxplan::cli::guard::MAY_BE_NULL
            } else {
                sxplan::cli::guard::OPTIMIZE_MAY_BE_NULL
            };
            let nulls = sxplan::cli::guard::non_finite_paths_except(&doc, optional);
            if !nulls.is_empty() {
                return Err(format!("exit 0 with non-finite numbers at {nulls:?}"));
            }
            let bad = impossible_numbers(&doc);
            if !bad.is_empty() {
                return Err(format!("exit 0 with impossible numbers {bad:?}"));
            }
            Ok((Run::Result, secs))
        }
        sxplan::cli::Exit::Failure if err.contains("error[E") => Ok((Run::CheckRefused, secs)),
        sxplan::cli::Exit::Failure => {
            if sxplan::cli::guard::text_shows_non_finite(&out)
                || sxplan::cli::guard::text_shows_non_finite(&err)
            {
                return Err(format!(
                    "a failed run printed a non-finite number:\n{out}\n{err}"
                ));
            }
            Ok((Run::Refused, secs))
        }
        other => Err(format!(
            "exit {other:?} on a flowsheet check accepted:\n{err}"
        )),
    }
}

/// Mutated flowsheets that `check` accepts, simulated (and, where they have an `[optimize]`
/// table, optimized) end to end through the CLI under a wall-time budget. Counts:
/// `SXPLAN_FUZZ_SIM_CASES` (default 12) simulations, `SXPLAN_FUZZ_OPT_CASES` (default 2)
/// optimizations, `SXPLAN_FUZZ_TIME_LIMIT` seconds each (default 5). A run longer than its
/// budget plus 2 s is counted and printed as past its budget (not asserted: wall time depends on
/// the machine's load; the long runs' figures are in docs/hardening.md).
#[test]
fn accepted_edge_flowsheets_simulate_and_optimize_within_their_budget() {
    let env = |k: &str, d: f64| -> f64 {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let sim_cases = env("SXPLAN_FUZZ_SIM_CASES", 12.0) as u64;
    let opt_cases = env("SXPLAN_FUZZ_OPT_CASES", 2.0) as u64;
    let time_limit = env("SXPLAN_FUZZ_TIME_LIMIT", 5.0);
    let trace = std::env::var_os("SXPLAN_FUZZ_TRACE").is_some_and(|v| v == "1");
    let seeds = seeds();
    let opt_seeds: Vec<&String> = seeds
        .iter()
        .filter(|s| s.contains("\n[optimize]"))
        .collect();
    assert!(!opt_seeds.is_empty(), "no seed has an [optimize] table");
    // the included parts beside the case file, as the seeds name them
    let dir = common::scratch("fuzz-edges", "e2e");
    std::fs::create_dir_all(dir.join("parts")).unwrap();
    for e in std::fs::read_dir(root().join("tests/data/ok/parts")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join("parts").join(p.file_name().unwrap())).unwrap();
    }
    let file = dir.join("case.toml");
    let file_s = file.to_str().unwrap().to_string();
    let out_s = dir.join("out").to_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let (mut tried, mut results, mut refused, mut past_budget) = (0u64, [0u64; 2], [0u64; 2], 0u64);
    let mut slowest = (0.0f64, 0u64);
    for (cmd, cases, pool) in [
        ("simulate", sim_cases, seeds.iter().collect::<Vec<_>>()),
        ("optimize", opt_cases, opt_seeds),
    ] {
        let which = usize::from(cmd == "optimize");
        let mut done = 0u64;
        // SXPLAN_FUZZ_E2E_START=K starts at case K (the seed printed on failure is
        // 0xe2e00000 + K for simulate, 0xf2e00000 + K for optimize)
        let mut case = env("SXPLAN_FUZZ_E2E_START", 0.0) as u64;
        while done < cases {
            let seed = 0xe2e0_0000_u64 + (which as u64) * 0x1000_0000 + case;
            case += 1;
            tried += 1;
            let mut rng = Rng(seed);
            let k = rng.below(pool.len());
            let text = mutate(&mut rng, pool[k]);
            // seeds with includes are checked by the CLI, which reads their parts
            if !text.contains("include") && check_str(&text).error_count() > 0 {
                continue;
            }
            std::fs::write(&file, &text).unwrap();
            if trace {
                eprintln!("{cmd} seed {seed:#x}");
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                run_end_to_end(cmd, &file_s, &out_s, time_limit)
            }));
            match outcome {
                Ok(Ok((run, secs))) => {
                    match run {
                        Run::Result => results[which] += 1,
                        Run::Refused => refused[which] += 1,
                        Run::CheckRefused => continue,
                    }
                    if secs > time_limit + 2.0 {
                        past_budget += 1;
                    }
                    if secs > slowest.0 {
                        slowest = (secs, seed);
                    }
                }
                Ok(Err(e)) => panic!("{cmd} seed {seed:#x}: {e}\n{text}"),
                Err(_) => panic!("{cmd} seed {seed:#x}: panicked\n{text}"),
            }
            done += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "fuzz_edges end to end: {tried} mutated flowsheets in {:.1} s; simulate: {} converged, {} ended with a status (exit 1); optimize: {} optimal, {} ended with a status; {past_budget} past their {time_limit} s budget by more than 2 s; slowest {:.2} s (seed {:#x})",
        started.elapsed().as_secs_f64(),
        results[0],
        refused[0],
        results[1],
        refused[1],
        slowest.0,
        slowest.1
    );
    // the property was exercised both ways
    assert!(
        results[0] > 0,
        "no mutated flowsheet simulated to convergence"
    );
}
