//! A grid of the tuner shared over ranks (`mpirun -np N dlc tune`): rank r
//! trains points r, r + N, ..., then the ranks sum a table in which each
//! point's row is written by its rank alone (the others leave zeros), so
//! every rank gets every point exactly and all go on to the same decisions.

use super::RecipeError;
use super::bench::Setting;
use super::tune::{GridPoint, Stage};
use crate::distributed::Group;
use crate::runtime::EpochMetrics;

/// Values per epoch in the table: epoch, train loss, then (present, value)
/// for train accuracy, validation loss and accuracy, then rate and seconds.
const PER_EPOCH: usize = 10;
/// Values per point before its epochs: present, diverged epoch (0: none),
/// epochs trained.
const HEAD: usize = 3;

/// `run` on this rank's share of `settings`, and every rank's points.
pub(super) fn run_grid_split(
    group: &Group,
    settings: &[Setting],
    (stage, epochs): (Stage, usize),
    run: impl FnOnce(&[Setting]) -> Result<Vec<GridPoint>, RecipeError>,
) -> Result<Vec<GridPoint>, RecipeError> {
    let (rank, size) = (group.rank(), group.size());
    let mine: Vec<usize> = (0..settings.len()).filter(|i| i % size == rank).collect();
    let chosen: Vec<Setting> = mine.iter().map(|&i| settings[i]).collect();
    let result = run(&chosen);
    let why = result
        .as_ref()
        .err()
        .map(ToString::to_string)
        .unwrap_or_default();
    group
        .agree(result.is_ok(), &why)
        .map_err(|e| RecipeError::Options(e.to_string()))?;
    let points = result?;
    let row = HEAD + epochs * PER_EPOCH;
    let mut table = vec![0.0f64; settings.len() * row];
    for p in &points {
        let Some(j) = chosen.iter().position(|s| *s == p.setting) else {
            continue;
        };
        write_row(&mut table[mine[j] * row..][..row], p);
    }
    group
        .sum_f64(&mut table)
        .map_err(|e| RecipeError::Options(e.to_string()))?;
    Ok(settings
        .iter()
        .enumerate()
        .filter_map(|(i, &setting)| read_row(&table[i * row..][..row], setting, stage, epochs))
        .collect())
}

fn write_row(row: &mut [f64], p: &GridPoint) {
    row[0] = 1.0;
    row[1] = p.diverged.map_or(0.0, |e| e as f64);
    row[2] = p.curve.len() as f64;
    for (m, at) in p.curve.iter().zip(row[HEAD..].chunks_mut(PER_EPOCH)) {
        let pair = |v: Option<f64>| v.map_or([0.0, 0.0], |v| [1.0, v]);
        let [a, b] = pair(m.train_acc);
        let [c, d] = pair(m.val_loss);
        let [e, f] = pair(m.val_acc);
        at.copy_from_slice(&[
            m.epoch as f64,
            m.train_loss,
            a,
            b,
            c,
            d,
            e,
            f,
            m.lr,
            m.seconds,
        ]);
    }
}

fn read_row(row: &[f64], setting: Setting, stage: Stage, epochs: usize) -> Option<GridPoint> {
    if row[0] != 1.0 {
        return None;
    }
    let trained = (row[2] as usize).min(epochs);
    let curve = row[HEAD..]
        .chunks(PER_EPOCH)
        .take(trained)
        .map(|at| {
            let pick = |has: f64, v: f64| (has == 1.0).then_some(v);
            EpochMetrics {
                epoch: at[0] as usize,
                train_loss: at[1],
                train_acc: pick(at[2], at[3]),
                val_loss: pick(at[4], at[5]),
                val_acc: pick(at[6], at[7]),
                lr: at[8],
                seconds: at[9],
            }
        })
        .collect();
    Some(GridPoint {
        stage,
        setting,
        epochs,
        curve,
        diverged: (row[1] > 0.0).then_some(row[1] as usize),
    })
}
