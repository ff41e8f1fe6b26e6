//! Parameter counts equal PyTorch's. For every example network, the count
//! PyTorch reports for the same network (`sum(p.numel() for p in
//! model.parameters())`) is computed by hand from its modules and written
//! here as a literal, with the module list in a comment:
//!
//! - `Linear(i, o)` = i*o + o
//! - `Conv2d(i, o, k)` = o*i*k*k + o
//! - `BatchNorm1d/2d(c)` = 2c (running statistics are buffers, not parameters)
//! - `LayerNorm(shape)` = 2 * numel(shape)
//! - `InstanceNorm2d(c, affine=True)` = 2c
//! - `PReLU()` = 1, `PReLU(c)` = c
//!
//! Each layer's output shape (per sample) and parameter count is checked too.

use dlc::check::{Network, check_source};
use std::path::Path;

/// (layer keyword, output shape, parameters) for every layer, input first.
type Expected<'a> = &'a [(&'a str, &'a [usize], usize)];

fn network(file: &str) -> Network {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).expect("the example exists");
    let checked = check_source(&text);
    assert!(!checked.has_errors(), "{file}: {:?}", checked.diagnostics);
    checked.model.expect("a model").network
}

fn assert_network(file: &str, total: usize, layers: Expected) {
    let net = network(file);
    let got: Vec<(&str, &[usize], usize)> = net
        .layers
        .iter()
        .map(|l| (l.op.keyword(), l.shape.as_slice(), l.parameter_count()))
        .collect();
    assert_eq!(got, layers, "{file}: layers");
    assert_eq!(net.parameter_count(), total, "{file}: total");
}

// nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2): 24 + 18
#[test]
fn xor() {
    assert_network(
        "examples/xor.dl",
        42,
        &[
            ("input", &[2], 0),
            ("dense", &[8], 24),
            ("tanh", &[8], 0),
            ("dense", &[2], 18),
        ],
    );
}

// Linear(4, 16), ReLU, Linear(16, 3): 80 + 51
#[test]
fn iris() {
    assert_network(
        "examples/iris.dl",
        131,
        &[
            ("input", &[4], 0),
            ("dense", &[16], 80),
            ("relu", &[16], 0),
            ("dense", &[3], 51),
        ],
    );
}

// Linear(13, 32), ReLU, Dropout, Linear(32, 3): 13*32 + 32 + 32*3 + 3
#[test]
fn wine() {
    assert_network(
        "examples/wine.dl",
        547,
        &[
            ("input", &[13], 0),
            ("dense", &[32], 448),
            ("relu", &[32], 0),
            ("dropout", &[32], 0),
            ("dense", &[3], 99),
        ],
    );
}

// Linear(1, 32), Tanh, Linear(32, 32), Tanh, Linear(32, 1): 64 + 1056 + 33
#[test]
fn regression() {
    assert_network(
        "examples/regression.dl",
        1153,
        &[
            ("input", &[1], 0),
            ("dense", &[32], 64),
            ("tanh", &[32], 0),
            ("dense", &[32], 1056),
            ("tanh", &[32], 0),
            ("dense", &[1], 33),
        ],
    );
}

// Linear(2, 64), Tanh, Linear(64, 64), Tanh, Linear(64, 3): 192 + 4160 + 195
const SPIRAL_64: Expected = &[
    ("input", &[2], 0),
    ("dense", &[64], 192),
    ("tanh", &[64], 0),
    ("dense", &[64], 4160),
    ("tanh", &[64], 0),
    ("dense", &[3], 195),
];

#[test]
fn spirals_and_w1() {
    assert_network("examples/spirals.dl", 4547, SPIRAL_64);
    assert_network("examples/bench/w1_tiny.dl", 4547, SPIRAL_64);
}

// Linear(2, 32), ReLU, Linear(32, 32), ReLU, Linear(32, 3): 96 + 1056 + 99
#[test]
fn spirals_sgd1() {
    assert_network(
        "examples/spirals_sgd1.dl",
        1251,
        &[
            ("input", &[2], 0),
            ("dense", &[32], 96),
            ("relu", &[32], 0),
            ("dense", &[32], 1056),
            ("relu", &[32], 0),
            ("dense", &[3], 99),
        ],
    );
}

