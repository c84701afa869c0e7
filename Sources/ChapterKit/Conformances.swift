// The library's option enums as command-line values (`--dataset moons`, `--mixing attention`) and as
// parts of a recipe (Codable, by their raw value). Declared here because the command line and the
// cache are ChapterKit's business, not the library's.

import ArgumentParser
import Datasets
import Diffusion

extension Toy2D: ExpressibleByArgument, Codable {}
extension NoiseSchedule.Kind: ExpressibleByArgument, Codable {}
extension TimeConditioning: ExpressibleByArgument, Codable {}
extension PositionMixing: ExpressibleByArgument, Codable {}
extension PredictionTarget: ExpressibleByArgument {}
