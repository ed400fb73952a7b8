//! Fuzz test of `check`: random bytes, random mutations of valid flowsheets and hostile
//! inputs (deep nesting, huge strings, NUL, invalid UTF-8, integer overflow) must never panic,
//! through the library and through the in-process CLI.
//!
//! A deterministic PRNG makes every run identical; a failing case prints its seed and input.
//! `SXPLAN_FUZZ_CASES=N` changes the number of library cases (default 12,000).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use sxplan::cli::{run, Exit};
use sxplan_model::{check_str, render_text, CheckOutput};

/// splitmix64: small, fast, good enough to drive mutations.
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

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The valid flowsheets the mutations start from.
fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in ["flowsheets", "tests/data/ok"] {
        if let Ok(rd) = std::fs::read_dir(root().join(dir)) {
            let mut paths: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            paths.sort();
            for p in paths {
                if let Ok(b) = std::fs::read(&p) {
                    out.push(b);
                }
            }
        }
    }
    assert!(out.len() >= 8, "seed flowsheets not found");
    out
}

/// Tokens that steer mutations toward interesting TOML and flowsheet constructs.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "=",
    "\"",
    "'",
    "\n",
    ",",
    ".",
    "#",
    "[[circuit]]",
    "[[feed]]",
    "[[link]]",
    "[circuit.equilibrium]",
    "-1",
    "0",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "1e-999",
    "99999999999999999999",
    "-9223372036854775808",
    "0x7fffffffffffffff",
    "\0",
    "\u{FFFF}",
    "\u{1F600}",
    "stages = 0",
    "stages = 100001",
    "\"\"",
    "\"1 m3/h\"",
    "\"0.5 mol/L\"",
    "\"36 %\"",
    "\"-5 %\"",
    "\"5 furlongs\"",
    "Nd",
    "Pm",
    "nd",
    "PrNd.raffinate",
    "PrNd.strip_liquor",
    "PrNd.feed",
    ".inlet",
    "schema = 2",
    "true",
    "1979-05-27",
    "model = \"mass_action\"",
    "model = \"empirical\"",
    "model = \"distribution\"",
    "feed_stage = 0",
    "\"\"\"",
    "'''",
    "\\u0000",
    "\\",
    "a.b.c.d.e",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    let n_ops = 1 + rng.below(4);
    for _ in 0..n_ops {
        let len = v.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                v.insert(i, rng.next() as u8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(64)).min(len);
                v.drain(i..j);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(200)).min(len);
                let chunk = v[i..j].to_vec();
                let k = rng.below(v.len() + 1);
                v.splice(k..k, chunk);
            }
            4 | 5 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let i = rng.below(len + 1);
                v.splice(i..i, t.iter().copied());
            }
            6 if len > 0 => {
                // replace a quoted value or a number with a token
                let i = rng.below(len);
                let j = (i + 1 + rng.below(12)).min(len);
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                v.splice(i..j, t.iter().copied());
            }
            7 => {
                // swap two lines
                let text = String::from_utf8_lossy(&v).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                if lines.len() > 1 {
                    let a = rng.below(lines.len());
                    let b = rng.below(lines.len());
                    lines.swap(a, b);
                }
                v = lines.join("\n").into_bytes();
            }
            _ => {
                let i = rng.below(len + 1);
                v.truncate(i);
            }
        }
    }
    v
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let n = rng.below(300);
    let alphabet = b"[]{}=\"'.,#\n abcdefgh0123456789-_xyz";
    (0..n)
        .map(|_| {
            if rng.below(4) == 0 {
                rng.next() as u8
            } else {
                alphabet[rng.below(alphabet.len())]
            }
        })
        .collect()
}

