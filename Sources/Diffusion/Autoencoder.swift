// Chapter 7: the autoencoder of latent diffusion (Rombach et al. 2022, "High-Resolution Image
// Synthesis with Latent Diffusion Models", §3.1 and appendix G). A convolutional encoder squeezes an
// image into a small latent, a decoder turns a latent back into an image, and the diffusion model of
// chapter 6 is trained on the latents instead of the pixels.
//
// Stable Diffusion's autoencoder downsamples by f = 8 and keeps c = 4 channels: a 512×512×3 image
// (786,432 numbers) becomes a 64×64×4 latent (16,384), 48 times fewer. Ours has the same f and c on
// 64×64×3 images: 12,288 numbers become an 8×8×4 latent of 256, also 48 times fewer.
//
// The latent is KL-regularised (the paper's "KL-reg", §3.1): the encoder gives, per latent number, a
// mean μ and a log-variance log σ² — a diagonal Gaussian q(z|x) — a latent is drawn from it by the
// reparameterisation trick (Kingma & Welling 2014, §2.4), and the loss adds a small multiple β of
// the KL divergence from q(z|x) to N(0, I):
// ```
// z = μ + σ·ε,  ε ~ N(0, I)                                          (reparameterisation)
// KL(q ‖ N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²)                         (Kingma & Welling, appendix B)
// L = (‖x − D(z)‖² + β·KL) / 12,288                                    (per image, then the batch mean)
// ```
// Without the KL term an autoencoder is free to spread its codes anywhere and make them as spiky as
// it likes: the reconstructions can be perfect while the set of latents is a thin, irregular shape
// that a diffusion model has to learn to hit exactly. The KL term pulls every code towards a unit
// Gaussian and makes it noisy (σ > 0), so nearby latents decode to similar images and the latents
// of the data fill a smooth region: a distribution diffusion can learn. β trades that smoothness
// against the sharpness of the reconstructions (chapter 7's --ablate measures it).
//
// The diffusion model then works on latents scaled to unit variance: z·s with s = 1/std(z) over the
// training latents. Stable Diffusion's 0.18215 is that s, measured on its own autoencoder's latents
// (Rombach et al. 2022, §4.3.2 and appendix G, where the latents of the KL-regularised autoencoder are rescaled by an estimate of their standard deviation before diffusion).
import NN
import Tensor

/// A diagonal Gaussian over latents: q(z|x) = N(μ, diag σ²), stored as μ and log σ², each
/// `[B, C, H, W]`.
public struct DiagonalGaussian {
    public let mean: Tensor
    public let logVariance: Tensor

    public init(mean: Tensor, logVariance: Tensor) {
        guard mean.shape == logVariance.shape else {
            fatalError("DiagonalGaussian: mean \(mean.shape) and log-variance \(logVariance.shape) differ in shape")
        }
        self.mean = mean
        self.logVariance = logVariance
    }

    /// σ = exp(½·log σ²).
    public var standardDeviation: Tensor { (logVariance * 0.5).exp() }

    /// z = μ + σ·ε for the given standard normal noise ε: differentiable in μ and log σ² (the
    /// reparameterisation trick), so the encoder learns through the draw.
    public func sample(noise: Tensor) -> Tensor {
        guard noise.shape == mean.shape else { fatalError("DiagonalGaussian.sample: noise \(noise.shape) for a latent of \(mean.shape)") }
        if let replacement = DiagonalGaussian.sampleReplacement { return replacement(mean, logVariance, noise) }
        return mean + standardDeviation * noise
    }

    /// Replacements for `sample(noise:)` and `klDivergence`, set once at the start of a run: chapter 7's
    /// `--mine` puts the learner's here. Nil (the library's) otherwise.
    nonisolated(unsafe) public static var sampleReplacement: ((_ mean: Tensor, _ logVariance: Tensor, _ noise: Tensor) -> Tensor)?
    nonisolated(unsafe) public static var klReplacement: ((_ mean: Tensor, _ logVariance: Tensor) -> Tensor)?

    /// A draw z = μ + σ·ε with ε from `rng`.
    public func sample(using rng: inout RandomGenerator) -> Tensor { sample(noise: Tensor.randn(mean.shape, using: &rng)) }

