// Every check must tell right from wrong: for each exercise, a plausible wrong answer — a sign, a
// missing square root, t off by one, the softmax without its max shift, heads split along the wrong
// axis — is written here in place of the solution, and the check must fail it (while the solution
// passes, which the ChapterNN solution suites prove). Wrong answers keep the right shapes, so a
// mistake shows as a failed check rather than a trap.

import Diffusion
import ExerciseChecks
import Foundation
import NN
import Tensor
import Testing

/// The check `id` of `checks`, run on `api`, must fail (and not pass, skip or crash).
private func expectRejected<API>(_ checks: [Check<API>], _ id: String, _ api: API, _ mistake: String,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard let check = checks.first(where: { $0.id == id }) else {
        Issue.record("no check named \(id)", sourceLocation: sourceLocation)
        return
    }
    let verdict = evaluate(check, api)
    guard case .failed = verdict else {
        Issue.record("\(id) should reject \(mistake), but gave \(verdict)", sourceLocation: sourceLocation)
        return
    }
}

@Suite("Every check rejects a plausible wrong answer")
struct WrongAnswerTests {
    @Test("chapter 0: gradients without unbroadcasting, averaged, or missing softmax's coupling")
    func chapter00() {
        let checks = Chapter00Checks.all
        var api = Chapter00Solutions.api
        api.mulBackward = { a, b, g in
            // Right when nothing is broadcast; wrong (not summed back) when b is [1, n] against a [m, n].
            let da = g * b, db = g * a
            return (da, db.shape == b.shape ? db : db.sum(axes: [0], keepDims: true) * (1 / Float(a.shape[0])))
        }
        expectRejected(checks, "mulBackward", api, "a broadcast gradient averaged instead of summed")
        api = Chapter00Solutions.api
        api.matmulBackward = { a, b, g in (g.matmul(b.transposed()), a.transposed().matmul(g) * (1 / Float(a.shape[0]))) }
        expectRejected(checks, "matmulBackward", api, "dB divided by the batch size")
        api = Chapter00Solutions.api
        api.sumBackward = { x, axis, g in
            var kept = x.shape
            kept[axis] = 1
            return g.reshaped(kept).expand(to: x.shape) * (1 / Float(x.shape[axis]))  // the mean's backward
        }
        expectRejected(checks, "sumBackward", api, "the mean's backward (divided by n)")
        api = Chapter00Solutions.api
        api.softmaxBackward = { x, g in x.softmax(axis: -1) * g }  // forgets − Σ G·y
        expectRejected(checks, "softmaxBackward", api, "y·G without the − Σ_j G_j·y_j term")
    }

    @Test("chapter 1: t/T instead of t/(T − 1), ᾱ shifted by one or zeroed when tiny, no square roots, no clip, τ off by one")
    func chapter01() {
        let checks = Chapter01Checks.all
        var api = Chapter01Solutions.api
        api.linearBetas = { steps, start, end in (0..<steps).map { start + (end - start) * Float($0) / Float(steps) } }
        expectRejected(checks, "linearBetas", api, "t/T (the last β falls short of β_end)")
        api = Chapter01Solutions.api
        api.alphaBars = { betas in
            var product: Float = 1
            return betas.map { beta in defer { product *= 1 - beta }; return product }  // ᾱ_0 = 1: one step late
        }
        expectRejected(checks, "alphaBars", api, "the product shifted by one step (ᾱ_0 = 1)")
        api = Chapter01Solutions.api
        api.alphaBars = { betas in try Chapter01Solutions.api.alphaBars(betas).map { $0 < 1e-4 ? 0 : $0 } }
        expectRejected(checks, "alphaBars", api, "0 for every ᾱ below 1e-4 (the linear schedule's last 46)")
        api = Chapter01Solutions.api
        api.noisyBatch = { x0, alphaBar, noise in
            let shape = [alphaBar.count] + [Int](repeating: 1, count: x0.rank - 1)
            return x0 * Tensor(alphaBar, shape: shape) + noise * Tensor(alphaBar.map { 1 - $0 }, shape: shape)
        }
        expectRejected(checks, "noisyBatch", api, "ᾱ and 1 − ᾱ without their square roots")
        api = Chapter01Solutions.api
        api.cosineBetas = { steps, s, maxBeta in  // no clip: the last β is 1
            func f(_ tau: Int) -> Double { let c = Foundation.cos((Double(tau) / Double(steps) + s) / (1 + s) * Double.pi / 2); return c * c }
            return (0..<steps).map { Float(1 - f($0 + 1) / f($0)) }
        }
        expectRejected(checks, "cosineBetas", api, "β without the clip at maxBeta")
        api = Chapter01Solutions.api
        api.cosineBetas = { steps, s, maxBeta in  // τ = t instead of t + 1: β_t one step late
            func f(_ tau: Int) -> Double { let c = Foundation.cos((Double(tau) / Double(steps) + s) / (1 + s) * Double.pi / 2); return c * c }
            return (0..<steps).map { $0 == 0 ? 0 : Float(Swift.min(1 - f($0) / f($0 - 1), maxBeta)) }
        }
        expectRejected(checks, "cosineBetas", api, "τ = t (every β one step late)")
    }

