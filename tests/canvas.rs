//! The canvas driven as a hand drives it: pointer presses, moves in steps
//! and releases through `egui_kittest`, then checks on the project, the
//! selection and the undo stack. No accessibility shortcuts.

use std::path::PathBuf;
use std::time::Duration;

use archbench::gui::files::{Dialogs, StateDir};
use archbench::gui::{App, AppOptions, Selection};
use archbench::model::{Position, Scenario};
use eframe::egui::{self, Event, Key, Modifiers, PointerButton, Pos2, Rect, Vec2, pos2, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn app_sized(size: Vec2) -> Harness<'static, App> {
    app_opening(size, None)
}

/// The app at `size`, opening `open` (or the bundled example).
fn app_opening(size: Vec2, open: Option<PathBuf>) -> Harness<'static, App> {
    app_stepping(size, open, 0.25)
}

/// The app, each frame `step_dt` seconds after the last (a double click
/// needs two clicks within 0.3 s).
fn app_stepping(size: Vec2, open: Option<PathBuf>, step_dt: f32) -> Harness<'static, App> {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "archbench-canvas-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let options = AppOptions {
        open,
        state: StateDir::new(dir.join("state")),
        dialogs: Dialogs::Scripted(std::sync::Arc::default()),
        autosave_every: Duration::ZERO,
        simulate_at_start: false,
        figures: Vec::new(),
    };
    let mut harness = Harness::builder()
        .with_size(size)
        .with_step_dt(step_dt)
        .with_max_steps(32)
        .build_eframe(move |cc| App::new(cc, options));
    harness.run_steps(4);
    harness
}

fn app() -> Harness<'static, App> {
    app_sized(vec2(1400.0, 900.0))
}

/// A distinct folder name per harness within one test process.
fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn scenario(harness: &Harness<'_, App>) -> Scenario {
    let app = harness.state();
    app.project().scenarios[app.scenario()].clone()
}

fn position(harness: &Harness<'_, App>, name: &str) -> Position {
    scenario(harness)
        .services
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name}"))
        .position
}

fn node(harness: &Harness<'_, App>, name: &str) -> Rect {
    harness
        .state()
        .canvas()
        .node_rect(name)
        .unwrap_or_else(|| panic!("{name} is not drawn"))
}

fn selected(harness: &Harness<'_, App>) -> Vec<String> {
    match harness.state().selection() {
        Selection::Services(names) => {
            let mut names = names.clone();
            names.sort();
            names
        }
        _ => Vec::new(),
    }
}

/// Presses or releases the primary button, holding `modifiers` from the
/// press to the release as a keyboard does.
fn button(harness: &Harness<'_, App>, pos: Pos2, pressed: bool, modifiers: Modifiers) {
    if pressed {
        harness.event(Event::ModifiersChanged(modifiers));
    }
    harness.event(Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed,
        modifiers,
    });
    if !pressed {
        harness.event(Event::ModifiersChanged(Modifiers::NONE));
    }
}

fn hover(harness: &mut Harness<'_, App>, pos: Pos2) {
    harness.event(Event::PointerMoved(pos));
    harness.step();
}

