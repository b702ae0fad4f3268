//! The `rssd` binary: the command line over the `rssd` library. Only this binary knows clap.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
