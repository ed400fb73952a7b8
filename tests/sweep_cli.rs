//! `sxplan sweep` and `sxplan merge` end to end on the shipped Pr/Nd circuit: the aggregates
//! are byte-identical for 1, 2 and 4 threads and for 4 shards merged; a killed run resumes
//! without running a sample twice; the shard variables of a Slurm array are honoured; merging
//! an incomplete or mixed set is refused naming what is missing; bad manifests get located
//! messages and exit 1.

use std::path::{Path, PathBuf};

use sxplan::cli::Exit;

mod common;
use common::{cli, root, scratch};

/// A manifest over pr-nd.toml (copied beside it, so the relative path is exercised) with
/// `samples` samples and three inputs of three kinds: a separation factor, a feed
/// concentration and an operating variable.
fn manifest(dir: &Path, samples: usize) -> PathBuf {
    std::fs::copy(root().join("flowsheets/pr-nd.toml"), dir.join("pr-nd.toml")).unwrap();
    let m = dir.join("sweep.toml");
    std::fs::write(
        &m,
        format!(
            r#"flowsheet = "pr-nd.toml"
samples = {samples}
seed = 11
sampling = "latin_hypercube"
mode = "simulate"

[[input]]
name = "beta Nd"
target = "circuit.PrNd.beta.Nd"
distribution = {{ kind = "uniform", low = 0.9, high = 1.1, relative = true }}

[[input]]
name = "feed Nd"
target = "feed.prnd_liquor.conc.Nd"
distribution = {{ kind = "normal", mean = 1.0, sd = 0.05, relative = true }}

[[input]]
name = "organic flow"
target = "operating.organic_flow.PrNd"
distribution = {{ kind = "triangular", low = 4.0, mode = 4.3, high = 4.6 }}
"#
        ),
    )
    .unwrap();
    m
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn sweep(args: &[&str]) -> (Exit, String, String) {
    let mut all = vec!["sweep", "--quiet"];
    all.extend_from_slice(args);
    cli(&all)
}

#[test]
fn aggregates_are_identical_for_any_thread_count_and_for_merged_shards() {
    let dir = scratch("sweep", "threads");
    let m = manifest(&dir, 40);
    let mut aggregates = Vec::new();
    let mut samples = Vec::new();
    for jobs in ["1", "2", "4"] {
        let out = dir.join(format!("jobs{jobs}"));
        let (code, text, err) = sweep(&[s(&m), "--out", s(&out), "--jobs", jobs]);
        assert_eq!(code, Exit::Ok, "{err}");
        assert!(text.contains("40 samples"), "{text}");
        for f in [
            "aggregates.json",
            "report.html",
            "report.md",
            "hist_margin.svg",
        ] {
            assert!(out.join(f).is_file(), "--jobs {jobs}: {f} missing");
        }
        aggregates.push(read(&out.join("aggregates.json")));
        samples.push(read(&out.join("samples.jsonl")));
    }
    assert_eq!(aggregates[0], aggregates[1], "1 against 2 threads");
    assert_eq!(aggregates[0], aggregates[2], "1 against 4 threads");
    assert_eq!(samples[0], samples[2], "the sample file is in index order");
    assert_eq!(samples[0].lines().count(), 41, "a header and 40 samples");
    let doc: serde_json::Value = serde_json::from_str(&aggregates[0]).unwrap();
    assert_eq!(doc["kind"], "sweep_aggregates");
    assert_eq!(doc["samples"], 40);
    let statuses = doc["statuses"].as_array().unwrap();
    assert!(!statuses.is_empty());
    // the separation factor moves the purities: the rank correlation must see it
    let drivers = doc["drivers"].as_array().unwrap();
    let nd = drivers
        .iter()
        .find(|d| d["output"] == "purity Nd_chloride")
        .expect("drivers of the Nd product");
    let rho = |name: &str| {
        nd["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["input"] == name)
            .and_then(|i| i["spearman"].as_f64())
            .unwrap_or_else(|| panic!("{name}: {nd}"))
    };
    // a wider separation and a richer Nd feed both purify the Nd product
    assert!(rho("beta Nd") > 0.3, "{nd}");
    assert!(rho("feed Nd") > 0.5, "{nd}");

    // four shards, two of them through the Slurm array variables, then merged
    let shards = dir.join("shards");
    for i in 0..4 {
        let (code, _, err) = sweep(&[
            s(&m),
            "--out",
            s(&shards),
            "--jobs",
            "2",
            "--shard",
            &format!("{i}/4"),
        ]);
        assert_eq!(code, Exit::Ok, "shard {i}: {err}");
        assert!(err.contains("sxplan merge"), "{err}");
        assert!(
            !shards.join("aggregates.json").exists(),
            "a shard writes no aggregates"
        );
    }
    let merged = dir.join("merged");
    let (code, text, err) = cli(&["merge", s(&shards), "--out", s(&merged)]);
    assert_eq!(code, Exit::Ok, "{err}");
    assert!(text.contains("P(spec)"), "{text}");
    assert_eq!(
        read(&merged.join("aggregates.json")),
        aggregates[0],
        "4 shards merged against one run"
    );
}

#[test]
fn slurm_array_variables_choose_the_shard() {
    let dir = scratch("sweep", "slurm");
    let m = manifest(&dir, 12);
    let out = dir.join("out");
    // the binary, so the variables are its own and not this test process's
    let bin = env!("CARGO_BIN_EXE_sxplan");
    for (id, min) in [("1", "1"), ("2", "1"), ("3", "1")] {
        let o = std::process::Command::new(bin)
            .args(["sweep", "--quiet", s(&m), "--out", s(&out)])
            .env("SLURM_ARRAY_TASK_ID", id)
            .env("SLURM_ARRAY_TASK_MIN", min)
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for i in 0..3 {
        let f = out.join(format!("samples.shard-{i}-of-3.jsonl"));
        assert_eq!(read(&f).lines().count(), 1 + 4, "{}", f.display());
    }
    // --shard wins over the variables; a shard that does not exist is refused
    let o = std::process::Command::new(bin)
        .args([
            "sweep",
            "--quiet",
            s(&m),
            "--out",
            s(&out),
            "--shard",
            "5/3",
        ])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("shard 5 of 3 does not exist"), "{err}");
    let (code, _, err) = cli(&["merge", s(&out), "--out", s(&dir.join("m"))]);
    assert_eq!(code, Exit::Ok, "{err}");
}

#[test]
fn a_killed_run_resumes_and_an_incomplete_merge_names_what_is_missing() {
    let dir = scratch("sweep", "resume");
    let m = manifest(&dir, 20);
    let full = dir.join("full");
    let (code, _, err) = sweep(&[s(&m), "--out", s(&full)]);
    assert_eq!(code, Exit::Ok, "{err}");
    let whole = read(&full.join("samples.jsonl"));

    // a run killed in the middle of writing sample 12: keep 12 samples and half a line
    let part = dir.join("part");
    std::fs::create_dir_all(&part).unwrap();
    let lines: Vec<&str> = whole.split_inclusive('\n').collect();
    let mut torn: String = lines[..13].concat();
    torn.push_str(&lines[13][..lines[13].len() / 2]);
    std::fs::write(part.join("samples.jsonl"), &torn).unwrap();
    let (code, _, err) = cli(&["sweep", s(&m), "--out", s(&part)]);
    assert_eq!(code, Exit::Ok, "{err}");
    assert!(
        err.contains("12 sample(s) already done, a half-written last line dropped"),
        "{err}"
    );
    assert!(err.contains("8 sample(s) run"), "{err}");
    assert_eq!(
        read(&part.join("samples.jsonl")),
        whole,
        "resumed = uninterrupted"
    );
    assert_eq!(
        read(&part.join("aggregates.json")),
        read(&full.join("aggregates.json"))
    );
    // a finished run rerun does nothing
    let (code, _, err) = cli(&["sweep", s(&m), "--out", s(&part)]);
    assert_eq!(code, Exit::Ok, "{err}");
    assert!(err.contains("0 sample(s) run"), "{err}");

    // two of three shards: merge names the missing samples and the shard to rerun
    let shards = dir.join("shards");
    for i in [0, 2] {
        let (code, _, err) = sweep(&[s(&m), "--out", s(&shards), "--shard", &format!("{i}/3")]);
        assert_eq!(code, Exit::Ok, "{err}");
    }
    let (code, _, err) = cli(&["merge", s(&shards)]);
    assert_eq!(code, Exit::Failure);
    assert!(
        err.contains(
            "7 of 20 samples are missing (1, 4, 7, 10, 13, 16, 19); rerun shard(s) 1 of 3"
        ),
        "{err}"
    );
    // a whole run and its shards do not mix
    let (code, _, err) = cli(&["merge", s(&full), s(&shards)]);
    assert_eq!(code, Exit::Failure);
    assert!(err.contains("is in both"), "{err}");

    // another sweep's file in the directory is not appended to
    let m2 = dir.join("sweep2.toml");
    std::fs::write(&m2, read(&m).replace("seed = 11", "seed = 12")).unwrap();
    let (code, _, err) = sweep(&[s(&m2), "--out", s(&full)]);
    assert_eq!(code, Exit::Failure);
    assert!(err.contains("holds samples of another sweep"), "{err}");
    assert!(err.contains("seed 11") && err.contains("seed 12"), "{err}");
}

#[test]
fn bad_manifests_are_located() {
    let dir = scratch("sweep", "bad");
    let m = manifest(&dir, 10);
    let good = read(&m);
    let case = |name: &str, text: String| -> String {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        let (code, _, err) = sweep(&[s(&p), "--out", s(&dir.join("o"))]);
        assert_ne!(code, Exit::Ok, "{name}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        err
    };
    let err = case(
        "target.toml",
        good.replace("circuit.PrNd.beta.Nd", "circuit.PrNd.beta.Xx"),
    );
    assert!(err.contains("target.toml:9:10"), "{err}");
    assert!(err.contains("Xx"), "{err}");
    let err = case(
        "circuit.toml",
        good.replace("circuit.PrNd.beta.Nd", "circuit.NdSm.beta.Nd"),
    );
    assert!(
        err.contains("NdSm") && err.contains("PrNd"),
        "names the circuits there are: {err}"
    );
    let err = case("kind.toml", good.replace("uniform", "gamma"));
    assert!(err.contains("unknown distribution \"gamma\""), "{err}");
    assert!(err.contains("kind.toml:10:"), "{err}");
    let err = case(
        "samples.toml",
        good.replace("samples = 10", "samples = \"ten\""),
    );
    assert!(err.contains("samples.toml:2:"), "{err}");
    let err = case("sd.toml", good.replace("sd = 0.05", "sd = -1"));
    assert!(err.contains("normal sd = -1: expected > 0"), "{err}");
    let err = case(
        "noinput.toml",
        good[..good.find("[[input]]").unwrap()].to_string(),
    );
    assert!(err.contains("nothing is uncertain"), "{err}");
    let err = case(
        "unknown.toml",
        good.replace(
            "target = \"circuit.PrNd.beta.Nd\"",
            "target = \"nothing.here\"",
        ),
    );
    assert!(
        err.contains("targets: circuit.<C>.beta.<El>"),
        "lists the target forms: {err}"
    );
    let err = case("fs.toml", good.replace("pr-nd.toml", "missing.toml"));
    assert!(err.contains("missing.toml"), "{err}");
    let (code, _, err) = sweep(&[s(&m), "--out", s(&dir.join("o")), "--jobs", "100000"]);
    assert_eq!(code, Exit::Usage);
    assert!(
        err.contains("--jobs 100000: 100000 threads asked for: at most 1024"),
        "{err}"
    );
}

#[test]
fn the_shipped_flagship_manifest_resolves_and_runs_a_shard() {
    // two of its 1,000 samples (shard 0 of 500): every target resolves on the flagship
    let dir = scratch("sweep", "flagship");
    let m = root().join("flowsheets/sweeps/minamitorishima.toml");
    let (code, _, err) = sweep(&[s(&m), "--out", s(&dir), "--shard", "0/500", "--jobs", "2"]);
    assert_eq!(code, Exit::Ok, "{err}");
    let text = read(&dir.join("samples.shard-0-of-500.jsonl"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let header: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(header["samples"], 1000);
    assert_eq!(header["inputs"].as_array().unwrap().len(), 9);
    assert_eq!(header["units"][5], "US$/kg");
    for l in &lines[1..] {
        let r: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(r["status"], "converged", "{l}");
        assert_eq!(r["products"].as_array().unwrap().len(), 11);
    }
}

/// `src` with the keys of its `[circuit.equilibrium]` table replaced by `fragment`.
fn with_equilibrium(src: &str, fragment: &str) -> String {
    let head = "[circuit.equilibrium]\n";
    let i = src.find(head).expect("an equilibrium table") + head.len();
    let j = src[i..].find("\n\n").map_or(src.len(), |k| i + k);
    format!("{}{}{}", &src[..i], fragment, &src[j..])
}

#[test]
fn a_fit_is_drawn_jointly_with_its_covariance() {
    let dir = scratch("sweep", "fit");
    let data = root().join("tests/data/fit/p507_synthetic.csv");
    let fit_dir = dir.join("lab");
    let (code, _, err) = cli(&["fit", s(&data), "--out", s(&fit_dir)]);
    assert_eq!(code, Exit::Ok, "{err}");
    let base = read(&root().join("tests/data/ok/empirical_model.toml"));
    std::fs::write(
        dir.join("fitted.toml"),
        with_equilibrium(&base, &read(&fit_dir.join("fit.toml"))),
    )
    .unwrap();
    let m = dir.join("sweep.toml");
    std::fs::write(
        &m,
        "flowsheet = \"fitted.toml\"\nsamples = 60\nseed = 5\n\n\
         [[fit]]\nname = \"lab\"\ncircuit = \"PrNd\"\ndata = \"lab/fit.json\"\n",
    )
    .unwrap();
    let out = dir.join("out");
    let (code, text, err) = sweep(&[s(&m), "--out", s(&out)]);
    assert_eq!(code, Exit::Ok, "{err}\n{text}");
    let fit: serde_json::Value = serde_json::from_str(&read(&fit_dir.join("fit.json"))).unwrap();
    let params = fit["params"].as_array().unwrap();
    let lines: Vec<serde_json::Value> = read(&out.join("samples.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let inputs = lines[0]["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), params.len(), "one input per fitted parameter");
    assert_eq!(inputs[0], "lab a Pr", "{inputs:?}");
    let samples = &lines[1..];
    assert_eq!(samples.len(), 60);
    let converged = samples
        .iter()
        .filter(|r| r["status"] == "converged")
        .count();
    assert!(converged >= 54, "{converged} of 60 converged");
    // the draws reproduce the estimate and the correlation of a and b of one element
    let col = |k: usize| -> Vec<f64> {
        samples
            .iter()
            .map(|r| r["values"][k].as_f64().unwrap())
            .collect()
    };
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        (
            m,
            (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt(),
        )
    };
    let cov = fit["covariance"].as_array().unwrap();
    for (k, p) in params.iter().enumerate() {
        let (mean, sd) = stats(&col(k));
        let se = p["std_error"].as_f64().unwrap();
        let v = p["value"].as_f64().unwrap();
        assert!(
            (mean - v).abs() < 4.0 * se / 60f64.sqrt(),
            "{}: mean {mean} against {v}",
            inputs[k]
        );
        assert!(
            sd > 0.6 * se && sd < 1.4 * se,
            "{}: sd {sd} against {se}",
            inputs[k]
        );
    }
    let (ia, ib) = (
        inputs.iter().position(|i| i == "lab a Nd").unwrap(),
        inputs.iter().position(|i| i == "lab b Nd").unwrap(),
    );
    let c = |i: usize, j: usize| cov[i][j].as_f64().unwrap();
    let want = c(ia, ib) / (c(ia, ia) * c(ib, ib)).sqrt();
    let (xa, xb) = (col(ia), col(ib));
    let ((ma, sa), (mb, sb)) = (stats(&xa), stats(&xb));
    let got = xa
        .iter()
        .zip(&xb)
        .map(|(a, b)| (a - ma) * (b - mb))
        .sum::<f64>()
        / 59.0
        / (sa * sb);
    assert!(want.abs() > 0.5, "the fit correlates a and b of Nd: {want}");
    assert!(
        (got - want).abs() < 0.25,
        "sample correlation {got} against the fit's {want}"
    );

    // a fit of one model into a circuit of another is refused where the circuit is named
    let m2 = dir.join("wrong.toml");
    std::fs::copy(root().join("flowsheets/pr-nd.toml"), dir.join("pr-nd.toml")).unwrap();
    std::fs::write(
        &m2,
        "flowsheet = \"pr-nd.toml\"\nsamples = 4\nseed = 5\n\n\
         [[fit]]\nname = \"lab\"\ncircuit = \"PrNd\"\ndata = \"lab/fit.json\"\n",
    )
    .unwrap();
    let (code, _, err) = sweep(&[s(&m2), "--out", s(&dir.join("o2"))]);
    assert_eq!(code, Exit::Failure);
    assert!(
        err.contains("wrong.toml:7:11") && err.contains("has another equilibrium model"),
        "{err}"
    );
    // and a missing document where its path is
    std::fs::write(&m2, read(&m2).replace("lab/fit.json", "lab/none.json")).unwrap();
    let (code, _, err) = sweep(&[s(&m2), "--out", s(&dir.join("o2"))]);
    assert_eq!(code, Exit::Failure);
    assert!(
        err.contains("wrong.toml:8:8") && err.contains("none.json"),
        "{err}"
    );
}

#[test]
fn each_sample_can_be_optimized() {
    let dir = scratch("sweep", "optimize");
    let m = manifest(&dir, 4);
    std::fs::write(
        &m,
        read(&m).replace("mode = \"simulate\"", "mode = \"optimize\""),
    )
    .unwrap();
    let out = dir.join("out");
    let (code, text, err) = sweep(&[s(&m), "--out", s(&out), "--jobs", "2"]);
    assert_eq!(code, Exit::Ok, "{err}");
    assert!(text.contains("each optimized"), "{text}");
    let records: Vec<serde_json::Value> = read(&out.join("samples.jsonl"))
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4);
    for r in &records {
        // the Pr/Nd circuit's [optimize] maximizes throughput under its purity specs
        assert_eq!(r["status"], "optimal", "{r}");
    }
}

#[test]
fn a_design_too_large_to_hold_is_refused_before_it_is_drawn() {
    let dir = scratch("sweep", "cells");
    let m = manifest(&dir, 10);
    let mut text = read(&m).replace("samples = 10", "samples = 1000000");
    for k in 0..60 {
        text.push_str(&format!(
            "\n[[input]]\nname = \"extra {k}\"\ntarget = \"circuit.PrNd.beta.Nd\"\ndistribution = {{ kind = \"uniform\", low = 0.9, high = 1.1, relative = true }}\n"
        ));
    }
    std::fs::write(&m, text).unwrap();
    let (code, _, err) = sweep(&[s(&m), "--out", s(&dir.join("o"))]);
    assert_eq!(code, Exit::Failure, "{err}");
    assert!(
        err.contains("sweep.toml:2:11") && err.contains("63000000 cells"),
        "{err}"
    );
    assert!(err.contains("use at most 793650 samples"), "{err}");
}

/// Two samples of the flagship manifest whose EuGd circuit (beta continuation at 0.82x and
/// 0.94x the mud grade) once ended iteration_limit after 4,000 chain iterations: they converge.
#[test]
fn flagship_samples_that_once_stalled_the_continuation_converge() {
    let m = root().join("flowsheets/sweeps/minamitorishima.toml");
    for index in ["441", "474"] {
        let dir = scratch("sweep", &format!("stalled-{index}"));
        let (code, _, err) = sweep(&[s(&m), "--out", s(&dir), "--shard", &format!("{index}/1000")]);
        assert_eq!(code, Exit::Ok, "{err}");
        let text = read(&dir.join(format!("samples.shard-{index}-of-1000.jsonl")));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let r: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(r["index"], index.parse::<u64>().unwrap());
        assert_eq!(r["status"], "converged", "{r}");
    }
}

/// An organic flow too small for the extraction ratios loads the organic beyond what the
/// extractant holds: that sample is `infeasible`, with the simulator's reason and no plant
/// figures, and counts as not meeting the specs.
#[test]
fn a_sample_without_a_steady_state_is_an_outcome_with_its_reason() {
    let dir = scratch("sweep", "infeasible");
    std::fs::copy(root().join("flowsheets/pr-nd.toml"), dir.join("pr-nd.toml")).unwrap();
    let m = dir.join("sweep.toml");
    std::fs::write(
        &m,
        "flowsheet = \"pr-nd.toml\"\nsamples = 6\nseed = 1\n\n[[input]]\nname = \"organic flow\"\n\
         target = \"operating.organic_flow.PrNd\"\ndistribution = { kind = \"uniform\", low = 0.3, high = 8.0 }\n",
    )
    .unwrap();
    let out = dir.join("out");
    let (code, text, err) = sweep(&[s(&m), "--out", s(&out)]);
    assert_eq!(code, Exit::Ok, "{err}");
    assert!(
        text.contains("statuses: converged 5, infeasible 1"),
        "{text}"
    );
    let bad: serde_json::Value = read(&out.join("samples.jsonl"))
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["status"] != "converged")
        .unwrap();
    assert_eq!(bad["status"], "infeasible");
    assert!(
        bad["reason"]
            .as_str()
            .unwrap()
            .contains("beyond the 0.500 mol/L"),
        "{bad}"
    );
    assert_eq!(bad["products"].as_array().unwrap().len(), 0, "{bad}");
    assert!(bad["margin_usd_per_year"].is_null(), "{bad}");
    let agg: serde_json::Value = serde_json::from_str(&read(&out.join("aggregates.json"))).unwrap();
    let nd = &agg["products"][0];
    assert_eq!(nd["spec_met"], 5, "{nd}");
    assert!(
        (nd["p_spec_met"].as_f64().unwrap() - 5.0 / 6.0).abs() < 1e-12,
        "{nd}"
    );
    assert_eq!(agg["margin_usd_per_year"]["n"], 5);
}