/// Press at `from`, move to `to` in `steps` steps (a frame each), release.
/// `during` runs after each step, with the step's number.
fn drag_with(
    harness: &mut Harness<'_, App>,
    from: Pos2,
    to: Pos2,
    steps: u32,
    modifiers: Modifiers,
    mut during: impl FnMut(&mut Harness<'_, App>, u32),
) {
    hover(harness, from);
    button(harness, from, true, modifiers);
    harness.step();
    for i in 1..=steps {
        let at = from + (to - from) * (i as f32 / steps as f32);
        harness.event(Event::PointerMoved(at));
        harness.step();
        during(harness, i);
    }
    button(harness, to, false, modifiers);
    harness.step();
    harness.run();
}

fn drag(harness: &mut Harness<'_, App>, from: Pos2, to: Pos2) {
    drag_with(harness, from, to, 10, Modifiers::NONE, |_, _| {});
}

fn click(harness: &mut Harness<'_, App>, at: Pos2, modifiers: Modifiers) {
    hover(harness, at);
    button(harness, at, true, modifiers);
    harness.step();
    button(harness, at, false, modifiers);
    harness.step();
    harness.run();
}

/// A point on a node's header, clear of its pins.
fn header(rect: Rect) -> Pos2 {
    pos2(rect.center().x, rect.top() + 6.0)
}

/// An empty point of the canvas, scanning from its top left.
fn empty_point(harness: &Harness<'_, App>) -> Pos2 {
    let canvas = harness.state().canvas();
    let rect = canvas.rect();
    let mut y = rect.top() + 20.0;
    while y < rect.bottom() {
        let mut x = rect.left() + 20.0;
        while x < rect.right() {
            let p = pos2(x, y);
            if canvas.is_empty_at(p) {
                return p;
            }
            x += 25.0;
        }
        y += 25.0;
    }
    panic!("no empty canvas")
}

#[test]
fn a_node_follows_the_pointer_and_one_undo_puts_it_back() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let before = position(&harness, "recommender");
    let rect = node(&harness, "recommender");
    let zoom = harness.state().canvas().zoom();
    let start = header(rect);
    drag_with(
        &mut harness,
        start,
        start + vec2(100.0, 0.0),
        10,
        Modifiers::NONE,
        |harness, step| {
            // During the drag the node is under the pointer, step by step.
            let now = node(harness, "recommender");
            let moved = now.left() - rect.left();
            let expected = 10.0 * step as f32;
            assert_close!(
                moved,
                expected,
                1.0,
                "step {step}: moved {moved} px, expected {expected}"
            );
        },
    );
    let after = position(&harness, "recommender");
    assert!(
        (after.x - before.x - 100.0 / zoom).abs() <= 1.0 / zoom,
        "saved x moved from {} to {} at zoom {zoom}",
        before.x,
        after.x
    );
    assert_close!(after.y, before.y, 1.0 / zoom);
    assert_eq!(harness.state().document().undo_label(), Some("move"));
    assert_eq!(selected(&harness), ["recommender"]);

    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(position(&harness, "recommender"), before, "one undo step");
    assert!(!harness.state().document().is_dirty());
}

#[test]
fn selected_nodes_move_together() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let database = position(&harness, "database");
    let frontend = position(&harness, "frontend");
    let at = header(node(&harness, "database"));
    click(&mut harness, at, Modifiers::NONE);
    let at = header(node(&harness, "frontend"));
    click(&mut harness, at, Modifiers::SHIFT);
    assert_eq!(selected(&harness), ["database", "frontend"]);
    let zoom = harness.state().canvas().zoom();
    let start = header(node(&harness, "frontend"));
    drag(&mut harness, start, start + vec2(0.0, 80.0));
    for (name, before) in [("database", database), ("frontend", frontend)] {
        let after = position(&harness, name);
        assert!(
            (after.y - before.y - 80.0 / zoom).abs() <= 1.0 / zoom,
            "{name}: {before:?} -> {after:?}"
        );
    }
    // One step puts both back.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(position(&harness, "database"), database);
    assert_eq!(position(&harness, "frontend"), frontend);
}

#[test]
fn a_click_selects_and_empty_canvas_or_escape_deselects() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let at = node(&harness, "database").center();
    click(&mut harness, at, Modifiers::NONE);
    assert_eq!(selected(&harness), ["database"]);

    let at = header(node(&harness, "frontend"));
    click(&mut harness, at, Modifiers::SHIFT);
    assert_eq!(selected(&harness), ["database", "frontend"]);
    let at = header(node(&harness, "frontend"));
    click(&mut harness, at, Modifiers::COMMAND);
    assert_eq!(selected(&harness), ["database"], "Ctrl+click removes");

    let empty = empty_point(&harness);
    click(&mut harness, empty, Modifiers::NONE);
    assert_eq!(harness.state().selection(), &Selection::None);

    let at = header(node(&harness, "recommender"));
    click(&mut harness, at, Modifiers::NONE);
    assert_eq!(selected(&harness), ["recommender"]);
    harness.key_press(Key::Escape);
    harness.run();
    assert_eq!(harness.state().selection(), &Selection::None);
}

#[test]
fn a_click_on_a_wire_selects_the_call() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let links = scenario(&harness).links;
    let index = links
        .iter()
        .position(|l| l.from == "recommender" && l.to == "database")
        .unwrap();
    let point = harness.state().canvas().link_point(index).unwrap();
    click(&mut harness, point, Modifiers::NONE);
    assert_eq!(harness.state().selection(), &Selection::Link(index));
}

