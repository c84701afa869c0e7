// Chapter 2 — A noise-prediction MLP for 2-D points: the network of chapter 2.
//
// Original paper:
//   Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models": ε_θ(x_t, t), trained by
//   Algorithm 1 (`DDPM`, `DDPMTrainer`). DDPM's network is a UNet told t through a sinusoidal
//   embedding; for points in the plane an MLP is enough, and t enters as one plain number t/T
//   (chapter 4 introduces the embedding).

import NN
import Tensor

/// ε_θ(x_t, t) for 2-D points: an MLP on [x, y, t/T] with SiLU between layers.
/// ```
/// [B, 3] -> Linear(3, w) -> SiLU -> (Linear(w, w) -> SiLU) × (depth − 1) -> Linear(w, 2) -> [B, 2]
/// ```
/// t enters only as one plain number, t/T in [0, 1): the network must learn for itself how the
/// answer changes with the noise level. With w = 128 and depth 4 (chapter 2's default): 50,306 parameters, about 2.25 ms
/// per training step at batch 256 on two cores.
public struct NoiseMLP: Module {
    public let net: Sequential
    /// T, the number of diffusion steps t is scaled by.
    public let steps: Int

    public init(width: Int, depth: Int, steps: Int, using rng: inout RandomGenerator) {
        guard width > 0, depth > 0 else { fatalError("NoiseMLP: width \(width) and depth \(depth) must be positive") }
        var layers: [any Layer] = [Linear(3, width, using: &rng), SiLU()]
        for _ in 1..<depth { layers += [Linear(width, width, using: &rng), SiLU()] }
        layers.append(Linear(width, 2, using: &rng))
        net = Sequential(layers)
        self.steps = steps
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { scoped("net", net) }

    /// The predicted noise for points `x` `[B, 2]` at steps `t` (B of them).
    public func callAsFunction(_ x: Tensor, _ t: [Int]) -> Tensor {
        guard x.rank == 2, x.shape[1] == 2, x.shape[0] == t.count else {
            fatalError("NoiseMLP: expected points [B, 2] and B time steps, got \(x.shape) and \(t.count) steps")
        }
        let time = scaledTime(t, steps: steps)                                      // t/T, [B, 1]
        return net(Tensor.concat([x, time], axis: 1))                               // [B, 2] ++ [B, 1] -> [B, 3] -> [B, 2]
    }

    public var predictor: NoisePredictor { { x, t in self(x, t) } }
}
