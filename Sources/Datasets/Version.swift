// The version of the procedural data generators, part of every recipe that trains on them.

/// Bump a generator's number whenever a change to it (its drawing, its random draws, its ranges)
/// would give different training data for the same seed; recipes record it, so weights trained on
/// the old data are not loaded as if they were trained on the new.
public enum DataVersion {
    /// `ShapesDataset` and the Shapes renderer (Shapes.swift, ShapesDataset.swift).
    public static let shapes = 1
    /// `PairedShapesDataset` (PairedShapes.swift).
    public static let pairedShapes = 1
    /// The 2-D distributions of `Toy2D`.
    public static let toy2D = 1
}