    @Test("chapter 2: ᾱ for √ᾱ, √ᾱ_t for √α_t, no re-noising, unzeroed or late-clipped gradients, noise at the last step, leading steps, a missing root")
    func chapter02() {
        let checks = Chapter02Checks.all
        var api = Chapter02Solutions.api
        api.trainingLoss = { model, x0, t, noise, alphaBar in
            let shape = [t.count] + [Int](repeating: 1, count: x0.rank - 1)
            let xt = x0 * Tensor(t.map { alphaBar[$0] }, shape: shape) + noise * Tensor(t.map { 1 - alphaBar[$0] }, shape: shape)
            return model(xt, t).mse(noise)
        }
        expectRejected(checks, "trainingLoss", api, "x_t made with ᾱ and 1 − ᾱ instead of their square roots")
        api = Chapter02Solutions.api
        api.posteriorMean = { xt, eps, beta, alphaBar in (xt - eps * (beta / (1 - alphaBar).squareRoot())) * (1 / alphaBar.squareRoot()) }
        expectRejected(checks, "posteriorMean", api, "dividing by √ᾱ_t instead of √α_t")
        api = Chapter02Solutions.api
        api.ddimStep = { xt, eps, alphaBar, previous in
            (xt - eps * (1 - alphaBar).squareRoot()) * (previous.squareRoot() / alphaBar.squareRoot())  // drops √(1 − ᾱ′)·ε
        }
        expectRejected(checks, "ddimStep", api, "x̂₀ scaled to ᾱ′ without putting the predicted noise back")
        api = Chapter02Solutions.api
        api.trainingStep = { predict, x0, parameters, optimizer, ema, alphaBar, clipNorm, rng in  // gradients never zeroed
            let t = (0..<x0.shape[0]).map { _ in rng.int(in: 0..<alphaBar.count) }
            let noise = Tensor.randn(x0.shape, using: &rng)
            let loss = try Chapter02Solutions.api.trainingLoss(predict, x0, t, noise, alphaBar)
            loss.backward()
            _ = clipGradientNorm(parameters, maxNorm: clipNorm)
            optimizer.step()
            ema?.update()
            return loss.item
        }
        expectRejected(checks, "trainingStep", api, "gradients that are never zeroed (they pile up from step to step)")
        api = Chapter02Solutions.api
        api.trainingStep = { predict, x0, parameters, optimizer, ema, alphaBar, clipNorm, rng in  // clips after the step
            let t = (0..<x0.shape[0]).map { _ in rng.int(in: 0..<alphaBar.count) }
            let noise = Tensor.randn(x0.shape, using: &rng)
            let loss = try Chapter02Solutions.api.trainingLoss(predict, x0, t, noise, alphaBar)
            for p in parameters { p.zeroGrad() }
            loss.backward()
            optimizer.step()
            _ = clipGradientNorm(parameters, maxNorm: clipNorm)
            ema?.update()
            return loss.item
        }
        expectRejected(checks, "trainingStep", api, "the gradients clipped after the Adam step (so never)")
        api = Chapter02Solutions.api
        api.sampleDDPM = { predict, xT, beta, alphaBar, observe, rng in  // noise on the last step too
            var x = xT
            observe(beta.count, x)
            for t in stride(from: beta.count - 1, through: 0, by: -1) {
                let epsilon = predict(x, [Int](repeating: t, count: x.shape[0]))
                x = try Chapter02Solutions.api.posteriorMean(x, epsilon, beta[t], alphaBar[t]) + Tensor.randn(x.shape, using: &rng) * beta[t].squareRoot()
                observe(t, x)
            }
            return x
        }
        expectRejected(checks, "sampleDDPM", api, "fresh noise added at the last step (t = 0) too")
        api = Chapter02Solutions.api
        api.ddimTimesteps = { count, T in (0..<count).map { i in i * T / count }.reversed() }  // leading: ends at 0, never T − 1
        expectRejected(checks, "ddimTimesteps", api, "leading spacing (980, …, 20, 0), which never starts at T − 1")
        api = Chapter02Solutions.api
        api.ddimSigma = { eta, a, b in eta * ((1 - b) / (1 - a)) * (1 - a / b).squareRoot() }  // first square root missing
        expectRejected(checks, "ddimSigma", api, "the first factor without its square root")
    }

