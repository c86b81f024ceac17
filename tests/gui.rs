//! The desktop app, driven headless through its accessibility tree with
//! `egui_kittest`: no GPU, no display. Each test clicks and types as a user
//! would, then checks the project, the file on disk or the numbers shown.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use archbench::gui::files::{Dialogs, StateDir};
use archbench::gui::{App, AppOptions, Selection};
use archbench::model::{self, Choice, ServiceKind};
use eframe::egui::{Key, Modifiers, accesskit::Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::support;

/// A scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archbench-gui-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The bundled example with its run settings changed by `edit`, saved in
/// `dir`; returns the project and its path.
fn example_with(
    dir: &Path,
    edit: impl FnOnce(&mut model::RunSettings),
) -> (model::Project, PathBuf) {
    let mut project = model::file::parse(archbench::gui::EXAMPLE, Path::new("x.ron"))
        .unwrap()
        .project;
    edit(&mut project.run);
    let path = dir.join("example.ron");
    model::file::save(
        &model::ProjectFile {
            header: String::new(),
            project: project.clone(),
        },
        &path,
    )
    .unwrap();
    (project, path)
}

/// The paths the "user" will pick in file dialogs, in order.
type Answers = Arc<Mutex<VecDeque<Option<PathBuf>>>>;

fn app(dir: &Path, open: Option<PathBuf>) -> (Harness<'static, App>, Answers) {
    let answers: Answers = Arc::default();
    let options = AppOptions {
        open,
        state: StateDir::new(dir.join("state")),
        dialogs: Dialogs::Scripted(Arc::clone(&answers)),
        autosave_every: Duration::ZERO,
        simulate_at_start: false,
        figures: Vec::new(),
    };
    let harness = Harness::builder()
        .with_size([1400.0, 900.0])
        .with_max_steps(32)
        .build_eframe(move |cc| App::new(cc, options));
    (harness, answers)
}

/// Steps frames until `done` holds, for background work; fails after 60 s.
fn step_until(harness: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    for _ in 0..6000 {
        harness.step();
        if done(harness.state()) {
            harness.run_steps(2);
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

fn services(app: &App) -> Vec<String> {
    app.project().scenarios[app.scenario()]
        .services
        .iter()
        .map(|s| s.name.clone())
        .collect()
}

/// Replaces the text of the field labelled `label` with `text`, as a
/// person does: focus, select all, type.
fn retype(harness: &mut Harness<'_, App>, label: &str, text: &str) {
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .focus();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
}

/// Clicks the palette's `button`; the name of the service it added.
fn add_from_palette(harness: &mut Harness<'_, App>, button: &str) -> String {
    harness.get_by_role_and_label(Role::Button, button).click();
    harness.run();
    services(harness.state()).pop().unwrap()
}

/// The service called `name` in the scenario shown.
fn service_named(app: &App, name: &str) -> model::Service {
    let scenario = &app.project().scenarios[app.scenario()];
    scenario.services[scenario.service_index(name).expect("the service")].clone()
}

#[test]
fn add_connect_edit_then_undo_and_redo() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("edit");
    let (mut harness, _) = app(&dir, None);
    let original = harness.state().project().clone();
    let before = services(harness.state());

    // Add a cache from the palette: it appears, selected.
    harness.get_by_role_and_label(Role::Button, "cache").click();
    harness.run();
    let after = services(harness.state());
    assert_eq!(after.len(), before.len() + 1);
    let added = after.last().unwrap().clone();
    assert_eq!(added, "cache");
    let service = &harness.state().project().scenarios[0].services[before.len()];
    assert_eq!(service.kind, ServiceKind::Cache);
    assert_eq!(
        harness.state().selection(),
        &Selection::Services(vec![added.clone()])
    );

    // Connect it to the database through the inspector.
    harness.get_by_label("add a call to…").click();
    harness.run();
    harness.get_by_label("➡ database").click();
    harness.run();
    let links = &harness.state().project().scenarios[0].links;
    assert!(
        links
            .iter()
            .any(|l| l.from == "cache" && l.to == "database"),
        "{links:?}"
    );

    // Rename it by typing: one undo step however many keys.
    let name = harness.get_by_role_and_label(Role::TextInput, "name");
    name.focus();
    name.type_text("-eu");
    harness.run();
    harness.key_press(Key::Escape);
    harness.run();
    let renamed = services(harness.state());
    assert!(renamed.contains(&"cache-eu".to_owned()), "{renamed:?}");
    let links = &harness.state().project().scenarios[0].links;
    assert!(
        links
            .iter()
            .any(|l| l.from == "cache-eu" && l.to == "database"),
        "the link follows the rename: {links:?}"
    );
    let edited = harness.state().project().clone();
    assert!(harness.state().document().is_dirty());

    // Undo three times: the rename, the call, the new service.
    for _ in 0..3 {
        harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
        harness.run();
    }
    assert_eq!(harness.state().project(), &original);
    assert!(!harness.state().document().is_dirty(), "back to the file");

    // Redo all three.
    for _ in 0..3 {
        harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        harness.run();
    }
    assert_eq!(harness.state().project(), &edited);
}

#[test]
fn delete_and_duplicate_with_the_keyboard() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("keys");
    let (mut harness, _) = app(&dir, None);
    harness.get_by_role_and_label(Role::Button, "queue").click();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::D);
    harness.run();
    let names = services(harness.state());
    assert!(names.contains(&"queue".to_owned()) && names.contains(&"queue-copy".to_owned()));
    harness.key_press(Key::Delete);
    harness.run();
    // The copy was selected, so Delete removes it and leaves the original.
    let names = services(harness.state());
    assert!(names.contains(&"queue".to_owned()), "{names:?}");
    assert!(!names.contains(&"queue-copy".to_owned()), "{names:?}");
}

#[test]
fn duplicating_a_scenario_makes_variant_b() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("scenario");
    let (mut harness, _) = app(&dir, None);
    let count = harness.state().project().scenarios.len();
    let first = harness.state().project().scenarios[0].clone();
    harness.get_by_label("Duplicate scenario").click();
    harness.run();
    let project = harness.state().project();
    assert_eq!(project.scenarios.len(), count + 1);
    let copy = &project.scenarios[1];
    assert_eq!(copy.name, format!("{} B", first.name));
    assert_eq!(copy.services, first.services);
    assert_eq!(copy.links, first.links);
    assert_eq!(harness.state().scenario(), 1, "the copy is shown");
    // The copy is independent of the original.
    harness
        .get_by_role_and_label(Role::Button, "service")
        .click();
    harness.run();
    let project = harness.state().project();
    assert_eq!(project.scenarios[0], first);
    assert_eq!(
        project.scenarios[1].services.len(),
        first.services.len() + 1
    );
}

/// The numbers on screen that end in `unit`, read back as numbers: "62.8
/// ms" is 62.8. A label's text is its accessible value.
fn numbers_shown(harness: &Harness<'_, App>, unit: &str) -> Vec<f64> {
    harness
        .query_all_by_label_contains(unit)
        .filter_map(|n| {
            let text = format!("{n:?}");
            let value = text
                .split("value: \"")
                .nth(1)?
                .split('"')
                .next()?
                .to_owned();
            value.strip_suffix(unit)?.trim().parse().ok()
        })
        .collect()
}

