//! Edits and undo: what each project edit does (renames follow into links
//! and entry points, refused edits change nothing) and how edits merge into
//! undo steps.

use std::path::Path;

use archbench::gui::document::Document;
use archbench::gui::edit::Edit;
use archbench::model::{self, Link, Position, Project, ServiceKind, validate};

fn example() -> Project {
    let text = include_str!("../projects/three-tier.ron");
    model::file::parse(text, std::path::Path::new("three-tier.ron"))
        .unwrap()
        .project
}

fn names(project: &Project, scenario: usize) -> Vec<String> {
    project.scenarios[scenario]
        .services
        .iter()
        .map(|s| s.name.clone())
        .collect()
}

#[test]
fn a_rename_follows_into_links_and_entry_points() {
    let mut project = example();
    let old = project.workload.classes[0].entry.clone();
    let index = project.scenarios[0].service_index(&old).unwrap();
    let mut service = project.scenarios[0].services[index].clone();
    service.name = "front-door".into();
    let edit = Edit::SetService {
        scenario: 0,
        index,
        service: Box::new(service),
    };
    assert!(edit.apply(&mut project));
    assert_eq!(project.workload.classes[0].entry, "front-door");
    let links = &project.scenarios[0].links;
    assert!(links.iter().all(|l| l.from != old && l.to != old));
    assert!(links.iter().any(|l| l.from == "front-door"));
    assert!(validate(&project).is_empty(), "{:?}", validate(&project));
}

#[test]
fn removing_services_removes_their_links_and_nothing_else() {
    let mut project = example();
    let before = project.scenarios[0].clone();
    let gone = before.services[1].name.clone();
    let edit = Edit::RemoveServices {
        scenario: 0,
        names: vec![gone.clone()],
    };
    assert!(edit.apply(&mut project));
    let after = &project.scenarios[0];
    assert_eq!(after.services.len(), before.services.len() - 1);
    let expected: Vec<&Link> = before
        .links
        .iter()
        .filter(|l| l.from != gone && l.to != gone)
        .collect();
    assert_eq!(after.links.iter().collect::<Vec<_>>(), expected);
}

#[test]
fn an_edit_that_does_not_apply_leaves_the_project_as_it_was() {
    let project = example();
    let services = names(&project, 0);
    let refused = [
        Edit::RemoveLink {
            scenario: 0,
            index: 999,
        },
        Edit::Connect {
            scenario: 0,
            from: services[0].clone(),
            to: "nobody".into(),
        },
        Edit::RemoveServices {
            scenario: 7,
            names: vec![services[0].clone()],
        },
        Edit::DuplicateScenario(99),
        Edit::RenameScenario(0, project.scenarios[0].name.clone()),
    ];
    for edit in refused {
        let mut changed = project.clone();
        assert!(!edit.apply(&mut changed), "{edit:?} applied");
        assert_eq!(changed, project, "{edit:?} changed the project");
    }
}

#[test]
fn the_last_scenario_is_never_removed() {
    let mut project = example();
    while project.scenarios.len() > 1 {
        assert!(Edit::RemoveScenario(0).apply(&mut project));
    }
    assert!(!Edit::RemoveScenario(0).apply(&mut project));
    assert_eq!(project.scenarios.len(), 1);
}

#[test]
fn duplicates_get_free_names_and_keep_their_links() {
    let mut project = example();
    let all = names(&project, 0);
    let links_before = project.scenarios[0].links.len();
    let edit = Edit::DuplicateServices {
        scenario: 0,
        names: all.clone(),
    };
    assert!(edit.apply(&mut project));
    let after = names(&project, 0);
    assert_eq!(after.len(), 2 * all.len());
    let mut unique = after.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), after.len(), "names must stay unique");
    assert_eq!(project.scenarios[0].links.len(), 2 * links_before);
}

#[test]
fn added_services_and_scenarios_leave_the_project_valid() {
    let mut project = example();
    for &kind in <ServiceKind as model::Choice>::ALL {
        let edit = Edit::AddService {
            scenario: 0,
            kind,
            at: Position { x: 0.0, y: 0.0 },
        };
        assert!(edit.apply(&mut project));
    }
    assert!(Edit::AddScenario.apply(&mut project));
    assert!(Edit::DuplicateScenario(0).apply(&mut project));
    assert!(validate(&project).is_empty(), "{:?}", validate(&project));
}

#[test]
fn only_edits_of_one_field_share_a_merge_key() {
    let project = example();
    let service = |name: &str| {
        let mut s = project.scenarios[0].services[0].clone();
        s.name = name.into();
        Box::new(s)
    };
    let key = |edit: Edit| edit.merge_key();
    let set = |index, name| Edit::SetService {
        scenario: 0,
        index,
        service: service(name),
    };
    assert_eq!(key(set(0, "a")), key(set(0, "ab")));
    assert_ne!(key(set(0, "a")), key(set(1, "a")));
    assert_ne!(
        key(Edit::RenameScenario(0, "a".into())),
        key(Edit::DescribeScenario(0, "a".into()))
    );
    assert_eq!(
        key(Edit::RemoveLink {
            scenario: 0,
            index: 0
        }),
        None
    );
}

fn document() -> Document {
    let text = include_str!("../projects/three-tier.ron");
    let file = model::file::parse(text, Path::new("three-tier.ron")).unwrap();
    Document::new(file, None)
}

fn renamed(doc: &Document, name: &str) -> Edit {
    Edit::SetProjectInfo {
        name: name.into(),
        description: doc.project().description.clone(),
    }
}

#[test]
fn typing_a_name_is_one_undo_step_until_the_field_is_left() {
    let mut doc = document();
    let original = doc.project().clone();
    for name in ["s", "sh", "sho", "shop"] {
        assert!(doc.apply(&renamed(&doc, name)));
    }
    assert_eq!(doc.project().name, "shop");
    assert_eq!(doc.undo(), Some("edit project"));
    assert_eq!(doc.project(), &original, "one undo takes back every letter");
    assert_eq!(doc.undo(), None);

    // After the field is left (sealed), the next edit is a new step.
    assert!(doc.apply(&renamed(&doc, "a")));
    doc.seal();
    assert!(doc.apply(&renamed(&doc, "ab")));
    assert_eq!(doc.undo(), Some("edit project"));
    assert_eq!(doc.project().name, "a");
}

#[test]
fn different_edits_do_not_merge_and_redo_replays_them() {
    let mut doc = document();
    let original = doc.project().clone();
    assert!(doc.apply(&renamed(&doc, "one")));
    assert!(doc.apply(&Edit::AddScenario));
    assert!(doc.apply(&renamed(&doc, "two")));
    let last = doc.project().clone();
    assert!(doc.is_dirty());
    for _ in 0..3 {
        assert!(doc.undo().is_some());
    }
    assert_eq!(doc.project(), &original);
    assert!(!doc.is_dirty(), "back to the saved state");
    for _ in 0..3 {
        assert!(doc.redo().is_some());
    }
    assert_eq!(doc.project(), &last);
    assert_eq!(doc.redo(), None);
}

#[test]
fn an_edit_that_does_not_apply_makes_no_undo_step() {
    let mut doc = document();
    let revision = doc.revision();
    assert!(!doc.apply(&Edit::RemoveLink {
        scenario: 0,
        index: 999
    }));
    assert_eq!(doc.revision(), revision);
    assert_eq!(doc.undo_label(), None);
    assert!(!doc.is_dirty());
}