    @Test("chapter 3: padding once, pooling before the norm, the skip in front, a pooled skip, skips that ignore the ablation")
    func chapter03() {
        let checks = Chapter03Checks.all
        var api = Chapter03Solutions.api
        api.convOutputSize = { input, kernel, stride, padding in (input + padding - kernel) / stride + 1 }
        expectRejected(checks, "convOutputSize", api, "padding counted on one side only")
        api = Chapter03Solutions.api
        api.downBlock = { x, conv, norm in norm(conv(x).avgPool2x2()).silu() }
        expectRejected(checks, "downBlock", api, "pooling before the norm and SiLU")
        api = Chapter03Solutions.api
        api.skipConcat = { x, skip in Tensor.concat([skip, x.upsampleNearest2x()], axis: 1) }
        expectRejected(checks, "skipConcat", api, "the skip's channels first")
        api = Chapter03Solutions.api
        api.hourglass = { x, l, skips in  // each skip taken after its pooling: the wrong resolution's features, one level down
            let s1 = l.down1(l.stem(x)).avgPool2x2()
            let s2 = l.down2(s1)
            let m = l.middle(s2.avgPool2x2())
            let h2 = l.up2(Tensor.concat([m.upsampleNearest2x(), skips ? s2 : Tensor.zeros(s2.shape)], axis: 1))
            let up = h2.upsampleNearest2x()
            return l.head(l.up1(Tensor.concat([up, skips ? s1.upsampleNearest2x() : Tensor.zeros(up.shape.enumerated().map { $0.offset == 1 ? s1.shape[1] : $0.element })], axis: 1)))
        }
        expectRejected(checks, "hourglass", api, "the first skip taken after pooling (and upsampled back): detail thrown away")
        api = Chapter03Solutions.api
        api.hourglass = { x, l, _ in try Chapter03Solutions.api.hourglass(x, l, true) }  // ignores `skips`
        expectRejected(checks, "hourglass", api, "skips kept when the ablation asks for zeros")
    }

