// Chapter 6: the tokenizer worked by hand, prompt parsing against every caption the data set
// writes, the encoder layer's gradients, the text encoder's use of word order, and the guidance
// combination of Ho & Salimans (2022) worked by hand.

import Datasets
import Foundation
import NN
import Testing
@testable import Diffusion
import Tensor

@Suite("Text conditioning (chapter 6)")
struct TextConditioningTests {
    let tokenizer = Tokenizer()

    @Test("tokenizer: ids worked by hand, padding, case; decode inverts encode")
    func tokenize() throws {
        // vocabulary: 0 <pad>; 1–6 red green blue yellow cyan magenta; 7–9 circle square triangle;
        // 10 top, 11 bottom, 12 left, 13 right, 14 center.
        #expect(tokenizer.vocabulary.count == 15)
        #expect(try tokenizer.encode("red circle top left") == [1, 7, 10, 12])
        #expect(try tokenizer.encode("  Magenta  triangle ") == [6, 9, 0, 0])
        #expect(try tokenizer.encode("") == [0, 0, 0, 0])
        #expect(try tokenizer.encode("cyan square center") == [5, 8, 14, 0])
        #expect(tokenizer.decode([5, 8, 14, 0]) == "cyan square center")
    }

    @Test("an unknown word is an error naming it and listing the vocabulary; five words are too many")
    func unknownWord() {
        do {
            _ = try tokenizer.encode("red hexagon")
            Issue.record("expected an error")
        } catch {
            let text = String(describing: error)
            #expect(text.contains("'hexagon'") && text.contains("red, green, blue") && text.contains("center"), "\(text)")
        }
        #expect(throws: PromptError.self) { try tokenizer.encode("red circle top left now") }
        #expect(throws: PromptError.self) { try tokenizer.encode("<pad>") }
    }

    @Test("parse: every one of the 162 captions gives back its combination; partial prompts; contradictions are errors")
    func parse() throws {
        for c in ShapeCombination.all { #expect(try tokenizer.parse(c.caption) == ShapePrompt(c), "\(c.caption)") }
        #expect(try tokenizer.parse("left") == ShapePrompt(position: .left))
        #expect(try tokenizer.parse("top") == ShapePrompt(position: .top))
        #expect(try tokenizer.parse("bottom right blue") == ShapePrompt(color: .blue, position: .bottomRight))
        #expect(try tokenizer.parse("") == ShapePrompt())
        for bad in ["top bottom", "red blue", "circle square", "center left", "left right"] {
            #expect(throws: PromptError.self, "\(bad)") { try tokenizer.parse(bad) }
        }
    }

    @Test("classifier-free guidance, worked by hand: ε_u + w·(ε_c − ε_u)")
    func guidance() {
        let c = Tensor([3, -1], shape: [1, 2]), u = Tensor([1, 1], shape: [1, 2])
        // w = 3: 1 + 3·(3 − 1) = 7 and 1 + 3·(−1 − 1) = −5; w = 0 gives ε_u, w = 1 gives ε_c.
        #expect(classifierFreeGuidance(conditional: c, unconditional: u, scale: 3).data == [7, -5])
        #expect(classifierFreeGuidance(conditional: c, unconditional: u, scale: 0).data == u.data)
        #expect(classifierFreeGuidance(conditional: c, unconditional: u, scale: 1).data == c.data)
    }

    @Test("gradient check of a Transformer encoder layer")
    func encoderLayerGradient() {
        var rng = RandomGenerator(seed: 1)
        let layer = TransformerEncoderLayer(dim: 8, heads: 2, using: &rng)
        let x = Tensor.randn([2, 4, 8], using: &rng)
        let r = gradientCheck([x], seed: 2) { layer($0[0]) }
        #expect(r.passes(tolerance: 1e-2), "\(r)")
    }

    @Test("the text encoder: shapes, word order matters (position embeddings), gradients reach the embeddings")
    func encoder() throws {
        var rng = RandomGenerator(seed: 3)
        let encoder = TextEncoder(dim: 16, layers: 2, heads: 2, using: &rng)
        let a = try tokenizer.encode("red circle"), b = try tokenizer.encode("circle red")
        let (context, pooled) = encoder([a, b])
        #expect(context.shape == [2, 4, 16] && pooled.shape == [2, 16])
        let difference = zip(pooled.data[0..<16], pooled.data[16..<32]).map { Swift.abs($0 - $1) }.max()!
        #expect(difference > 1e-4, "the same words in another order should encode differently")
        encoder.zeroGrad()
        encoder([a]).pooled.sum().backward()
        #expect(encoder.tokenEmbedding.weight.grad!.data.contains { $0 != 0 })
        #expect(encoder.positionEmbedding.weight.grad!.data.contains { $0 != 0 })
    }
}