#[test]
fn a_rectangle_on_empty_canvas_selects_the_nodes_inside() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let (a, b) = (node(&harness, "frontend"), node(&harness, "recommender"));
    let c = node(&harness, "database");
    // From empty canvas above the row, to just past the second node.
    let from = pos2(a.left() - 10.0, a.top() - 30.0);
    assert!(harness.state().canvas().is_empty_at(from));
    let to = pos2(f32::midpoint(b.right(), c.left()), b.bottom() + 10.0);
    drag(&mut harness, from, to);
    assert_eq!(selected(&harness), ["frontend", "recommender"]);
    // Nothing moved.
    assert!(!harness.state().document().is_dirty());
}

#[test]
fn a_wire_from_an_output_pin_to_an_input_pin_adds_the_call() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let canvas = harness.state().canvas();
    let (_, out) = canvas.node_pins("frontend").unwrap();
    let (input, _) = canvas.node_pins("database").unwrap();
    drag(&mut harness, out, input);
    let links = scenario(&harness).links;
    let link = links
        .iter()
        .find(|l| l.from == "frontend" && l.to == "database")
        .expect("the call was added");
    // The caller's other calls set its latency, not zero.
    let other = links
        .iter()
        .find(|l| l.from == "frontend" && l.to == "recommender")
        .unwrap();
    assert_eq!(link.latency, other.latency);
    assert!(link.latency.mean_secs() > 0.0);
    // One undo step removes it.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert!(
        !scenario(&harness)
            .links
            .iter()
            .any(|l| l.to == "database" && l.from == "frontend")
    );
}

#[test]
fn a_wire_onto_its_own_node_or_closing_a_sync_cycle_is_refused_in_checks_words() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let before = scenario(&harness).links;
    let canvas = harness.state().canvas();
    let (input, out) = canvas.node_pins("recommender").unwrap();
    drag(&mut harness, out, input);
    assert_eq!(scenario(&harness).links, before);
    let status = harness.state().status().to_owned();
    assert!(status.contains("form a cycle"), "{status}");

    // database -> frontend closes frontend -> recommender -> database.
    let canvas = harness.state().canvas();
    let (_, out) = canvas.node_pins("database").unwrap();
    let (input, _) = canvas.node_pins("frontend").unwrap();
    drag(&mut harness, out, input);
    assert_eq!(scenario(&harness).links, before);
    let mut project = harness.state().project().clone();
    project.scenarios[0]
        .links
        .push(archbench::model::Link::new("database", "frontend"));
    let expected = archbench::model::validate(&project)
        .into_iter()
        .find(|p| p.message.contains("cycle"))
        .unwrap()
        .to_string();
    assert_eq!(harness.state().status(), expected);
}

#[test]
fn a_wire_dropped_on_empty_canvas_offers_a_new_connected_service() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let count = scenario(&harness).services.len();
    let (_, out) = harness.state().canvas().node_pins("database").unwrap();
    let empty = empty_point(&harness);
    drag(&mut harness, out, empty);
    // The menu at the drop offers each kind (after the palette's buttons).
    harness.get_all_by_label("cache").last().unwrap().click();
    harness.run();
    let after = scenario(&harness);
    assert_eq!(after.services.len(), count + 1);
    let added = after.services.last().unwrap().name.clone();
    assert!(
        after
            .links
            .iter()
            .any(|l| l.from == "database" && l.to == added),
        "{:?}",
        after.links
    );
    // One undo step removes both the service and the call.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(scenario(&harness).services.len(), count);
}

/// Whether any two drawn nodes overlap.
fn overlaps(harness: &Harness<'_, App>) -> Vec<(String, String)> {
    let s = scenario(harness);
    let rects: Vec<(String, Rect)> = s
        .services
        .iter()
        .map(|x| (x.name.clone(), node(harness, &x.name)))
        .collect();
    let mut pairs = Vec::new();
    for (i, (a, ra)) in rects.iter().enumerate() {
        for (b, rb) in &rects[i + 1..] {
            if ra.intersects(*rb) {
                pairs.push((a.clone(), b.clone()));
            }
        }
    }
    pairs
}

#[test]
fn palette_services_land_in_free_space_and_stay_in_view() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    assert!(overlaps(&harness).is_empty(), "{:?}", overlaps(&harness));
    for _ in 0..6 {
        harness
            .get_by_role_and_label(egui::accesskit::Role::Button, "cache")
            .click();
        harness.run();
        assert!(overlaps(&harness).is_empty(), "{:?}", overlaps(&harness));
    }
    // Fit to view shows every node.
    harness.get_by_label("Fit to view").click();
    harness.run();
    let canvas = harness.state().canvas().rect();
    for service in scenario(&harness).services {
        let rect = node(&harness, &service.name);
        assert!(
            canvas.contains_rect(rect),
            "{} at {rect:?} outside {canvas:?}",
            service.name
        );
    }
}

