//! `sxplan scenarios` on the flagship: the grid's table is the same, byte for byte, whatever
//! `--jobs` is (scenarios run in parallel and are printed in grid order), and every row is a
//! scenario of the grid.

mod common;
use common::{cli, root};

#[test]
fn the_table_is_the_same_for_any_thread_count() {
    let f = root().join("flowsheets/minamitorishima.toml");
    let f = f.to_str().unwrap();
    let args = |jobs: &'static str| {
        vec![
            "scenarios",
            f,
            "--mud",
            "200,350,700",
            "--grades",
            "highly_rey_rich,extremely_rey_rich",
            "--jobs",
            jobs,
        ]
    };
    let (code1, one, err1) = cli(&args("1"));
    assert_eq!(code1, sxplan::cli::Exit::Ok, "{err1}");
    let (code2, two, err2) = cli(&args("2"));
    assert_eq!(code2, sxplan::cli::Exit::Ok, "{err2}");
    assert_eq!(one, two, "--jobs 1 against --jobs 2");
    let rows: Vec<&str> = one
        .lines()
        .skip(1)
        .filter(|l| l.contains(" t/d, "))
        .collect();
    assert_eq!(rows.len(), 6, "{one}");
    // grid order: mud rate outer, grade inner
    assert!(
        rows[0].starts_with("200 t/d, highly_rey_rich"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].starts_with("200 t/d, extremely_rey_rich"),
        "{}",
        rows[1]
    );
    assert!(
        rows[5].starts_with("700 t/d, extremely_rey_rich"),
        "{}",
        rows[5]
    );
}
