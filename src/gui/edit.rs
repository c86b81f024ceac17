//! Edits of the project. Each [`Edit`] is one undo step, applied by
//! [`Edit::apply`] in one place, so undo, the dirty flag and the tests all
//! see every change the same way; consecutive edits of one field merge
//! ([`Edit::merge_key`]).

use crate::model::{
    Link, Objective, Position, Project, RunSettings, Scenario, Service, ServiceKind, Workload,
};

/// A change to the project. Each is one undo step (see [`Edit::merge_key`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// A new service of `kind`, with its preset, at `at`.
    AddService {
        /// The scenario.
        scenario: usize,
        /// Its kind.
        kind: ServiceKind,
        /// Where on the canvas.
        at: Position,
    },
    /// A new service of `kind` at `at`, connected to an existing one by a
    /// new call: one undo step.
    AddWired {
        /// The scenario.
        scenario: usize,
        /// Its kind.
        kind: ServiceKind,
        /// Where on the canvas.
        at: Position,
        /// The existing service and the call's direction.
        wired: Wired,
    },
    /// Removes services and every link to or from them.
    RemoveServices {
        /// The scenario.
        scenario: usize,
        /// The services, by name.
        names: Vec<String>,
    },
    /// Copies services (and the links among them) beside the originals.
    DuplicateServices {
        /// The scenario.
        scenario: usize,
        /// The services, by name.
        names: Vec<String>,
    },
    /// Moves services on the canvas.
    MoveServices {
        /// The scenario.
        scenario: usize,
        /// New positions by name.
        moves: Vec<(String, Position)>,
    },
    /// Replaces a service. A new name is carried into the links and the
    /// workload's entry points.
    SetService {
        /// The scenario.
        scenario: usize,
        /// Its index.
        index: usize,
        /// The new value.
        service: Box<Service>,
    },
    /// A call from one service to another.
    Connect {
        /// The scenario.
        scenario: usize,
        /// The caller.
        from: String,
        /// The called service.
        to: String,
    },
    /// Removes the link at `index`.
    RemoveLink {
        /// The scenario.
        scenario: usize,
        /// Its index.
        index: usize,
    },
    /// Replaces the link at `index`.
    SetLink {
        /// The scenario.
        scenario: usize,
        /// Its index.
        index: usize,
        /// The new value.
        link: Box<Link>,
    },
    /// Replaces the workload.
    SetWorkload(Box<Workload>),
    /// Replaces the run settings.
    SetRun(Box<RunSettings>),
    /// Replaces the objectives.
    SetObjectives(Vec<Objective>),
    /// Renames the project or changes its description.
    SetProjectInfo {
        /// The name.
        name: String,
        /// The description.
        description: String,
    },
    /// A new scenario with a gateway and a service.
    AddScenario,
    /// A copy of scenario `0`, placed after it: variant B of A.
    DuplicateScenario(usize),
    /// Renames a scenario.
    RenameScenario(usize, String),
    /// Changes a scenario's description.
    DescribeScenario(usize, String),
    /// Removes a scenario (never the last).
    RemoveScenario(usize),
    /// Puts a calibrated copy in place of a scenario (from traces: its
    /// service times, probabilities, counts and latencies).
    Calibrate(usize, Box<Scenario>),
    /// A new group around services (taken out of any group they were in),
    /// named "group N".
    Group {
        /// The scenario.
        scenario: usize,
        /// The services, by name.
        names: Vec<String>,
    },
    /// Removes a group, leaving its services where they are.
    Ungroup {
        /// The scenario.
        scenario: usize,
        /// The group's index.
        group: usize,
    },
    /// Folds a group into one node, or unfolds it.
    CollapseGroup {
        /// The scenario.
        scenario: usize,
        /// The group's index.
        group: usize,
        /// Folded.
        collapsed: bool,
    },
    /// Renames a group.
    RenameGroup {
        /// The scenario.
        scenario: usize,
        /// The group's index.
        group: usize,
        /// The new name (refused if another group has it).
        name: String,
    },
}

/// How a new service is wired to an existing one.
#[derive(Clone, Debug, PartialEq)]
pub enum Wired {
    /// The existing service, by name, calls the new one.
    CalledBy(String),
    /// The new service calls the existing one, by name.
    Calling(String),
}

