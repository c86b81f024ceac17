//! Where in a project something is: the part (a scenario, a service, a
//! link, a request class, or the project itself) and the field path inside
//! it. Problems carry a [`Place`]; the app finds a field's problems by
//! comparing places, never by parsing their text.

use std::fmt;

/// The part of a project a place is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// The project as a whole: its format, workload, run settings,
    /// objectives and list of scenarios.
    Project,
    /// A request class of the workload.
    Class {
        /// The class's name.
        class: String,
    },
    /// A scenario.
    Scenario {
        /// The scenario's name.
        scenario: String,
    },
    /// A service of a scenario.
    Service {
        /// The scenario's name.
        scenario: String,
        /// The service's name.
        service: String,
    },
    /// A link of a scenario.
    Link {
        /// The scenario's name.
        scenario: String,
        /// The caller's name.
        from: String,
        /// The callee's name.
        to: String,
    },
}

/// A place in a project, written as `scenario "micro" / service "api" /
/// workers` in messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The part of the project.
    pub part: Part,
    /// The field path inside the part, outermost first; empty for the part
    /// itself.
    pub field: Vec<String>,
}

impl Place {
    fn of(part: Part) -> Self {
        Self {
            part,
            field: Vec::new(),
        }
    }

    /// A field path of the project itself, like `["run", "stop"]`.
    pub fn project<const N: usize>(field: [&str; N]) -> Self {
        Self {
            part: Part::Project,
            field: field.iter().map(|&f| f.to_owned()).collect(),
        }
    }

    /// Request class `class` of the workload.
    pub fn class(class: &str) -> Self {
        Self::of(Part::Class {
            class: class.to_owned(),
        })
    }

    /// Scenario `scenario`.
    pub fn scenario(scenario: &str) -> Self {
        Self::of(Part::Scenario {
            scenario: scenario.to_owned(),
        })
    }

    /// Service `service` of scenario `scenario`.
    pub fn service(scenario: &str, service: &str) -> Self {
        Self::of(Part::Service {
            scenario: scenario.to_owned(),
            service: service.to_owned(),
        })
    }

    /// The link from `from` to `to` in scenario `scenario`.
    pub fn link(scenario: &str, from: &str, to: &str) -> Self {
        Self::of(Part::Link {
            scenario: scenario.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
        })
    }

    /// The field `name` inside this place.
    #[must_use]
    pub fn field(&self, name: impl fmt::Display) -> Self {
        let mut place = self.clone();
        place.field.push(name.to_string());
        place
    }

    /// Whether this place is `outer` or inside it.
    pub fn is_within(&self, outer: &Self) -> bool {
        self.part == outer.part && self.field.starts_with(&outer.field)
    }

    /// The scenario the place is in, if it is in one.
    pub fn scenario_name(&self) -> Option<&str> {
        match &self.part {
            Part::Scenario { scenario }
            | Part::Service { scenario, .. }
            | Part::Link { scenario, .. } => Some(scenario),
            Part::Project | Part::Class { .. } => None,
        }
    }

    /// The place written from inside its scenario (`service "api" /
    /// workers`), as the canvas shows it next to the service.
    pub fn within_scenario(&self) -> String {
        let mut parts = Vec::new();
        match &self.part {
            Part::Service { service, .. } => parts.push(format!("service {service:?}")),
            Part::Link { from, to, .. } => parts.push(format!("link {from:?} -> {to:?}")),
            Part::Project | Part::Class { .. } | Part::Scenario { .. } => {}
        }
        parts.extend(self.field.iter().cloned());
        parts.join(" / ")
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        match &self.part {
            Part::Project => {}
            Part::Class { class } => parts.push(format!("workload / class {class:?}")),
            Part::Scenario { scenario } => parts.push(format!("scenario {scenario:?}")),
            Part::Service { scenario, service } => {
                parts.push(format!("scenario {scenario:?} / service {service:?}"));
            }
            Part::Link { scenario, from, to } => {
                parts.push(format!("scenario {scenario:?} / link {from:?} -> {to:?}"));
            }
        }
        parts.extend(self.field.iter().cloned());
        if parts.is_empty() {
            return f.write_str("project");
        }
        f.write_str(&parts.join(" / "))
    }
}

/// Compares with the place as messages write it.
impl PartialEq<&str> for Place {
    fn eq(&self, other: &&str) -> bool {
        let text: &str = other;
        text == self.to_string().as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_read_as_in_messages() {
        let check = |place: Place, text: &str| assert_eq!(place.to_string(), text);
        check(Place::project(["run", "stop"]), "run / stop");
        check(Place::project([]), "project");
        check(
            Place::class("browse").field("weight"),
            r#"workload / class "browse" / weight"#,
        );
        check(
            Place::scenario("a b").field("links"),
            r#"scenario "a b" / links"#,
        );
        check(
            Place::service("micro", "api")
                .field("crashes")
                .field(0)
                .field("replica"),
            r#"scenario "micro" / service "api" / crashes / 0 / replica"#,
        );
        check(
            Place::link("micro", "api", "db").field("retry"),
            r#"scenario "micro" / link "api" -> "db" / retry"#,
        );
    }

    #[test]
    fn a_field_is_within_its_parents_only() {
        let retry = Place::link("s", "a", "b").field("retry");
        assert!(retry.field("max_retries").is_within(&retry));
        assert!(retry.is_within(&retry));
        assert!(!retry.is_within(&retry.field("max_retries")));
        assert!(!Place::link("s", "a", "c").field("retry").is_within(&retry));
        assert!(!Place::project(["retry"]).is_within(&retry));
        assert_eq!(
            Place::link("s", "a", "b")
                .field("timeout")
                .within_scenario(),
            r#"link "a" -> "b" / timeout"#
        );
    }
}
