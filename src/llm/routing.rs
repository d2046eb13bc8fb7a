//! Which endpoint of the pool serves an agent.

/// SplitMix64, for routing an agent to an endpoint.
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The endpoint serving `agent`: a deterministic weighted choice, so one agent always
/// talks to the same server (its prefix cache stays warm).
pub(super) fn route(weights: &[f64], agent: u64, endpoints: usize) -> usize {
    if endpoints <= 1 {
        return 0;
    }
    let weights: Vec<f64> = if weights.len() == endpoints {
        weights.to_vec()
    } else {
        vec![1.0; endpoints]
    };
    let total: f64 = weights.iter().sum();
    let u = (mix(agent) >> 11) as f64 / (1u64 << 53) as f64 * total;
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if u < acc {
            return i;
        }
    }
    endpoints - 1
}