#[test]
fn simulate_shows_the_engines_numbers() {
    let _cpu = support::cpu_heavy();
    let dir = scratch("simulate");
    let (mut harness, _) = app(&dir, None);
    harness.get_by_label("▶ Simulate").click();
    harness.step();
    assert!(harness.state().is_running(), "the run is in the background");
    step_until(&mut harness, "the simulation", |app| !app.is_running());
    let expected = archbench::sim::simulate(harness.state().project(), None).unwrap();
    let shown = harness.state().simulation().expect("a report").clone();
    assert_eq!(shown.scenarios.len(), expected.scenarios.len());
    let ms = numbers_shown(&harness, " ms");
    let rates = numbers_shown(&harness, " req/s");
    for (a, b) in shown.scenarios.iter().zip(&expected.scenarios) {
        assert_eq!(a.requests, b.requests, "same engine, same seed");
        assert_eq!(a.latency_ms, b.latency_ms);
        // The table shows the engine's p99 (to three digits) and throughput.
        let p99 = b.latency_ms.p99;
        assert!(
            ms.iter().any(|v| (v - p99).abs() <= 0.005 * p99),
            "p99 {p99} ms is not among {ms:?}"
        );
        assert!(
            rates.iter().any(|v| (v - b.throughput_rps).abs() <= 0.5),
            "{} req/s is not among {rates:?}",
            b.throughput_rps
        );
    }
    // The limit column: the example's busiest service is well below 80%
    // busy, so it is named "busiest", not "bottleneck".
    let first = &expected.scenarios[0];
    let busy = first
        .services
        .iter()
        .find(|s| s.name == first.bottleneck)
        .unwrap()
        .utilization;
    assert!(busy < 0.8, "{busy}");
    let shown = format!("busiest: {} ({:.0}%)", first.bottleneck, 100.0 * busy);
    assert!(
        harness.query_all_by_label(&shown).next().is_some(),
        "{shown}"
    );
    assert!(
        harness
            .query_all_by_label_contains("bottleneck:")
            .next()
            .is_none()
    );
}

#[test]
fn cancelling_a_long_run_keeps_the_app_usable() {
    let _cpu = support::cpu_heavy();
    let dir = scratch("cancel");
    let (_, path) = example_with(&dir, |run| {
        run.stop = model::StopCondition::Duration("1h".parse().unwrap());
    });
    let (mut harness, _) = app(&dir, Some(path));
    harness.get_by_label("▶ Simulate").click();
    harness.run_steps(3);
    assert!(harness.state().is_running());
    harness.get_by_label("Cancel").click();
    step_until(&mut harness, "the cancel", |app| !app.is_running());
    assert!(harness.state().simulation().is_none());
    assert!(harness.query_by_label_contains("cancelled").is_some());
}

#[test]
fn an_invalid_file_is_refused_and_the_project_kept() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("invalid");
    let broken = dir.join("broken.ron");
    std::fs::write(&broken, "(\n  format: 1,\n  name: \"x\",\n  workload: ((\n").unwrap();
    let (mut harness, answers) = app(&dir, None);
    // Make an unsaved edit first: it must survive the failed open.
    harness
        .get_by_role_and_label(Role::Button, "database")
        .click();
    harness.run();
    let before = harness.state().project().clone();
    answers.lock().unwrap().push_back(Some(broken.clone()));
    harness.key_press_modifiers(Modifiers::COMMAND, Key::O);
    harness.run();
    // Unsaved work: the app asks first.
    harness.get_by_label("Discard changes").click();
    step_until(&mut harness, "the error", |app| {
        app.project() == &before && !app.is_running()
    });
    harness.run_steps(5);
    let shown = harness
        .query_by_label_contains("broken.ron:")
        .expect("the error names the file");
    let text = format!("{shown:?}");
    assert!(text.contains("broken.ron:"), "{text}");
    assert!(harness.query_by_label_contains("Cannot open").is_some());
    assert_eq!(harness.state().project(), &before, "the project is intact");
    assert!(harness.state().document().is_dirty(), "and still unsaved");
}

#[test]
fn save_then_reopen_gives_an_equal_project() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("save");
    let path = dir.join("saved.ron");
    let (mut harness, answers) = app(&dir, None);
    harness
        .get_by_role_and_label(Role::Button, "model server")
        .click();
    harness.run();
    let project = harness.state().project().clone();
    assert!(harness.state().window_title().contains('•'));

    // Untitled, so Save asks where.
    answers.lock().unwrap().push_back(Some(path.clone()));
    harness.key_press_modifiers(Modifiers::COMMAND, Key::S);
    harness.run();
    assert_eq!(harness.state().document().path(), Some(path.as_path()));
    assert!(!harness.state().document().is_dirty());
    assert!(!harness.state().window_title().contains('•'));
    let on_disk = model::file::load(&path).unwrap();
    assert_eq!(on_disk.project, project);
    assert!(model::validate(&on_disk.project).is_empty());
    // Saving keeps the example's header comment.
    assert!(std::fs::read_to_string(&path).unwrap().starts_with("// "));

    // Open it in a fresh app.
    let (mut other, answers) = app(&dir, None);
    answers.lock().unwrap().push_back(Some(path.clone()));
    other.key_press_modifiers(Modifiers::COMMAND, Key::O);
    step_until(&mut other, "the file", |app| {
        app.document().path().is_some()
    });
    assert_eq!(other.state().project(), &project);
    assert!(!other.state().document().is_dirty());
    // And it is now a recent file.
    let recent = StateDir::new(dir.join("state")).recent();
    assert_eq!(recent.first(), Some(&std::fs::canonicalize(&path).unwrap()));
}

#[test]
fn unsaved_work_is_recovered_after_a_crash() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("recover");
    let (mut harness, _) = app(&dir, None);
    harness
        .get_by_role_and_label(Role::Button, "feature store")
        .click();
    harness.run();
    let project = harness.state().project().clone();
    // The autosave runs while there are unsaved changes; then "crash".
    step_until(&mut harness, "the autosave", |_| {
        dir.join("state").join("autosave.ron").is_file()
    });
    drop(harness);

    let (mut next, _) = app(&dir, None);
    assert!(next.query_by_label("Restore unsaved work?").is_some());
    next.get_by_label("Restore").click();
    next.run();
    assert_eq!(next.state().project(), &project);
    assert!(
        next.state().document().is_dirty(),
        "restored work is unsaved"
    );
}

#[test]
fn export_writes_csv_and_json_of_the_results() {
    let _cpu = support::cpu_heavy();
    let dir = scratch("export");
    let (mut harness, answers) = app(&dir, None);
    harness.get_by_label("▶ Simulate").click();
    step_until(&mut harness, "the simulation", |app| {
        !app.is_running() && app.simulation().is_some()
    });
    let (csv, json) = (dir.join("r.csv"), dir.join("r.json"));
    answers.lock().unwrap().push_back(Some(csv.clone()));
    harness.get_by_role_and_label(Role::Button, "CSV").click();
    harness.run();
    answers.lock().unwrap().push_back(Some(json.clone()));
    harness.get_by_role_and_label(Role::Button, "JSON").click();
    harness.run();
    let report = harness.state().simulation().unwrap();
    // The CSV has the documented columns and one overall row per scenario
    // (plus its class and service rows) with the report's figures.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header,
        [
            "scenario",
            "row",
            "name",
            "requests",
            "failed",
            "throughput_rps",
            "mean_ms",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "p999_ms",
            "max_ms",
            "utilization",
            "mean_queue_length",
            "rejected",
            "saturated"
        ]
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let expected_rows: usize = report
        .scenarios
        .iter()
        .map(|s| 1 + s.classes.len() + s.services.len())
        .sum();
    assert_eq!(rows.len(), expected_rows, "{text}");
    for scenario in &report.scenarios {
        let overall = rows
            .iter()
            .find(|r| r[0] == scenario.scenario && r[1] == "overall")
            .unwrap_or_else(|| panic!("no overall row for {}", scenario.scenario));
        assert_eq!(overall[3].parse::<u64>().unwrap(), scenario.requests);
        let p99: f64 = overall[9].parse().unwrap();
        assert_close!(p99, scenario.latency_ms.p99, 1e-6);
        for service in &scenario.services {
            assert!(
                rows.iter().any(|r| r[0] == scenario.scenario
                    && r[1] == "service"
                    && r[2] == service.name),
                "{}",
                service.name
            );
        }
    }
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        value["scenarios"][0]["requests"].as_u64(),
        Some(report.scenarios[0].requests)
    );
}

