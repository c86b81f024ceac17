//! Run overrides shared by `simulate` and `sweep`: validated, then applied.

use anyhow::{Context as _, bail};

use crate::model::{Project, StopCondition, TimeSpan};

use super::args::RunArgs;

/// Applies `args` to the project's run settings, refusing impossible values.
pub fn apply(args: &RunArgs, project: &mut Project) -> anyhow::Result<()> {
    let run = &mut project.run;
    if let Some(seed) = args.seed {
        run.seed = seed;
    }
    if let Some(duration) = args.duration {
        if duration.as_nanos() == 0 {
            bail!("--duration must be above zero");
        }
        run.stop = StopCondition::Duration(duration);
    }
    if let Some(requests) = args.requests {
        if requests == 0 {
            bail!("--requests must be at least 1");
        }
        run.stop = StopCondition::Requests(requests);
    }
    if let Some(replications) = args.replications {
        if replications == 0 {
            bail!("--replications must be at least 1");
        }
        run.replications = replications;
        run.max_replications = run.max_replications.max(replications);
    }
    if let Some(precision) = &args.precision {
        run.precision =
            Some(parse_fraction(precision).with_context(|| format!("--precision {precision}"))?);
    }
    if let Some(warmup) = &args.warmup {
        run.warmup = if warmup == "auto" {
            None
        } else {
            Some(
                warmup
                    .parse::<TimeSpan>()
                    .with_context(|| format!("--warmup {warmup}"))?,
            )
        };
    }
    Ok(())
}

/// `2%` or `0.02`, strictly between 0 and 1.
fn parse_fraction(text: &str) -> anyhow::Result<f64> {
    let value = match text.trim().strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>()? / 100.0,
        None => text.trim().parse::<f64>()?,
    };
    if !(value > 0.0 && value < 1.0) {
        bail!("a precision is above 0 and below 100%, like 2%");
    }
    Ok(value)
}
