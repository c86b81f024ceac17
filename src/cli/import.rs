//! `archbench import TRACES...`: build a project from distributed traces.

use anyhow::Context as _;

use crate::model::traces::{self, ImportOptions};
use crate::model::{ProjectFile, file};

use super::args::ImportArgs;
use super::{emit, exit};

/// Writes the project (to `--output` or stdout) and a summary to stderr.
pub fn run(args: &ImportArgs) -> anyhow::Result<u8> {
    let mut spans = Vec::new();
    let mut sources = Vec::new();
    for path in &args.traces {
        let (format, mut read) = traces::read(path)?;
        eprintln!("{}: {} spans ({format:?})", path.display(), read.len());
        spans.append(&mut read);
        sources.push(path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ));
    }
    let (assembled, anomalies) = traces::assemble(spans);
    let options = ImportOptions {
        name: args.name.clone(),
    };
    let import = traces::infer(&assembled, anomalies, &sources, &options)?;
    let file = ProjectFile {
        header: import.header(&sources),
        project: import.project.clone(),
    };
    let problems = crate::model::validate(&file.project);
    if !problems.is_empty() {
        // A bug of the importer, not of the traces: say what it built wrong.
        for problem in &problems {
            eprintln!("{problem}");
        }
        anyhow::bail!(
            "the imported project is not valid ({} problems)",
            problems.len()
        );
    }
    let text = file::to_text(&file).context("cannot write the project")?;
    emit(args.output.as_deref(), text.as_bytes())?;
    eprint!("{}", file.header.replace("// ", ""));
    if let Some(path) = &args.output {
        eprintln!("wrote {}", path.display());
    }
    Ok(exit::OK)
}