#[test]
fn sweep_draws_curves_for_every_scenario() {
    let _cpu = support::cpu_heavy();
    let dir = scratch("sweep");
    // Short points keep the test quick; the curve's shape is what matters.
    let (project, path) = example_with(&dir, |run| {
        run.stop = model::StopCondition::Requests(4_000);
        run.warmup = Some("1s".parse().unwrap());
    });
    let (mut harness, _) = app(&dir, Some(path));
    harness.get_by_label("📈 Sweep").click();
    harness.step();
    assert!(harness.state().is_running());
    step_until(&mut harness, "the sweep", |app| !app.is_running());
    let sweep = harness.state().sweep().expect("a sweep report");
    assert_eq!(sweep.scenarios.len(), project.scenarios.len());
    for curve in &sweep.scenarios {
        assert!(curve.points.len() >= 12, "{}", curve.points.len());
        // The sweep went past the point where the scenario stops keeping up.
        assert!(
            curve
                .points
                .iter()
                .any(|p| p.saturated || p.achieved_rps < 0.99 * p.offered_rps)
        );
        // The maximum sustainable throughput as documented: the largest
        // offered load kept up with (99% achieved, nothing saturated).
        let kept_up = curve
            .points
            .iter()
            .filter(|p| !p.saturated && p.achieved_rps >= 0.99 * p.offered_rps)
            .map(|p| p.offered_rps)
            .fold(f64::NAN, f64::max);
        assert_eq!(
            curve.max_throughput_rps,
            Some(kept_up),
            "{}",
            curve.scenario
        );
        // Below saturation the design keeps up; past it the achieved rate
        // is the whole run's, near what the bottleneck can do, not a
        // collapse from a cut-short run.
        let max = curve.max_throughput_rps.unwrap();
        for p in &curve.points {
            if p.saturated {
                assert!(
                    p.achieved_rps > 0.8 * max,
                    "{}: saturated at {} offered, achieved {} of a maximum {max}",
                    curve.scenario,
                    p.offered_rps,
                    p.achieved_rps
                );
            } else {
                assert!(
                    p.achieved_rps >= 0.97 * p.offered_rps,
                    "{}: {} offered, {} achieved",
                    curve.scenario,
                    p.offered_rps,
                    p.achieved_rps
                );
            }
        }
        assert!(curve.points.iter().any(|p| p.saturated));
    }
    // Saturated points are drawn as such, and the legend says what they are.
    assert!(
        harness
            .query_all_by_label("saturated: queue grows without bound")
            .next()
            .is_some()
    );
    assert!(
        harness
            .query_by_label("Latency against offered load")
            .is_some()
    );
    assert!(
        harness
            .query_by_label("Throughput against offered load")
            .is_some()
    );
}

#[cfg(feature = "loadgen")]
#[test]
fn a_live_test_asks_for_the_hosts_then_measures_and_joins_the_results() {
    use archbench::loadgen::{TargetConfig, TargetServer};
    // It measures a live run: nothing else may use the cores meanwhile.
    let _cpu = support::timing_sensitive();
    let server = TargetServer::start(&TargetConfig {
        service_time: "exp:2ms".parse().unwrap(),
        workers: 8,
        ..TargetConfig::default()
    })
    .unwrap();
    let url = server.url();
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let dir = scratch("live");
    let (mut harness, _) = app(&dir, None);
    // Opening the app sends nothing.
    assert!(!harness.state().is_live_running());

    harness.get_by_label("⏺ Live test").click();
    harness.run();
    retype(&mut harness, "target URL", &url);
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Start").click();
    harness.run();
    // Nothing is sent before the user confirms the host.
    assert!(!harness.state().is_live_running());
    assert!(
        harness.query_by_label(&host).is_some(),
        "the host {host} is named"
    );
    harness.get_by_label("Send load").click();
    harness.step();
    assert!(harness.state().is_live_running());

    // Seconds appear while the run goes; then stop it.
    step_until(&mut harness, "two live seconds", |_| {
        seconds_have_passed(2.5)
    });
    assert!(
        harness.query_by_label_contains("req/s · p50").is_some(),
        "the live line is shown"
    );
    harness.get_by_role_and_label(Role::Button, "Stop").click();
    step_until(&mut harness, "the run to end", |app| !app.is_live_running());
    let measured = harness.state().measured().expect("a measurement").clone();
    assert!(measured.requests > 100, "{}", measured.requests);
    assert_eq!(measured.errors.values().sum::<u64>(), 0);
    // The window ends on the whole run: its request count is the load
    // generator's.
    harness.run_steps(3);
    let summary = format!("{} requests answered in", measured.requests);
    assert!(
        harness.query_by_label_contains(&summary).is_some(),
        "{summary}"
    );
    // The measurement joins the results table, which says what it is
    // compared with and that the target is none of the project's endpoints.
    assert!(harness.query_by_label("■ measured (live)").is_some());
    assert!(
        harness
            .query_by_label_contains("compared with scenario \"monolith\"")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("is not one of scenario")
            .is_some()
    );

    // The host is confirmed for this project: a second run starts at once.
    harness.get_by_role_and_label(Role::Button, "Start").click();
    harness.step();
    assert!(harness.state().is_live_running());
    harness.step();
    harness.get_by_role_and_label(Role::Button, "Stop").click();
    step_until(&mut harness, "the second run to end", |app| {
        !app.is_live_running()
    });
}

/// "Emulate this scenario": the Live window starts the scenario on the
/// canvas as real services on 127.0.0.1 (no host to confirm: nothing leaves
/// the machine), drives it with the project's workload, shows it as
/// "measured (emulated)" beside the simulation, and an error table; Stop
/// ends both.
#[cfg(feature = "loadgen")]
#[test]
fn emulating_the_scenario_measures_it_beside_its_simulation() {
    let _timing = support::timing_sensitive();
    let dir = scratch("emulate");
    let (mut harness, _) = app(&dir, None);
    harness.get_by_label("▶ Simulate").click();
    step_until(&mut harness, "the simulation", |app| {
        !app.is_running() && app.simulation().is_some()
    });
    harness.get_by_label("⏺ Live test").click();
    harness.run();
    harness.get_by_label("Emulate this scenario").click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("services as real HTTP servers on 127.0.0.1")
            .is_some()
    );
    harness.get_by_role_and_label(Role::Button, "Start").click();
    harness.step();
    assert!(
        harness.state().is_live_running(),
        "no confirmation is asked"
    );
    step_until(&mut harness, "three emulated seconds", |_| {
        seconds_have_passed(3.5)
    });
    harness.get_by_role_and_label(Role::Button, "Stop").click();
    step_until(&mut harness, "the run to end", |app| !app.is_live_running());
    let measured = harness.state().measured().expect("a measurement").clone();
    assert_eq!(
        measured.errors.values().sum::<u64>(),
        0,
        "{:?}",
        measured.errors
    );
    // The project's workload: 600 requests a second.
    assert_close!(measured.throughput_rps / 600.0, 1.0, 0.2);
    harness.run_steps(3);
    assert!(harness.query_by_label("■ measured (emulated)").is_some());
    assert!(
        harness
            .query_by_label_contains("Simulated against measured (emulated): scenario \"monolith\"")
            .is_some()
    );
    assert!(harness.query_by_label("recommender busy").is_some());
}