    @Test("chapter 4: sin and cos interleaved, scale without the 1 +, a closed range, v₀ ignored, a shift-only block, no residual")
    func chapter04() {
        let checks = Chapter04Checks.all
        var api = Chapter04Solutions.api
        api.sinusoidalEmbedding = { t, d in
            let half = d / 2
            var values: [Float] = []
            for step in t {
                for i in 0..<half {
                    let angle = Double(step) * Foundation.pow(10_000, -Double(i) / Double(half - 1))
                    values += [Float(Foundation.sin(angle)), Float(Foundation.cos(angle))]  // interleaved
                }
            }
            return Tensor(values, shape: [t.count, d])
        }
        expectRejected(checks, "sinusoidalEmbedding", api, "sin and cos interleaved instead of in two halves")
        api = Chapter04Solutions.api
        api.injectTime = { h, scaleShift in
            let b = h.shape[0], c = h.shape[1]
            let parts = scaleShift.reshaped([b, 2 * c, 1, 1]).split([c, c], axis: 1)
            return h * parts[0] + parts[1]
        }
        expectRejected(checks, "injectTime", api, "h·s + b instead of h·(1 + s) + b")
        api = Chapter04Solutions.api
        api.meanLossByRange = { losses, t, ranges in
            ranges.map { range in
                let inside = zip(losses, t).filter { (range.lowerBound...range.upperBound).contains($0.1) }.map { Double($0.0) }
                return inside.isEmpty ? nil : inside.reduce(0, +) / Double(inside.count)
            }
        }
        expectRejected(checks, "meanLossByRange", api, "ranges that include their upper bound")
        api = Chapter04Solutions.api
        api.noiseVariance = { xt, v0 in try Chapter04Solutions.api.noiseVariance(xt, 0) }
        expectRejected(checks, "noiseVariance", api, "the clean image's own roughness v₀ ignored")
        api = Chapter04Solutions.api
        api.resBlock = { b, x, emb in  // DDPM's way: the embedding added as a bias, no scale
            var h = b.norm2(b.conv1(b.norm1(x).silu()))
            if let e = b.embedding, let emb {
                let c = h.shape[1]
                h = h + e(emb.silu()).split([c, c], axis: 1)[1].reshaped([emb.shape[0], c, 1, 1])
            }
            return b.conv2(h.silu()) + (b.skip.map { $0(x) } ?? x)
        }
        expectRejected(checks, "resBlock", api, "only the shift (no (1 + s) scale)")
        api = Chapter04Solutions.api
        api.resBlock = { b, x, emb in  // the residual forgotten
            var h = b.norm2(b.conv1(b.norm1(x).silu()))
            if let e = b.embedding, let emb { h = try Chapter04Solutions.api.injectTime(h, e(emb.silu())) }
            return b.conv2(h.silu())
        }
        expectRejected(checks, "resBlock", api, "no residual connection (out = h, not h + skip(x))")
    }

    @Test("chapter 5: no max shift, no 1/√d, heads split along the wrong axis, tokens without the permute, no residual")
    func chapter05() {
        let checks = Chapter05Checks.all
        var api = Chapter05Solutions.api
        api.stableSoftmax = { x in
            let e = x.map { Foundation.exp($0) }
            let total = e.reduce(0, +)
            return e.map { $0 / total }
        }
        expectRejected(checks, "stableSoftmax", api, "softmax without subtracting the maximum (NaN on large inputs)")
        api = Chapter05Solutions.api
        api.attentionWeights = { q, k in q.matmul(k, transposeOther: true).softmax(axis: -1) }
        expectRejected(checks, "attentionWeights", api, "scores not scaled by 1/√d")
        api = Chapter05Solutions.api
        api.splitHeads = { x, heads in
            let b = x.shape[0], l = x.shape[1]
            return x.reshaped([b, l, heads, -1]).reshaped([b * heads, l, -1])  // no permute: positions and heads mixed
        }
        expectRejected(checks, "splitHeads", api, "a reshape without the permute (heads taken along the wrong axis)")
        api = Chapter05Solutions.api
        api.mergeHeads = { x, heads in
            let b = x.shape[0] / heads, l = x.shape[1]
            return x.reshaped([b, l, -1])
        }
        expectRejected(checks, "mergeHeads", api, "a reshape without the permute")
        api = Chapter05Solutions.api
        api.selfAttentionBlock = { b, h in  // tokens made by a reshape alone: [B, C, H, W] read as [B, H·W, C]
            let (n, c, height, width) = (h.shape[0], h.shape[1], h.shape[2], h.shape[3])
            let tokens = b.norm(h).reshaped([n, height * width, c])
            let o = b.attention(tokens)
            return h + o.reshaped([n, c, height, width])
        }
        expectRejected(checks, "selfAttentionBlock", api, "the feature map reshaped into tokens without the permute")
        api = Chapter05Solutions.api
        api.selfAttentionBlock = { b, h in  // no residual
            try Chapter05Solutions.api.selfAttentionBlock(b, h) - h
        }
        expectRejected(checks, "selfAttentionBlock", api, "the block's output without the residual h +")
    }

