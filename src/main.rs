//! The `sxplan` command-line entry point; all logic lives in [`sxplan::cli`].

fn main() -> std::process::ExitCode {
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    sxplan::cli::run(std::env::args_os(), &mut stdout, &mut stderr).into()
}
