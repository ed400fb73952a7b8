//! Prints a synthetic benchmark flowsheet (`cargo run -p sxplan-opt --example sf_toml -- sf 1000`
//! for the separation-factor cascade, `dist 1000` for the distribution one, `ma 1000` for the
//! saponified mass-action cut, `train 1000` for the four-cut separation-factor train with 12 free
//! variables, `ma_train 1000` for the two mass-action cuts in series with 12 free variables) for
//! the CLI timings.

#[path = "../benches/synthetic.rs"]
mod synthetic;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = args.first().map_or("sf", String::as_str);
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    match kind {
        "dist" => print!("{}", synthetic::cascade_toml(n, 15, 0.99)),
        "ma" => print!("{}", synthetic::ma_cascade_toml(n)),
        "train" => print!("{}", synthetic::sf_train_toml(n, 0.95)),
        "ma_train" => print!("{}", synthetic::ma_train_toml(n)),
        _ => print!("{}", synthetic::sf_cascade_toml(n, 0.99)),
    }
}
