//! "Find service" (Ctrl+F): a box at the top of the canvas where typing
//! part of a name lists the services that match; Enter or a click jumps to
//! one (selects it and centres the view on it), Escape closes the box.

use eframe::egui::{self, Key, Rect};

use crate::gui::command::Command;
use crate::model::Scenario;

/// The most matches listed.
const SHOWN: usize = 12;

/// The find box's state while it is open.
#[derive(Debug, Default)]
pub struct Find {
    /// What has been typed.
    pub query: String,
    /// Give the text field the keyboard on the next frame.
    focus: bool,
}

impl Find {
    /// A find box opening with the keyboard in its field.
    pub fn open() -> Self {
        Self {
            query: String::new(),
            focus: true,
        }
    }
}

/// The services of `scenario` whose names contain `query` (ignoring case),
/// names that start with it first, each group in the scenario's order.
pub fn matches<'a>(scenario: &'a Scenario, query: &str) -> Vec<&'a str> {
    let query = query.trim().to_lowercase();
    let (mut starting, mut containing): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for service in &scenario.services {
        let name = service.name.to_lowercase();
        if name.starts_with(&query) {
            starting.push(&service.name);
        } else if name.contains(&query) {
            containing.push(&service.name);
        }
    }
    starting.extend(containing);
    starting
}

/// Draws the find box over the top of `canvas` (screen); closes it (sets
/// `find` to `None`) on Escape or once a service was chosen.
pub fn find_ui(
    ctx: &egui::Context,
    find: &mut Option<Find>,
    scenario: &Scenario,
    canvas: Rect,
    commands: &mut Vec<Command>,
) {
    let Some(state) = find else {
        return;
    };
    let mut close = false;
    egui::Area::new(egui::Id::new("find-service"))
        .order(egui::Order::Foreground)
        .fixed_pos(egui::pos2(canvas.center().x - 160.0, canvas.top() + 8.0))
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.set_width(320.0);
                ui.horizontal(|ui| {
                    ui.label("Find");
                    let field = ui.add(
                        egui::TextEdit::singleline(&mut state.query)
                            .hint_text("part of a name")
                            .desired_width(f32::INFINITY),
                    );
                    field.widget_info(|| {
                        egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "Find service")
                    });
                    if std::mem::take(&mut state.focus) {
                        field.request_focus();
                    }
                    let (enter, escape) =
                        ui.input(|i| (i.key_pressed(Key::Enter), i.key_pressed(Key::Escape)));
                    let found = matches(scenario, &state.query);
                    if enter && let Some(first) = found.first() {
                        commands.push(Command::FocusService((*first).to_owned()));
                        close = true;
                    }
                    if escape {
                        close = true;
                    }
                });
                let found = matches(scenario, &state.query);
                if found.is_empty() {
                    ui.weak("no service matches");
                }
                for name in found.iter().take(SHOWN) {
                    if ui.selectable_label(false, *name).clicked() {
                        commands.push(Command::FocusService((*name).to_owned()));
                        close = true;
                    }
                }
                if found.len() > SHOWN {
                    ui.weak(format!("and {} more", found.len() - SHOWN));
                }
            });
        });
    if close {
        *find = None;
    }
}

#[cfg(test)]
mod tests {
    use super::matches;
    use crate::model::{Scenario, Service, ServiceKind};

    #[test]
    fn names_starting_with_the_query_come_first_and_case_is_ignored() {
        let services = ["user-db", "users", "Gateway", "feature-store", "USER-cache"]
            .into_iter()
            .map(|n| Service::new(n, ServiceKind::Service, "1ms".parse().unwrap()))
            .collect();
        let scenario = Scenario {
            name: "s".into(),
            description: String::new(),
            services,
            links: Vec::new(),
            groups: Vec::new(),
        };
        assert_eq!(
            matches(&scenario, "user"),
            ["user-db", "users", "USER-cache"]
        );
        assert_eq!(matches(&scenario, "  STORE "), ["feature-store"]);
        assert_eq!(matches(&scenario, "ate"), ["Gateway"]);
        assert!(matches(&scenario, "zzz").is_empty());
        assert_eq!(matches(&scenario, "").len(), 5);
    }
}
