// Helpers shared by the Diffusion tests.

import Diffusion
import NN
import Tensor

/// Fills every parameter with small random values, so zero-initialised layers take part too.
func randomize(_ module: Module, seed: UInt64) {
    var rng = RandomGenerator(seed: seed)
    for p in module.parameters { p.data = Tensor.randn(p.shape, using: &rng).data.map { $0 * 0.3 } }
}

/// A tokenizer over the Shapes captions' 14 words, spelled out here so the ids below can be worked by
/// hand (Datasets' `ShapesVocabulary.words` is the same list; DatasetsTests pins it): 0 <pad>;
/// 1–6 red green blue yellow cyan magenta; 7–9 circle square triangle; 10 top, 11 bottom, 12 left,
/// 13 right, 14 center. Prompts of up to 4 words.
let shapesTokenizer = Tokenizer(words: ["red", "green", "blue", "yellow", "cyan", "magenta", "circle", "square", "triangle",
                                        "top", "bottom", "left", "right", "center"], length: 4)
