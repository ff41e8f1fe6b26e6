//! The loss's class weights at run time: a list as the program writes it,
//! or `balanced`, counted on the training part of the data.
//!
//! The weights are an input of the loss graph (`input class_weights`, one
//! per class), held in [`super::backend::Buffers::class_weights`]: a list is
//! put there when the model is built, `balanced` weights when the model
//! first sees its training data (`train_on`, or
//! [`CompiledModel::weigh_classes_by`] for a caller that evaluates a model
//! it did not train).

use super::model::{CompiledModel, RunError};
use crate::check::{ClassWeights, ClassWeightsKind, Loss, TrainSpec};
use crate::data::Dataset;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClassWeightsError {
    #[error(
        "`class_weights` gives {given} weights, but the training data has {classes} classes\nhelp: give one weight per class, in the order of the classes"
    )]
    Length { given: usize, classes: usize },
    #[error(
        "`class_weights balanced` cannot weight class {class}: the training part has no sample of it, so its weight would be infinite\nhelp: check the labels, give the weights as a list, or use a validation split that leaves every class in the training part"
    )]
    MissingClass { class: String },
    #[error("`class_weights` needs class labels, but the training data has real-valued targets")]
    NotClasses,
    #[error(
        "`class_weights balanced` are counted on the training data, which this model has not seen\nhelp: train it, or give it the training data (`weigh_classes_by`) before evaluating"
    )]
    NotCounted,
}

/// The number of classes the loss weighs: the network's outputs for
/// `cross_entropy`, 2 (labels 0 and 1) for `binary_cross_entropy`.
pub fn loss_classes(loss: Loss, output_width: usize) -> Option<usize> {
    match loss {
        Loss::CrossEntropy => Some(output_width),
        Loss::BinaryCrossEntropy => Some(2),
        Loss::MeanSquaredError => None,
    }
}

/// The weights known without data: a list's, as `f32`; none for `balanced`.
pub fn written_weights(w: &ClassWeights) -> Option<Vec<f32>> {
    match &w.kind {
        ClassWeightsKind::List(list) => Some(list.iter().map(|&v| v as f32).collect()),
        ClassWeightsKind::Balanced => None,
    }
}

/// scikit-learn's `balanced`: `n_samples / (n_classes * count_c)` for each
/// of `classes` classes, from the samples of each class in `train`.
pub fn balanced_weights(train: &Dataset, classes: usize) -> Result<Vec<f32>, ClassWeightsError> {
    if train.classes().is_none() {
        return Err(ClassWeightsError::NotClasses);
    }
    let mut counts = train.class_counts();
    counts.resize(classes.max(counts.len()), 0);
    let n = train.len() as f64;
    (0..classes)
        .map(|c| match counts[c] {
            0 => Err(ClassWeightsError::MissingClass {
                class: class_name(train, c),
            }),
            count => Ok((n / (classes as f64 * count as f64)) as f32),
        })
        .collect()
}

/// `2`, or `2 ("malignant")` when the labels were written as names.
fn class_name(train: &Dataset, class: usize) -> String {
    match train.names().classes.get(class) {
        Some(name) => format!("{class} ({name:?})"),
        None => class.to_string(),
    }
}

/// The weights of `plan` for training on `train`: a list checked against
/// the data's classes, or `balanced` counted on it.
pub fn weights_for(
    plan: &TrainSpec,
    output_width: usize,
    train: &Dataset,
) -> Result<Option<Vec<f32>>, ClassWeightsError> {
    let Some(w) = &plan.class_weights else {
        return Ok(None);
    };
    let classes = loss_classes(plan.loss, output_width).ok_or(ClassWeightsError::NotClasses)?;
    let data_classes = train.classes().ok_or(ClassWeightsError::NotClasses)?;
    match &w.kind {
        ClassWeightsKind::List(list) if data_classes > list.len() => Err(ClassWeightsError::Length {
            given: list.len(),
            classes: data_classes,
        }),
        ClassWeightsKind::List(_) => Ok(written_weights(w)),
        ClassWeightsKind::Balanced => balanced_weights(train, classes).map(Some),
    }
}

impl CompiledModel {
    /// Sets the loss's class weights for training on `train` (see the
    /// module docs); nothing for a loss without them.
    pub fn weigh_classes_by(&mut self, train: &Dataset) -> Result<(), RunError> {
        let Some(plan) = &self.model.train else {
            return Ok(());
        };
        if let Some(w) = weights_for(plan, self.output_width(), train)? {
            self.buffers.class_weights = w;
        }
        Ok(())
    }

    /// The loss's class weights in use (empty without `class_weights`, or
    /// before `balanced` weights are counted).
    pub fn class_weights(&self) -> &[f32] {
        &self.buffers.class_weights
    }

    /// What a batch's loss counts for when losses of batches are averaged:
    /// its samples, or with class weights the sum of its samples' weights,
    /// so that the average over batches is the weighted mean over all the
    /// samples, as one batch of them all would give.
    pub(crate) fn loss_weight(&self, labels: &[f32], n: usize) -> f64 {
        let weights = &self.buffers.class_weights;
        if weights.is_empty() {
            return n as f64;
        }
        labels[..n]
            .iter()
            .map(|&y| weights.get(y as usize).copied().unwrap_or(0.0) as f64)
            .sum()
    }

    /// An error unless the weights a loss with `class_weights` reads are
    /// set: for calls that evaluate the loss.
    pub(crate) fn require_class_weights(&self) -> Result<(), RunError> {
        let weighted = self.model.train.as_ref().is_some_and(|t| t.class_weights.is_some());
        if weighted && self.buffers.class_weights.is_empty() {
            return Err(ClassWeightsError::NotCounted.into());
        }
        Ok(())
    }
}
