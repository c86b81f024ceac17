//! Indices of the plan's services and links, as types, so that a station
//! cannot be passed where a link is meant.

use std::ops::{Index, IndexMut};

/// A service of the scenario: its index among the scenario's services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StationId(u32);

/// A link of the scenario: its index among the scenario's links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(u32);

macro_rules! index_type {
    ($id:ident, $reason:literal) => {
        impl $id {
            /// The id of the item at `index`.
            pub fn new(index: usize) -> Self {
                #[expect(
                                                            clippy::cast_possible_truncation,
                                                            reason = $reason
                                                        )]
                Self(index as u32)
            }

            /// The item's index.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl<T> Index<$id> for Vec<T> {
            type Output = T;

            fn index(&self, id: $id) -> &T {
                &self[id.index()]
            }
        }

        impl<T> IndexMut<$id> for Vec<T> {
            fn index_mut(&mut self, id: $id) -> &mut T {
                &mut self[id.index()]
            }
        }
    };
}

index_type!(StationId, "services are limited to 10,000 by validation");
index_type!(LinkId, "links are limited to 100,000 by validation");
