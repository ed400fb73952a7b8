//! A sweep as a real Slurm job array (issue 18): a 4-task array on a single-node Slurm
//! (scripts/slurm-local.sh start), merged, gives byte for byte the aggregates of one process;
//! a task killed half-way and rerun resumes its shard.
//!
//! Needs a running Slurm: it runs only with `SXPLAN_SLURM_TEST=1` (.ci/run sets it after
//! starting the local cluster) and is otherwise a no-op that says so.

use std::path::{Path, PathBuf};
use std::process::Command;

fn enabled() -> bool {
    std::env::var("SXPLAN_SLURM_TEST").is_ok_and(|v| v == "1")
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sxplan")
}

fn run(cmd: &mut Command) -> String {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: cannot start: {e}"));
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(o.status.success(), "{cmd:?}: {}\n{out}\n{err}", o.status);
    format!("{out}{err}")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The sbatch script of docs/cluster.md, for `manifest` into `out`.
fn script(dir: &Path, manifest: &Path, out: &Path) -> PathBuf {
    let p = dir.join("sweep.sbatch");
    std::fs::write(
        &p,
        format!(
            "#!/bin/bash\n\
             #SBATCH --job-name=sxplan-sweep\n\
             #SBATCH --cpus-per-task=1\n\
             #SBATCH --output={out}/slurm-%A_%a.out\n\
             echo \"task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT on $(hostname)\"\n\
             exec {bin} sweep {manifest} --out {out} --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\" \"$@\"\n",
            bin = bin(),
            manifest = manifest.display(),
            out = out.display(),
        ),
    )
    .unwrap();
    p
}

#[test]
fn a_four_task_array_merged_equals_one_process() {
    if !enabled() {
        eprintln!(
            "skipped: set SXPLAN_SLURM_TEST=1 with a running Slurm (scripts/slurm-local.sh start)"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("sxplan-slurm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let flowsheet = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("flowsheets/pr-nd.toml");
    let manifest = dir.join("sweep.toml");
    std::fs::write(
        &manifest,
        format!(
            "flowsheet = \"{}\"\nsamples = 16\nseed = 7\nsampling = \"latin_hypercube\"\nmode = \"simulate\"\n\n\
             [[input]]\nname = \"beta Nd\"\ntarget = \"circuit.PrNd.beta.Nd\"\n\
             distribution = {{ kind = \"uniform\", low = 0.9, high = 1.1, relative = true }}\n",
            flowsheet.display()
        ),
    )
    .unwrap();

    // one process
    let single = dir.join("single");
    run(Command::new(bin())
        .args(["sweep", "--quiet"])
        .arg(&manifest)
        .arg("--out")
        .arg(&single)
        .args(["--jobs", "2"]));

    // the array: four tasks, each its shard from SLURM_ARRAY_TASK_ID / _COUNT
    let array = dir.join("array");
    std::fs::create_dir_all(&array).unwrap();
    let sb = script(&dir, &manifest, &array);
    let submitted = run(Command::new("sbatch")
        .args(["--wait", "--array=0-3"])
        .arg(&sb));
    eprintln!("{}", submitted.trim());
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&array)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "out"))
        .collect();
    logs.sort();
    assert_eq!(logs.len(), 4, "one log per task");
    for l in &logs {
        let text = read(l);
        eprintln!(
            "{}: {}",
            l.file_name().unwrap().to_string_lossy(),
            text.lines().next().unwrap_or("")
        );
        assert!(text.contains("of 4 on"), "{text}");
    }
    for i in 0..4 {
        let f = array.join(format!("samples.shard-{i}-of-4.jsonl"));
        assert_eq!(read(&f).lines().count(), 1 + 4, "{}", f.display());
    }
    let merged = array.join("merged");
    let text = run(Command::new(bin())
        .arg("merge")
        .arg(&array)
        .arg("--out")
        .arg(&merged));
    eprintln!("{}", text.lines().take(5).collect::<Vec<_>>().join("\n"));
    let want = read(&single.join("aggregates.json"));
    assert_eq!(
        read(&merged.join("aggregates.json")),
        want,
        "4 array tasks merged against one process"
    );
    eprintln!(
        "aggregates.json: {} bytes, identical for the single process and the merged 4-task array",
        want.len()
    );

    // task 2 killed half-way through a line, then rerun as its own array task
    let shard2 = array.join("samples.shard-2-of-4.jsonl");
    let full = read(&shard2);
    let cut = full.len() - full.lines().last().unwrap().len() / 2 - 1;
    std::fs::write(&shard2, &full[..cut]).unwrap();
    let rerun = run(Command::new("sbatch")
        .args(["--wait", "--array=2"])
        .arg(&sb)
        .args(["--shard", "2/4"]));
    eprintln!("{}", rerun.trim());
    assert_eq!(
        read(&shard2),
        full,
        "the rerun task finished its shard without repeating it"
    );
    let log: String = std::fs::read_dir(&array)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("_2.out"))
        .map(|p| read(&p))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        log.contains("3 sample(s) already done, a half-written last line dropped"),
        "{log}"
    );
    let again = dir.join("again");
    run(Command::new(bin())
        .arg("merge")
        .arg(&array)
        .arg("--out")
        .arg(&again));
    assert_eq!(read(&again.join("aggregates.json")), want);
    eprintln!(
        "rerun of task 2 resumed: {}",
        log.lines().find(|l| l.contains("resuming")).unwrap_or("")
    );
}