// Linear(64, 128, bias=False), BatchNorm1d(128), ReLU, Dropout(0.2),
// Linear(128, 64, bias=False), BatchNorm1d(64), ReLU, Dropout(0.2), Linear(64, 10):
// 8192 + 256 + 8192 + 128 + 650
#[test]
fn digits_mlp() {
    assert_network(
        "examples/digits_mlp.dl",
        17418,
        &[
            ("input", &[64], 0),
            ("dense", &[128], 8192),
            ("batchnorm", &[128], 256),
            ("relu", &[128], 0),
            ("dropout", &[128], 0),
            ("dense", &[64], 8192),
            ("batchnorm", &[64], 128),
            ("relu", &[64], 0),
            ("dropout", &[64], 0),
            ("dense", &[10], 650),
        ],
    );
}

// Conv2d(1, 16, 3, padding=1, bias=False), BatchNorm2d(16), ReLU,
// Conv2d(16, 32, 3, padding=1, bias=False), InstanceNorm2d(32, affine=True), ReLU,
// MaxPool2d(2), Conv2d(32, 32, 3, padding=1, bias=False), BatchNorm2d(32), ReLU,
// AvgPool2d(2), Flatten, Linear(128, 64), ReLU, Linear(64, 10):
// 144 + 32 + 4608 + 64 + 9216 + 64 + 8256 + 650
#[test]
fn digits_cnn() {
    assert_network(
        "examples/digits_cnn.dl",
        23034,
        &[
            ("input", &[1, 8, 8], 0),
            ("conv", &[16, 8, 8], 144),
            ("batchnorm", &[16, 8, 8], 32),
            ("relu", &[16, 8, 8], 0),
            ("conv", &[32, 8, 8], 4608),
            ("instancenorm", &[32, 8, 8], 64),
            ("relu", &[32, 8, 8], 0),
            ("maxpool", &[32, 4, 4], 0),
            ("conv", &[32, 4, 4], 9216),
            ("batchnorm", &[32, 4, 4], 64),
            ("relu", &[32, 4, 4], 0),
            ("avgpool", &[32, 2, 2], 0),
            ("flatten", &[128], 0),
            ("dense", &[64], 8256),
            ("relu", &[64], 0),
            ("dense", &[10], 650),
        ],
    );
}

// Every conv is Conv2d(.., 3, padding=1, bias=False): batch norm's offset replaces the bias.
// conv_bn(16): Conv2d(1, 16), BatchNorm2d(16), ReLU                    144 + 32
// residual(16), twice: Conv2d(16, 16), BatchNorm2d(16), ReLU,
//   Conv2d(16, 16), BatchNorm2d(16), add, ReLU                         2 x (2304 + 32 + 2304 + 32)
// MaxPool2d(2), Flatten, Linear(256, 64), LeakyReLU(0.01), Dropout(0.3),
// Linear(64, 10)                                                       16448 + 650
#[test]
fn residual() {
    const RESIDUAL: Expected = &[
        ("conv", &[16, 8, 8], 2304),
        ("batchnorm", &[16, 8, 8], 32),
        ("relu", &[16, 8, 8], 0),
        ("conv", &[16, 8, 8], 2304),
        ("batchnorm", &[16, 8, 8], 32),
        ("add", &[16, 8, 8], 0),
        ("relu", &[16, 8, 8], 0),
    ];
    let mut layers: Vec<(&str, &[usize], usize)> = vec![
        ("input", &[1, 8, 8], 0),
        ("conv", &[16, 8, 8], 144),
        ("batchnorm", &[16, 8, 8], 32),
        ("relu", &[16, 8, 8], 0),
    ];
    layers.extend_from_slice(RESIDUAL);
    layers.extend_from_slice(RESIDUAL);
    layers.extend_from_slice(&[
        ("maxpool", &[16, 4, 4], 0),
        ("flatten", &[256], 0),
        ("dense", &[64], 16448),
        ("leaky_relu", &[64], 0),
        ("dropout", &[64], 0),
        ("dense", &[10], 650),
    ]);
    assert_network("examples/residual.dl", 26618, &layers);
}

