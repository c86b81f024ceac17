//! Errors of the load generator and target server.

/// Why a load test or target server could not run. Failed requests are not
/// errors: they are counted by kind in the report.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The plan is impossible; the message names the setting.
    #[error("{0}")]
    Plan(String),
    /// The runtime, a thread or a socket could not be set up.
    /// (The OS's words are in the message, not chained as a source, so a
    /// report that prints the chain says them once.)
    #[error("{what}: {cause}")]
    Io {
        /// What was being done.
        what: String,
        /// What the OS said.
        cause: std::io::Error,
    },
}