    /// KL(q ‖ N(0, I)) per example, summed over the latent's numbers: ½ Σ (μ² + σ² − 1 − log σ²), `[B]`.
    public var klDivergence: Tensor {
        if let replacement = DiagonalGaussian.klReplacement { return replacement(mean, logVariance) }
        let perNumber = (mean * mean + logVariance.exp() - logVariance - 1) * 0.5   // [B, C, H, W]
        return perNumber.sum(axes: [1, 2, 3])                                         // [B]
    }
}

/// The encoder and decoder of a KL-regularised autoencoder for 64×64×3 images and 8×8×4 latents
/// (f = 8, c = 4). With widths w₁ (16×16) and w₂ (8×8):
/// ```
/// encoder  x [B, 3, 64, 64]
///          pixel unshuffle ×4         [B, 48, 16, 16]     each 4×4×3 patch becomes one pixel of 48 channels
///          conv 3×3                   [B, w₁, 16, 16]
///          ResBlock                   [B, w₁, 16, 16]
///          conv 3×3 stride 2          [B, w₂, 8, 8]
///          ResBlock                   [B, w₂, 8, 8]
///          GN → SiLU → conv 3×3       [B, 2·4, 8, 8] = μ, log σ²
/// decoder  z [B, 4, 8, 8]
///          conv 3×3                   [B, w₂, 8, 8]
///          ResBlock                   [B, w₂, 8, 8]
///          upsample ×2 → conv 3×3     [B, w₁, 16, 16]
///          ResBlock                   [B, w₁, 16, 16]
///          GN → SiLU → conv 3×3       [B, 48, 16, 16]
///          pixel shuffle ×4           [B, 3, 64, 64] = x̂
/// ```
/// The first factor 4 of the downsampling is a rearrangement, not a computation: the pixel unshuffle
/// (space-to-depth) moves each 4×4 patch's 48 numbers into the channels, losing nothing, and the
/// decoder's last convolution predicts all 48 numbers of each patch and shuffles them back (the
/// "sub-pixel convolution" of Shi et al. 2016). So no convolution runs at 64×64 or 32×32, where a
/// few channels would cost much and see little; every layer works at 16×16 or 8×8 with wide
/// channels. The ResBlocks are chapter 4's, with no time to hear. Stable Diffusion's autoencoder has
/// the same plan with more of everything (convolutions at every level, widths 128–512, two
/// ResBlocks a level, attention at the lowest).
public struct Autoencoder: Module {
    /// Latent channels (4), the downsampling factor (8) and the patch side the pixel unshuffle takes (4).
    public static let latentChannels = 4, factor = 8, patch = 4
    public let widths: [Int]
    public let encoderIn: Conv2d, encoderBlock1: ResBlock, encoderDown: Conv2d, encoderBlock2: ResBlock
    public let encoderNorm: GroupNorm, encoderOut: Conv2d
    public let decoderIn: Conv2d, decoderBlock2: ResBlock, decoderUp: Conv2d, decoderBlock1: ResBlock
    public let decoderNorm: GroupNorm, decoderOut: Conv2d