/// A condition for `step_until` that holds once `seconds` have passed
/// since its first call in this thread.
fn seconds_have_passed(seconds: f64) -> bool {
    thread_local! {
        static START: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) };
    }
    START.with(|start| {
        #[expect(clippy::disallowed_methods, reason = "a test waits for live seconds")]
        let now = std::time::Instant::now();
        let began = start.get().unwrap_or(now);
        start.set(Some(began));
        now.duration_since(began).as_secs_f64() >= seconds
    })
}

#[test]
fn a_service_that_fails_validation_shows_a_badge() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("badge");
    let (mut harness, _) = app(&dir, None);
    let badges = |harness: &Harness<'_, App>| {
        harness
            .query_all_by_label_contains("⚠ scenario")
            .chain(harness.query_all_by_label_contains("⚠ service"))
            .count()
    };
    assert_eq!(badges(&harness), 0, "the example is valid");
    let added = add_from_palette(&mut harness, "service");
    harness.get_by_label("bound to a URL").click();
    harness.run();
    // Break the URL: text before "http://".
    let url = harness.get_by_role_and_label(Role::TextInput, "URL");
    url.focus();
    harness.key_press(Key::Home);
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, "URL")
        .type_text("x");
    harness.run();
    harness.key_press(Key::Escape);
    harness.run();
    let endpoint = service_named(harness.state(), &added)
        .endpoint
        .expect("the new service is bound to a URL");
    assert!(endpoint.url.starts_with("xhttp://"), "{}", endpoint.url);
    // The node carries the badge; it names the field and gives `archbench
    // check`'s message (its hover text and its accessible label).
    let expected = model::validate(harness.state().project());
    assert_eq!(expected.len(), 1, "{expected:?}");
    assert_eq!(badges(&harness), 1);
    let badge = format!("⚠ service {added:?} / endpoint: {}", expected[0].message);
    assert!(harness.query_by_label(&badge).is_some(), "{badge}");
}

#[test]
fn ctrl_n_starts_a_new_project_asking_first_if_work_is_unsaved() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("new");
    let (mut harness, _) = app(&dir, None);
    // Nothing unsaved: a new project at once.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::N);
    harness.run();
    assert_ne!(
        harness.state().project().name,
        model::file::parse(archbench::gui::EXAMPLE, Path::new("x.ron"))
            .unwrap()
            .project
            .name
    );
    assert!(harness.state().document().path().is_none());
    assert!(!harness.state().document().is_dirty());
    assert!(harness.query_by_label("Unsaved changes").is_none());
    let blank = harness.state().project().clone();

    // An edit, then Ctrl+N: the app asks, and Cancel keeps the work.
    harness.get_by_role_and_label(Role::Button, "cache").click();
    harness.run();
    let edited = harness.state().project().clone();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::N);
    harness.run();
    assert!(harness.query_by_label("Unsaved changes").is_some());
    harness.get_by_label("Cancel").click();
    harness.run();
    assert_eq!(harness.state().project(), &edited);
    assert!(harness.state().document().is_dirty());

    // Ctrl+N again, and discard: a blank project.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::N);
    harness.run();
    harness.get_by_label("Discard changes").click();
    harness.run();
    assert_eq!(harness.state().project(), &blank);
    assert!(!harness.state().document().is_dirty());
}

/// Whether the last frame asked the window to do `command`.
fn asked(harness: &Harness<'_, App>, command: &eframe::egui::ViewportCommand) -> bool {
    harness
        .output()
        .viewport_output
        .values()
        .any(|v| v.commands.contains(command))
}

/// Steps up to 10 frames until one asks the window to do `command`.
fn step_until_asked(harness: &mut Harness<'_, App>, command: &eframe::egui::ViewportCommand) {
    for _ in 0..10 {
        harness.step();
        if asked(harness, command) {
            return;
        }
    }
    panic!("the app never asked for {command:?}");
}

fn request_close(harness: &mut Harness<'_, App>) {
    use eframe::egui::{ViewportEvent, ViewportId};
    harness
        .input_mut()
        .viewports
        .get_mut(&ViewportId::ROOT)
        .unwrap()
        .events
        .push(ViewportEvent::Close);
}

#[test]
fn closing_with_unsaved_work_asks_first() {
    use eframe::egui::ViewportCommand;
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("close");
    let (mut harness, _) = app(&dir, None);

    // An edit, then the window's close button: the close is held back.
    harness
        .get_by_role_and_label(Role::Button, "database")
        .click();
    harness.run();
    let edited = harness.state().project().clone();
    request_close(&mut harness);
    step_until_asked(&mut harness, &ViewportCommand::CancelClose);
    harness.run();
    assert!(harness.query_by_label("Unsaved changes").is_some());
    // Cancel: still open, work intact.
    harness.get_by_label("Cancel").click();
    harness.run();
    assert!(harness.query_by_label("Unsaved changes").is_none());
    assert_eq!(harness.state().project(), &edited);

    // Close again and discard: now the app closes the window itself.
    request_close(&mut harness);
    step_until_asked(&mut harness, &ViewportCommand::CancelClose);
    harness.run();
    harness.get_by_label("Discard changes").click();
    step_until_asked(&mut harness, &ViewportCommand::Close);

    // With nothing unsaved, a close goes through without a question.
    let (mut clean, _) = app(&dir, None);
    request_close(&mut clean);
    clean.step();
    assert!(!asked(&clean, &ViewportCommand::CancelClose));
    clean.run();
    assert!(clean.query_by_label("Unsaved changes").is_none());
}

/// A file dropped onto the window, as the windowing layer hands it over.
#[derive(Debug)]
struct Dropped(PathBuf);

impl eframe::egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn a_ron_dropped_on_the_window_opens() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("drop");
    let (project, path) = example_with(&dir, |run| run.seed = 4242);
    let (mut harness, _) = app(&dir, None);
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(path.clone())));
    step_until(&mut harness, "the dropped file", |app| {
        app.document().path().is_some()
    });
    assert_eq!(harness.state().project(), &project);
    assert_eq!(harness.state().project().run.seed, 4242);
    assert!(!harness.state().document().is_dirty());
}

