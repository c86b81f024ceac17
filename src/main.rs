//! The `archbench` binary: all the work is in the library.

fn main() -> std::process::ExitCode {
    archbench::cli::main()
}