/// Consecutive edits with the same key merge into one undo step, so typing a
/// name is one step, not one per letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeKey {
    /// A service's fields: the scenario and the service, by index.
    Service(usize, usize),
    /// A link's fields: the scenario and the link, by index.
    Link(usize, usize),
    /// The workload.
    Workload,
    /// The run settings.
    Run,
    /// The objectives.
    Objectives,
    /// The project's name and description.
    Project,
    /// A scenario's name.
    ScenarioName(usize),
    /// A scenario's description.
    ScenarioDescription(usize),
    /// A group's name: the scenario and the group, by index.
    GroupName(usize, usize),
}

impl Edit {
    /// What the edit does, for the undo menu.
    pub fn label(&self) -> &'static str {
        match self {
            Self::AddService { .. } => "add service",
            Self::AddWired { .. } => "add connected service",
            Self::RemoveServices { .. } => "delete",
            Self::DuplicateServices { .. } => "duplicate",
            Self::MoveServices { .. } => "move",
            Self::SetService { .. } => "edit service",
            Self::Connect { .. } => "connect",
            Self::RemoveLink { .. } => "delete call",
            Self::SetLink { .. } => "edit call",
            Self::SetWorkload(_) => "edit workload",
            Self::SetRun(_) => "edit run settings",
            Self::SetObjectives(_) => "edit objectives",
            Self::SetProjectInfo { .. } => "edit project",
            Self::AddScenario => "add scenario",
            Self::DuplicateScenario(_) => "duplicate scenario",
            Self::RenameScenario(..) => "rename scenario",
            Self::DescribeScenario(..) => "describe scenario",
            Self::RemoveScenario(_) => "delete scenario",
            Self::Calibrate(..) => "calibrate from traces",
            Self::Group { .. } => "group",
            Self::Ungroup { .. } => "ungroup",
            Self::CollapseGroup {
                collapsed: true, ..
            } => "collapse group",
            Self::CollapseGroup { .. } => "expand group",
            Self::RenameGroup { .. } => "rename group",
        }
    }

    /// Edits of the same field in a row share a key and one undo step.
    pub fn merge_key(&self) -> Option<MergeKey> {
        match self {
            &Self::SetService {
                scenario, index, ..
            } => Some(MergeKey::Service(scenario, index)),
            &Self::SetLink {
                scenario, index, ..
            } => Some(MergeKey::Link(scenario, index)),
            Self::SetWorkload(_) => Some(MergeKey::Workload),
            Self::SetRun(_) => Some(MergeKey::Run),
            Self::SetObjectives(_) => Some(MergeKey::Objectives),
            Self::SetProjectInfo { .. } => Some(MergeKey::Project),
            &Self::RenameScenario(i, _) => Some(MergeKey::ScenarioName(i)),
            &Self::DescribeScenario(i, _) => Some(MergeKey::ScenarioDescription(i)),
            &Self::RenameGroup {
                scenario, group, ..
            } => Some(MergeKey::GroupName(scenario, group)),
            _ => None,
        }
    }

    /// Applies the edit. Returns false, leaving the project as it was, when
    /// the edit does not apply (a stale index, a duplicate name, a link that
    /// exists already).
    pub fn apply(&self, project: &mut Project) -> bool {
        match self {
            Self::AddService { scenario, kind, at } => {
                let Some(s) = project.scenarios.get_mut(*scenario) else {
                    return false;
                };
                let name = unique_name(s, &preset_name(*kind));
                let mut service = preset(*kind, name);
                service.position = *at;
                s.services.push(service);
                true
            }
            Self::AddWired {
                scenario,
                kind,
                at,
                wired,
            } => {
                let Some(s) = project.scenarios.get_mut(*scenario) else {
                    return false;
                };
                let existing = match wired {
                    Wired::CalledBy(name) | Wired::Calling(name) => name,
                };
                if s.service_index(existing).is_none() {
                    return false;
                }
                let name = unique_name(s, &preset_name(*kind));
                let mut service = preset(*kind, name.clone());
                service.position = *at;
                s.services.push(service);
                let (from, to) = match wired {
                    Wired::CalledBy(caller) => (caller.clone(), name),
                    Wired::Calling(callee) => (name, callee.clone()),
                };
                let link = new_link(s, from, to);
                s.links.push(link);
                true
            }
            Self::RemoveServices { scenario, names } => {
                let Some(s) = project.scenarios.get_mut(*scenario) else {
                    return false;
                };
                let before = s.services.len();
                s.services.retain(|x| !names.contains(&x.name));
                s.links
                    .retain(|l| !names.contains(&l.from) && !names.contains(&l.to));
                for group in &mut s.groups {
                    group.services.retain(|x| !names.contains(x));
                }
                s.groups.retain(|g| !g.services.is_empty());
                s.services.len() != before
            }
            Self::DuplicateServices { scenario, names } => {
                let Some(s) = project.scenarios.get_mut(*scenario) else {
                    return false;
                };
                duplicate_services(s, names)
            }
            Self::MoveServices { scenario, moves } => {
                let Some(s) = project.scenarios.get_mut(*scenario) else {
                    return false;
                };
                let mut changed = false;
                for (name, at) in moves {
                    if let Some(service) = s.services.iter_mut().find(|x| &x.name == name)
                        && service.position != *at
                    {
                        service.position = *at;
                        changed = true;
                    }
                }
                changed
            }
            Self::SetService {
                scenario,
                index,
                service,
            } => set_service(project, *scenario, *index, service),
            Self::Connect { scenario, from, to } => {
                let Some(s) = project.scenarios.get_mut(*scenario) else {
                    return false;
                };
                let exists = |n: &String| s.services.iter().any(|x| &x.name == n);
                if from == to
                    || !exists(from)
                    || !exists(to)
                    || s.links.iter().any(|l| &l.from == from && &l.to == to)
                {
                    return false;
                }
                let link = new_link(s, from.clone(), to.clone());
                s.links.push(link);
                true
            }
            Self::RemoveLink { scenario, index } => {
                let Some(s) = project.scenarios.get_mut(*scenario) else {
                    return false;
                };
                if *index >= s.links.len() {
                    return false;
                }
                s.links.remove(*index);
                true
            }
            Self::SetLink {
                scenario,
                index,
                link,
            } => {
                let Some(old) = project
                    .scenarios
                    .get_mut(*scenario)
                    .and_then(|s| s.links.get_mut(*index))
                else {
                    return false;
                };
                replace(old, link.as_ref())
            }
            Self::SetWorkload(workload) => replace(&mut project.workload, workload.as_ref()),
            Self::SetRun(run) => replace(&mut project.run, run.as_ref()),
            Self::SetObjectives(objectives) => replace(&mut project.objectives, objectives),
            Self::SetProjectInfo { name, description } => {
                let changed = project.name != *name || project.description != *description;
                project.name.clone_from(name);
                project.description.clone_from(description);
                changed
            }
            Self::Group { scenario, names } => {
                let Some(s) = project.scenarios.get_mut(*scenario) else {
                    return false;
                };
                let names: Vec<String> = s
                    .services
                    .iter()
                    .filter(|x| names.contains(&x.name))
                    .map(|x| x.name.clone())
                    .collect();
                if names.is_empty() {
                    return false;
                }
                for group in &mut s.groups {
                    group.services.retain(|x| !names.contains(x));
                }
                s.groups.retain(|g| !g.services.is_empty());
                // Of n groups at most n names are taken: one of n + 1 is free.
                let name = (1..=s.groups.len() + 1)
                    .map(|n| format!("group {n}"))
                    .find(|n| s.groups.iter().all(|g| &g.name != n))
                    .unwrap_or_default();
                s.groups.push(crate::model::Group {
                    name,
                    services: names,
                    color: None,
                    collapsed: false,
                });
                true
            }
            Self::Ungroup { scenario, group } => {
                let Some(s) = project.scenarios.get_mut(*scenario) else {
                    return false;
                };
                if *group >= s.groups.len() {
                    return false;
                }
                s.groups.remove(*group);
                true
            }
            Self::CollapseGroup {
                scenario,
                group,
                collapsed,
            } => {
                let Some(g) = project
                    .scenarios
                    .get_mut(*scenario)
                    .and_then(|s| s.groups.get_mut(*group))
                else {
                    return false;
                };
                replace(&mut g.collapsed, collapsed)
            }
            Self::RenameGroup {
                scenario,
                group,
                name,
            } => {
                let Some(s) = project.scenarios.get_mut(*scenario) else {
                    return false;
                };
                if name.trim().is_empty()
                    || s.groups
                        .iter()
                        .enumerate()
                        .any(|(i, g)| i != *group && &g.name == name)
                {
                    return false;
                }
                let Some(g) = s.groups.get_mut(*group) else {
                    return false;
                };
                replace(&mut g.name, name)
            }
            Self::AddScenario => {
                let name = unique_scenario_name(project, "scenario");
                project.scenarios.push(starter_scenario(name, project));
                true
            }
            Self::DuplicateScenario(index) => {
                let Some(original) = project.scenarios.get(*index) else {
                    return false;
                };
                let mut copy = original.clone();
                copy.name = unique_scenario_name(project, &format!("{} B", original.name));
                project.scenarios.insert(index + 1, copy);
                true
            }
            Self::RenameScenario(index, name) => {
                let taken = project
                    .scenarios
                    .iter()
                    .enumerate()
                    .any(|(i, s)| i != *index && s.name == *name);
                match project.scenarios.get_mut(*index) {
                    Some(s) if !taken && s.name != *name => {
                        s.name.clone_from(name);
                        true
                    }
                    _ => false,
                }
            }
            Self::DescribeScenario(index, text) => match project.scenarios.get_mut(*index) {
                Some(s) => replace(&mut s.description, text),
                None => false,
            },
            Self::RemoveScenario(index) => {
                if project.scenarios.len() <= 1 || *index >= project.scenarios.len() {
                    return false;
                }
                project.scenarios.remove(*index);
                true
            }
            Self::Calibrate(index, calibrated) => match project.scenarios.get_mut(*index) {
                Some(s) => replace(s, calibrated),
                None => false,
            },
        }
    }
}

