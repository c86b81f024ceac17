//! The panels around the canvas, one per file.

#[cfg(feature = "loadgen")]
pub mod emulated;
pub mod fields;
pub mod figures;
pub mod find;
pub mod inspector;
#[cfg(feature = "loadgen")]
pub mod live;
pub mod palette;
pub mod results;
pub mod scenarios;
pub mod tokens;
pub mod toolbar;
