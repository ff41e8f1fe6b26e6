//! Parameter initialisation, seeded and reproducible.
//!
//! Each tensor draws from its own stream, forked from the run's seed by a hash
//! of the tensor's name: adding a layer does not change how the others start.

use crate::check::{Init, Network};
use crate::ir::{Graph, ParamInfo};
use crate::limits::{AllocError, alloc};
use crate::rng::Rng;

/// FNV-1a: a stable hash of a name, to pick a tensor's random stream.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Initial values of one parameter tensor.
pub fn init_tensor(p: &ParamInfo, seed: u64) -> Vec<f32> {
    let mut out = Vec::with_capacity(p.len() + Rng::NORMALS_SLACK);
    init_into(p, seed, &mut out);
    out
}

/// Appends the initial values of `p` to `out` (which needs
/// [`Rng::NORMALS_SLACK`] spare room to append without reallocating).
fn init_into(p: &ParamInfo, seed: u64, out: &mut Vec<f32>) {
    let mut rng = Rng::new(seed).fork(name_hash(&p.name));
    let (fan_in, fan_out) = p.fans();
    let n = p.len();
    let limit = match p.init {
        Init::He { slope } => {
            let std = (2.0 / (1.0 + slope * slope)).sqrt() / (fan_in as f64).sqrt();
            return rng.normals_into(out, n, std);
        }
        Init::Lecun => return rng.normals_into(out, n, 1.0 / (fan_in as f64).sqrt()),
        Init::Normal { std } => return rng.normals_into(out, n, std),
        Init::Const(c) => return out.extend(std::iter::repeat_n(c as f32, n)),
        Init::Xavier => (6.0 / (fan_in + fan_out) as f64).sqrt() as f32,
        Init::Uniform { limit } => limit as f32,
    };
    out.extend((0..n).map(|_| rng.uniform(-limit, limit)));
}

/// All parameters, concatenated in graph order (the parameter buffer's layout).
pub fn init_params(g: &Graph, seed: u64) -> Result<Vec<f32>, AllocError> {
    let total = g
        .params
        .iter()
        .fold(0usize, |a, p| a.saturating_add(p.len()));
    let mut out = alloc::with_capacity(total.saturating_add(Rng::NORMALS_SLACK), "the parameters")?;
    for p in &g.params {
        init_into(p, seed, &mut out);
    }
    Ok(out)
}

/// All state tensors at their initial values (running variance 1, moments 0).
pub fn init_states(g: &Graph) -> Result<Vec<f32>, AllocError> {
    let total = g
        .states
        .iter()
        .fold(0usize, |a, s| a.saturating_add(s.shape.iter().product()));
    let mut out = alloc::with_capacity(total, "the running statistics and optimizer state")?;
    for s in &g.states {
        out.extend(std::iter::repeat_n(s.init, s.shape.iter().product()));
    }
    Ok(out)
}

/// Layers whose `init:` draws weights far wider (3x) than He initialisation,
/// the widest default; a saturating activation can hide them from the loss.
pub fn wide_inits(network: &Network) -> Vec<String> {
    let mut causes = Vec::new();
    for layer in &network.layers {
        if !layer.op.rule().weights_follow_activation() {
            continue;
        }
        for t in layer.params.iter().filter(|t| t.name == "weight") {
            let fan_in: usize = t.shape.iter().skip(1).product::<usize>().max(1);
            let he = (2.0 / fan_in as f64).sqrt();
            let number = crate::syntax::format_number;
            let (std, written) = match t.init {
                Init::Normal { std } => (std, format!("normal(std: {})", number(std))),
                Init::Uniform { limit } => (
                    limit / 3f64.sqrt(),
                    format!("uniform(limit: {})", number(limit)),
                ),
                _ => continue,
            };
            if std > 3.0 * he {
                causes.push(format!(
                    "the initialisation scale is too large: `{}` draws its weights from {written}, \
                     {}x the He deviation sqrt(2 / {fan_in}) = {he:.3}; remove the `init:` argument \
                     (the default scales by fan-in) or use a deviation near {he:.3}",
                    layer.name,
                    number((std / he).round())
                ));
            }
        }
    }
    causes
}
