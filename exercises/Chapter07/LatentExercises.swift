// Chapter 7 exercises: the encoder's side lengths, the reparameterised draw from q(z|x), the KL
// term that keeps the latents near N(0, I), and the scale that gives them unit variance for diffusion.
// Replace each `throw NotAttempted()` with your code, then check with
//   swift test --filter Chapter07
// The library's versions are in Sources/Diffusion/Autoencoder.swift — try first.

import ExerciseSupport
import NN
import Tensor

/// Exercise 7.1 — a convolution's output side (warm-up).
///
/// A convolution with a k×k kernel, stride s and p zeros of padding on every side turns an n×n
/// input into an output of side
/// ```
/// n_out = ⌊(n + 2p − k)/s⌋ + 1
/// ```
/// Walk the chapter's encoder with it (64×64×3 images to 8×8×4 latents, f = 8):
/// ```
/// 64   pixel unshuffle by 4: each 4×4 patch becomes one pixel of 48 channels,
///      the same side as a 4×4 kernel of stride 4:   ⌊(64 + 0 − 4)/4⌋ + 1 = 16
/// 16   conv 3×3, stride 1, padding 1:                ⌊(16 + 2 − 3)/1⌋ + 1 = 16   (a "same" conv)
/// 16   conv 3×3, stride 2, padding 1:                ⌊(16 + 2 − 3)/2⌋ + 1 = 8
/// 8    the latent's side
/// ```
/// Hint: Swift's `/` on two positive `Int`s already rounds down; add the 1 after dividing.
public func encoderOutputSide(input: Int, kernel: Int, stride: Int, padding: Int) throws -> Int {
    throw NotAttempted()
}

/// Exercise 7.2 — the reparameterisation trick (build: `07-latent --mine` draws every latent with yours).
///
/// The encoder gives, for each latent number, a mean μ and a log-variance log σ² (a diagonal
/// Gaussian q(z|x)). Draw z from it with the given standard normal `noise` ε, all three the same shape:
/// ```
/// σ = exp(½·log σ²)
/// z = μ + σ·ε                         Kingma & Welling 2014, §2.4
/// ```
/// The draw is a plain function of μ and log σ², so the gradient flows through it into the encoder:
/// ∂z/∂μ = 1, ∂z/∂log σ² = ½·σ·ε. Keep it differentiable in `mean` and `logVariance` (Tensor ops).
/// Hint: `(logVariance * 0.5).exp()` is σ; `logVariance.exp()` would be σ², the variance.
public func reparameterize(mean: Tensor, logVariance: Tensor, noise: Tensor) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 7.3 — the KL term (build: `07-latent --mine` trains the autoencoder with yours).
///
/// How far q(z|x) = N(μ, diag σ²) is from the prior N(0, I), in nats, for each example of the
/// batch: `mean` and `logVariance` are `[B, …]` (the chapter's are `[B, 4, 8, 8]`); sum over every
/// axis but the first (Kingma & Welling 2014, appendix B):
/// ```
/// KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²)      one number per example: shape [B]
/// ```
/// Each term is 0 exactly when μ = 0 and σ² = 1. Keep it differentiable: ∂KL/∂μ = μ and
/// ∂KL/∂log σ² = ½(σ² − 1).
/// Hint: σ² is `logVariance.exp()`; `.sum(axes: Array(1..<mean.rank))` sums all but the batch axis.
public func gaussianKL(mean: Tensor, logVariance: Tensor) throws -> Tensor {
    throw NotAttempted()
}

/// Exercise 7.4 — the latent scale factor (build: `07-latent --mine` scales the diffusion model's latents with yours).
///
/// The diffusion model learns on s·z, with s chosen so that its numbers have variance 1, like the
/// noise they are mixed with. Over all N numbers of `latents` (the training set's latents, every
/// axis alike), with their mean z̄:
/// ```
/// std = √( (1/N) Σ (z − z̄)² )          the population standard deviation (divide by N, not N − 1)
/// s   = 1 / std
/// ```
/// Stable Diffusion's 0.18215 is this s, measured on its own autoencoder's latents.
/// Hint: `latents.data` is every number; sum in `Double` so thousands of terms keep their precision.
public func latentScaleFactor(_ latents: Tensor) throws -> Float {
    throw NotAttempted()
}
