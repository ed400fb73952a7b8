//! Hardening round 2 (issue 15), absurd magnitudes: each of the issue's reproducers (one number
//! changed in `flowsheets/reflux.toml`) is refused by `check` with a located E0208 before any
//! solver runs, through every command; flag values of `design`, `scenarios` and `optimize` are
//! refused the same way; numbers in messages are in scientific notation.

use sxplan::cli::Exit;

mod common;
use common::{cli, root};

/// `flowsheets/reflux.toml` with the `n`-th occurrence (0-based) of `from` replaced by `to`.
fn reflux_with(from: &str, to: &str, n: usize) -> String {
    let text = std::fs::read_to_string(root().join("flowsheets/reflux.toml")).unwrap();
    let at = text
        .match_indices(from)
        .nth(n)
        .unwrap_or_else(|| panic!("{from} not in reflux.toml"))
        .0;
    format!("{}{to}{}", &text[..at], &text[at + from.len()..])
}

/// (what, from, to, occurrence, expected message part)
const CASES: &[(&str, &str, &str, usize, &str)] = &[
    (
        "feed concentration 1e308 mol/L",
        "La = \"0.30 mol/L\"",
        "La = \"1e308 mol/L\"",
        0,
        "`conc` `La`: 1e308 mol/L is above 6 mol/L",
    ),
    (
        "beta 1e-320",
        "Ce = 2.3,",
        "Ce = 1e-320,",
        0,
        "`beta` `Ce`: 1e-320 is below 1e-12",
    ),
    (
        "beta 1e308",
        "Ce = 2.3,",
        "Ce = 1e308,",
        0,
        "`beta` `Ce`: 1e308 is above 1e12",
    ),
    (
        "beta 1e30",
        "Ce = 2.3,",
        "Ce = 1e30,",
        1,
        "`beta` `Ce`: 1e30 is above 1e12",
    ),
    (
        "scrub acid 1e308 mol/L",
        "scrub = { acid = \"HCl\", conc = \"6 mol/L\"",
        "scrub = { acid = \"HCl\", conc = \"1e308 mol/L\"",
        0,
        "`scrub` solution `conc`: 1e308 mol/L is above 24 mol/L",
    ),
    (
        "extractant 1e308 mol/L",
        "conc = \"1.5 mol/L\"",
        "conc = \"1e308 mol/L\"",
        0,
        "`organic` `conc`: 1e308 mol/L is above 4 mol/L",
    ),
    (
        "organic flow 1e-320",
        "flow = \"12 m3/h\"",
        "flow = \"1e-320 m3/h\"",
        0,
        "`organic` `flow`: 1e-320 m3/h is below 1e-9 m3/h",
    ),
    (
        "strip flow 1e-320",
        "flow = \"0.5 m3/h\"",
        "flow = \"1e-320 m3/h\"",
        0,
        "`strip` solution `flow`: 1e-320 m3/h is below 1e-9 m3/h",
    ),
    (
        "strip flow 4.9e-324 L/h (0 in m3/h)",
        "flow = \"0.5 m3/h\"",
        "flow = \"4.9e-324 L/h\"",
        0,
        "`strip` solution `flow`: 5e-324 (0 in m3/h: below the smallest f64) is below 1e-9 m3/h",
    ),
    (
        "feed 1e30 m3/h",
        "flow = \"3.761043825911 m3/h\"",
        "flow = \"1e30 m3/h\"",
        0,
        "`flow`: 1e30 m3/h is above 1e8 m3/h",
    ),
];

#[test]
fn the_issues_absurd_magnitudes_are_refused_by_check_in_every_command() {
    let dir = common::scratch("harden", "magnitudes");
    let mut exercised = 0;
    for (what, from, to, n, expected) in CASES {
        let f = dir.join("reflux.toml");
        std::fs::write(&f, reflux_with(from, to, *n)).unwrap();
        let f = f.display().to_string();
        for cmd in ["check", "simulate", "optimize"] {
            let (exit, out, err) = cli(&[cmd, &f]);
            assert_eq!(exit, Exit::Failure, "{cmd} {what}: {err}");
            assert!(!out.contains("converged"), "{cmd} {what}: {out}");
            assert!(err.contains("error[E0208]: "), "{cmd} {what}: {err}");
            assert!(err.contains(expected), "{cmd} {what}: {err}");
            // located, with the basis of the range as the hint
            assert!(err.contains("reflux.toml:"), "{cmd} {what}: {err}");
            assert!(err.contains("= help: "), "{cmd} {what}: {err}");
            // never a long decimal expansion
            assert!(!err.contains("0000000000"), "{cmd} {what}: {err}");
            exercised += 1;
        }
    }
    assert_eq!(exercised, CASES.len() * 3);
}

#[test]
fn every_plausible_range_is_ordered_and_documented() {
    let doc = std::fs::read_to_string(root().join("docs/hardening.md")).unwrap();
    for p in sxplan::model::plausible::ALL {
        assert!(
            p.error_min <= p.warn_min && p.warn_min <= p.warn_max && p.warn_max <= p.error_max,
            "{}",
            p.name
        );
        assert!(!p.basis.is_empty());
        assert!(
            doc.contains(&format!("| {} |", p.name)),
            "{} not in docs/hardening.md",
            p.name
        );
    }
}

