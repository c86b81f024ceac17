//! What is selected on the canvas: view state, never saved.

/// What is selected on the canvas.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Selection {
    /// Nothing.
    #[default]
    None,
    /// Services, by name.
    Services(Vec<String>),
    /// A call, by its index in the scenario's links.
    Link(usize),
}
