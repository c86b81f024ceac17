//! The panels around the canvas, one per file.

pub mod fields;
pub mod inspector;
pub mod palette;
pub mod results;
pub mod scenarios;
pub mod toolbar;
