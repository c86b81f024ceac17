//! `archbench import TRACES...`: build a project from distributed traces;
//! and `archbench calibrate FILE --traces TRACES...`: update a project's
//! measured figures from them.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::model::traces::{self, Import, ImportOptions};
use crate::model::{ProjectFile, file};

use super::args::{CalibrateArgs, ImportArgs};
use super::{emit, exit, load_valid};

/// Reads every traces file and builds a project, saying what was read.
fn import(paths: &[PathBuf], name: Option<String>) -> anyhow::Result<(Import, Vec<String>)> {
    let (import, sources) = traces::import_files(paths, &ImportOptions { name })?;
    eprintln!("read {} spans from {}", import.spans, sources.join(", "));
    Ok((import, sources))
}

/// Writes the project (to `--output` or stdout) and a summary to stderr.
pub fn run(args: &ImportArgs) -> anyhow::Result<u8> {
    let (import, sources) = import(&args.traces, args.name.clone())?;
    let file = ProjectFile {
        header: import.header(&sources),
        project: import.project,
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

/// Prints the diff; with `--output`, writes the calibrated project there.
pub fn calibrate(args: &CalibrateArgs) -> anyhow::Result<u8> {
    let Some(mut file) = load_valid(&args.file) else {
        return Ok(exit::FAILURE);
    };
    let scenario = super::scenario_index(&file.project, args.scenario.as_deref())?;
    let (import, _) = import(&args.traces, None)?;
    let calibration = traces::calibrate(&mut file.project, scenario, &import);
    let mut out = String::new();
    render(
        &calibration,
        &file.project.scenarios[scenario].name,
        &mut out,
    );
    print!("{out}");
    let problems = crate::model::validate(&file.project);
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{problem}");
        }
        anyhow::bail!(
            "the calibrated project is not valid ({} problems)",
            problems.len()
        );
    }
    if let Some(path) = &args.output {
        let text = file::to_text(&file).context("cannot write the project")?;
        emit(Some(path), text.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(exit::OK)
}

fn render(calibration: &traces::Calibration, scenario: &str, out: &mut String) {
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "scenario {scenario:?}: {} fields changed",
        calibration.changes.len()
    );
    if !calibration.changes.is_empty() {
        let _ = writeln!(
            out,
            "  {:<36} {:<13} {:>9}  {:<28} new",
            "place", "field", "samples", "old"
        );
    }
    for change in &calibration.changes {
        let mean = change
            .mean_change
            .map(|m| format!("  (mean {:+.1}%)", m * 100.0))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<36} {:<13} {:>9}  {:<28} {}{mean}",
            change.place,
            change.field,
            change.samples,
            traces::clipped(&change.old, 28),
            traces::clipped(&change.new, 28)
        );
    }
    for (field, what) in [("service_time", "a service time"), ("latency", "a latency")] {
        if let Some((change, m)) = calibration.largest_mean_change(field) {
            let _ = writeln!(
                out,
                "largest change of {what}'s mean: {:.1}% ({}){}",
                m * 100.0,
                change.place,
                if m <= 0.05 { ": small, within 5%" } else { "" }
            );
        }
    }
    for (list, what) in [
        (
            &calibration.services_not_traced,
            "services of the model not in the traces",
        ),
        (
            &calibration.services_not_modelled,
            "services in the traces not in the model",
        ),
        (
            &calibration.links_not_traced,
            "links of the model not in the traces",
        ),
        (
            &calibration.links_not_modelled,
            "links in the traces not in the model",
        ),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "{what}: {}", list.join(", "));
        }
    }
}
