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

impl Change {
    /// A changed value, as the file writes it.
    fn of_value(
        place: String,
        field: &'static str,
        (old, new): (&dyn std::fmt::Display, &dyn std::fmt::Display),
        samples: u64,
    ) -> Self {
        Self {
            place,
            field,
            old: old.to_string(),
            new: new.to_string(),
            samples,
            mean_change: None,
        }
    }

    /// A changed distribution, with the relative change of its mean.
    fn of_distribution(
        place: String,
        field: &'static str,
        (old, new): (&Distribution, &Distribution),
        samples: u64,
    ) -> Self {
        let before = old.mean_secs();
        Self {
            mean_change: (before > 0.0).then(|| new.mean_secs() / before - 1.0),
            ..Self::of_value(place, field, (old, new), samples)
        }
    }
}

/// `text` cut to `width` characters with an ellipsis, for a long value (an
/// empirical distribution) in a table or a window.
pub fn clipped(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
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
            calibration.changes.push(Change::of_distribution(
                format!("service {:?}", service.name),
                "service_time",
                (&service.service_time, &found.service_time),
                report.handlings,
            ));
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
            let handlings = import
                .services
                .iter()
                .find(|s| s.name == link.from)
                .map_or(0, |s| s.handlings);
            calibration.changes.push(Change::of_value(
                place.clone(),
                "probability",
                (&link.probability, &found.probability),
                handlings,
            ));
            link.probability = found.probability;
        }
        if found.count != link.count {
            calibration.changes.push(Change::of_value(
                place.clone(),
                "count",
                (&link.count, &found.count),
                report.calling,
            ));
            link.count = found.count;
        }
        if report.latency.is_some() && found.latency != link.latency {
            calibration.changes.push(Change::of_distribution(
                place,
                "latency",
                (&link.latency, &found.latency),
                report.calls,
            ));
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
