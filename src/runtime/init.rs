//! Parameter initialisation, seeded and reproducible.
//!
//! Each tensor draws from its own stream, forked from the run's seed by a hash
//! of the tensor's name: adding a layer does not change how the others start.

use crate::check::Init;
use crate::ir::{Graph, ParamInfo};
use crate::rng::Rng;

/// FNV-1a: a stable hash of a name, to pick a tensor's random stream.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Initial values of one parameter tensor.
pub fn init_tensor(p: &ParamInfo, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed).fork(name_hash(&p.name));
    let (fan_in, fan_out) = p.fans();
    let n = p.len();
    match p.init {
        Init::He { slope } => {
            let std = (2.0 / (1.0 + slope * slope)).sqrt() / (fan_in as f64).sqrt();
            rng.normals(n, std)
        }
        Init::Xavier => {
            let a = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
            (0..n).map(|_| rng.uniform(-a, a)).collect()
        }
        Init::Lecun => {
            let std = 1.0 / (fan_in as f64).sqrt();
            rng.normals(n, std)
        }
        Init::Normal { std } => rng.normals(n, std),
        Init::Uniform { limit } => (0..n)
            .map(|_| rng.uniform(-limit as f32, limit as f32))
            .collect(),
        Init::Const(c) => vec![c as f32; n],
    }
}

/// All parameters, concatenated in graph order (the parameter buffer's layout).
pub fn init_params(g: &Graph, seed: u64) -> Vec<f32> {
    g.params.iter().flat_map(|p| init_tensor(p, seed)).collect()
}

/// All state tensors at their initial values (running variance 1, moments 0).
pub fn init_states(g: &Graph) -> Vec<f32> {
    g.states
        .iter()
        .flat_map(|s| vec![s.init; s.shape.iter().product()])
        .collect()
}