// wide: Linear(2, 32), Tanh                                   96
// deep: Linear(2, 16), PReLU(), Linear(16, 16), ReLU, LayerNorm(16)   48 + 1 + 272 + 32
// cat([wide, deep]) -> Linear(48, 2)                          98
#[test]
fn branches() {
    assert_network(
        "examples/branches.dl",
        547,
        &[
            ("input", &[2], 0),
            ("dense", &[32], 96),
            ("tanh", &[32], 0),
            ("dense", &[16], 48),
            ("prelu", &[16], 1),
            ("dense", &[16], 272),
            ("relu", &[16], 0),
            ("layernorm", &[16], 32),
            ("concat", &[48], 0),
            ("dense", &[2], 98),
        ],
    );
}

// Linear(784, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 10):
// 200960 + 32896 + 1290
const W2: Expected = &[
    ("input", &[784], 0),
    ("dense", &[256], 200960),
    ("relu", &[256], 0),
    ("dense", &[128], 32896),
    ("relu", &[128], 0),
    ("dense", &[10], 1290),
];

#[test]
fn w2_and_w5() {
    assert_network("examples/bench/w2_mlp.dl", 235146, W2);
    assert_network("examples/bench/w5_inference.dl", 235146, W2);
}

// W2 with BatchNorm1d(256) and BatchNorm1d(128): 235146 + 512 + 256
#[test]
fn w3() {
    assert_network(
        "examples/bench/w3_mlp_bn_dropout.dl",
        235914,
        &[
            ("input", &[784], 0),
            ("dense", &[256], 200960),
            ("batchnorm", &[256], 512),
            ("relu", &[256], 0),
            ("dropout", &[256], 0),
            ("dense", &[128], 32896),
            ("batchnorm", &[128], 256),
            ("relu", &[128], 0),
            ("dropout", &[128], 0),
            ("dense", &[10], 1290),
        ],
    );
}

// Conv2d(1, 8, 3, padding=1), BatchNorm2d(8), ReLU, MaxPool2d(2),
// Conv2d(8, 16, 3, padding=1), BatchNorm2d(16), ReLU, MaxPool2d(2),
// Flatten, Linear(784, 10): 80 + 16 + 1168 + 32 + 7850
#[test]
fn w4() {
    assert_network(
        "examples/bench/w4_cnn.dl",
        9146,
        &[
            ("input", &[1, 28, 28], 0),
            ("conv", &[8, 28, 28], 80),
            ("batchnorm", &[8, 28, 28], 16),
            ("relu", &[8, 28, 28], 0),
            ("maxpool", &[8, 14, 14], 0),
            ("conv", &[16, 14, 14], 1168),
            ("batchnorm", &[16, 14, 14], 32),
            ("relu", &[16, 14, 14], 0),
            ("maxpool", &[16, 7, 7], 0),
            ("flatten", &[784], 0),
            ("dense", &[10], 7850),
        ],
    );
}

/// Every example is covered above: a new one must get its hand count too.
#[test]
fn every_example_has_a_count() {
    let covered = [
        "xor.dl",
        "iris.dl",
        "wine.dl",
        "regression.dl",
        "spirals.dl",
        "spirals_sgd1.dl",
        "digits_mlp.dl",
        "digits_cnn.dl",
        "residual.dl",
        "branches.dl",
        "w1_tiny.dl",
        "w2_mlp.dl",
        "w3_mlp_bn_dropout.dl",
        "w4_cnn.dl",
        "w5_inference.dl",
    ];
    for dir in ["examples", "examples/bench"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(path).expect("examples exist") {
            let name = entry.expect("an entry").file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".dl") {
                assert!(covered.contains(&name.as_ref()), "{name} has no count");
            }
        }
    }
}