#[test]
fn the_wheel_zooms_gently_about_the_pointer() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let canvas = harness.state().canvas().rect();
    let at = canvas.center() + vec2(60.0, 30.0);
    hover(&mut harness, at);
    let before = harness.state().canvas().zoom();
    let database = node(&harness, "database");
    wheel(&mut harness, at, 1.0);
    let after = harness.state().canvas().zoom();
    let step = after / before;
    assert!(step > 1.0 && step <= 1.15, "one notch zoomed by {step}");
    // The point under the pointer stayed put.
    let moved = node(&harness, "database");
    let expected_left = at.x + (database.left() - at.x) * step;
    assert_close!(moved.left(), expected_left, 1.0);
    // Zooming far either way stops at the limits, nodes intact.
    for notches in [40.0, -80.0] {
        wheel(&mut harness, at, notches);
    }
    let zoom = harness.state().canvas().zoom();
    assert!((0.1..=3.0).contains(&zoom), "{zoom}");
    assert_eq!(scenario(&harness).services.len(), 3);
}

#[test]
fn deleting_or_undoing_during_a_drag_leaves_project_and_canvas_agreeing() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let original = harness.state().project().clone();
    let start = header(node(&harness, "database"));
    drag_with(
        &mut harness,
        start,
        start + vec2(-5000.0, 3000.0),
        6,
        Modifiers::NONE,
        |harness, step| {
            if step == 3 {
                harness.key_press(Key::Delete);
            }
        },
    );
    let s = scenario(&harness);
    assert!(s.services.iter().all(|x| x.name != "database"));
    assert!(s.links.iter().all(|l| l.to != "database"));
    assert!(harness.state().canvas().node_rect("database").is_none());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(harness.state().project(), &original);

    // Undo in the middle of a drag: the drag is dropped, not applied to the
    // restored project.
    let start = header(node(&harness, "frontend"));
    drag(&mut harness, start, start + vec2(40.0, 0.0));
    let moved = harness.state().project().clone();
    let start = header(node(&harness, "recommender"));
    drag_with(
        &mut harness,
        start,
        start + vec2(0.0, 200.0),
        6,
        Modifiers::NONE,
        |harness, step| {
            if step == 2 {
                harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
            }
        },
    );
    assert_eq!(harness.state().project(), &original, "{moved:?}");
    for service in scenario(&harness).services {
        let drawn = node(&harness, &service.name);
        assert!(drawn.is_finite());
    }
}

#[test]
fn a_node_dragged_far_away_is_kept_and_found_by_fit() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let start = header(node(&harness, "database"));
    drag(&mut harness, start, start + vec2(30_000.0, 20_000.0));
    let at = position(&harness, "database");
    assert!(at.x.is_finite() && at.x > 1000.0, "{at:?}");
    harness.get_by_label("Fit to view").click();
    harness.run();
    let canvas = harness.state().canvas().rect();
    assert!(canvas.contains_rect(node(&harness, "database")));
}

