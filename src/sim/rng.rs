//! Seeded random streams: `xoshiro256++` seeded through `SplitMix64`.
//!
//! Each purpose (arrivals, class choice, each service's service times, each
//! link's decisions) draws from its own stream, derived from the run seed, the
//! replication number and a stable name. Two scenarios that share a service
//! name therefore see the same draws there (common random numbers), and
//! adding a service does not shift the draws of the others.
//!
//! The generators are written out here rather than taken from a crate so
//! that a dependency upgrade can never change a published result.

/// One random stream.
#[derive(Clone, Debug)]
pub struct Rng {
    state: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, a hash whose value is fixed forever (unlike `std`'s hasher).
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

impl Rng {
    /// The stream called `name` for `seed` and `replication`.
    pub fn stream(seed: u64, replication: u32, name: &str) -> Self {
        let mut mix = seed
            ^ fnv1a(name).rotate_left(17)
            ^ u64::from(replication).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        // Warm the mixer so nearby seeds give unrelated states.
        splitmix64(&mut mix);
        let state = [
            splitmix64(&mut mix),
            splitmix64(&mut mix),
            splitmix64(&mut mix),
            splitmix64(&mut mix),
        ];
        Self { state }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform on (0, 1]: never zero, so its logarithm is finite.
    #[inline]
    pub fn unit_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1_u64 << 53) as f64)
    }

    /// Uniform on [0, 1).
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1_u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (n > 0), without modulo bias worth mentioning
    /// (Lemire's multiply-shift).
    #[inline]
    #[expect(clippy::cast_possible_truncation, reason = "the high half fits")]
    pub fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next_u64() as u32) * u64::from(n)) >> 32) as u32
    }

    /// True with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        p >= 1.0 || (p > 0.0 && self.unit() < p)
    }

    /// The index of an item drawn by weight, given each item's cumulative
    /// weight normalised to end at 1 (cumulative weights 0.2, 0.5, 1.0
    /// pick the second with probability 0.3): the first whose cumulative
    /// weight is above a uniform draw, or the last. With one item it draws
    /// nothing, so the stream is not used where there is no choice.
    pub fn weighted<T>(&mut self, items: &[T], cumulative: impl Fn(&T) -> f64) -> usize {
        if items.len() <= 1 {
            return 0;
        }
        let u = self.unit();
        items
            .iter()
            .position(|item| u < cumulative(item))
            .unwrap_or(items.len() - 1)
    }

    /// Exponential with mean 1.
    #[inline]
    pub fn exp1(&mut self) -> f64 {
        -self.unit_open().ln()
    }

    /// Standard normal (Box–Muller; one value per two uniforms, no hidden state).
    #[inline]
    pub fn normal(&mut self) -> f64 {
        let radius = (-2.0 * self.unit_open().ln()).sqrt();
        radius * (std::f64::consts::TAU * self.unit()).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    /// Cumulative weights 0.2, 0.5, 1.0 pick the items a fifth, three
    /// tenths and half of the time (100,000 draws: σ ≤ 0.0016); one item
    /// draws nothing from the stream.
    #[test]
    fn weighted_choice_follows_the_weights_and_draws_only_when_there_is_a_choice() {
        let mut rng = Rng::stream(7, 0, "weighted");
        let cumulative = [0.2, 0.5, 1.0];
        let mut counts = [0_u32; 3];
        for _ in 0..100_000 {
            counts[rng.weighted(&cumulative, |c| *c)] += 1;
        }
        for (count, share) in counts.iter().zip([0.2, 0.3, 0.5]) {
            let seen = f64::from(*count) / 100_000.0;
            assert!((seen - share).abs() < 0.008, "{counts:?}");
        }
        let (mut a, mut b) = (Rng::stream(7, 0, "one"), Rng::stream(7, 0, "one"));
        assert_eq!(a.weighted(&[1.0], |c| *c), 0);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draws = |seed, rep, name| {
            let mut rng = Rng::stream(seed, rep, name);
            (0..4).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draws(1, 0, "arrivals"), draws(1, 0, "arrivals"));
        assert_ne!(draws(1, 0, "arrivals"), draws(2, 0, "arrivals"));
        assert_ne!(draws(1, 0, "arrivals"), draws(1, 1, "arrivals"));
        assert_ne!(draws(1, 0, "arrivals"), draws(1, 0, "classes"));
    }

    #[test]
    fn moments_of_the_basic_draws() {
        let mut rng = Rng::stream(7, 0, "moments");
        let n = 400_000;
        let (mut exp_sum, mut norm_sum, mut norm_sq, mut unit_sum) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..n {
            exp_sum += rng.exp1();
            let z = rng.normal();
            norm_sum += z;
            norm_sq += z * z;
            unit_sum += rng.unit();
        }
        let n = f64::from(n);
        // Standard errors: 1/sqrt(n) ≈ 0.0016 for exp and normal; 5 SE bounds.
        assert!((exp_sum / n - 1.0).abs() < 0.008);
        assert!((norm_sum / n).abs() < 0.008);
        assert!((norm_sq / n - 1.0).abs() < 0.012);
        assert!((unit_sum / n - 0.5).abs() < 0.003);
    }
}
