// Chapter 3 — A minimal UNet with skip connections: the lesson file of chapter 3.
//
// Original papers:
//   Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional Networks for Biomedical Image
//   Segmentation": the contracting path, the expanding path and the skip connections that
//   concatenate the contracting path's features into the expanding path (§2, Fig. 1).
//   Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models", Appendix B: a UNet
//   (PixelCNN++ backbone) with group normalisation predicts the noise ε in x_t.
//
// Deviations, all for size and speed on a CPU:
//   - Two resolutions below the input (16 → 8 → 4), one block of two 3×3 convolutions per level,
//     no residual connections and no attention (DDPM has both; chapter 5 adds them).
//   - Padded convolutions, so the output has the input's size (Ronneberger et al. crop instead).
//   - Downsampling by 2×2 average pooling, upsampling by nearest neighbour (no transposed conv).
//   - Concatenation of skips as in Ronneberger et al.; DDPM's UNet concatenates too.
//   - **The network is not told t.** Chapter 4 adds the time embedding; here the UNet must guess
//     the noise level from x_t itself, which it can do fairly well on these images.

import NN
import Tensor

/// conv 3×3 → GroupNorm → SiLU, twice: `[B, in, H, W] -> [B, out, H, W]`.
public struct ConvBlock: Layer {
    public let conv1: Conv2d, norm1: GroupNorm
    public let conv2: Conv2d, norm2: GroupNorm

    public init(_ inChannels: Int, _ outChannels: Int, groups: Int, using rng: inout RandomGenerator) {
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, using: &rng)
        norm1 = GroupNorm(groups: groups, channels: outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, using: &rng)
        norm2 = GroupNorm(groups: groups, channels: outChannels)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        scoped("conv1", conv1) + scoped("norm1", norm1) + scoped("conv2", conv2) + scoped("norm2", norm2)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = norm1(conv1(x)).silu()  // [B, in, H, W] -> [B, out, H, W]
        return norm2(conv2(h)).silu()   // [B, out, H, W] -> [B, out, H, W]
    }
}

/// A minimal UNet: an hourglass of convolutions that predicts the noise ε in a noisy image x_t.
///
/// With base width c (32 by default) and a 16×16 input:
/// ```
///  x_t [B, 3, 16, 16] ── stem 3×3 ──> [B, c, 16, 16]
///  down1  ConvBlock(c → c)     [B, c, 16, 16] ──────────── skip s1 ─────────────┐
///  avgPool                     [B, c, 8, 8]                                      │
///  down2  ConvBlock(c → 2c)    [B, 2c, 8, 8] ──────── skip s2 ────────┐          │
///  avgPool                     [B, 2c, 4, 4]                           │          │
///  middle ConvBlock(2c → 2c)   [B, 2c, 4, 4]                           │          │
///  upsample                    [B, 2c, 8, 8]  ⊕ s2 → [B, 4c, 8, 8] <───┘          │
///  up2    ConvBlock(4c → 2c)   [B, 2c, 8, 8]                                      │
///  upsample                    [B, 2c, 16, 16] ⊕ s1 → [B, 3c, 16, 16] <───────────┘
///  up1    ConvBlock(3c → c)    [B, c, 16, 16]
///  head 3×3                    [B, 3, 16, 16] = ε̂
/// ```
/// (⊕: concatenation along channels.) The down path sees more and more of the image per pixel
/// (its receptive field grows) but at coarser resolution; the up path brings the resolution back,
/// and the skips hand it the fine detail the down path had before pooling threw it away. Any
/// input whose sides are multiples of 4 works (16×16, 32×32, …).
///
/// **Ablation.** With `useSkips == false` the up path gets zeros where the skips would go: the
/// architecture and parameter count are unchanged, but the weights that read the skip channels
/// never see a nonzero input and receive zero gradient, so `effectiveParameterCount` is smaller.
///
/// **Cost.** About 300k parameters at c = 32; one training step at batch 64 on 16×16 images
/// takes roughly 0.1 s on two CPU cores.
public struct UNet: Module {
    public let channels: Int
    public let useSkips: Bool
    public let stem: Conv2d
    public let down1: ConvBlock, down2: ConvBlock
    public let middle: ConvBlock
    public let up2: ConvBlock, up1: ConvBlock
    public let head: Conv2d

    public init(channels c: Int = 32, groups: Int = 8, useSkips: Bool = true, imageChannels: Int = 3,
                using rng: inout RandomGenerator) {
        channels = c
        self.useSkips = useSkips
        stem = Conv2d(imageChannels, c, kernelSize: 3, padding: 1, using: &rng)
        down1 = ConvBlock(c, c, groups: groups, using: &rng)
        down2 = ConvBlock(c, 2 * c, groups: groups, using: &rng)
        middle = ConvBlock(2 * c, 2 * c, groups: groups, using: &rng)
        up2 = ConvBlock(4 * c, 2 * c, groups: groups, using: &rng)   // upsampled 2c ⊕ skip 2c
        up1 = ConvBlock(3 * c, c, groups: groups, using: &rng)       // upsampled 2c ⊕ skip c
        head = Conv2d(c, imageChannels, kernelSize: 3, padding: 1, using: &rng)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        scoped("stem", stem) + scoped("down1", down1) + scoped("down2", down2) + scoped("middle", middle)
            + scoped("up2", up2) + scoped("up1", up1) + scoped("head", head)
    }