    /// `widths`: the channels at 16×16 and at 8×8, each a multiple of 8 (GroupNorm(8)).
    public init(widths: [Int] = [32, 64], using rng: inout RandomGenerator) {
        guard widths.count == 2, widths.allSatisfy({ $0 > 0 && $0 % 8 == 0 }) else {
            fatalError("Autoencoder: widths must be two positive multiples of 8, got \(widths)")
        }
        self.widths = widths
        let (w1, w2) = (widths[0], widths[1]), c = Autoencoder.latentChannels
        let patchChannels = 3 * Autoencoder.patch * Autoencoder.patch   // 48
        encoderIn = Conv2d(patchChannels, w1, kernelSize: 3, padding: 1, using: &rng)
        encoderBlock1 = ResBlock(w1, w1, embeddingDim: nil, using: &rng)
        encoderDown = Conv2d(w1, w2, kernelSize: 3, stride: 2, padding: 1, using: &rng)
        encoderBlock2 = ResBlock(w2, w2, embeddingDim: nil, using: &rng)
        encoderNorm = GroupNorm(groups: 8, channels: w2)
        encoderOut = Conv2d(w2, 2 * c, kernelSize: 3, padding: 1, using: &rng)
        decoderIn = Conv2d(c, w2, kernelSize: 3, padding: 1, using: &rng)
        decoderBlock2 = ResBlock(w2, w2, embeddingDim: nil, using: &rng)
        decoderUp = Conv2d(w2, w1, kernelSize: 3, padding: 1, using: &rng)
        decoderBlock1 = ResBlock(w1, w1, embeddingDim: nil, using: &rng)
        decoderNorm = GroupNorm(groups: 8, channels: w1)
        decoderOut = Conv2d(w1, patchChannels, kernelSize: 3, padding: 1, using: &rng)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var all = scoped("encoder.conv_in", encoderIn) + scoped("encoder.block1", encoderBlock1)
        all += scoped("encoder.down", encoderDown) + scoped("encoder.block2", encoderBlock2)
        all += scoped("encoder.norm_out", encoderNorm) + scoped("encoder.conv_out", encoderOut)
        all += scoped("decoder.conv_in", decoderIn) + scoped("decoder.block2", decoderBlock2)
        all += scoped("decoder.up", decoderUp) + scoped("decoder.block1", decoderBlock1)
        return all + scoped("decoder.norm_out", decoderNorm) + scoped("decoder.conv_out", decoderOut)
    }

    /// The encoder's parameters alone (its share of `parameterCount`).
    public var encoderParameterCount: Int {
        namedParameters.filter { $0.name.hasPrefix("encoder.") }.reduce(0) { $0 + $1.tensor.count }
    }

    /// q(z|x) for images `[B, 3, H, W]` in −1…1, H and W multiples of 8: a Gaussian over latents `[B, 4, H/8, W/8]`.
    public func encode(_ x: Tensor) -> DiagonalGaussian {
        guard x.rank == 4, x.shape[1] == 3, x.shape[2] % Autoencoder.factor == 0, x.shape[3] % Autoencoder.factor == 0 else {
            fatalError("Autoencoder.encode: expected images [B, 3, H, W] with H, W multiples of 8, got \(x.shape)")
        }
        var h = encoderIn(x.pixelUnshuffled(Autoencoder.patch))              // [B, 3, 64, 64] -> [B, 48, 16, 16] -> [B, w1, 16, 16]
        h = encoderBlock1.forward(h, nil)                                    // [B, w1, 16, 16]
        h = encoderBlock2.forward(encoderDown(h), nil)                       // -> [B, w2, 8, 8]
        let moments = encoderOut(encoderNorm(h).silu())                      // -> [B, 8, 8, 8]
        let c = Autoencoder.latentChannels
        let parts = moments.split([c, c], axis: 1)                           // μ, log σ²: [B, 4, 8, 8] each
        return DiagonalGaussian(mean: parts[0], logVariance: parts[1])
    }

    /// x̂ = D(z) for latents `[B, 4, h, w]`: images `[B, 3, 8h, 8w]` (not clamped to −1…1).
    public func decode(_ z: Tensor) -> Tensor {
        guard z.rank == 4, z.shape[1] == Autoencoder.latentChannels else {
            fatalError("Autoencoder.decode: expected latents [B, \(Autoencoder.latentChannels), h, w], got \(z.shape)")
        }
        var h = decoderBlock2.forward(decoderIn(z), nil)                     // [B, 4, 8, 8] -> [B, w2, 8, 8]
        h = decoderBlock1.forward(decoderUp(h.upsampleNearest2x()), nil)     // -> [B, w1, 16, 16]
        return decoderOut(decoderNorm(h).silu()).pixelShuffled(Autoencoder.patch)  // -> [B, 48, 16, 16] -> [B, 3, 64, 64]
    }

    /// The training loss of one batch and its two parts: per image (‖x − D(z)‖² + β·KL(q(z|x) ‖ N(0, I))),
    /// averaged over the batch and divided by an image's 12,288 numbers; z drawn from q with `noise`.
    /// Returns the loss, the mean squared error per number and the mean KL per image (in nats).
    public func loss(_ x: Tensor, beta: Float, noise: Tensor) -> (total: Tensor, reconstruction: Float, kl: Float) {
        let q = encode(x)
        let xHat = decode(q.sample(noise: noise))
        let numbers = Float(x.count / x.shape[0])
        let diff = xHat - x
        let squaredError = (diff * diff).sum() / Float(x.shape[0])          // mean over the batch of ‖x − x̂‖²
        let kl = q.klDivergence.mean()                                        // mean over the batch of KL
        return ((squaredError + kl * beta) / numbers, squaredError.item / numbers, kl.item)
    }

