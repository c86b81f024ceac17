//! How the panels write figures: shares as percentages, times in the unit
//! that suits them.

/// A share as a percentage with sensible digits.
pub fn percent(share: f64) -> String {
    let v = 100.0 * share;
    if v >= 10.0 {
        format!("{v:.0}%")
    } else if v >= 0.1 {
        format!("{v:.1}%")
    } else {
        format!("{v:.2}%")
    }
}

/// Milliseconds in the unit that suits them (ms below 10 s, then s).
pub fn human_ms(ms: f64) -> String {
    crate::model::human_secs(ms / 1e3)
}
