// Chapter 6: the tokenizer worked by hand (prompt parsing is Datasets' and tested there), the
// encoder layer's gradients, the text encoder's use of word order, and the guidance
// combination of Ho & Salimans (2022) worked by hand.

import Foundation
import NN
import Testing
@testable import Diffusion
import Tensor

@Suite("Text conditioning (chapter 6)")
struct TextConditioningTests {
    let tokenizer = shapesTokenizer

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
    func unknownWord() throws {
        // Case and repeated spaces are not errors.
        #expect((try? tokenizer.encode("RED   Circle")) == [1, 7, 0, 0])
        do {
            _ = try tokenizer.encode("red hexagon")
            Issue.record("expected an error")
        } catch {
            let text = String(describing: error)
            #expect(text.contains("'hexagon'") && text.contains("red, green, blue") && text.contains("center"), "\(text)")
        }
        #expect(throws: TokenizerError.self) { try tokenizer.encode("red circle top left now") }
        #expect(throws: TokenizerError.self) { try tokenizer.encode("<pad>") }
        // The vocabulary is the tokenizer's own: another list, other ids and other unknown words.
        let tiny = Tokenizer(words: ["a", "b"], length: 2)
        #expect(tiny.vocabulary == ["<pad>", "a", "b"])
        #expect(try tiny.encode("b a") == [2, 1] && tiny.emptyPrompt == [0, 0])
        #expect(throws: TokenizerError.self) { try tiny.encode("red") }
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
        let encoder = TextEncoder(tokenizer: tokenizer, dim: 16, layers: 2, heads: 2, using: &rng)
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

    @Test("the text-conditioned UNet reads the prompt; guidance w = 1 is conditional, w = 0 unconditional, w = 3 the formula")
    func guidedModel() throws {
        var rng = RandomGenerator(seed: 5)
        let model = TextToImage(tokenizer: tokenizer, channels: 8, textDim: 16, textLayers: 1, heads: 2, using: &rng)
        for p in model.parameters { p.data = Tensor.randn(p.shape, using: &rng).data.map { $0 * 0.3 } }
        let x = Tensor.randn([2, 3, 8, 8], using: &rng), t = [100, 700]
        let red = try tokenizer.encode("red circle"), blue = try tokenizer.encode("blue square bottom")
        let a = withoutGradients { model(x, t, tokens: [red, red]) }, b = withoutGradients { model(x, t, tokens: [blue, blue]) }
        #expect(zip(a.data, b.data).map { Swift.abs($0 - $1) }.max()! > 1e-3, "another prompt must change ε̂")
        let tokens = [red, blue]
        let conditional = withoutGradients { model(x, t, tokens: tokens) }
        let unconditional = withoutGradients { model(x, t, tokens: [model.emptyPrompt, model.emptyPrompt]) }
        func close(_ u: Tensor, _ v: Tensor) -> Bool { zip(u.data, v.data).allSatisfy { Swift.abs($0 - $1) < 1e-4 } }
        #expect(withoutGradients { model.guided(tokens: tokens, scale: 1)(x, t) }.data == conditional.data)
        #expect(close(withoutGradients { model.guided(tokens: tokens, scale: 0)(x, t) }, unconditional))
        let three = withoutGradients { model.guided(tokens: tokens, scale: 3)(x, t) }
        #expect(close(three, Tensor(zip(conditional.data, unconditional.data).map { u in u.1 + 3 * (u.0 - u.1) }, shape: x.shape)))
    }

    @Test("the conditional trainer hands each batch's condition to the predictor, and learns")
    func conditionalTrainer() throws {
        var rng = RandomGenerator(seed: 6)
        let model = TextToImage(tokenizer: tokenizer, channels: 8, textDim: 16, textLayers: 1, heads: 2, using: &rng)
        let left = try tokenizer.encode("left"), right = try tokenizer.encode("right")
        // 8×8 images: a bright 4×8 half on the side the prompt names, −1 elsewhere.
        let batch: (inout RandomGenerator) -> (Tensor, [[Int]]) = { r in
            var data = [Float](repeating: -1, count: 8 * 3 * 64), tokens: [[Int]] = []
            for b in 0..<8 {
                let isLeft = r.int(in: 0..<2) == 0
                tokens.append(isLeft ? left : right)
                for c in 0..<3 { for y in 0..<8 { for x in (isLeft ? 0..<4 : 4..<8) { data[((b * 3 + c) * 8 + y) * 8 + x] = 1 } } }
            }
            return (Tensor(data, shape: [8, 3, 8, 8]), tokens)
        }
        var drawn: [[[Int]]] = [], seen: [[[Int]]] = []
        let losses = try DDPMTrainer.train(model, predictor: { x, t, tokens in seen.append(tokens); return model(x, t, tokens: tokens) },
                                           schedule: .linear(), options: TrainingOptions(steps: 30, learningRate: 3e-3, emaDecay: 0),
                                           seed: 7, batch: { r in let b = batch(&r); drawn.append(b.1); return b })
        #expect(seen == drawn && seen.count == 30)
        let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
        #expect(last < 0.7 * first, "loss \(first) → \(last)")
    }
}
