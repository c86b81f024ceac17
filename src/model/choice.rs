//! The closed lists a user picks from. Every enum the app offers in a combo
//! box is a [`Choice`]: the model owns its options and their names, so a
//! widget cannot drift from the model and leave a variant out.

use super::scenario::{Balancer, CallMode, IoModel, Jitter, ServiceKind};
use super::workload::ArrivalProcess;

/// An enum offered to the user as a closed list.
pub trait Choice: Copy + PartialEq + 'static {
    /// Every variant, in the order the app offers them.
    const ALL: &'static [Self];

    /// Its name for people.
    fn label(self) -> &'static str;
}

/// Implements [`Choice`]. `label` is one exhaustive `match`, so a variant
/// added to the enum and not listed here does not compile, and `ALL` is
/// made from the same list: every variant is offered.
macro_rules! choice {
    ($ty:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        impl Choice for $ty {
            const ALL: &'static [Self] = &[$(Self::$variant),+];

            fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label),+
                }
            }
        }
    };
}

choice!(ServiceKind {
    Gateway => "API gateway",
    Service => "service",
    ModelServer => "model server",
    FeatureStore => "feature store",
    Cache => "cache",
    Database => "database",
    Queue => "queue",
    External => "external API",
    LlmServer => "LLM server",
});

choice!(Balancer {
    RoundRobin => "round robin",
    Random => "random",
    LeastOutstanding => "least outstanding",
    PowerOfTwoChoices => "power of two choices",
    Pull => "pull (one shared queue)",
});

choice!(IoModel {
    Blocking => "blocking (worker held)",
    Async => "async (worker freed)",
});

choice!(CallMode {
    Sync => "sync (caller waits)",
    Async => "async (fire and forget)",
});

/// Gamma arrivals are offered at a coefficient of variation of 2 (the
/// inspector then edits it); any Gamma is labelled as one.
impl Choice for ArrivalProcess {
    const ALL: &'static [Self] = &[Self::Poisson, Self::Constant, Self::Gamma { cv: 2.0 }];

    fn label(self) -> &'static str {
        match self {
            Self::Poisson => "Poisson",
            Self::Constant => "evenly spaced",
            Self::Gamma { .. } => "bursty (Gamma gaps)",
        }
    }
}

choice!(Jitter {
    Full => "full: 0 to the backoff",
    Equal => "equal: half plus up to half",
    None => "none",
});

/// The HTTP methods an endpoint or a live test may use, in the order offered.
pub const HTTP_METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct_labels<T: Choice>() {
        let labels: Vec<&str> = T::ALL.iter().map(|v| v.label()).collect();
        for (i, label) in labels.iter().enumerate() {
            assert!(!label.is_empty());
            assert!(!labels[..i].contains(label), "{label} is offered twice");
        }
    }

    #[test]
    fn a_service_kind_is_named_as_the_file_writes_it() {
        for &kind in ServiceKind::ALL {
            assert_eq!(ron::to_string(&kind).unwrap(), kind.name());
        }
    }

    #[test]
    fn every_choice_has_distinct_nonempty_labels() {
        distinct_labels::<ServiceKind>();
        distinct_labels::<Balancer>();
        distinct_labels::<IoModel>();
        distinct_labels::<CallMode>();
        distinct_labels::<ArrivalProcess>();
        distinct_labels::<Jitter>();
    }
}
