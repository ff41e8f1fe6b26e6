//! Results do not depend on the thread count: the same networks trained for a
//! few steps with 1, 2 and 3 threads give the same losses, parameters and
//! predictions, bit for bit. The networks are large enough for the compiled
//! code to spread its kernels over the threads (convolutions, pooling, norms,
//! large elementwise kernels and matrix products, reductions over the batch),
//! at the full batch and at a last, smaller one, and predict on one sample
//! and on a few.
//!
//! The thread count is process-wide, so this file holds one test.

const CNN: &str = r#"
data images = random_images(points: 512, shape: [3, 12, 12], classes: 4)
network cnn(x: [3, 12, 12]) -> 4 {
    conv 8, kernel: 3, pad: 1
    batchnorm
    relu
    maxpool 2
    conv 16, kernel: 3, pad: 1
    instancenorm
    relu
    avgpool 2
    flatten
    dropout 0.2
    dense 4
}
train cnn on images {
    loss      cross_entropy
    optimizer adam(lr: 0.01)
    batch     96
    epochs    1
    seed      3
}
"#;

const MLP: &str = r#"
data points = random_images(points: 512, shape: [1, 16, 16], classes: 10)
network mlp(x: [1, 16, 16]) -> 10 {
    flatten
    dense 512
    layernorm
    tanh
    dropout 0.1
    dense 256
    batchnorm
    relu
    dense 10
}
train mlp on points {
    loss      cross_entropy
    optimizer sgd(lr: 0.05, momentum: 0.9)
    batch     128
    epochs    1
    seed      5
}
"#;

/// Losses of each step, then the parameters and predictions, as bits.
fn train_bits(source: &str, threads: usize) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    dlc::set_threads(threads);
    let mut model = dlc::compile(source).expect("the program compiles");
    let plan = model.model().train.clone().expect("a training plan");
    let dlc::check::Batch::Size(bs) = plan.batch else {
        unreachable!("mini-batches")
    };
    let sample = model.input_len();
    let width = model.output_width();
    let mut state = 12345u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let mut losses = Vec::new();
    // Full batches, then a last batch of 37 samples (not a multiple of the bands).
    for n in [bs, bs, bs, 37] {
        let x: Vec<f32> = (0..n * sample).map(|_| next() * 2.0 - 1.0).collect();
        let y: Vec<f32> = (0..n).map(|_| (next() * width as f32).floor()).collect();
        let mut out = vec![0.0; n * width];
        let loss = model
            .step_on_batch(&x, &y, n, plan.optimizer.lr, plan.seed, &mut out)
            .expect("the step runs");
        losses.push(loss.to_bits());
    }
    let params = model
        .parameters()
        .into_iter()
        .flat_map(|(_, _, values)| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        .collect();
    // A full batch, then one sample and three (dense layers on a few samples
    // take the dot-product path, split over the threads by outputs).
    let mut predictions = Vec::new();
    for n in [bs, 1, 3] {
        let x: Vec<f32> = (0..n * sample).map(|_| next()).collect();
        let out = model.predict(&x).expect("prediction runs");
        predictions.extend(out.iter().map(|v| v.to_bits()));
    }
    (losses, params, predictions)
}

#[test]
fn training_gives_the_same_bits_on_one_two_and_three_threads() {
    for (name, source) in [("cnn", CNN), ("mlp", MLP)] {
        let one = train_bits(source, 1);
        assert!(
            one.0.iter().all(|&l| f32::from_bits(l).is_finite()),
            "{name}: the losses are finite"
        );
        for threads in [2, 3] {
            let many = train_bits(source, threads);
            assert_eq!(one.0, many.0, "{name}: losses at {threads} threads");
            assert!(
                one.1 == many.1,
                "{name}: parameters at {threads} threads differ"
            );
            assert!(
                one.2 == many.2,
                "{name}: predictions at {threads} threads differ"
            );
        }
    }
}
