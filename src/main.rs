//! The `rampart` command line: parse arguments, run the command, exit with its code.

mod cli;

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    std::process::ExitCode::from(cli::run(args) as u8)
}
