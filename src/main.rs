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
        let figures: Result<Vec<archbench::gui::plots::Figure>, String> =
            args.figure.iter().map(|f| f.parse()).collect();
        let figures = match figures {
            Ok(figures) => figures,
            Err(error) => {
                eprintln!("error: --figure {error}");
                return ExitCode::from(archbench::cli::exit::USAGE);
            }
        };
        return match archbench::gui::run(args.open, args.simulate, figures) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(archbench::cli::exit::FAILURE)
            }
        };
    }
    archbench::cli::run(args)
}
