// Procedural data sets, made from the package's seeded generator: nothing is downloaded.
//
//   Shapes.swift   the course's captioned image data: one antialiased coloured shape on black
//                  (its renderer; chapter 1 noises one of its images)
import Tensor
