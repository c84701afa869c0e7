// Procedural data sets, made from the package's seeded generator: nothing is downloaded.
//
//   Shapes.swift         the course's captioned image data: one antialiased coloured shape on
//                        black (its renderer; chapter 1 noises one of its images)
//   ShapesDataset.swift  batches of Shapes images with their specs; the 162 colour × shape ×
//                        position combinations; prompts; a held-out set of combinations
//   ShapesVocabulary.swift  the caption words and the prompt grammar (`ShapePrompt.parse`)
//   ShapesChecker.swift  describes an image: its colour, shape and position, or why it is not a
//                        clean shape — how the image chapters measure what a model drew
//   ShapesMetrics.swift  validity, coverage, distance from uniform, prompt adherence
//   Toy2D.swift          2-D toy distributions for chapter 2: two moons, spiral, rings
import Tensor
