//! `archbench check FILE`: validate and list every problem.

use super::args::CheckArgs;
use super::{exit, load_valid};

/// Exit 0 when valid, 1 when not.
pub fn run(args: &CheckArgs) -> u8 {
    let Some(file) = load_valid(&args.file) else {
        return exit::FAILURE;
    };
    let project = &file.project;
    println!(
        "{}: valid: {:?}, {} scenario{}",
        args.file.display(),
        project.name,
        project.scenarios.len(),
        if project.scenarios.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    exit::OK
}
