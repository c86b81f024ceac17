//! A share of a run split across processes or machines (`--shard I/N`).

/// One of `count` shares of a run split across processes or machines
/// (`--shard index/count`). A load test's evenly spaced schedule keeps
/// every `count`-th request from the `index`-th, so the shares interleave
/// into the whole schedule; a Poisson one runs its own stream at the rate
/// over `count`; closed-loop users are split as evenly as possible. A
/// sweep's shard runs every `count`-th point from the `index`-th.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// From 0.
    pub index: u32,
    /// At least 1.
    pub count: u32,
}

/// The most shards a run may be split into.
pub const MAX_SHARDS: u32 = 10_000;

/// Why a shard's text is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardError(String);

impl std::fmt::Display for ShardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "shard {:?}: write INDEX/COUNT with 0 <= INDEX < COUNT <= {MAX_SHARDS}, like 0/4",
            self.0
        )
    }
}

impl std::error::Error for ShardError {}

impl std::str::FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || ShardError(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = index.trim().parse().map_err(|_| bad())?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// This shard's share of `total` closed-loop users: `total / count`,
    /// one more for the first `total % count` shards.
    pub fn users(self, total: u32) -> u32 {
        total / self.count + u32::from(self.index < total % self.count)
    }

    /// Whether the `ordinal`-th unit of work (a request, a sweep point),
    /// counted from 0, is this shard's.
    pub fn owns(self, ordinal: u64) -> bool {
        ordinal % u64::from(self.count) == u64::from(self.index)
    }
}