/// Invariants every check result must satisfy.
fn check_invariants(src: &str, out: &CheckOutput) -> Result<(), String> {
    if out.flowsheet.is_some() == (out.error_count() > 0) {
        return Err("flowsheet present together with errors, or absent without".into());
    }
    for d in &out.diagnostics {
        if d.span.start > src.len() || d.span.end > src.len() || d.span.start > d.span.end {
            return Err(format!("span {:?} outside 0..{}", d.span, src.len()));
        }
        if d.line == 0 || d.col == 0 {
            return Err(format!("diagnostic without position: {d:?}"));
        }
        let (line, col) = sxplan_model::diagnostic::line_col(src, d.span.start);
        if (line, col) != (d.line, d.col) {
            return Err(format!(
                "position {}:{} should be {line}:{col}",
                d.line, d.col
            ));
        }
        if d.message.is_empty() || d.message.ends_with('.') {
            return Err(format!("bad message {:?}", d.message));
        }
    }
    let text = render_text("fuzz.toml", src, &out.diagnostics);
    if text.len() > 4_000 * out.diagnostics.len().max(1) {
        return Err("rendered output is out of proportion".into());
    }
    if let Some(fs) = &out.flowsheet {
        // the downstream graph must accept whatever check accepts
        if let Err(e) = sxplan_graph::StageGraph::build(fs) {
            return Err(format!(
                "check accepted a flowsheet the stage graph rejects: {e}"
            ));
        }
    }
    Ok(())
}

fn run_lib(case: &str, src: &str) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let out = check_str(src);
        check_invariants(src, &out)
    }));
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{case}: {e}\ninput: {src:?}"),
        Err(_) => panic!("{case}: check_str panicked\ninput: {src:?}"),
    }
}

#[test]
fn random_inputs_and_mutations_never_panic_in_the_library() {
    let cases: usize = std::env::var("SXPLAN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12_000);
    let seeds = seeds();
    let mut rng = Rng(0x5EED_0F5C_0FFE_E000);
    let mut accepted = 0usize;
    for i in 0..cases {
        let bytes = if i % 4 == 0 {
            random_bytes(&mut rng)
        } else {
            let s = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, s)
        };
        let src = String::from_utf8_lossy(&bytes);
        run_lib(&format!("case {i}"), &src);
        if check_str(&src).flowsheet.is_some() {
            accepted += 1;
        }
    }
    // The mutations must not be so destructive that nothing survives (then the deep paths of
    // lowering would go untested) nor so gentle that everything does.
    assert!(
        accepted > cases / 50,
        "only {accepted} of {cases} inputs were valid"
    );
    assert!(
        accepted < cases / 2,
        "{accepted} of {cases} inputs were valid"
    );
}

