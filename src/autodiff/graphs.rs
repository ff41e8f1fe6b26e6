//! The entry points of a compiled model, as graphs before code generation.
//!
//! - `train_step`: forward (training mode) + loss + backward + update, fused;
//! - `backward`: forward + loss + gradients into the gradient buffer;
//! - `update`: the optimizer step from the gradient buffer;
//! - `eval`: forward (evaluation mode) + loss;
//! - `predict`: forward (evaluation mode) only.
//!
//! All share one parameter layout and one state layout: running statistics
//! first (registered while lowering), then optimizer moments.

use super::{append_update, differentiate, update_graph};
use crate::check::Model;
use crate::ir::{Graph, Mode, ParamId, Sink, VerifyErrors, verify};
use crate::lower::lower;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entry {
    TrainStep,
    Backward,
    Update,
    Eval,
    Predict,
}

impl Entry {
    pub const ALL: [Entry; 5] = [
        Entry::TrainStep,
        Entry::Backward,
        Entry::Update,
        Entry::Eval,
        Entry::Predict,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Entry::TrainStep => "train_step",
            Entry::Backward => "backward",
            Entry::Update => "update",
            Entry::Eval => "eval",
            Entry::Predict => "predict",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Graphs {
    /// `None` without a training plan.
    pub train_step: Option<Graph>,
    pub backward: Option<Graph>,
    pub update: Option<Graph>,
    pub eval: Option<Graph>,
    pub predict: Graph,
}

impl Graphs {
    pub fn build(model: &Model) -> Result<Graphs, VerifyErrors> {
        let predict = lower(model, Mode::Eval, false).graph;
        verify(&predict)?;
        let Some(train) = &model.train else {
            return Ok(Graphs {
                train_step: None,
                backward: None,
                update: None,
                eval: None,
                predict,
            });
        };
        let eval = lower(model, Mode::Eval, true).graph;
        let lowered = lower(model, Mode::Train, true);
        let loss = lowered.loss.expect("a training plan has a loss");
        let mut backward = lowered.graph;
        let grads = differentiate(&mut backward, loss);
        verify(&backward)?;
        let mut train_step = backward.clone();
        append_update(&mut train_step, &grads, train);
        for (p, g) in grads.iter().enumerate() {
            if let Some(g) = g {
                backward.sinks.push(Sink::Grad(ParamId(p), *g));
            }
        }
        let update = update_graph(&backward, train);
        for g in [&eval, &backward, &train_step, &update] {
            verify(g)?;
        }
        Ok(Graphs {
            train_step: Some(train_step),
            backward: Some(backward),
            update: Some(update),
            eval: Some(eval),
            predict,
        })
    }

    pub fn get(&self, e: Entry) -> Option<&Graph> {
        match e {
            Entry::TrainStep => self.train_step.as_ref(),
            Entry::Backward => self.backward.as_ref(),
            Entry::Update => self.update.as_ref(),
            Entry::Eval => self.eval.as_ref(),
            Entry::Predict => Some(&self.predict),
        }
    }

    /// The graph that defines the state layout (the one with the most state).
    pub fn layout_graph(&self) -> &Graph {
        self.train_step.as_ref().unwrap_or(&self.predict)
    }
}