#[test]
fn flag_values_beyond_their_ranges_are_usage_errors_naming_the_value() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "design",
                "--beta",
                "2",
                "--feed",
                "A=1e308,B=1e308",
                "--purity-a",
                "0.999",
                "--purity-b",
                "0.9999",
            ],
            "--feed: A = 1e308 is outside 1e-30 to 1e30",
        ),
        (
            &["design", "--kremser", "1e-320,1,0.5"],
            "--kremser: D = 1e-320 is outside the plausible range of a distribution ratio",
        ),
        (
            &["design", "--kremser", "10,1e308,0.5"],
            "--kremser: O/A = 1e308 is outside 1e-6 to 1e6",
        ),
        (
            &[
                "design",
                "--beta",
                "1e308",
                "--feed",
                "A=0.5,B=0.5",
                "--purity-a",
                "0.999",
                "--purity-b",
                "0.9999",
            ],
            "--beta: separation factor 1e308 is above 1e12",
        ),
    ];
    for (args, expected) in cases {
        let (exit, out, err) = cli(args);
        assert_eq!(exit, Exit::Usage, "{args:?}: {err}");
        assert!(!out.contains("NaN"), "{args:?}: {out}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let mt = root()
        .join("flowsheets/minamitorishima.toml")
        .display()
        .to_string();
    let (exit, _, err) = cli(&["scenarios", &mt, "--mud", "1e308"]);
    assert_eq!(exit, Exit::Usage, "{err}");
    assert!(
        err.contains("--mud 1e308: expected a positive mud rate in t/day, at most 2.4e7 t/day"),
        "{err}"
    );
    let pr = root().join("flowsheets/pr-nd.toml").display().to_string();
    let (exit, _, err) = cli(&["optimize", &pr, "--max-passes", "0"]);
    assert_eq!(exit, Exit::Usage, "{err}");
    assert!(err.contains("invalid value '0' for '--max-passes"), "{err}");
    // a Kremser input inside the ranges still gives the published 5.44 stages
    let (exit, out, err) = cli(&["design", "--kremser", "10,0.3333,0.999"]);
    assert_eq!(exit, Exit::Ok, "{err}");
    assert!(out.contains("5.44 theoretical stages"), "{out}");
}

#[test]
fn tiny_and_huge_numbers_are_printed_in_scientific_notation() {
    use sxplan::model::diagnostic::fmt_number;
    assert_eq!(fmt_number(1e-320), "1e-320");
    assert_eq!(fmt_number(1e308), "1e308");
    assert_eq!(fmt_number(2.5e-7), "2.5e-7");
    assert_eq!(fmt_number(1.4000000000000001), "1.4");
    assert_eq!(fmt_number(0.25), "0.25");
    assert_eq!(fmt_number(0.0), "0");
    assert_eq!(fmt_number(12345.5), "12345.5");
    assert_eq!(fmt_number(f64::INFINITY), "inf");
}

/// A fixed-distribution circuit whose steady state loads the organic beyond what its extractant
/// can hold (found by `tests/fuzz_edges.rs`: it reported "converged" with "max loading
/// 42641098718610841600.0000 mol/L" and pH -4.63) ends `infeasible`, exit 1, names the stage,
/// the loading and the bound, and prints no stage profile.
#[test]
fn a_loading_beyond_the_extractants_hold_is_infeasible_with_its_numbers() {
    let f = root().join("tests/data/hardening/distribution_trapped.toml");
    let (exit, out, err) = cli(&["simulate", f.to_str().unwrap()]);
    assert_eq!(exit, Exit::Failure, "{out}\n{err}");
    assert!(out.contains("flowsheet base: infeasible"), "{out}");
    assert!(!out.contains("max loading"), "{out}");
    assert!(
        err.contains("stage 30 loads the organic to 4.26e19 mol/L of ions, beyond the 0.500 mol/L that 1.50 mol/L of extractant can hold"),
        "{err}"
    );
    assert!(
        err.contains("the organic flow would have to be at least"),
        "{err}"
    );
    assert!(!err.contains("0000000000"), "{err}");
    let (exit, out, _) = cli(&["simulate", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(exit, Exit::Failure);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["status"], "infeasible");
    assert!(doc["circuits"][0]["stages"].as_array().unwrap().is_empty());
}

/// Found by tests/fuzz_edges.rs: a mass-action circuit with `z_proton = 24` (24 protons per
/// ion) and no strip acid passed check, converged to a state reported "at pH 44.96", and its
/// strip finding read "NaN mol/h". A proton count and a dimer count beyond any chemistry are
/// now located errors.
#[test]
fn stoichiometric_counts_beyond_any_chemistry_are_refused() {
    let text =
        std::fs::read_to_string(root().join("tests/data/ok/mass_action_model_30.toml")).unwrap();
    let dir = common::scratch("harden", "stoich");
    for (from, to, expected) in [
        (
            "z_proton = { default = 3 }",
            "z_proton = { default = 24 }",
            "`z_proton` `default`: 24 is above 6, outside the plausible range of a proton count per ion",
        ),
        (
            "n_extractant = 3",
            "n_extractant = 40",
            "`n_extractant`: 40 is above 12, outside the plausible range of a dimer count per ion",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let f = dir.join("ma.toml");
        std::fs::write(&f, text.replace(from, to)).unwrap();
        let (exit, _, err) = cli(&["check", f.to_str().unwrap()]);
        assert_eq!(exit, Exit::Failure, "{err}");
        assert!(err.contains("error[E0208]: "), "{err}");
        assert!(err.contains(expected), "{err}");
    }
}