#[test]
fn a_plot_exports_as_png_cropped_from_the_window() {
    use archbench::gui::plots::PlotId;
    use eframe::egui::{Color32, ColorImage, Event, UserData, ViewportCommand, ViewportId};
    let _cpu = support::cpu_heavy();
    let dir = scratch("png");
    let (mut harness, answers) = app(&dir, None);
    harness.get_by_label("▶ Simulate").click();
    step_until(&mut harness, "the simulation", |app| {
        !app.is_running() && app.simulation().is_some()
    });
    let path = dir.join("histogram.png");
    answers.lock().unwrap().push_back(Some(path.clone()));
    // The first card's PNG button: the latency histogram.
    harness.query_all_by_label("PNG").next().unwrap().click();
    let mut request = None;
    for _ in 0..10 {
        harness.step();
        request = harness.output().viewport_output[&ViewportId::ROOT]
            .commands
            .iter()
            .find_map(|c| match c {
                ViewportCommand::Screenshot(data) => Some(data.clone()),
                _ => None,
            });
        if request.is_some() {
            break;
        }
    }
    let user_data: UserData = request.expect("the app asks for a screenshot");
    let plot = *user_data
        .data
        .as_ref()
        .and_then(|d| d.downcast_ref::<PlotId>())
        .unwrap();
    assert_eq!(plot, PlotId::Histogram);

    // Stand in for the renderer: a window whose every pixel encodes its own
    // position, so the saved image shows exactly which region was kept.
    let (width, height) = (1400_usize, 900_usize);
    let code = |x: usize, y: usize| {
        let [r, g, b, _] = u32::try_from(y * 2048 + x).unwrap().to_le_bytes();
        Color32::from_rgb(r, g, b)
    };
    let pixels = (0..height)
        .flat_map(|y| (0..width).map(move |x| code(x, y)))
        .collect();
    let image = ColorImage::new([width, height], pixels);
    harness.input_mut().events.push(Event::Screenshot {
        viewport_id: ViewportId::ROOT,
        user_data,
        image: Arc::new(image),
    });
    harness.run();
    assert!(path.is_file(), "the PNG is written");

    let rect = harness.state().plot_rect(plot).unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut rgba = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut rgba).unwrap();
    // At one pixel per point, the image is the plot's rectangle.
    let whole = |v: f32| format!("{v:.0}").parse::<usize>().unwrap();
    let (x0, y0) = (whole(rect.min.x), whole(rect.min.y));
    let (w, h) = (info.width as usize, info.height as usize);
    assert_eq!(w, whole(rect.max.x) - x0);
    assert_eq!(h, whole(rect.max.y) - y0);
    assert!(w > 100 && h > 100 && w < width, "{info:?}");
    for (i, pixel) in rgba.chunks_exact(4).enumerate() {
        let (x, y) = (x0 + i % w, y0 + i / w);
        assert_eq!(pixel, code(x, y).to_array(), "pixel {x},{y}");
    }
}

#[test]
fn the_inspector_turns_on_resilience_patterns() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("resilience");
    let (mut harness, _) = app(&dir, None);
    harness.get_by_role_and_label(Role::Button, "cache").click();
    harness.run();
    harness.get_by_label("add a call to…").click();
    harness.run();
    harness.get_by_label("➡ database").click();
    harness.run();
    // Select the new call from the cache's list of calls.
    harness.get_by_label("➡ database").click();
    harness.run();
    let link = |app: &App| {
        app.project().scenarios[0]
            .links
            .iter()
            .find(|l| l.from == "cache" && l.to == "database")
            .cloned()
            .unwrap()
    };
    for label in [
        "give up on slow calls",
        "retry failed calls",
        "circuit breaker",
        "cap calls in flight",
        "inject latency",
    ] {
        harness.get_by_label(label).click();
        harness.run();
    }
    let edited = link(harness.state());
    assert!(edited.timeout.is_some());
    assert_eq!(edited.retry.map(|r| r.max_retries), Some(2));
    assert!(edited.breaker.is_some());
    assert_eq!(edited.max_concurrent, Some(10));
    assert!(edited.fault.is_some());
    assert!(
        model::validate(harness.state().project()).is_empty(),
        "the presets are valid"
    );
    // The retry budget, inside the retry.
    harness.get_by_label("cap retries").click();
    harness.run();
    let budget = link(harness.state()).retry.unwrap().budget.unwrap();
    assert_close!(budget.ratio, 0.1, 1e-12);
    // Each was one edit: undo takes the budget and the fault off.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    let undone = link(harness.state());
    assert!(undone.retry.unwrap().budget.is_none());
    assert!(undone.fault.is_none());
    assert!(undone.max_concurrent.is_some());
}

#[test]
fn the_results_show_each_figure_over_time() {
    let _cpu = support::cpu_heavy();
    let dir = scratch("over-time");
    let (mut harness, _) = app(&dir, None);
    harness.get_by_label("▶ Simulate").click();
    step_until(&mut harness, "the simulation", |app| {
        !app.is_running() && app.simulation().is_some()
    });
    // Utilisation and the series over time are cards of their own, in the
    // second row of cards: scroll the results down to them.
    assert!(harness.query_by_label("Utilisation by service").is_some());
    assert!(harness.query_by_label("Over time").is_some());
    let results = harness.state().panels().results;
    harness.event(eframe::egui::Event::PointerMoved(results.center()));
    for _ in 0..10 {
        harness.event(eframe::egui::Event::MouseWheel {
            unit: eframe::egui::MouseWheelUnit::Point,
            delta: eframe::egui::vec2(0.0, -200.0),
            modifiers: Modifiers::NONE,
            phase: eframe::egui::TouchPhase::Move,
        });
        harness.step();
    }
    harness.run();
    for what in ["p99 (ms)", "replicas", "throughput (req/s)"] {
        let shown = harness.state().results_view_over_time().label();
        harness.get_by_value(shown).click();
        harness.run();
        harness.get_by_label(what).click();
        harness.run();
        assert_eq!(harness.state().results_view_over_time().label(), what);
        assert!(harness.query_by_label("Utilisation by service").is_some());
    }
    // The series behind it: one point a second of the example's run.
    let report = harness.state().simulation().unwrap();
    let scenario = &report.scenarios[0];
    let series = &scenario.timeseries;
    assert_eq!(series.services.len(), scenario.services.len());
    // The first replication, warm-up included, interval by interval: each
    // point stamped with its interval's end.
    let run_s = scenario.warmup_s + scenario.measured_s / f64::from(scenario.replications);
    let expected = (run_s / series.interval_s).ceil();
    assert_close!(series.time_s.len() as f64, expected, 0.0, "{run_s} s");
    for (i, t) in series.time_s.iter().enumerate() {
        assert_close!(*t, (i + 1) as f64 * series.interval_s, 1e-9);
    }
}

#[test]
fn the_inspector_edits_service_patterns() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("service-patterns");
    let (mut harness, _) = app(&dir, None);
    let added = add_from_palette(&mut harness, "model server");
    let service = |app: &App| service_named(app, &added);
    for label in [
        "token bucket",
        "add replicas under load",
        "run requests in batches",
        "+ crash",
    ] {
        harness.get_by_label(label).click();
        harness.run();
    }
    let edited = service(harness.state());
    assert!(edited.rate_limit.is_some());
    assert!(edited.autoscale.is_some());
    assert_eq!(edited.batching.map(|b| b.max_batch), Some(8));
    assert_eq!(edited.crashes.len(), 1);
    assert!(
        model::validate(harness.state().project()).is_empty(),
        "{:?}",
        model::validate(harness.state().project())
    );
    harness.get_by_label("remove").click();
    harness.run();
    assert!(service(harness.state()).crashes.is_empty());
}

#[test]
fn the_in_app_file_browser_opens_a_ron_when_no_file_dialog_appears() {
    let _cpu = crate::support::cpu_heavy();
    // Desktops without a file-dialog portal answer every dialog at once
    // with nothing: the app then shows its own file browser.
    let dir = scratch("browser");
    let (project, path) = example_with(&dir, |run| run.seed = 777);
    // Start from another file in the folder, so the browser opens there.
    let start = dir.join("start.ron");
    let mut other = project.clone();
    other.run.seed = 1;
    model::file::save(
        &model::ProjectFile {
            header: String::new(),
            project: other,
        },
        &start,
    )
    .unwrap();
    let (mut harness, answers) = app(&dir, Some(start));
    answers.lock().unwrap().push_back(None);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::O);
    harness.run();
    assert!(
        harness
            .query_by_label_contains("no file dialog appeared")
            .is_some()
    );
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    harness.get_by_label_contains(&name).click();
    harness.run();
    // The browser's own Open button (its label carries an icon).
    harness
        .get_by_role_and_label(Role::Button, "🗀  Open")
        .click();
    step_until(&mut harness, "the chosen file", |app| {
        app.document().path() == Some(path.as_path())
    });
    assert_eq!(harness.state().project(), &project);
    assert_eq!(harness.state().project().run.seed, 777);
}