#[test]
fn every_panel_keeps_its_room_from_a_laptop_to_a_large_monitor() {
    let _cpu = crate::support::cpu_heavy();
    for size in [vec2(1024.0, 700.0), vec2(1920.0, 1080.0)] {
        let mut harness = app_sized(size);
        harness.get_by_label("▶ Simulate").click();
        for _ in 0..3000 {
            harness.step();
            let app = harness.state();
            if !app.is_running() && app.simulation().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        harness.run_steps(4);
        let app = harness.state();
        assert!(app.simulation().is_some());
        let window = Rect::from_min_size(Pos2::ZERO, size);
        let panels = app.panels();
        let canvas = app.canvas().rect();
        for (what, rect, min) in [
            ("canvas", canvas, vec2(300.0, 150.0)),
            ("inspector", panels.inspector, vec2(270.0, 300.0)),
            ("results", panels.results, vec2(400.0, 150.0)),
        ] {
            assert!(
                rect.width() >= min.x && rect.height() >= min.y,
                "{size:?}: the {what} has {rect:?}"
            );
            assert!(
                window.expand(1.0).contains_rect(rect),
                "{size:?}: {what} {rect:?}"
            );
        }
        let cards = app.card_rects();
        assert!(cards.len() >= 4, "{cards:?}");
        for card in cards {
            assert!(
                card.right() <= panels.results.right() + 1.0,
                "{size:?}: a card at {card:?} passes the results panel {:?}",
                panels.results
            );
        }
        // Every node of the first view is on the canvas.
        for service in scenario(&harness).services {
            let rect = node(&harness, &service.name);
            assert!(
                canvas.contains_rect(rect),
                "{size:?}: {} at {rect:?} outside {canvas:?}",
                service.name
            );
        }
    }
}

/// Every non-ASCII character in the app's code outside comments.
fn glyphs_in_gui_sources() -> std::collections::BTreeMap<char, String> {
    fn walk(dir: &std::path::Path, out: &mut std::collections::BTreeMap<char, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    for c in code.chars().filter(|c| !c.is_ascii()) {
                        out.entry(c)
                            .or_insert_with(|| format!("{}:{}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gui"),
        &mut out,
    );
    out
}

#[test]
fn every_glyph_the_app_uses_renders() {
    let _cpu = crate::support::cpu_heavy();
    let harness = app();
    let font = egui::FontId::proportional(13.0);
    // Where a character's glyph sits in the font atlas: a character the
    // fonts lack is drawn as the replacement '◻', from the same place.
    let atlas_spot = |c: char| {
        harness.ctx.fonts_mut(|f| {
            let galley = f.layout_no_wrap(c.to_string(), font.clone(), egui::Color32::WHITE);
            galley.rows[0].row.glyphs[0].uv_rect
        })
    };
    let replacement = atlas_spot('◻');
    let missing: Vec<String> = glyphs_in_gui_sources()
        .into_iter()
        .filter(|(c, _)| *c != '◻')
        .filter(|(c, _)| {
            // `has_glyph` also says no for any character of the face that
            // holds the replacement glyph, so look at what is drawn.
            !harness.ctx.fonts_mut(|f| f.has_glyph(&font, *c)) && atlas_spot(*c) == replacement
        })
        .map(|(c, place)| format!("{c:?} (U+{:04X}) at {place}", u32::from(c)))
        .collect();
    assert!(missing.is_empty(), "no glyph for: {missing:#?}");
}

#[test]
fn the_inspector_keeps_its_width_as_sections_open() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let width = |h: &Harness<'_, App>| h.state().panels().inspector.width();
    let before = width(&harness);
    assert!((280.0..=500.0).contains(&before), "{before}");
    for section in ["Run settings", "Objectives", "Project"] {
        harness.get_by_label(section).click();
        harness.run();
        let now = width(&harness);
        assert_close!(
            now,
            before,
            2.0,
            "opening {section} took the inspector from {before} to {now}"
        );
    }
    let at = header(node(&harness, "recommender"));
    click(&mut harness, at, Modifiers::NONE);
    let now = width(&harness);
    assert_close!(now, before, 2.0, "a selected service: {before} to {now}");
}

#[test]
fn tidy_up_lays_the_scenario_out_in_one_undo_step() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let before = scenario(&harness);
    // Muddle it first: drag the first service far down, as a person might.
    let first = before.services[0].name.clone();
    let from = header(node(&harness, &first));
    drag_with(
        &mut harness,
        from,
        from + vec2(0.0, 260.0),
        8,
        Modifiers::NONE,
        |_, _| {},
    );
    let muddled = scenario(&harness);
    assert_ne!(muddled, before);
    // The palette's button, clicked with the pointer.
    let at = harness.get_by_label("Tidy up").rect().center();
    click(&mut harness, at, Modifiers::NONE);
    let tidy = scenario(&harness);
    let size = harness.state().canvas().node_size();
    let expected = archbench::model::layout::layered(&muddled, (size.x, size.y));
    for (service, (name, at)) in tidy.services.iter().zip(&expected) {
        assert_eq!(&service.name, name);
        assert_eq!(service.position, *at, "{name}");
    }
    // Every sync call now points right, and no node overlaps another.
    for link in &tidy.links {
        if link.mode == archbench::model::CallMode::Sync {
            assert!(
                position(&harness, &link.from).x < position(&harness, &link.to).x,
                "{}",
                link.from
            );
        }
    }
    // One undo puts back the muddle; Ctrl+L lays it out again.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(scenario(&harness), muddled);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::L);
    harness.run();
    assert_eq!(scenario(&harness), tidy);
}

#[test]
fn a_project_without_positions_opens_laid_out() {
    let _cpu = crate::support::cpu_heavy();
    // The three-tier example with every `position` taken out, as a script
    // or a hand-written file leaves it: all services at one spot.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/projects/three-tier.ron"
    ))
    .unwrap();
    let stripped: String = text
        .split(", position: (")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                part.split_once(')').unwrap().1
            }
        })
        .collect();
    assert!(!stripped.contains("position"), "{stripped}");
    let dir = std::env::temp_dir().join(format!("archbench-unplaced-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("unplaced.ron");
    std::fs::write(&path, &stripped).unwrap();
    let harness = app_opening(vec2(1400.0, 900.0), Some(path));
    let shown = scenario(&harness);
    let expected = archbench::model::layout::layered(
        &archbench::model::file::parse(&stripped, std::path::Path::new("x.ron"))
            .unwrap()
            .project
            .scenarios[0],
        (
            archbench::gui::DEFAULT_NODE.x,
            archbench::gui::DEFAULT_NODE.y,
        ),
    );
    for (service, (name, at)) in shown.services.iter().zip(&expected) {
        assert_eq!((&service.name, service.position), (name, *at));
    }
    // Nothing the user did: no unsaved change.
    assert!(!harness.state().window_title().contains('•'));
}

/// A project file of `n` services without positions, each calling the next
/// (`chain`) or all called by the first: laid out when opened.
fn generated(n: usize, chain: bool) -> PathBuf {
    use archbench::model::{Link, RequestClass, Service, ServiceKind, file};
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/projects/three-tier.ron"
    ))
    .unwrap();
    let mut parsed = file::parse(&text, std::path::Path::new("three-tier.ron")).unwrap();
    let project = &mut parsed.project;
    let services = (0..n)
        .map(|i| {
            Service::new(
                format!("svc-{i}"),
                ServiceKind::Service,
                "exp:1ms".parse().unwrap(),
            )
        })
        .collect();
    let links = (1..n)
        .map(|i| {
            let caller = if chain { i - 1 } else { 0 };
            Link::new(format!("svc-{caller}"), format!("svc-{i}"))
        })
        .collect();
    project.scenarios = vec![Scenario {
        name: "generated".into(),
        description: String::new(),
        services,
        links,
        groups: Vec::new(),
    }];
    project.workload.classes = vec![RequestClass {
        name: "all".into(),
        weight: 1.0,
        entry: "svc-0".into(),
        tokens: None,
    }];
    project.objectives.clear();
    assert!(archbench::model::validate(project).is_empty());
    let dir = std::env::temp_dir().join(format!(
        "archbench-generated-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("generated-{n}.ron"));
    file::save(&parsed, &path).unwrap();
    path
}

fn wheel(harness: &mut Harness<'_, App>, at: Pos2, notches: f32) {
    hover(harness, at);
    harness.event(Event::MouseWheel {
        unit: egui::MouseWheelUnit::Line,
        delta: vec2(0.0, notches),
        modifiers: Modifiers::NONE,
        phase: egui::TouchPhase::Move,
    });
    harness.run();
}

fn in_view(harness: &Harness<'_, App>, name: &str) -> bool {
    let canvas = harness.state().canvas().rect();
    harness
        .state()
        .canvas()
        .node_rect(name)
        .is_some_and(|r| canvas.intersects(r))
}

#[test]
fn the_minimap_appears_when_nodes_are_out_of_view_and_dragging_it_pans() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app_opening(vec2(1400.0, 900.0), Some(generated(40, true)));
    // Fitted: every node in view, no minimap.
    assert!(in_view(&harness, "svc-0") && in_view(&harness, "svc-39"));
    assert_eq!(harness.state().canvas().minimap_rect(), None);
    // Zoomed in on the first service: the last is out of view, the map shows.
    let first = node(&harness, "svc-0").center();
    wheel(&mut harness, first, 10.0);
    assert!(in_view(&harness, "svc-0"));
    assert!(!in_view(&harness, "svc-39"));
    let map = harness
        .state()
        .canvas()
        .minimap_rect()
        .expect("a minimap while nodes are out of view");
    assert!(harness.state().canvas().rect().contains_rect(map));
    // Press near the map's left end and drag to its right end in steps: the
    // view follows and ends on the last service of the chain.
    let zoom = harness.state().canvas().zoom();
    let from = pos2(map.left() + 2.0, map.center().y);
    let to = pos2(map.right() - 2.0, map.center().y);
    let mut seen = Vec::new();
    drag_with(&mut harness, from, to, 8, Modifiers::NONE, |h, _| {
        seen.push(
            (0..40)
                .filter(|i| in_view(h, &format!("svc-{i}")))
                .max()
                .unwrap_or(0),
        );
    });
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]) && seen.last() > seen.first(),
        "the view moves right along the chain as the pointer does: {seen:?}"
    );
    assert!(in_view(&harness, "svc-39"), "{seen:?}");
    assert!(!in_view(&harness, "svc-0"));
    // The press was the map's, not the canvas's: no rectangle selected nodes.
    assert!(selected(&harness).is_empty());
    // Panning is not an edit, and the zoom is kept.
    assert!(!harness.state().window_title().contains('•'));
    assert_close!(harness.state().canvas().zoom(), zoom, 1e-6);
    // A click on the map's left end goes back to the start.
    click(&mut harness, from, Modifiers::NONE);
    assert!(in_view(&harness, "svc-0"));
}