    @Test("chapter 6: case, repeated spaces and long prompts in tokenize; softmax over pixels; the paper's w; dropout draws and sense; two calls; v swapped")
    func chapter06() {
        let checks = Chapter06Checks.all
        var api = Chapter06Solutions.api
        api.tokenize = { prompt, vocabulary, length in  // case-sensitive: "Blue" is not "blue"
            let words = prompt.split(separator: " ").map(String.init)
            if words.count > length { return .tooMany(words.count) }
            if let bad = words.first(where: { vocabulary.firstIndex(of: $0) == nil || $0 == "<pad>" }) { return .unknown(bad) }
            let ids = words.map { vocabulary.firstIndex(of: $0)! }
            return .tokens(ids + [Int](repeating: 0, count: length - ids.count))
        }
        expectRejected(checks, "tokenize", api, "case-sensitive words")
        api = Chapter06Solutions.api
        api.tokenize = { prompt, vocabulary, length in  // an empty word between two spaces
            let words = prompt.lowercased().split(separator: " ", omittingEmptySubsequences: false)
            guard let bad = words.first(where: { vocabulary.firstIndex(of: String($0)) == nil || $0 == "<pad>" }) else {
                let ids = words.map { vocabulary.firstIndex(of: String($0))! }
                return .tokens(Array((ids + [Int](repeating: 0, count: Swift.max(0, length - ids.count))).prefix(Swift.max(length, ids.count))))
            }
            return .unknown(String(bad))
        }
        expectRejected(checks, "tokenize", api, "repeated spaces read as an empty word")
        api = Chapter06Solutions.api
        api.tokenize = { prompt, vocabulary, length in  // long prompts cut to length instead of refused
            let outcome = try Chapter06Solutions.api.tokenize(prompt, vocabulary, length)
            if case .tooMany = outcome {
                let words = prompt.lowercased().split(separator: " ").prefix(length)
                return .tokens(words.map { vocabulary.firstIndex(of: String($0)) ?? 0 })
            }
            return outcome
        }
        expectRejected(checks, "tokenize", api, "a prompt longer than the length silently cut")
        api = Chapter06Solutions.api
        api.crossAttention = { pixels, words, wq, wk, wv in
            let q = pixels.matmul(wq), k = words.matmul(wk), v = words.matmul(wv)
            let scores = q.matmul(k, transposeOther: true) * (1 / Float(q.shape[1]).squareRoot())
            return scores.softmax(axis: 0).matmul(v)  // normalised over the pixels
        }
        expectRejected(checks, "crossAttention", api, "the softmax taken over the pixels instead of the words")
        api = Chapter06Solutions.api
        api.guidedNoise = { c, u, w in c * (1 + w) - u * w }  // the paper's w, where ours is the paper's + 1
        expectRejected(checks, "guidedNoise", api, "the paper's (1 + w)·ε_c − w·ε_u with our w")
        api = Chapter06Solutions.api
        api.promptDropout = { color, shape, position, dropCaption, dropAttribute, rng in  // stops drawing once the caption is dropped
            if Double(rng.uniform()) < dropCaption { return [nil, nil, nil] }
            return [color, shape, position].map { Double(rng.uniform()) >= dropAttribute ? $0 : nil }
        }
        expectRejected(checks, "promptDropout", api, "fewer draws when the whole caption is dropped (the generator drifts)")
        api = Chapter06Solutions.api
        api.promptDropout = { color, shape, position, dropCaption, dropAttribute, rng in  // keep and drop swapped
            let dropAll = Double(rng.uniform()) < dropCaption
            let keep = (0..<3).map { _ in Double(rng.uniform()) < dropAttribute }
            return dropAll ? [nil, nil, nil] : zip([color, shape, position], keep).map { $1 ? $0 : nil }
        }
        expectRejected(checks, "promptDropout", api, "attributes kept with probability dropAttribute instead of dropped")
        api = Chapter06Solutions.api
        api.guidedOutput = { network, x, t, tokens, empty, w in  // two calls instead of one batched call
            let c = network(x, t, tokens), u = network(x, t, [[Int]](repeating: empty, count: x.shape[0]))
            return u + (c - u) * w
        }
        expectRejected(checks, "guidedOutput", api, "the conditional and unconditional outputs from two separate calls")
        api = Chapter06Solutions.api
        api.velocityTarget = { x0, noise, alphaBar in  // ε and x0 swapped
            try Chapter06Solutions.api.velocityTarget(noise, x0, alphaBar)
        }
        expectRejected(checks, "velocityTarget", api, "√ᾱ·x0 − √(1 − ᾱ)·ε (x0 and ε swapped)")
    }

