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

impl Init {
    /// How the summary and the messages name it, in the words of the
    /// language: `he normal`, `xavier uniform`, `normal(std: 0.025)`, `zeros`.
    pub fn describe(&self) -> String {
        let number = crate::syntax::format_number;
        match *self {
            Init::He { slope: 0.0 } => "he normal".into(),
            Init::He { slope } => format!("he normal (slope {})", number(slope)),
            Init::Xavier => "xavier uniform".into(),
            Init::Lecun => "lecun normal".into(),
            Init::Normal { std } => format!("normal(std: {})", number(std)),
            Init::Uniform { limit } => format!("uniform(limit: {})", number(limit)),
            Init::Const(0.0) => "zeros".into(),
            Init::Const(1.0) => "ones".into(),
            Init::Const(c) => format!("constant {}", number(c)),
        }
    }
}
