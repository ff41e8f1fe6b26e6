//! Training mode against evaluation mode, checked by hand computation:
//! batch norm with given running statistics, dropout as the identity in
//! evaluation and as inverted dropout (mean preserved) in training.

use dlc::BackendKind;
use dlc::autodiff::graphs::Entry;
use dlc::ir::StepScalars;
use dlc::runtime::backend::Call;

const BN: &str = r#"
data d = blobs(points: 8, classes: 3, features: 3)
network n(x: [3]) -> 3 {
    batchnorm momentum: 0.1, eps: 0.001
}
train n on d { loss cross_entropy; optimizer sgd(lr: 0.1) }
"#;

fn compile(src: &str, kind: BackendKind) -> dlc::CompiledModel {
    match dlc::compile_with(src, kind) {
        Ok(m) => m,
        Err(e) => panic!("{}", e.render("test.dl", src, false)),
    }
}

fn backends() -> [BackendKind; 2] {
    [BackendKind::Interpreter, BackendKind::Jit]
}

#[test]
fn batch_norm_in_evaluation_uses_running_statistics() {
    for kind in backends() {
        let mut m = compile(BN, kind);
        let (gamma, beta) = ([2.0f32, 0.5, -1.0], [0.1f32, 0.2, 0.3]);
        let (mean, var) = ([1.0f32, -2.0, 0.5], [4.0f32, 0.25, 9.0]);
        m.set_parameter("batchnorm1.weight", &gamma).unwrap();
        m.set_parameter("batchnorm1.bias", &beta).unwrap();
        let o = m.layout().states.clone();
        m.buffers_mut().states[o[0]..o[0] + 3].copy_from_slice(&mean);
        m.buffers_mut().states[o[1]..o[1] + 3].copy_from_slice(&var);
        let x = [3.0f32, 0.0, -1.0, -1.0, -2.5, 2.0];
        let y = m.predict(&x).unwrap();
        for s in 0..2 {
            for c in 0..3 {
                let want = (x[s * 3 + c] - mean[c]) / (var[c] + 0.001).sqrt() * gamma[c] + beta[c];
                let got = y[s * 3 + c];
                assert!(
                    (got - want).abs() < 1e-5,
                    "{kind:?} sample {s} channel {c}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn batch_norm_in_training_uses_batch_statistics_and_updates_running_ones() {
    for kind in backends() {
        let mut m = compile(BN, kind);
        let x = [
            1.0f32, 2.0, 3.0, 3.0, 2.0, 1.0, 5.0, 2.0, -1.0, -1.0, 2.0, 1.0,
        ];
        let labels = [0.0f32; 4];
        let call = Call {
            n: 4,
            features: &x,
            labels: &labels,
            scalars: StepScalars::NO_STEP,
            seed: 0,
            step: 0,
            shard: dlc::ir::Shard::WHOLE,
        };
        let mut out = vec![0.0; 12];
        m.call(Entry::TrainStep, &call, &mut out).unwrap();
        for c in 0..3 {
            let col: Vec<f32> = (0..4).map(|s| x[s * 3 + c]).collect();
            let mean = col.iter().sum::<f32>() / 4.0;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 4.0;
            for s in 0..4 {
                let want = if var > 0.0 {
                    (col[s] - mean) / (var + 0.001).sqrt()
                } else {
                    0.0
                };
                assert!(
                    (out[s * 3 + c] - want).abs() < 1e-4,
                    "{kind:?}: {} vs {want}",
                    out[s * 3 + c]
                );
            }
            // Running statistics move 10% towards the batch's (variance unbiased).
            let o = m.layout().states.clone();
            let rm = m.buffers().states[o[0] + c];
            let rv = m.buffers().states[o[1] + c];
            assert!(
                (rm - 0.1 * mean).abs() < 1e-5,
                "{kind:?}: running mean {rm}"
            );
            assert!(
                (rv - (0.9 + 0.1 * var * 4.0 / 3.0)).abs() < 1e-5,
                "{kind:?}: running var {rv}"
            );
        }
    }
}

const DROPOUT: &str = r#"
# The data item is never loaded: these tests call the compiled steps directly.
data d = blobs(points: 1000, classes: 1000, features: 1000)
network n(x: [1000]) -> 1000 {
    dropout 0.3
}
train n on d { loss cross_entropy; optimizer sgd(lr: 0.1) }
"#;

#[test]
fn dropout_is_identity_in_evaluation() {
    for kind in backends() {
        let mut m = compile(DROPOUT, kind);
        let x: Vec<f32> = (0..2000).map(|i| i as f32 * 0.01 - 3.0).collect();
        assert_eq!(m.predict(&x).unwrap(), x, "{kind:?}");
    }
}

#[test]
fn inverted_dropout_keeps_the_mean_and_scales_kept_values() {
    for kind in backends() {
        let mut m = compile(DROPOUT, kind);
        let x = vec![1.0f32; 4000];
        let labels = vec![0.0f32; 4];
        let mut out = vec![0.0; 4000];
        let call = Call {
            n: 4,
            features: &x,
            labels: &labels,
            scalars: StepScalars::NO_STEP,
            seed: 9,
            step: 2,
            shard: dlc::ir::Shard::WHOLE,
        };
        m.call(Entry::TrainStep, &call, &mut out).unwrap();
        let kept = out.iter().filter(|&&v| v != 0.0).count();
        assert!(
            out.iter()
                .all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6),
            "{kind:?}: kept values are scaled by 1/(1-p)"
        );
        let mean = out.iter().sum::<f32>() / out.len() as f32;
        // 4000 Bernoulli(0.7) draws: the kept fraction has std 0.0072.
        assert!(
            (kept as f32 / 4000.0 - 0.7).abs() < 0.03,
            "{kind:?}: kept {kept}"
        );
        assert!((mean - 1.0).abs() < 0.045, "{kind:?}: mean {mean}");
        // The same seed and step give the same mask; another step another.
        let mut again = vec![0.0; 4000];
        m.call(Entry::TrainStep, &call, &mut again).unwrap();
        assert_eq!(out, again, "{kind:?}");
        let next = Call { step: 3, ..call };
        m.call(Entry::TrainStep, &next, &mut again).unwrap();
        assert_ne!(out, again, "{kind:?}");
    }
}
