//! The integration tests, one binary. Each module's first line says what it covers.

#[macro_use]
mod support;

mod analysis;
#[cfg(feature = "gui")]
mod canvas;
mod cli;
mod determinism;
#[cfg(feature = "gui")]
mod edits;
#[cfg(feature = "loadgen")]
mod emulate;
mod endings;
mod engine;
mod examples;
mod files;
#[cfg(feature = "loadgen")]
mod fuzz_corpus;
#[cfg(feature = "gui")]
mod gui;
mod hdr;
mod import;
#[cfg(feature = "loadgen")]
mod k8s;
mod layering;
mod layout;
mod llm;
#[cfg(feature = "loadgen")]
mod llm_live;
#[cfg(feature = "loadgen")]
mod loadgen;
mod mutants;
#[cfg(feature = "loadgen")]
mod one_service;
mod patterns;
mod properties;
mod schema;
#[cfg(feature = "loadgen")]
mod shards;
mod stream;
mod theory;
mod traces;