/// A new call from `from` to `to`: with the latency of the caller's other
/// calls, or else the preset network latency for the callee's kind.
fn new_link(scenario: &Scenario, from: String, to: String) -> Link {
    let latency = scenario
        .links
        .iter()
        .find(|l| l.from == from)
        .map(|l| l.latency.clone())
        .or_else(|| {
            let kind = scenario.services.iter().find(|s| s.name == to)?.kind;
            call_latency(kind).parse().ok()
        })
        .unwrap_or_default();
    let mut link = Link::new(from, to);
    link.latency = latency;
    link
}

/// The preset network latency of a call to a service of `kind`: half a
/// millisecond inside a data centre, tens of milliseconds to the outside.
pub fn call_latency(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::External => "lognormal:20ms,p99=80ms",
        _ => "lognormal:500us,p99=2ms",
    }
}

fn replace<T: Clone + PartialEq>(old: &mut T, new: &T) -> bool {
    if old == new {
        return false;
    }
    old.clone_from(new);
    true
}

fn set_service(project: &mut Project, scenario: usize, index: usize, new: &Service) -> bool {
    let Some(s) = project.scenarios.get_mut(scenario) else {
        return false;
    };
    let Some(old) = s.services.get(index) else {
        return false;
    };
    if old == new {
        return false;
    }
    let old_name = old.name.clone();
    if new.name != old_name {
        if s.services.iter().any(|x| x.name == new.name) {
            return false;
        }
        for link in &mut s.links {
            if link.from == old_name {
                link.from.clone_from(&new.name);
            }
            if link.to == old_name {
                link.to.clone_from(&new.name);
            }
        }
        for member in s.groups.iter_mut().flat_map(|g| &mut g.services) {
            if *member == old_name {
                member.clone_from(&new.name);
            }
        }
        // Entry points name services in every scenario; follow the rename
        // only where no other scenario still uses the old name.
        let used_elsewhere = project
            .scenarios
            .iter()
            .enumerate()
            .any(|(i, other)| i != scenario && other.service_index(&old_name).is_some());
        if !used_elsewhere {
            for class in &mut project.workload.classes {
                if class.entry == old_name {
                    class.entry.clone_from(&new.name);
                }
            }
        }
    }
    project.scenarios[scenario].services[index] = new.clone();
    true
}