    /// Parameters that can learn: without skips, the input weights of `up2.conv1` and `up1.conv1`
    /// that read the (zero) skip channels are dead and are left out.
    public var effectiveParameterCount: Int {
        guard !useSkips else { return parameterCount }
        let c = channels
        return parameterCount - (2 * c) * (2 * c) * 9 - c * c * 9
    }

    /// ε̂ = UNet(x_t): `[B, 3, H, W] -> [B, 3, H, W]`, H and W multiples of 4.
    /// `zeroSkips` forces the skips to zero for one call (for tests and figures).
    public func callAsFunction(_ x: Tensor, zeroSkips: Bool = false) -> Tensor {
        guard x.rank == 4, x.shape[2] % 4 == 0, x.shape[3] % 4 == 0 else {
            fatalError("UNet: expected [B, C, H, W] with H and W multiples of 4, got \(x.shape)")
        }
        return UNet.hourglass(x, layers, skips: useSkips && !zeroSkips)
    }

    /// The network's layers as functions, for a wiring written elsewhere (chapter 3's exercise).
    public struct Layers {
        public let stem, down1, down2, middle, up2, up1, head: (Tensor) -> Tensor
    }

    public var layers: Layers {
        Layers(stem: { stem($0) }, down1: { down1($0) }, down2: { down2($0) }, middle: { middle($0) },
               up2: { up2($0) }, up1: { up1($0) }, head: { head($0) })
    }

    /// The hourglass: how the layers are wired, with the skips (or zeros in their place).
    public static func hourglass(_ x: Tensor, _ l: Layers, skips: Bool) -> Tensor {
        let s1 = l.down1(l.stem(x))                      // [B, 3, H, W] -> [B, c, H, W]
        let s2 = l.down2(s1.avgPool2x2())                // [B, c, H/2, W/2] -> [B, 2c, H/2, W/2]
        let m = l.middle(s2.avgPool2x2())                // [B, 2c, H/4, W/4] -> [B, 2c, H/4, W/4]
        let u2 = m.upsampleNearest2x()                   // [B, 2c, H/4, W/4] -> [B, 2c, H/2, W/2]
        let h2 = l.up2(Tensor.concat([u2, skips ? s2 : Tensor.zeros(s2.shape)], axis: 1))  // [B, 4c, H/2, W/2] -> [B, 2c, H/2, W/2]
        let u1 = h2.upsampleNearest2x()                  // [B, 2c, H/2, W/2] -> [B, 2c, H, W]
        let h1 = l.up1(Tensor.concat([u1, skips ? s1 : Tensor.zeros(s1.shape)], axis: 1))  // [B, 3c, H, W] -> [B, c, H, W]
        return l.head(h1)                                // [B, c, H, W] -> [B, 3, H, W]
    }

    /// The chapter's noise predictor: ignores t (chapter 4 will pass it in).
    public var predictor: NoisePredictor { { x, _ in self(x) } }

    /// One line per stage with its output shape for a `[B, 3, size, size]` input, and its parameters.
    public func summary(size: Int) -> [(stage: String, shape: String, parameters: Int)] {
        let c = channels, s = size
        func n(_ m: Module) -> Int { m.parameterCount }
        return [
            ("input x_t", "[B, 3, \(s), \(s)]", 0),
            ("stem conv 3×3", "[B, \(c), \(s), \(s)]", n(stem)),
            ("down1 ConvBlock → skip s1", "[B, \(c), \(s), \(s)]", n(down1)),
            ("avgPool 2×2", "[B, \(c), \(s / 2), \(s / 2)]", 0),
            ("down2 ConvBlock → skip s2", "[B, \(2 * c), \(s / 2), \(s / 2)]", n(down2)),
            ("avgPool 2×2", "[B, \(2 * c), \(s / 4), \(s / 4)]", 0),
            ("middle ConvBlock", "[B, \(2 * c), \(s / 4), \(s / 4)]", n(middle)),
            ("upsample 2×", "[B, \(2 * c), \(s / 2), \(s / 2)]", 0),
            (useSkips ? "⊕ s2 (concat)" : "⊕ zeros (no skip)", "[B, \(4 * c), \(s / 2), \(s / 2)]", 0),
            ("up2 ConvBlock", "[B, \(2 * c), \(s / 2), \(s / 2)]", n(up2)),
            ("upsample 2×", "[B, \(2 * c), \(s), \(s)]", 0),
            (useSkips ? "⊕ s1 (concat)" : "⊕ zeros (no skip)", "[B, \(3 * c), \(s), \(s)]", 0),
            ("up1 ConvBlock", "[B, \(c), \(s), \(s)]", n(up1)),
            ("head conv 3×3 → ε̂", "[B, 3, \(s), \(s)]", n(head)),
        ]
    }

    /// Receptive field, in input pixels, of one output pixel along the deepest path (through the
    /// middle block). Each layer of kernel k at a stage whose pixels are `jump` input pixels apart
    /// widens it by (k − 1)·jump:
    /// ```
    /// r ← r + (k − 1)·jump;   pooling by 2: r ← r + jump, jump ← 2·jump;   upsampling: jump ← jump/2
    /// ```
    public static var receptiveField: Int {
        var r = 1, jump = 1
        func conv(_ times: Int) { r += 2 * jump * times }
        conv(1 + 2)                      // stem, down1
        r += jump; jump *= 2; conv(2)    // pool, down2
        r += jump; jump *= 2; conv(2)    // pool, middle
        jump /= 2; conv(2)               // upsample, up2
        jump /= 2; conv(2 + 1)           // upsample, up1, head
        return r
    }
}
