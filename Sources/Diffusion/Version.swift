// The version of the course's training and model code, part of every cached weights file's key.

/// Bump `current` whenever a change to the training loop (Training.swift), a sampler's meaning of a
/// trained model, or a model's forward pass or initialisation (any file in this folder) would give
/// different weights for the same recipe: every chapter's weight cache then trains anew instead of
/// loading weights the new code would not have produced.
public enum WeightsVersion {
    public static let current = 2
}