#[test]
fn file_examples_opens_each_bundled_example_equal_to_its_file() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("examples-menu");
    let (mut harness, _) = app(&dir, None);
    let mut names: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("projects"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| Path::new(n).extension().is_some_and(|e| e == "ron"))
            .collect();
    names.sort();
    let mut bundled: Vec<&str> = archbench::gui::EXAMPLES.iter().map(|(n, _)| *n).collect();
    bundled.sort_unstable();
    assert_eq!(bundled, names, "every example in projects/ is bundled");
    for name in names {
        harness.get_by_label("File").click();
        harness.run();
        // A submenu's label carries its arrow.
        harness.get_by_label_contains("Examples").click();
        harness.run();
        harness.get_by_label(name.trim_end_matches(".ron")).click();
        harness.run();
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("projects")
            .join(&name);
        let file = model::file::load(&path).unwrap();
        assert_eq!(harness.state().project(), &file.project, "{name}");
        assert!(!harness.state().document().is_dirty(), "{name}");
        assert!(
            harness.state().document().path().is_none(),
            "{name} opens untitled"
        );
    }
}

#[test]
fn the_balancer_box_offers_every_balancer_and_shows_pull() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("balancer-pull");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/ml-platform.ron");
    let (mut harness, _) = app(&dir, Some(path));
    harness.run();
    let project = harness.state().project().clone();
    let (scenario, service) = project
        .scenarios
        .iter()
        .enumerate()
        .find_map(|(i, s)| {
            s.services
                .iter()
                .find(|x| x.balancer == model::Balancer::Pull)
                .map(|x| (i, x.name.clone()))
        })
        .expect("ml-platform.ron has a Pull service");
    let ctx = harness.ctx.clone();
    harness.state_mut().execute(
        &ctx,
        archbench::gui::command::Command::ShowScenario(scenario),
    );
    harness.state_mut().execute(
        &ctx,
        archbench::gui::command::Command::SelectServices(vec![service]),
    );
    harness.run();
    // The box shows Pull, and every balancer can be chosen again.
    harness.get_by_value(model::Balancer::Pull.label()).click();
    harness.run();
    for balancer in model::Balancer::ALL {
        assert!(
            harness
                .query_all_by_label(balancer.label())
                .next()
                .is_some(),
            "{balancer:?} is not offered"
        );
    }
}

#[test]
fn a_failing_scenario_shows_its_failures_and_a_mark_in_the_table() {
    let _cpu = support::cpu_heavy();
    let dir = scratch("failures");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/retry-storm.ron");
    let (mut harness, _) = app(&dir, Some(path));
    harness.run();
    harness.get_by_label("▶ Simulate").click();
    step_until(&mut harness, "the simulation", |app| {
        !app.is_running() && app.simulation().is_some()
    });
    let report = harness.state().simulation().unwrap().clone();
    let storm = report
        .scenarios
        .iter()
        .find(|s| s.scenario == "retries, no limit")
        .unwrap();
    let share = storm.failed as f64 / (storm.requests + storm.failed) as f64;
    // The example's storm fails most requests: far more than the 1% mark.
    assert!(share > 0.5, "{share}");
    // The failed share is in the table, as a percentage read back.
    let shown = numbers_shown(&harness, "%");
    assert!(
        shown.iter().any(|v| (v - 100.0 * share).abs() <= 0.5),
        "{} % is not among {shown:?}",
        100.0 * share
    );
    // So are its timeouts (the storm's cause) and its rejections (the full
    // queue), per 100 requests.
    let total = (storm.requests + storm.failed) as f64;
    let timeouts: u64 = storm.links.iter().map(|l| l.timeouts).sum();
    let rejected: u64 = storm
        .services
        .iter()
        .map(|s| s.rejected + s.rate_limited)
        .sum();
    assert!(timeouts > 0 && rejected > 0);
    for (what, count) in [("timeouts", timeouts), ("rejected", rejected)] {
        let expected = 100.0 * count as f64 / total;
        assert!(
            shown
                .iter()
                .any(|v| (v - expected).abs() <= 0.005 * expected.max(1.0)),
            "{what}: {expected} % is not among {shown:?}"
        );
    }
    // And the scenario carries the mark, in words.
    let mark = harness
        .query_all_by_label_contains("failing")
        .chain(harness.query_all_by_label_contains("saturated"))
        .count();
    assert!(mark >= 1, "no failure mark");
    // Every scenario above 1% failed (shedding load fails requests on
    // purpose) or saturated carries a mark, and only those.
    let marked = report
        .scenarios
        .iter()
        .filter(|s| s.saturated || s.failed as f64 > 0.01 * (s.requests + s.failed) as f64)
        .count();
    assert_eq!(
        harness
            .query_all_by_label_contains(" failing ")
            .chain(harness.query_all_by_label(" saturated "))
            .count(),
        marked
    );
}

/// The values shown by every combo box on screen.
fn combo_values(harness: &Harness<'_, App>) -> Vec<String> {
    harness
        .query_all_by_role(Role::ComboBox)
        .map(|node| node.value().unwrap_or_default())
        .collect()
}

#[test]
fn every_combo_box_in_every_example_shows_its_value() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("combo-values");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    paths.sort();
    let mut boxes_seen = 0;
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (mut harness, _) = app(&dir, Some(path));
        harness.run();
        harness.get_by_label("Objectives").click();
        harness.run();
        let project = harness.state().project().clone();
        let ctx = harness.ctx.clone();
        for (i, scenario) in project.scenarios.iter().enumerate() {
            let mut selections: Vec<archbench::gui::command::Command> = scenario
                .services
                .iter()
                .map(|s| archbench::gui::command::Command::SelectServices(vec![s.name.clone()]))
                .collect();
            selections.extend(
                (0..scenario.links.len()).map(archbench::gui::command::Command::SelectLink),
            );
            for select in selections {
                let what = format!("{name}, scenario {:?}, {select:?}", scenario.name);
                harness
                    .state_mut()
                    .execute(&ctx, archbench::gui::command::Command::ShowScenario(i));
                harness.state_mut().execute(&ctx, select);
                harness.run();
                let values = combo_values(&harness);
                assert!(!values.is_empty(), "{what}: no combo box");
                for value in &values {
                    assert!(
                        !value.trim().is_empty(),
                        "{what}: a box is empty: {values:?}"
                    );
                }
                boxes_seen += values.len();
            }
        }
    }
    assert!(boxes_seen > 100, "{boxes_seen} combo boxes seen");
}

/// Opens the combo box showing `current` and checks it offers every
/// variant of its type, then closes it (not with Escape, which would also
/// clear the selection).
fn offers_every<T: model::Choice + std::fmt::Debug>(harness: &mut Harness<'_, App>, current: T) {
    let open_or_close = |harness: &mut Harness<'_, App>| {
        harness
            .get_by(|node| {
                node.role() == Role::ComboBox && node.value().as_deref() == Some(current.label())
            })
            .click();
        harness.run();
    };
    open_or_close(harness);
    for &option in T::ALL {
        assert!(
            harness.query_all_by_label(option.label()).next().is_some(),
            "{option:?} is not offered"
        );
    }
    open_or_close(harness);
}

