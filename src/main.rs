//! The `archbench` binary: with no subcommand it opens the app (feature
//! `gui`); otherwise it runs the CLI. All the work is in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match archbench::cli::parse() {
        Ok(args) => args,
        Err(code) => return code,
    };
    #[cfg(feature = "gui")]
    if args.command.is_none() {
        return match archbench::gui::run(args.open, args.simulate, args.figure) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(archbench::cli::exit::FAILURE)
            }
        };
    }
    archbench::cli::run(args)
}
