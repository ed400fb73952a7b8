//! Data that cannot identify a parameter are refused, naming the element, the parameter and
//! the measurement that would fix it (issue 18).

use sxplan_fit::data::parse_csv;
use sxplan_fit::{fit, FitError, FitOptions, ModelKind};

fn refused(csv: &str, opts: &FitOptions) -> (String, String) {
    let rows = parse_csv(csv).expect("parses");
    match fit(&rows, opts) {
        Err(e @ FitError::NotIdentified { .. }) => {
            (e.to_string(), e.help().unwrap_or("").to_string())
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn one_ph_value_cannot_give_a_slope() {
    let csv = "element,ph,extractant,d\nNd,2.0,0.5,1.1\nNd,2.0,1.0,9.2\nNd,2.0,1.5,30\n";
    let (msg, help) = refused(csv, &FitOptions::new(ModelKind::Empirical));
    assert_eq!(
        msg,
        "element Nd: all 3 rows have the same pH (2), slope a cannot be identified"
    );
    assert_eq!(help, "measure at >= 2 pH values");
}

#[test]
fn one_extractant_concentration_cannot_give_c() {
    let csv = "element,ph,extractant,d\nNd,1.5,1,0.5\nNd,2.0,1,1.6\nNd,2.5,1,5.2\nNd,3.0,1,17\n";
    let (msg, help) = refused(csv, &FitOptions::new(ModelKind::Empirical));
    assert!(msg.starts_with("element Nd: all 4 rows have the same extractant concentration (1 mol/L), extractant slope c"), "{msg}");
    assert!(help.contains("--fix-c"), "{help}");
    // with c held fixed the same data are fitted
    let rows = parse_csv(csv).unwrap();
    let opts = FitOptions {
        fix_c: Some(0.0),
        ..FitOptions::new(ModelKind::Empirical)
    };
    let r = fit(&rows, &opts).expect("fits with c fixed");
    let a = r.param(Some("Nd"), "a").unwrap().value;
    assert!((a - 1.02).abs() < 0.02, "a = {a}");
}

#[test]
fn confounded_ph_and_extractant_are_caught_by_the_rank_test() {
    // pH and log10 x move together: a and c are not separable
    let csv =
        "element,ph,extractant,d\nNd,1.0,1,1\nNd,1.30103,2,2\nNd,1.60206,4,4\nNd,1.90309,8,8.1\n";
    let (msg, _) = refused(csv, &FitOptions::new(ModelKind::Empirical));
    assert!(
        msg.contains("rank < 3") && msg.starts_with("element Nd:"),
        "{msg}"
    );
}

#[test]
fn mass_action_exponents_need_spread_data() {
    let csv = "element,ph,extractant,d\nNd,2.0,1.0,1.1\nPr,2.0,1.0,0.6\nNd,2.0,1.0,1.2\nPr,2.0,1.0,0.55\n";
    let opts = FitOptions {
        fit_z: true,
        ..FitOptions::new(ModelKind::MassAction)
    };
    let (msg, help) = refused(csv, &opts);
    assert_eq!(
        msg,
        "no element was measured at >= 2 pH values, the [H+] exponent z cannot be identified"
    );
    assert!(help.contains("hold z fixed"));
    let opts = FitOptions {
        fit_n: true,
        ..FitOptions::new(ModelKind::MassAction)
    };
    let (msg, _) = refused(csv, &opts);
    assert!(msg.contains("the free-dimer exponent n"), "{msg}");
    // with n and z at the flowsheet defaults, K is identified from these rows
    let rows = parse_csv(csv).unwrap();
    let r = fit(&rows, &FitOptions::new(ModelKind::MassAction)).expect("K only");
    assert_eq!(r.params.len(), 2);
    assert!(
        r.betas[0].beta > 1.5 && r.betas[0].beta < 2.5,
        "{:?}",
        r.betas
    );
}

#[test]
fn too_few_rows_leave_no_scatter() {
    let csv = "element,ph,extractant,d\nNd,1.0,1,1\nNd,2.0,1,10\n";
    let opts = FitOptions {
        fix_c: Some(0.0),
        ..FitOptions::new(ModelKind::Empirical)
    };
    let (msg, help) = refused(csv, &opts);
    assert!(
        msg.contains("2 rows for 2 parameters leave no degrees of freedom"),
        "{msg}"
    );
    assert!(help.contains("sigma_log_d"));
}