    @Test("chapter 7: a side without the floor or the + 1; σ as exp(log σ²); a KL averaged, without its ½, a scalar, or with σ for σ²; N − 1, no mean, the std")
    func chapter07() {
        let checks = Chapter07Checks.all
        var api = Chapter07Solutions.api
        api.encoderOutputSide = { n, k, s, p in Int((Double(n + 2 * p - k) / Double(s) + 1).rounded()) }  // rounded, not floored
        expectRejected(checks, "encoderOutputSide", api, "the division rounded to nearest instead of down")
        api = Chapter07Solutions.api
        api.encoderOutputSide = { n, k, s, p in (n + 2 * p - k) / s }  // no + 1
        expectRejected(checks, "encoderOutputSide", api, "the side without its + 1")
        api = Chapter07Solutions.api
        api.reparameterize = { mean, logVariance, noise in mean + logVariance.exp() * noise }  // σ² where σ belongs
        expectRejected(checks, "reparameterize", api, "σ taken as exp(log σ²) instead of exp(½·log σ²)")
        api = Chapter07Solutions.api
        api.reparameterize = { mean, logVariance, noise in  // σ computed from .data: no gradient reaches log σ²
            mean + Tensor(logVariance.data.map { Float(Foundation.exp(0.5 * Double($0))) }, shape: logVariance.shape) * noise
        }
        expectRejected(checks, "reparameterize", api, "σ computed outside the graph (no gradient for log σ²)")
        api = Chapter07Solutions.api
        api.gaussianKL = { mean, logVariance in  // the mean over each example's numbers, not the sum
            ((mean * mean + logVariance.exp() - logVariance - 1) * 0.5).mean(axes: Array(1..<mean.rank))
        }
        expectRejected(checks, "gaussianKL", api, "the KL averaged over each example's numbers instead of summed")
        api = Chapter07Solutions.api
        api.gaussianKL = { mean, logVariance in  // no ½
            (mean * mean + logVariance.exp() - logVariance - 1).sum(axes: Array(1..<mean.rank))
        }
        expectRejected(checks, "gaussianKL", api, "the KL without its ½")
        api = Chapter07Solutions.api
        api.gaussianKL = { mean, logVariance in ((mean * mean + logVariance.exp() - logVariance - 1) * 0.5).sum() }  // one number
        expectRejected(checks, "gaussianKL", api, "one scalar for the whole batch instead of a KL per example")
        api = Chapter07Solutions.api
        api.gaussianKL = { mean, logVariance in  // σ used where σ² belongs
            ((mean * mean + (logVariance * 0.5).exp() - logVariance - 1) * 0.5).sum(axes: Array(1..<mean.rank))
        }
        expectRejected(checks, "gaussianKL", api, "σ = exp(½·log σ²) where σ² belongs")
        api = Chapter07Solutions.api
        api.latentScaleFactor = { latents in  // the sample standard deviation: divided by N − 1
            let n = Double(latents.count), mean = latents.data.reduce(0.0) { $0 + Double($1) } / n
            let sumOfSquares = latents.data.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
            return Float(1 / (sumOfSquares / (n - 1)).squareRoot())
        }
        expectRejected(checks, "latentScaleFactor", api, "the sample standard deviation (N − 1)")
        api = Chapter07Solutions.api
        api.latentScaleFactor = { latents in  // the mean never subtracted: the root mean square
            Float(1 / (latents.data.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(latents.count)).squareRoot())
        }
        expectRejected(checks, "latentScaleFactor", api, "the mean not subtracted (1 / root mean square)")
        api = Chapter07Solutions.api
        api.latentScaleFactor = { latents in 1 / (try Chapter07Solutions.api.latentScaleFactor(latents)) }  // std, not 1/std
        expectRejected(checks, "latentScaleFactor", api, "the standard deviation itself instead of 1/std")
    }

