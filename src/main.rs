use clap::Parser;

fn main() -> std::process::ExitCode {
    regforge::commands::run(regforge::cli::Cli::parse())
}