#[test]
fn hostile_inputs_get_clean_errors() {
    let deep_arrays = format!(
        "schema = 1\na = {}1{}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let deep_tables = format!(
        "schema = 1\na = {}1{}",
        "{b = ".repeat(20_000),
        "}".repeat(20_000)
    );
    let deep_keys = format!("schema = 1\n{} = 1\n", vec!["k"; 50_000].join("."));
    let deep_header = format!("schema = 1\n[{}]\n", vec!["k"; 50_000].join("."));
    let huge_string = format!("schema = 1\nname = \"{}\"\n", "x".repeat(2_000_000));
    let huge_key = format!("schema = 1\n{} = 1\n", "k".repeat(1_000_000));
    let long_line = format!(
        "schema = 1\nfeed = [{{ {} }}]\n",
        (0..20_000)
            .map(|i| format!("k{i} = 1"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let too_big = "#".repeat(sxplan_model::MAX_SOURCE_BYTES + 1);
    let many_circuits = format!(
        "schema = 1\n{}",
        (0..2_000)
            .map(|i| format!("[[circuit]]\nname = \"c{i}\"\nsections = [{{ kind = \"extraction\", stages = 100000 }}]\n"))
            .collect::<String>()
    );
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("only schema", "schema = 1\n".into()),
        ("nul bytes", "schema = 1\nname = \"a\0b\"\n\0\0\0".into()),
        ("nul in key", "schema = 1\n\0 = 1\n".into()),
        ("bom", "\u{FEFF}schema = 1\n".into()),
        ("crlf", "schema = 1\r\nname = 5\r\n".into()),
        ("integer overflow schema", "schema = 99999999999999999999999999\n".into()),
        ("negative schema", "schema = -1\n".into()),
        ("integer overflow stages", "schema = 1\n[[circuit]]\nname = \"c\"\nsections = [{ kind = \"extraction\", stages = 18446744073709551616 }]\n".into()),
        ("i64 min stages", "schema = 1\n[[circuit]]\nname = \"c\"\nsections = [{ kind = \"extraction\", stages = -9223372036854775808 }]\n".into()),
        ("hex stages", "schema = 1\n[[circuit]]\nname = \"c\"\nsections = [{ kind = \"extraction\", stages = 0xffffffffffffffff }]\n".into()),
        ("mixer inlets overflow", "schema = 1\n[[mixer]]\nname = \"m\"\ninlets = 9223372036854775807\n".into()),
        ("float overflow", "schema = 1\n[[feed]]\nname = \"f\"\nflow = \"1e308 m3/h\"\nph = 1e308\nconc = { Nd = \"1e308 g/L\" }\n".into()),
        ("deep arrays", deep_arrays),
        ("deep inline tables", deep_tables),
        ("deep dotted keys", deep_keys),
        ("deep header", deep_header),
        ("huge string", huge_string),
        ("huge key", huge_key),
        ("one long line of unknown keys", long_line),
        ("too big", too_big),
        ("many huge circuits", many_circuits),
        ("unicode everywhere", "schema = 1\nname = \"流程\"\n[[feed]]\nname = \"é\"\nflow = \"1 m³/h\"\n".into()),
    ];
    for (name, src) in &cases {
        run_lib(name, src);
        let out = check_str(src);
        if *name != "only schema"
            && *name != "empty"
            && *name != "bom"
            && *name != "unicode everywhere"
        {
            assert!(out.error_count() > 0, "{name}: no error");
        }
    }
    let out = check_str(
        &cases
            .iter()
            .find(|(n, _)| *n == "too big")
            .map(|(_, s)| s.clone())
            .unwrap_or_default(),
    );
    assert_eq!(out.diagnostics[0].code, sxplan_model::codes::TOO_LARGE);
    let out = check_str(
        &cases
            .iter()
            .find(|(n, _)| *n == "one long line of unknown keys")
            .map(|(_, s)| s.clone())
            .unwrap_or_default(),
    );
    assert_eq!(out.diagnostics.len(), 501, "capped at 500 plus the note");
}

/// Writes `bytes` to a private temporary file and runs `sxplan check` on it in-process.
fn run_cli(path: &std::path::Path, bytes: &[u8], json: bool) -> Exit {
    std::fs::write(path, bytes).unwrap_or_default();
    let shown = path.display().to_string();
    let mut args = vec!["sxplan", "check"];
    if json {
        args.extend(["--format", "json"]);
    }
    args.push(&shown);
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exit = catch_unwind(AssertUnwindSafe(|| run(args, &mut out, &mut err)))
        .unwrap_or_else(|_| panic!("cli panicked on {:?}", String::from_utf8_lossy(bytes)));
    if json {
        // JSON output stays parseable whatever the input
        if exit != Exit::Usage {
            let v: Result<serde_json::Value, _> = serde_json::from_slice(&out);
            assert!(
                v.is_ok(),
                "invalid JSON for {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    exit
}

#[test]
fn cli_never_panics_and_exits_0_1_or_2() {
    let dir = std::env::temp_dir().join(format!("sxplan-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let path = dir.join("case.toml");
    let seeds = seeds();
    let mut rng = Rng(0xC11_F022);
    let mut exits = [0usize; 3];
    for i in 0..2_000 {
        let mut bytes = if i % 3 == 0 {
            random_bytes(&mut rng)
        } else {
            let s = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, s)
        };
        if i % 7 == 0 && !bytes.is_empty() {
            // invalid UTF-8: a lone continuation byte or a truncated sequence
            let k = rng.below(bytes.len());
            bytes[k] = [0x80u8, 0xC3, 0xFF, 0xED][rng.below(4)];
        }
        let exit = run_cli(&path, &bytes, i % 2 == 0);
        exits[usize::from(exit.code())] += 1;
        if std::str::from_utf8(&bytes).is_err() {
            // read but not UTF-8: an error in the input, like any other (STYLE.md: 2 is for
            // usage and I/O only)
            assert_eq!(exit, Exit::Failure, "invalid UTF-8 must be an input error");
        } else if exit == Exit::Usage {
            // a readable file is exit 2 only through an include that cannot be read
            assert!(
                bytes.windows(7).any(|w| w == b"include"),
                "exit 2 for a readable file without includes: {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(exits[0] > 0 && exits[1] > 0, "exit codes seen: {exits:?}");
}