    @Test("chapter 8: λ without its ½ or its 1 − ᾱ; a grid uniform in t, with repeats, or the larger t of a tie; a step always first order, with r inverted, e^h, or no landing on x̂₀; a target of z₂ or with σ/σ₂")
    func chapter08() {
        let checks = Chapter08Checks.all
        var api = Chapter08Solutions.api
        api.halfLogSNR = { a in Foundation.log(a / (1 - a)) }  // the full log-SNR: no ½
        expectRejected(checks, "halfLogSNR", api, "log(ᾱ/(1 − ᾱ)) without the ½")
        api = Chapter08Solutions.api
        api.halfLogSNR = { a in 0.5 * Foundation.log(a) }  // the noise's 1 − ᾱ forgotten
        expectRejected(checks, "halfLogSNR", api, "½·log ᾱ alone")
        api = Chapter08Solutions.api
        api.logSNRTimesteps = { count, alphaBar in  // chapter 2's trailing grid: uniform in t
            let T = Double(alphaBar.count)
            return (0..<count).map { i in Int((T - Double(i) * T / Double(count)).rounded()) - 1 }
        }
        expectRejected(checks, "logSNRTimesteps", api, "the trailing grid, uniform in t instead of in λ")
        api = Chapter08Solutions.api
        api.logSNRTimesteps = { count, alphaBar in  // nearest steps, never pushed below the previous one: repeats
            let T = alphaBar.count
            let lambda = alphaBar.map { 0.5 * Foundation.log(Double($0) / (1 - Double($0))) }
            return (0..<count).map { i in
                let target = lambda[T - 1] + Double(i) * (lambda[0] - lambda[T - 1]) / Double(count)
                return (0..<T).min { Swift.abs(lambda[$0] - target) < Swift.abs(lambda[$1] - target) }!
            }
        }
        expectRejected(checks, "logSNRTimesteps", api, "a grid not kept strictly decreasing (repeated steps)")
        api = Chapter08Solutions.api
        api.logSNRTimesteps = { count, alphaBar in  // the larger t on a tie (the scan keeps the last minimum)
            let T = alphaBar.count
            let lambda = alphaBar.map { 0.5 * Foundation.log(Double($0) / (1 - Double($0))) }
            var grid: [Int] = []
            for i in 0..<count {
                let target = lambda[T - 1] + Double(i) * (lambda[0] - lambda[T - 1]) / Double(count)
                var best = 0
                for t in 0..<T where Swift.abs(lambda[t] - target) <= Swift.abs(lambda[best] - target) { best = t }
                grid.append(grid.last.map { Swift.min(best, $0 - 1) } ?? best)
            }
            return grid
        }
        expectRejected(checks, "logSNRTimesteps", api, "the larger t on an exact tie")
        api = Chapter08Solutions.api
        api.logSNRTimesteps = { count, alphaBar in  // kept below the step before, but with no room left: below 0 from 53 steps
            let T = alphaBar.count
            let lambda = alphaBar.map { 0.5 * Foundation.log(Double($0) / (1 - Double($0))) }
            var grid: [Int] = []
            for i in 0..<count {
                let target = lambda[T - 1] + Double(i) * (lambda[0] - lambda[T - 1]) / Double(count)
                let nearest = (0..<T).min { Swift.abs(lambda[$0] - target) < Swift.abs(lambda[$1] - target) }!
                grid.append(grid.last.map { Swift.min(nearest, $0 - 1) } ?? nearest)
            }
            return grid
        }
        expectRejected(checks, "logSNRTimesteps", api, "a grid that runs below t = 0 with many steps")
        api = Chapter08Solutions.api
        api.dpmSolverStep = { x, x0, _, from, to in  // `previous` ignored: always first order (DDIM)
            try Chapter08Solutions.api.dpmSolverStep(x, x0, nil, from, to)
        }
        expectRejected(checks, "dpmSolverStep", api, "the previous x̂₀ ignored (always first order)")
        api = Chapter08Solutions.api
        api.dpmSolverStep = { x, x0, previous, from, to in  // r = h/h_prev, the inverse ratio
            guard to.sigma > 0 else { return x0 }
            let lambdaFrom = Foundation.log(from.alpha / from.sigma), h = Foundation.log(to.alpha / to.sigma) - lambdaFrom
            var d = x0
            if let previous {
                let r = h / (lambdaFrom - Foundation.log(previous.alpha / previous.sigma))
                d = x0 * Float(1 + 1 / (2 * r)) - previous.x0 * Float(1 / (2 * r))
            }
            return x * Float(to.sigma / from.sigma) - d * Float(to.alpha * (Foundation.exp(-h) - 1))
        }
        expectRejected(checks, "dpmSolverStep", api, "r inverted (h/h_prev instead of h_prev/h)")
        api = Chapter08Solutions.api
        api.dpmSolverStep = { x, x0, previous, from, to in  // e^h − 1 where e^(−h) − 1 belongs
            guard to.sigma > 0 else { return x0 }
            let lambdaFrom = Foundation.log(from.alpha / from.sigma), h = Foundation.log(to.alpha / to.sigma) - lambdaFrom
            var d = x0
            if let previous {
                let r = (lambdaFrom - Foundation.log(previous.alpha / previous.sigma)) / h
                d = x0 * Float(1 + 1 / (2 * r)) - previous.x0 * Float(1 / (2 * r))
            }
            return x * Float(to.sigma / from.sigma) - d * Float(to.alpha * (Foundation.exp(h) - 1))
        }
        expectRejected(checks, "dpmSolverStep", api, "e^h − 1 instead of e^(−h) − 1")
        api = Chapter08Solutions.api
        api.dpmSolverStep = { x, x0, previous, from, to in  // no special last step: λ_to = ∞ gives NaN with a previous step
            let lambdaFrom = Foundation.log(from.alpha / from.sigma), h = Foundation.log(to.alpha / to.sigma) - lambdaFrom
            var d = x0
            if let previous {
                let r = (lambdaFrom - Foundation.log(previous.alpha / previous.sigma)) / h
                d = x0 * Float(1 + 1 / (2 * r)) - previous.x0 * Float(1 / (2 * r))
            }
            return x * Float(to.sigma / from.sigma) - d * Float(to.alpha * (Foundation.exp(-h) - 1))
        }
        expectRejected(checks, "dpmSolverStep", api, "the last step (σ = 0) not returning x̂₀")
        api = Chapter08Solutions.api
        api.distillationTarget = { _, z2, _, _, _, _ in z2 }  // the teacher's landing point itself
        expectRejected(checks, "distillationTarget", api, "z₂ itself as the target")
        api = Chapter08Solutions.api
        api.distillationTarget = { z, z2, alpha, sigma, alpha2, sigma2 in  // σ/σ₂ where σ₂/σ belongs
            let ratio = sigma / sigma2
            return (z2 - ratio * z) / (alpha2 - ratio * alpha)
        }
        expectRejected(checks, "distillationTarget", api, "the ratio σ/σ₂ instead of σ₂/σ")
    }
}
