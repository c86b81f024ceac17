//! Every colour the app uses, in one place: service kinds, scenarios in
//! plots, and the utilisation scale.

use eframe::egui::Color32;

use crate::model::ServiceKind;

/// The colour of a service kind on the canvas and in the palette.
pub fn kind_color(kind: ServiceKind) -> Color32 {
    match kind {
        ServiceKind::Gateway => Color32::from_rgb(0x5b, 0x8d, 0xef),
        ServiceKind::Service => Color32::from_rgb(0x4c, 0xaf, 0x91),
        ServiceKind::ModelServer => Color32::from_rgb(0xb0, 0x6a, 0xe0),
        ServiceKind::FeatureStore => Color32::from_rgb(0xe0, 0x9a, 0x3a),
        ServiceKind::Cache => Color32::from_rgb(0xd9, 0x5f, 0x8e),
        ServiceKind::Database => Color32::from_rgb(0x8a, 0x9b, 0xa8),
        ServiceKind::Queue => Color32::from_rgb(0xc8, 0xb8, 0x3c),
        ServiceKind::External => Color32::from_rgb(0x9a, 0x7b, 0x5c),
        ServiceKind::LlmServer => Color32::from_rgb(0x7e, 0x57, 0xc2),
    }
}

/// A short tag drawn on each node, so kinds differ by more than colour.
pub fn kind_tag(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::Gateway => "GW",
        ServiceKind::Service => "SVC",
        ServiceKind::ModelServer => "ML",
        ServiceKind::FeatureStore => "FS",
        ServiceKind::Cache => "$",
        ServiceKind::Database => "DB",
        ServiceKind::Queue => "Q",
        ServiceKind::External => "EXT",
        ServiceKind::LlmServer => "LLM",
    }
}

/// Scenario colours in plots, in scenario order: the Okabe–Ito palette,
/// which colour-blind readers tell apart, with black (unseen on the dark
/// theme) replaced by grey, and the two blues as far apart as they can be.
const SCENARIOS: [Color32; 8] = [
    Color32::from_rgb(0x00, 0x72, 0xb2),
    Color32::from_rgb(0xe6, 0x9f, 0x00),
    Color32::from_rgb(0x00, 0x9e, 0x73),
    Color32::from_rgb(0xcc, 0x79, 0xa7),
    Color32::from_rgb(0xd5, 0x5e, 0x00),
    Color32::from_rgb(0xf0, 0xe4, 0x42),
    Color32::from_rgb(0x56, 0xb4, 0xe9),
    Color32::from_rgb(0xbb, 0xbb, 0xbb),
];

/// The colour of scenario `index` in every plot.
pub fn scenario_color(index: usize) -> Color32 {
    SCENARIOS[index % SCENARIOS.len()]
}

/// Green below 50% busy, through amber, to red at 100%.
pub fn utilisation_color(utilisation: f64) -> Color32 {
    #[expect(clippy::cast_possible_truncation, reason = "a fraction for a colour")]
    let u = utilisation.clamp(0.0, 1.0) as f32;
    let (green, amber, red) = (
        [0x3c_u8, 0xb3, 0x71],
        [0xf0_u8, 0xb4, 0x29],
        [0xe0_u8, 0x3c, 0x31],
    );
    let mix = |a: [u8; 3], b: [u8; 3], t: f32| {
        let channel = |i: usize| {
            let value = f32::from(a[i]) + (f32::from(b[i]) - f32::from(a[i])) * t;
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "between two u8 values"
            )]
            let value = value.round() as u8;
            value
        };
        Color32::from_rgb(channel(0), channel(1), channel(2))
    };
    if u < 0.5 {
        mix(green, green, 0.0)
    } else if u < 0.8 {
        mix(green, amber, (u - 0.5) / 0.3)
    } else {
        mix(amber, red, (u - 0.8) / 0.2)
    }
}

/// Colours for parallel groups of calls, picked by the group's name so a
/// group keeps its colour as the graph changes.
const GROUPS: [Color32; 4] = [
    Color32::from_rgb(0x56, 0xb4, 0xe9),
    Color32::from_rgb(0xe6, 0x9f, 0x00),
    Color32::from_rgb(0xcc, 0x79, 0xa7),
    Color32::from_rgb(0x00, 0x9e, 0x73),
];

/// The colour of the calls of one parallel group.
pub fn group_color(group: &str) -> Color32 {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = group.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    #[expect(clippy::cast_possible_truncation, reason = "modulo a small length")]
    let index = (hash % GROUPS.len() as u64) as usize;
    GROUPS[index]
}

/// The bottleneck's outline and badge.
pub const BOTTLENECK: Color32 = Color32::from_rgb(0xe0, 0x3c, 0x31);

/// Validation problems.
pub const PROBLEM: Color32 = Color32::from_rgb(0xe8, 0x6a, 0x1c);

/// A selected link or service outline.
pub const SELECTED: Color32 = Color32::from_rgb(0xff, 0xd5, 0x4f);

/// Measured (live) results, drawn over simulated ones.
pub const MEASURED: Color32 = Color32::from_rgb(0xf2, 0xf2, 0xf2);

/// The SLO line in plots.
pub const SLO: Color32 = Color32::from_rgb(0xe0, 0x3c, 0x31);

/// Dim text for units and notes.
pub const MUTED: Color32 = Color32::from_gray(140);
