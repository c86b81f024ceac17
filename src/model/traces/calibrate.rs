//! Calibrating a project from traces: what `archbench calibrate` does. The
//! project keeps its structure and settings; the services and links the
//! traces show get their measured service times, probabilities, counts and
//! latencies.

use super::infer::Import;
use crate::model::{Distribution, Project};

/// One field changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Where: `service "web"` or `link "web" -> "db"`.
    pub place: String,
    /// Which field.
    pub field: &'static str,
    /// Its value before, as the file writes it.
    pub old: String,
    /// Its value after.
    pub new: String,
    /// The samples behind the new value.
    pub samples: u64,
    /// For a distribution, the relative change of its mean.
    pub mean_change: Option<f64>,
}

/// What a calibration did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Calibration {
    /// The fields changed, in the scenario's order.
    pub changes: Vec<Change>,
    /// Services of the model the traces do not show.
    pub services_not_traced: Vec<String>,
    /// Services of the traces the model does not have.
    pub services_not_modelled: Vec<String>,
    /// Links of the model the traces do not show, as `from -> to`.
    pub links_not_traced: Vec<String>,
    /// Links of the traces the model does not have.
    pub links_not_modelled: Vec<String>,
}

impl Calibration {
    /// The largest relative change of the mean of a `field`
    /// (`service_time` or `latency`), and where it was.
    pub fn largest_mean_change(&self, field: &str) -> Option<(&Change, f64)> {
        self.changes
            .iter()
            .filter(|c| c.field == field)
            .filter_map(|c| c.mean_change.map(|m| (c, m.abs())))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

fn mean_change(old: &Distribution, new: &Distribution) -> Option<f64> {
    let before = old.mean_secs();
    (before > 0.0).then(|| new.mean_secs() / before - 1.0)
}

/// Calibrates scenario `scenario` of `project` from `import` (built from
/// the traces); returns what changed.
pub fn calibrate(project: &mut Project, scenario: usize, import: &Import) -> Calibration {
    let mut calibration = Calibration::default();
    let Some(traced) = import.project.scenarios.first() else {
        return calibration;
    };
    let Some(model) = project.scenarios.get_mut(scenario) else {
        return calibration;
    };
    for service in &mut model.services {
        let Some(report) = import.services.iter().find(|r| r.name == service.name) else {
            calibration.services_not_traced.push(service.name.clone());
            continue;
        };
        let Some(found) = traced.services.iter().find(|s| s.name == service.name) else {
            continue;
        };
        if found.service_time != service.service_time {
            calibration.changes.push(Change {
                place: format!("service {:?}", service.name),
                field: "service_time",
                old: service.service_time.to_string(),
                new: found.service_time.to_string(),
                samples: report.handlings,
                mean_change: mean_change(&service.service_time, &found.service_time),
            });
            service.service_time = found.service_time.clone();
        }
    }
    calibration.services_not_modelled = traced
        .services
        .iter()
        .filter(|s| model.service_index(&s.name).is_none())
        .map(|s| s.name.clone())
        .collect();
    for link in &mut model.links {
        let found = traced
            .links
            .iter()
            .zip(&import.links)
            .find(|(l, _)| l.from == link.from && l.to == link.to);
        let Some((found, report)) = found else {
            calibration
                .links_not_traced
                .push(format!("{} -> {}", link.from, link.to));
            continue;
        };
        let place = format!("link {:?} -> {:?}", link.from, link.to);
        #[expect(clippy::float_cmp, reason = "a change is any change")]
        if found.probability != link.probability {
            calibration.changes.push(Change {
                place: place.clone(),
                field: "probability",
                old: link.probability.to_string(),
                new: found.probability.to_string(),
                samples: import
                    .services
                    .iter()
                    .find(|s| s.name == link.from)
                    .map_or(0, |s| s.handlings),
                mean_change: None,
            });
            link.probability = found.probability;
        }
        if found.count != link.count {
            calibration.changes.push(Change {
                place: place.clone(),
                field: "count",
                old: link.count.to_string(),
                new: found.count.to_string(),
                samples: report.calling,
                mean_change: None,
            });
            link.count = found.count;
        }
        if report.latency.is_some() && found.latency != link.latency {
            calibration.changes.push(Change {
                place,
                field: "latency",
                old: link.latency.to_string(),
                new: found.latency.to_string(),
                samples: report.calls,
                mean_change: mean_change(&link.latency, &found.latency),
            });
            link.latency = found.latency.clone();
        }
    }
    calibration.links_not_modelled = traced
        .links
        .iter()
        .filter(|l| !model.links.iter().any(|m| m.from == l.from && m.to == l.to))
        .map(|l| format!("{} -> {}", l.from, l.to))
        .collect();
    calibration
}