#[test]
fn find_service_jumps_to_a_service_by_name() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app_opening(vec2(1400.0, 900.0), Some(generated(120, false)));
    assert!(
        harness.state().canvas().zoom() < 0.5,
        "a fan-out of 120 fits zoomed out"
    );
    // Ctrl+F, type part of a name, Enter: the first match is selected and
    // centred, zoomed in far enough to read.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::F);
    harness.run();
    harness.event(Event::Text("svc-87".into()));
    harness.run();
    harness.key_press(Key::Enter);
    harness.run();
    assert_eq!(selected(&harness), ["svc-87"]);
    let canvas = harness.state().canvas().rect();
    let found = node(&harness, "svc-87");
    assert!(
        found.contains(canvas.center()),
        "{found:?} centred in {canvas:?}"
    );
    assert!(harness.state().canvas().zoom() >= 0.8);
    assert!(harness.query_by_label("Find service").is_none(), "closed");
    // Again, choosing a match from the list with the pointer.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::F);
    harness.run();
    harness.event(Event::Text("SVC-11".into()));
    harness.run();
    let listed = harness.get_by_label("svc-119").rect().center();
    click(&mut harness, listed, Modifiers::NONE);
    assert_eq!(selected(&harness), ["svc-119"]);
    assert!(node(&harness, "svc-119").contains(canvas.center()));
    // Escape closes it without moving anything.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::F);
    harness.run();
    assert!(harness.query_by_label("Find service").is_some());
    harness.key_press(Key::Escape);
    harness.run();
    assert!(harness.query_by_label("Find service").is_none());
    assert_eq!(selected(&harness), ["svc-119"]);
}

