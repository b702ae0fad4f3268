fn main() -> std::process::ExitCode {
    rssd::cli::main()
}