fn duplicate_services(s: &mut Scenario, names: &[String]) -> bool {
    let mut renamed = Vec::new();
    for name in names {
        let Some(original) = s.services.iter().find(|x| &x.name == name).cloned() else {
            continue;
        };
        let mut copy = original;
        copy.name = unique_name(s, &format!("{name}-copy"));
        copy.position.x += 40.0;
        copy.position.y += 40.0;
        renamed.push((name.clone(), copy.name.clone()));
        s.services.push(copy);
    }
    let copied = |n: &str| renamed.iter().find(|(a, _)| a == n).map(|(_, b)| b.clone());
    let inner: Vec<Link> = s
        .links
        .iter()
        .filter_map(|l| {
            let (from, to) = (copied(&l.from)?, copied(&l.to)?);
            Some(Link {
                from,
                to,
                ..l.clone()
            })
        })
        .collect();
    s.links.extend(inner);
    !renamed.is_empty()
}

/// `base`, or `base-2`, `base-3`, … : the first name no service has.
fn unique_name(s: &Scenario, base: &str) -> String {
    first_free(base, "-", |n| s.services.iter().any(|x| x.name == n))
}

fn unique_scenario_name(p: &Project, base: &str) -> String {
    first_free(base, " ", |n| p.scenarios.iter().any(|x| x.name == n))
}

