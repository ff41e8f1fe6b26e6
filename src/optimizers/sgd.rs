//! `sgd(lr, momentum: 0, nesterov)`: stochastic gradient descent as PyTorch's
//! `SGD` (dampening 0): `v = momentum * v + g`, the step is `v`, or
//! `g + momentum * v` with Nesterov; plain `g` without momentum.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    pub momentum: f64,
    pub nesterov: bool,
}

impl Definition for Sgd {
    const KEYWORD: &'static str = "sgd";
    const FLAGS: &'static [&'static str] = &["nesterov"];

    fn bind(cx: &mut Cx, a: &mut Args) -> Option<Sgd> {
        let unit = |v: f64| (0.0..1.0).contains(&v);
        let momentum = a.real(cx, "momentum", Some(0.0), unit, "must be in [0, 1)");
        let nesterov = a.boolean(cx, "nesterov", false);
        let (momentum, nesterov) = (momentum?.0, nesterov?);
        if nesterov.0 && momentum == 0.0 {
            a.invalid(
                cx,
                "nesterov",
                "needs a `momentum` above 0",
                "momentum 0",
                nesterov.1,
                "needs `momentum`",
            );
        }
        Some(Sgd {
            momentum,
            nesterov: nesterov.0,
        })
    }
}

impl Rule for Sgd {
    fn keyword(&self) -> &'static str {
        Self::KEYWORD
    }

    fn step(&self, u: &mut Update, w: ValueId, grad: ValueId) -> ValueId {
        let direction = if self.momentum > 0.0 {
            let m = self.momentum as f32;
            let (id, velocity) = u.state("momentum", 0.0);
            let kept = u.g.scale(velocity, m);
            let velocity = u.g.add(kept, grad);
            u.write(id, velocity);
            if self.nesterov {
                let ahead = u.g.scale(velocity, m);
                u.g.add(grad, ahead)
            } else {
                velocity
            }
        } else {
            grad
        };
        u.descend(w, direction)
    }

    fn large_rate(&self) -> f64 {
        2.0
    }

    fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.momentum > 0.0 {
            out.push(format!("momentum {}", self.momentum));
        }
        if self.nesterov {
            out.push("nesterov".into());
        }
        out
    }

    fn parity(&self) -> Map<String, Value> {
        fields([
            ("momentum", self.momentum.into()),
            ("nesterov", self.nesterov.into()),
        ])
    }
}