#[test]
fn every_choice_is_offered_by_its_combo_box() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("combo-choices");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/retry-storm.ron");
    let (mut harness, _) = app(&dir, Some(path));
    harness.run();
    let project = harness.state().project().clone();
    let scenario = &project.scenarios[0];
    let ctx = harness.ctx.clone();
    let service = &scenario.services[0];
    harness.state_mut().execute(
        &ctx,
        archbench::gui::command::Command::SelectServices(vec![service.name.clone()]),
    );
    harness.run();
    offers_every(&mut harness, service.kind);
    offers_every(&mut harness, service.balancer);
    offers_every(&mut harness, service.io);
    if let model::Arrivals::Open { process, .. } = project.workload.arrivals {
        offers_every(&mut harness, process);
    }
    let (index, link) = scenario
        .links
        .iter()
        .enumerate()
        .find(|(_, l)| l.retry.is_some())
        .expect("retry-storm.ron retries a call");
    harness
        .state_mut()
        .execute(&ctx, archbench::gui::command::Command::SelectLink(index));
    harness.run();
    offers_every(&mut harness, link.mode);
    offers_every(&mut harness, link.retry.unwrap().jitter);
}

/// File → Import traces… opens the project built from a traces file,
/// laid out and unsaved; File → Calibrate from traces… puts the traced
/// figures back into a project that guessed them, as one undo step, and
/// shows what changed. Menus are clicked with the pointer; the file
/// dialog's answer is scripted.
#[test]
fn traces_are_imported_and_calibrate_a_project_from_the_file_menu() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("traces");
    let traces =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces/fixture.otlp.jsonl");
    let (mut harness, answers) = app(&dir, None);
    let pick = |harness: &mut Harness<'_, App>, item: &str| {
        harness.get_by_label("File").click();
        harness.run();
        // An item without a shortcut keeps the space before the empty one.
        harness.get_by_label_contains(item).click();
        harness.run();
    };

    answers.lock().unwrap().push_back(Some(traces.clone()));
    pick(&mut harness, "Import traces…");
    step_until(&mut harness, "the import", |app| {
        app.project().scenarios[0].name == "imported"
    });
    let imported = harness.state().project().clone();
    let expected = archbench::model::traces::import_files(
        std::slice::from_ref(&traces),
        &archbench::model::traces::ImportOptions::default(),
    )
    .unwrap()
    .0
    .project;
    assert_eq!(imported, expected);
    assert!(harness.state().document().path().is_none(), "untitled");
    assert!(harness.state().document().is_dirty(), "and not saved yet");
    assert!(!archbench::model::layout::needs_layout(
        &imported.scenarios[0]
    ));
    assert!(
        harness.state().status().contains("imported"),
        "{}",
        harness.state().status()
    );

    // A project that guessed one service's time, opened from a file.
    let mut guessed = imported.clone();
    let first = &mut guessed.scenarios[0].services[0];
    let truth = first.service_time.clone();
    first.service_time = "exp:77ms".parse().unwrap();
    let path = dir.join("guessed.ron");
    model::file::save(
        &model::ProjectFile {
            header: String::new(),
            project: guessed.clone(),
        },
        &path,
    )
    .unwrap();
    answers.lock().unwrap().push_back(Some(path));
    harness.key_press_modifiers(Modifiers::COMMAND, Key::O);
    harness.run();
    // The import was never saved: the app asks first.
    harness.get_by_label("Discard changes").click();
    step_until(&mut harness, "the guessed project", |app| {
        app.project() == &guessed
    });

    answers.lock().unwrap().push_back(Some(traces));
    pick(&mut harness, "Calibrate from traces…");
    step_until(&mut harness, "the calibration", |app| {
        app.project().scenarios[0].services[0].service_time == truth
    });
    assert_eq!(
        harness.state().project(),
        &imported,
        "every traced figure back"
    );
    assert!(
        harness
            .query_by_label_contains("Calibrated from traces")
            .is_some()
    );
    assert!(harness.query_by_label("1 fields changed").is_some());
    // One undo step takes it all back.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(harness.state().project(), &guessed);
}

/// An LLM server from the palette comes with its llm settings, shown in the
/// inspector; the workload then offers token lengths for each class, and
/// typed lengths reach the project and simulate.
#[test]
fn an_llm_server_is_added_and_a_class_given_token_lengths() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("llm");
    let (mut harness, _) = app(&dir, None);
    assert!(harness.query_by_label("+ token lengths").is_none());
    let added = add_from_palette(&mut harness, "LLM server");
    let server = service_named(harness.state(), &added);
    assert_eq!(server.kind, ServiceKind::LlmServer);
    assert_eq!(server.llm, Some(model::LlmServing::example()));
    assert!(harness.query_by_label_contains("max sequences").is_some());
    assert!(model::validate(harness.state().project()).is_empty());
    // With nothing selected the workload shows; its class can take lengths.
    harness.key_press(Key::Escape);
    harness.run();
    harness.get_by_label("+ token lengths").click();
    harness.run();
    let class = &harness.state().project().workload.classes[0];
    assert_eq!(
        class.tokens.as_ref().map(|t| t.output.to_string()),
        Some("exp:200".to_owned())
    );
    retype(&mut harness, "prompt tokens", "uniform:100..300");
    harness.run();
    harness.key_press(Key::Enter);
    harness.run();
    let class = &harness.state().project().workload.classes[0];
    assert_eq!(
        class.tokens.as_ref().map(|t| t.prompt.to_string()),
        Some("uniform:100..300".to_owned())
    );
    // Units are refused where they are typed, and the project keeps its value.
    retype(&mut harness, "output tokens", "200ms");
    harness.run();
    harness.key_press(Key::Enter);
    harness.run();
    assert!(
        harness
            .query_by_label_contains("not a count of tokens")
            .is_some()
    );
    let class = &harness.state().project().workload.classes[0];
    assert_eq!(
        class.tokens.as_ref().map(|t| t.output.to_string()),
        Some("exp:200".to_owned())
    );
}

#[test]
fn published_presets_set_an_llm_server_and_a_classs_lengths() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("llm-presets");
    let (mut harness, _) = app(&dir, None);
    let added = add_from_palette(&mut harness, "LLM server");
    harness.get_by_label("preset…").click();
    harness.run();
    harness
        .get_by_label("Llama-3.1-8B on H100 (vLLM 0.8.4)")
        .click();
    harness.run();
    let llm = service_named(harness.state(), &added).llm.unwrap();
    // BLIS's fitted coefficients: 5,752.7 µs, 17.25 µs a prompt token,
    // 6.0 µs a decoding sequence; 29,205 blocks.
    assert_eq!(llm.step.base.as_nanos(), 5_752_705);
    assert_eq!(llm.step.per_prefill_token.as_nanos(), 17_251);
    assert_eq!(llm.kv_blocks(), Some(29_205));
    assert!(llm.chunked_prefill);
    harness.key_press(Key::Escape);
    harness.run();
    harness.get_by_label("+ token lengths").click();
    harness.run();
    harness.get_by_label("preset…").click();
    harness.run();
    harness.get_by_label("Azure 2023 code").click();
    harness.run();
    let tokens = harness.state().project().workload.classes[0]
        .tokens
        .clone()
        .unwrap();
    // The trace's means: 2,047.8 prompt and 27.9 output tokens.
    assert!((tokens.prompt.mean() - 2047.8).abs() < 0.1);
    assert!((tokens.output.mean() - 27.9).abs() < 0.1);
    assert!(model::validate(harness.state().project()).is_empty());
    // It simulates.
    assert!(archbench::sim::simulate_scenario(harness.state().project(), 0).is_ok());
}