/// `base`, or `base{sep}2`, `base{sep}3`, …: the first that is not `taken`.
pub fn first_free(base: &str, sep: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    let mut i: u64 = 2;
    loop {
        let name = format!("{base}{sep}{i}");
        if !taken(&name) {
            return name;
        }
        i += 1;
    }
}

fn preset_name(kind: ServiceKind) -> String {
    match kind {
        ServiceKind::Gateway => "gateway",
        ServiceKind::Service => "service",
        ServiceKind::ModelServer => "model",
        ServiceKind::FeatureStore => "features",
        ServiceKind::Cache => "cache",
        ServiceKind::Database => "db",
        ServiceKind::Queue => "queue",
        ServiceKind::External => "external",
        ServiceKind::LlmServer => "llm",
    }
    .to_owned()
}

/// A service of `kind` with figures typical of its kind, so a newly placed
/// node simulates sensibly before the user tunes it.
pub fn preset(kind: ServiceKind, name: String) -> Service {
    use crate::model::{Cache, IoModel};
    let (replicas, workers, time, io) = match kind {
        ServiceKind::Gateway => (2, 256, "lognormal:300us,p99=1ms", IoModel::Async),
        ServiceKind::Service => (2, 16, "lognormal:5ms,p99=20ms", IoModel::Blocking),
        ServiceKind::ModelServer => (2, 1, "gamma:15ms,shape=4", IoModel::Blocking),
        ServiceKind::FeatureStore => (2, 32, "lognormal:2ms,p99=8ms", IoModel::Async),
        ServiceKind::Cache => (1, 64, "lognormal:200us,p99=1ms", IoModel::Async),
        ServiceKind::Database => (1, 32, "lognormal:3ms,p99=15ms", IoModel::Blocking),
        ServiceKind::Queue => (1, 64, "exp:200us", IoModel::Async),
        ServiceKind::External => (1, 1000, "lognormal:40ms,p99=150ms", IoModel::Async),
        // The batch of running sequences is its workers; its time is its steps'.
        ServiceKind::LlmServer => (1, 1, "0ms", IoModel::Async),
    };
    let mut service = Service::new(name, kind, time.parse().unwrap_or_default());
    service.replicas = replicas;
    service.workers = workers;
    service.io = io;
    if kind == ServiceKind::Cache {
        service.cache = Some(Cache {
            hit_ratio: 0.8,
            warmup: crate::model::TimeSpan::default(),
        });
    }
    if kind == ServiceKind::LlmServer {
        service.llm = Some(crate::model::LlmServing::example());
    }
    service
}

/// A new scenario: the workload's first entry point, calling one service.
fn starter_scenario(name: String, project: &Project) -> Scenario {
    let entry = project
        .workload
        .classes
        .first()
        .map_or_else(|| "gateway".to_owned(), |c| c.entry.clone());
    let mut gateway = preset(ServiceKind::Gateway, entry.clone());
    gateway.position = Position { x: 0.0, y: 0.0 };
    let mut service = preset(ServiceKind::Service, "service".into());
    if service.name == entry {
        service.name = "service-2".into();
    }
    service.position = Position { x: 260.0, y: 0.0 };
    let link = Link::new(entry, service.name.clone());
    Scenario {
        name,
        description: String::new(),
        services: vec![gateway, service],
        links: vec![link],
        groups: Vec::new(),
    }
}