#[test]
fn selecting_a_service_lights_its_callers_and_callees_and_dims_the_rest() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app_opening(vec2(1400.0, 900.0), Some(generated(6, true)));
    assert!(harness.state().canvas().dimmed().is_empty());
    let at = header(node(&harness, "svc-2"));
    click(&mut harness, at, Modifiers::NONE);
    let mut dimmed = harness.state().canvas().dimmed().to_vec();
    dimmed.sort();
    assert_eq!(dimmed, ["svc-0", "svc-4", "svc-5"]);
    // Adding the last service lights its caller too.
    let at = header(node(&harness, "svc-5"));
    click(&mut harness, at, Modifiers::SHIFT);
    let mut dimmed = harness.state().canvas().dimmed().to_vec();
    dimmed.sort();
    assert_eq!(dimmed, ["svc-0"]);
    harness.key_press(Key::Escape);
    harness.run();
    assert!(harness.state().canvas().dimmed().is_empty());
}

#[test]
fn a_group_moves_as_one_folds_and_unfolds_and_survives_save_and_reopen() {
    let _cpu = crate::support::cpu_heavy();
    let mut harness = app();
    let before = scenario(&harness);
    // Select web and cache with the pointer, then Ctrl+G.
    let first = header(node(&harness, "recommender"));
    click(&mut harness, first, Modifiers::NONE);
    let second = header(node(&harness, "database"));
    click(&mut harness, second, Modifiers::SHIFT);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::G);
    harness.run();
    let grouped = scenario(&harness);
    assert_eq!(grouped.groups.len(), 1);
    assert_eq!(grouped.groups[0].name, "group 1");
    assert_eq!(grouped.groups[0].services, ["recommender", "database"]);
    assert!(!grouped.groups[0].collapsed);
    // The box is drawn around both.
    let (boxed, title, toggle) = harness.state().canvas().group_rects(0).unwrap();
    assert!(boxed.contains_rect(node(&harness, "recommender")));
    assert!(boxed.contains_rect(node(&harness, "database")));
    assert!(!boxed.contains_rect(node(&harness, "frontend")));
    // Dragged by its title, both members move by the same amount; nothing
    // else moves; one undo step.
    let zoom = harness.state().canvas().zoom();
    let grab = pos2(title.left() + 30.0, title.center().y);
    drag(&mut harness, grab, grab + vec2(90.0, 60.0));
    let moved = scenario(&harness);
    for name in ["recommender", "database"] {
        let (a, b) = (
            grouped.services.iter().find(|s| s.name == name).unwrap(),
            moved.services.iter().find(|s| s.name == name).unwrap(),
        );
        assert_close!(b.position.x - a.position.x, 90.0 / zoom, 0.5);
        assert_close!(b.position.y - a.position.y, 60.0 / zoom, 0.5);
    }
    let frontend = grouped.services.iter().find(|s| s.name == "frontend");
    assert_eq!(position(&harness, "frontend"), frontend.unwrap().position);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(scenario(&harness), grouped);
    // The toggle folds it into one node: its services are not drawn, the
    // group is, and calls into it meet its node.
    let (_, _, toggle_now) = harness.state().canvas().group_rects(0).unwrap();
    assert_eq!(toggle_now, toggle);
    click(&mut harness, toggle.center(), Modifiers::NONE);
    assert!(scenario(&harness).groups[0].collapsed);
    assert!(harness.state().canvas().node_rect("recommender").is_none());
    assert!(harness.state().canvas().node_rect("database").is_none());
    assert!(harness.query_by_label("group 1 group").is_some());
    let (folded, _, _) = harness.state().canvas().group_rects(0).unwrap();
    let call = scenario(&harness)
        .links
        .iter()
        .position(|l| l.from == "frontend" && l.to == "recommender")
        .unwrap();
    let middle = harness.state().canvas().link_point(call).unwrap();
    assert!(
        middle.x < folded.left(),
        "the call into the group ends at its node: {middle:?} {folded:?}"
    );
    // Saved and reopened: the same project, still folded.
    let dir = std::env::temp_dir().join(format!("archbench-groups-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("grouped.ron");
    let project = harness.state().project().clone();
    archbench::model::file::save(
        &archbench::model::ProjectFile {
            header: String::new(),
            project: project.clone(),
        },
        &path,
    )
    .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("groups:"), "{text}");
    let mut reopened = app_stepping(vec2(1400.0, 900.0), Some(path), 1.0 / 60.0);
    assert_eq!(reopened.state().project(), &project);
    assert!(reopened.state().canvas().node_rect("recommender").is_none());
    // A double click on the folded node unfolds it.
    let (folded, _, _) = reopened.state().canvas().group_rects(0).unwrap();
    let at = folded.center();
    hover(&mut reopened, at);
    for _ in 0..2 {
        button(&reopened, at, true, Modifiers::NONE);
        reopened.step();
        button(&reopened, at, false, Modifiers::NONE);
        reopened.step();
    }
    reopened.run();
    assert!(!scenario(&reopened).groups[0].collapsed);
    assert!(reopened.state().canvas().node_rect("recommender").is_some());
    // Finding a service folded into a group unfolds the group.
    let (_, _, toggle) = reopened.state().canvas().group_rects(0).unwrap();
    click(&mut reopened, toggle.center(), Modifiers::NONE);
    assert!(scenario(&reopened).groups[0].collapsed);
    reopened.key_press_modifiers(Modifiers::COMMAND, Key::F);
    reopened.run();
    reopened.event(Event::Text("databa".into()));
    reopened.run();
    reopened.key_press(Key::Enter);
    reopened.run();
    assert!(!scenario(&reopened).groups[0].collapsed);
    assert_eq!(selected(&reopened), ["database"]);
    assert!(reopened.state().canvas().node_rect("database").is_some());
    // The file without groups is what it was before grouping.
    assert!(before.groups.is_empty());
}