    /// The latent scale factor s = 1/std(z) over every number of `latents` (the training set's latents,
    /// drawn from q(z|x)): the diffusion model is trained on s·z, whose variance is 1 like its noise's.
    /// Chapter 7's `--mine` replaces it with the learner's (`scaleReplacement`).
    public static func scaleFactor(_ latents: Tensor) -> Float {
        if let replacement = scaleReplacement { return replacement(latents) }
        let n = Double(latents.count)
        let mean = latents.data.reduce(0.0) { $0 + Double($1) } / n
        let variance = latents.data.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return Float(1 / variance.squareRoot())
    }

    nonisolated(unsafe) public static var scaleReplacement: ((Tensor) -> Float)?

    /// Trains the autoencoder: for each step a batch x from `batch`, ε ~ N(0, I) for the draw of z,
    /// the loss above, then chapter 3's optimisation (Adam with warm-up and cosine decay, gradients
    /// clipped, `options.emaDecay` 0 for no EMA). Returns every step's loss; throws `TrainingDiverged`
    /// at the first non-finite one. `progress(step, loss)` after every step.
    public func train(options: TrainingOptions, beta: Float, seed: UInt64, batch: (inout RandomGenerator) -> Tensor,
                      progress: ((Int, Float) -> Void)? = nil) throws -> [Float] {
        try DDPMTrainer.loop(self, options: options, seed: seed, progress: progress) { parameters, optimizer, ema, rng in
            let x = batch(&rng)                                                               // [B, 3, 64, 64]
            let noise = Tensor.randn(Autoencoder.latentShape(count: x.shape[0], side: x.shape[2], width: x.shape[3]), using: &rng)  // [B, 4, 8, 8]
            let loss = self.loss(x, beta: beta, noise: noise).total
            return DDPMTrainer.update(loss, parameters: parameters, optimizer: optimizer, ema: ema, clipNorm: options.clipNorm)
        }
    }

    /// The shape of the latents of `count` images of `height` × `width` (`width` defaults to `height`):
    /// `[count, 4, height/8, width/8]`.
    public static func latentShape(count: Int, side height: Int, width: Int? = nil) -> [Int] {
        [count, latentChannels, height / factor, (width ?? height) / factor]
    }
}

extension Tensor {
    /// Space-to-depth: `[B, C, H, W]` -> `[B, C·r·r, H/r, W/r]`, output channel c·r² + i·r + j holding
    /// input pixel (r·y + i, r·x + j) of channel c (PyTorch's `pixel_unshuffle`). A reshape and a
    /// permutation, so its gradient is the inverse rearrangement.
    public func pixelUnshuffled(_ r: Int) -> Tensor {
        guard rank == 4, shape[2] % r == 0, shape[3] % r == 0 else {
            fatalError("pixelUnshuffled(\(r)): expected [B, C, H, W] with H, W multiples of \(r), got \(shape)")
        }
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        return reshaped([b, c, h / r, r, w / r, r])                          // [B, C, H/r, i, W/r, j]
            .permuted([0, 1, 3, 5, 2, 4])                                     // [B, C, i, j, H/r, W/r]
            .reshaped([b, c * r * r, h / r, w / r])
    }

    /// Depth-to-space, the inverse of `pixelUnshuffled`: `[B, C·r·r, H, W]` -> `[B, C, H·r, W·r]`.
    public func pixelShuffled(_ r: Int) -> Tensor {
        guard rank == 4, shape[1] % (r * r) == 0 else {
            fatalError("pixelShuffled(\(r)): expected [B, C·\(r * r), H, W], got \(shape)")
        }
        let (b, c, h, w) = (shape[0], shape[1] / (r * r), shape[2], shape[3])
        return reshaped([b, c, r, r, h, w])                                   // [B, C, i, j, H, W]
            .permuted([0, 1, 4, 2, 5, 3])                                     // [B, C, H, i, W, j]
            .reshaped([b, c, h * r, w * r])
    }
}
