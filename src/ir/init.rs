//! How a parameter or buffer starts: the rule each layer's definition
//! chooses, which the runtime and the interpreter both draw from.

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// He/Kaiming normal for the ReLU family: std = gain / sqrt(fan_in), gain = sqrt(2 / (1 + slope^2)).
    He {
        slope: f64,
    },
    /// Xavier/Glorot uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
    Xavier,
    /// LeCun normal: std = 1 / sqrt(fan_in).
    Lecun,
    Normal {
        std: f64,
    },
    Uniform {
        limit: f64,
    },
    Const(f64),
}
