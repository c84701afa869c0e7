// Chapter 7: diffusion in the autoencoder's latent space (Rombach et al. 2022, §3.2), and three
// things users of Stable Diffusion do with such a model: image-to-image, negative prompts and
// interpolation. The autoencoder itself is Autoencoder.swift.
//
// Training is chapter 6's, on z·s instead of x: z drawn from q(z|x) for a training image, s the latent
// scale factor (`Autoencoder.scaleFactor`). Sampling is chapter 6's too, and ends with one decoder call:
// ```
// z_T ~ N(0, I)  →  the reverse process with guidance  →  ẑ₀  →  x̂ = D(ẑ₀ / s)
// ```
import Foundation
import NN
import Tensor

/// A trained latent diffusion model: the autoencoder, the text-to-image network that works on its
/// scaled latents, and the scale factor s between them.
public struct LatentDiffusion {
    public let autoencoder: Autoencoder
    public let model: TextToImage
    public let scale: Float

    public init(autoencoder: Autoencoder, model: TextToImage, scale: Float) {
        guard model.unet.head.weight.shape[0] == Autoencoder.latentChannels else {
            fatalError("LatentDiffusion: the network must work on \(Autoencoder.latentChannels)-channel latents")
        }
        self.autoencoder = autoencoder
        self.model = model
        self.scale = scale
    }

    /// Images `[B, 3, 64, 64]` -> scaled latents s·μ `[B, 4, 8, 8]` (the mean of q(z|x); no gradients).
    public func encode(_ images: Tensor) -> Tensor { withoutGradients { autoencoder.encode(images).mean * scale } }

    /// Scaled latents `[B, 4, h, w]` -> images D(z/s) `[B, 3, 8h, 8w]` (no gradients).
    public func decode(_ latents: Tensor) -> Tensor { withoutGradients { autoencoder.decode(latents / scale) } }
}

/// Image-to-image (SDEdit, Meng et al. 2022, §3): start the reverse process not from pure noise but from
/// a given latent z₀ noised to step t₀ = ⌊strength·T⌋ − 1,
/// ```
/// z_t₀ = √ᾱ_t₀·z₀ + √(1 − ᾱ_t₀)·ε       (DDPM eq. 4)
/// ```
/// and run `sampler`'s steps from t₀ down under `predictor`. strength 0 returns z₀; strength 1 is
/// ordinary sampling from (almost) pure noise. Noise from `rng` (ε, then the sampler's z). No gradients.
public func imageToImage(_ predictor: NoisePredictor, latents z0: Tensor, strength: Double, sampler: Sampler,
                         schedule: NoiseSchedule, using rng: inout RandomGenerator) -> Tensor {
    guard (0...1).contains(strength) else { fatalError("imageToImage: strength must lie in 0...1, got \(strength)") }
    let t0 = Int(strength * Double(schedule.steps)) - 1
    if t0 < 0 { return z0 }
    let taus = sampler.timesteps(schedule: schedule).filter { $0 <= t0 }
    let alphaBar = schedule.alphaBar[t0]
    return withoutGradients {
        var z = z0 * alphaBar.squareRoot() + Tensor.randn(z0.shape, using: &rng) * (1 - alphaBar).squareRoot()
        // The sampler's grid may not contain t₀: the first step goes from t₀ to the grid's next step.
        let steps = (taus.first == t0 ? [] : [t0]) + taus
        for (i, t) in steps.enumerated() {
            let previous = i + 1 < steps.count ? steps[i + 1] : -1
            let epsilon = predictor(z, [Int](repeating: t, count: z.shape[0]))
            let noise = sampler.drawsNoise && previous >= 0 ? Tensor.randn(z.shape, using: &rng) : nil
            z = sampler.step(z, epsilon: epsilon, t: t, previous: previous, z: noise, schedule: schedule)
        }
        return z
    }
}

extension TextToImage {
    /// Guidance with a negative prompt: the prediction for the empty prompt is replaced by the one for
    /// `negative[k]`, so w > 1 pushes each sample away from what the negative prompt asks for,
    /// ```
    /// ε̃ = ε(x_t, t, c_neg) + w·(ε(x_t, t, c) − ε(x_t, t, c_neg))
    /// ```
    /// (the same as `guided(tokens:scale:)` when every negative prompt is empty). One network call on
    /// the doubled batch; with v-prediction the combination is taken on v̂, then turned into ε̂.
    public func guided(tokens: [[Int]], negative: [[Int]], scale w: Float) -> NoisePredictor {
        guard negative.count == tokens.count else { fatalError("guided: \(negative.count) negative prompts for \(tokens.count) prompts") }
        return { x, t in
            let b = x.shape[0]
            let both = self(Tensor.concat([x, x], axis: 0), t + t, tokens: tokens + negative)     // [2B, …]
            let parts = both.split([b, b], axis: 0)
            let output = classifierFreeGuidance(conditional: parts[0], unconditional: parts[1], scale: w)
            switch self.prediction {
            case .epsilon: return output
            case .velocity: return DDPM.epsilon(fromVelocity: output, xt: x, t: t, schedule: self.schedule)
            }
        }
    }
}

/// Spherical interpolation between two tensors of Gaussian noise (Shoemake 1985; used on diffusion
/// noise by Song et al. 2021, DDIM §5.3): a straight line between two draws of N(0, I) passes through
/// tensors of too small a norm (the midpoint of two independent draws has norm ≈ 0.71 of theirs),
/// which the model never saw as x_T; the arc keeps the norm.
/// ```
/// slerp(a, b; λ) = sin((1 − λ)θ)/sin θ · a + sin(λθ)/sin θ · b,   cos θ = ⟨a, b⟩ / (‖a‖·‖b‖)
/// ```
public func slerp(_ a: Tensor, _ b: Tensor, _ lambda: Float) -> Tensor {
    guard a.shape == b.shape else { fatalError("slerp: shapes \(a.shape) and \(b.shape) differ") }
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a.data, b.data) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
    let theta = acos(max(-1, min(1, dot / (na * nb).squareRoot())))
    if theta < 1e-6 { return a * (1 - lambda) + b * lambda }
    let wa = Float(sin((1 - Double(lambda)) * theta) / sin(theta)), wb = Float(sin(Double(lambda) * theta) / sin(theta))
    return a * wa + b * wb
}