/// Every setting of an LLM server can be edited in the inspector: the KV
/// cache switched between tokens and the model's shape (whose rows then
/// show), a prefill table typed (replacing the per-token cost, a bad point
/// refused where it is typed), and the watermark dragged with the pointer,
/// held within vLLM's 0 to 50%.
#[test]
fn an_llm_servers_cache_prefill_table_and_watermark_are_edited() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("llm-settings");
    let (mut harness, _) = app(&dir, None);
    let added = add_from_palette(&mut harness, "LLM server");
    let llm = |harness: &Harness<'_, App>| service_named(harness.state(), &added).llm.unwrap();
    // The example derives its cache from the model: its rows are shown.
    assert!(harness.query_by_label_contains("layers").is_some());
    let derived = llm(&harness).kv_tokens().unwrap();
    harness.get_by_label("set").click();
    harness.run();
    assert_eq!(llm(&harness).kv_cache, model::KvCache::Tokens(derived));
    assert!(harness.query_by_label_contains("layers").is_none());
    harness.get_by_label("from model").click();
    harness.run();
    assert_eq!(
        llm(&harness).kv_cache,
        model::KvCache::Model(model::ModelMemory::llama_8b())
    );

    // A prefill table replaces the per-token cost.
    let field = harness.get_by_role_and_label(Role::TextInput, "prefill table");
    field.scroll_to_me();
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, "prefill table")
        .focus();
    harness
        .get_by_role_and_label(Role::TextInput, "prefill table")
        .type_text("512:30ms, 2048:150ms");
    harness.key_press(Key::Enter);
    harness.run();
    let step = llm(&harness).step;
    assert_eq!(
        step.prefill_table,
        [
            (512, model::TimeSpan::from_nanos(30_000_000)),
            (2048, model::TimeSpan::from_nanos(150_000_000))
        ]
    );
    assert_eq!(step.per_prefill_token, model::TimeSpan::ZERO);
    assert!(harness.query_by_label("per prompt token").is_none());
    assert!(model::validate(harness.state().project()).is_empty());
    // A point without its time is refused, and the table kept.
    harness
        .get_by_role_and_label(Role::TextInput, "prefill table")
        .focus();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, "prefill table")
        .type_text("512:30ms, 2048");
    harness.key_press(Key::Enter);
    harness.run();
    assert!(harness.query_by_label_contains("point 2:").is_some());
    assert_eq!(llm(&harness).step.prefill_table, step.prefill_table);

    // The watermark, dragged to the right by the pointer, rises from 1%,
    // and however far it is dragged, stops at 50%.
    let label = harness.get_by_label("  watermark");
    label.scroll_to_me();
    harness.run();
    let row = harness.get_by_label("  watermark").rect();
    let spin = harness
        .get_all_by_role(Role::SpinButton)
        .find(|node| (node.rect().center().y - row.center().y).abs() < 4.0)
        .expect("the watermark's value")
        .rect()
        .center();
    assert!((llm(&harness).watermark - 0.01).abs() < 1e-12);
    for (right, check) in [(40.0, 0), (3000.0, 1)] {
        harness.event(eframe::egui::Event::PointerMoved(spin));
        harness.step();
        press(&harness, spin, true);
        harness.step();
        for i in 1..=10 {
            let at = spin + eframe::egui::vec2(right * i as f32 / 10.0, 0.0);
            harness.event(eframe::egui::Event::PointerMoved(at));
            harness.step();
        }
        press(&harness, spin + eframe::egui::vec2(right, 0.0), false);
        harness.run();
        let watermark = llm(&harness).watermark;
        if check == 0 {
            assert!(watermark > 0.02 && watermark < 0.5, "{watermark}");
        } else {
            assert!((watermark - 0.5).abs() < 1e-12, "{watermark}");
        }
    }
    assert!(model::validate(harness.state().project()).is_empty());
}

fn press(harness: &Harness<'_, App>, pos: eframe::egui::Pos2, pressed: bool) {
    harness.event(eframe::egui::Event::PointerButton {
        pos,
        button: eframe::egui::PointerButton::Primary,
        pressed,
        modifiers: Modifiers::NONE,
    });
}

#[test]
fn the_workload_takes_bursty_gamma_arrivals() {
    let _cpu = crate::support::cpu_heavy();
    let dir = scratch("gamma");
    let (mut harness, _) = app(&dir, None);
    // With nothing selected the inspector shows the workload.
    harness.key_press(Key::Escape);
    harness.run();
    harness
        .get_by(|node| node.role() == Role::ComboBox && node.value().as_deref() == Some("Poisson"))
        .click();
    harness.run();
    harness.get_by_label("bursty (Gamma gaps)").click();
    harness.run();
    let arrivals = harness.state().project().workload.arrivals.clone();
    let model::Arrivals::Open { process, .. } = arrivals else {
        panic!("{arrivals:?}")
    };
    assert_eq!(process, model::ArrivalProcess::Gamma { cv: 2.0 });
    assert!(harness.query_by_label_contains("burstiness").is_some());
    assert!(model::validate(harness.state().project()).is_empty());
}

#[test]
fn a_live_llm_test_streams_tokens_and_joins_the_token_table() {
    use archbench::loadgen::{LlmTarget, TargetConfig, TargetServer};
    let _cpu = support::timing_sensitive();
    let mut serving = model::LlmServing::example();
    serving.step = model::StepTime {
        base: model::TimeSpan::from_nanos(2_000_000),
        per_prefill_token: model::TimeSpan::from_nanos(10_000),
        per_decode_token: model::TimeSpan::from_nanos(100_000),
        prefill_table: Vec::new(),
    };
    let server = TargetServer::start(&TargetConfig {
        llm: Some(LlmTarget {
            serving,
            replicas: 1,
        }),
        ..TargetConfig::default()
    })
    .unwrap();
    let url = format!("{}v1/completions", server.url());
    let dir = scratch("live-llm");
    let (mut harness, _) = app(&dir, None);
    harness.get_by_label("⏺ Live test").click();
    harness.run();
    retype(&mut harness, "target URL", &url);
    harness.run();
    harness
        .get_by_label("stream completions, time each token")
        .click();
    harness.run();
    // The project has no token lengths: 512 and 128 to start with.
    for (label, text) in [("live prompt tokens", "50"), ("live output tokens", "10")] {
        let field = harness.get_by_role_and_label(Role::TextInput, label);
        field.focus();
        harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
        harness
            .get_by_role_and_label(Role::TextInput, label)
            .type_text(text);
        harness.run();
    }
    harness.get_by_role_and_label(Role::Button, "Start").click();
    harness.run();
    harness.get_by_label("Send load").click();
    harness.step();
    assert!(harness.state().is_live_running());
    step_until(&mut harness, "three live seconds", |_| {
        seconds_have_passed(3.0)
    });
    harness.get_by_role_and_label(Role::Button, "Stop").click();
    step_until(&mut harness, "the run to end", |app| !app.is_live_running());
    let measured = harness.state().measured().expect("a measurement").clone();
    let llm = measured.llm.as_ref().expect("token timings");
    assert!(llm.tokens.sequences > 50, "{}", llm.tokens.sequences);
    // Ten tokens each: every answer streamed what it asked for.
    assert_eq!(llm.tokens_out, 10 * llm.tokens.sequences);
    assert_eq!(measured.errors.values().sum::<u64>(), 0);
    harness.run_steps(3);
    // The token table has the measured row, beside the latency table's.
    assert!(
        harness.query_all_by_label("■ measured (live)").count() >= 2,
        "the measured row joins the token table"
    );
    assert!(harness.query_by_label("TTFT p50").is_some());
}
