// Checks for chapter 3's exercises: each compares the learner's function with the library's
// building blocks (Sources/NN/Layers.swift, the Tensor ops, Sources/Diffusion/UNet.swift's layout).

import Diffusion
import NN
import Tensor

public struct Chapter03API {
    public var convOutputSize: (Int, Int, Int, Int) throws -> Int
    public var downBlock: (Tensor, Conv2d, GroupNorm) throws -> Tensor
    public var skipConcat: (Tensor, Tensor) throws -> Tensor
    /// x, the UNet's layers, skips -> ε̂
    public var hourglass: (Tensor, UNet.Layers, Bool) throws -> Tensor

    public init(convOutputSize: @escaping (Int, Int, Int, Int) throws -> Int,
                downBlock: @escaping (Tensor, Conv2d, GroupNorm) throws -> Tensor,
                skipConcat: @escaping (Tensor, Tensor) throws -> Tensor,
                hourglass: @escaping (Tensor, UNet.Layers, Bool) throws -> Tensor) {
        self.convOutputSize = convOutputSize; self.downBlock = downBlock; self.skipConcat = skipConcat
        self.hourglass = hourglass
    }
}

public enum Chapter03Checks {
    static let file = "exercises/Chapter03/UNetExercises.swift"

    public static let all: [Check<Chapter03API>] = [
        Check("convOutputSize", file: file, hint: "H_out = (H + 2p − k)/s + 1 with integer division") { api in
            var rng = RandomGenerator(seed: 301)
            // (H, k, s, p): the UNet's 3×3 "same" conv, strided downsampling, odd sides that floor.
            for (h, k, s, p) in [(16, 3, 1, 1), (16, 3, 2, 1), (16, 4, 2, 1), (7, 3, 2, 0), (9, 5, 3, 2), (32, 1, 1, 0), (5, 5, 1, 0)] {
                // The truth is what the library's conv2d actually produces.
                let x = Tensor.randn([1, 1, h, h], using: &rng), w = Tensor.randn([1, 1, k, k], using: &rng)
                let expected = x.conv2d(w, stride: s, padding: p).shape[2]
                let actual = try api.convOutputSize(h, k, s, p)
                guard actual == expected else {
                    throw WrongAnswer("convOutputSize(input: \(h), kernel: \(k), stride: \(s), padding: \(p))",
                                      expected: String(expected), actual: String(actual),
                                      hint: "padding adds p on *both* sides (2p); divide by the stride before adding 1")
                }
            }
        },
        Check("downBlock", file: file, hint: "conv → norm → silu() → avgPool2x2(), in that order") { api in
            var rng = RandomGenerator(seed: 302)
            let conv = Conv2d(4, 8, kernelSize: 3, padding: 1, using: &rng)
            let norm = GroupNorm(groups: 4, channels: 8)
            // Non-trivial γ and β, so skipping the norm or swapping the order shows.
            norm.weight.data = (0..<8).map { 0.5 + Float($0) * 0.2 }
            norm.bias.data = (0..<8).map { Float($0) * 0.1 - 0.3 }
            let x = Tensor.randn([2, 4, 8, 8], using: &rng)
            let expected = norm(conv(x)).silu().avgPool2x2()
            let actual = try api.downBlock(x, conv, norm)
            guard actual.shape == [2, 8, 4, 4] else {
                throw WrongAnswer("downBlock's output shape for x [2, 4, 8, 8]", expected: "[2, 8, 4, 4]",
                                  actual: "\(actual.shape)", hint: "the block ends with avgPool2x2(), which halves H and W")
            }
            try expectClose(actual, expected, "downBlock(x [2, 4, 8, 8])",
                            hint: "apply the norm to the conv's output, SiLU after the norm, pooling last")
            actual.sum().backward()
            guard conv.weight.grad != nil else {
                throw WrongAnswer("the gradient reaching the convolution's weight", expected: "a gradient",
                                  actual: "none", hint: "use the layers and Tensor ops, not .data")
            }
        },
        Check("skipConcat", file: file, hint: "Tensor.concat([x.upsampleNearest2x(), skip], axis: 1)") { api in
            var rng = RandomGenerator(seed: 303)
            let x = Tensor.randn([2, 6, 4, 4], using: &rng), skip = Tensor.randn([2, 3, 8, 8], using: &rng)
            let expected = Tensor.concat([x.upsampleNearest2x(), skip], axis: 1)
            let actual = try api.skipConcat(x, skip)
            guard actual.shape == [2, 9, 8, 8] else {
                throw WrongAnswer("skipConcat's shape for x [2, 6, 4, 4] and skip [2, 3, 8, 8]", expected: "[2, 9, 8, 8]",
                                  actual: "\(actual.shape)", hint: "upsample x first, then join along axis 1 (channels)")
            }
            try expectClose(actual, expected, "skipConcat(x [2, 6, 4, 4], skip [2, 3, 8, 8])",
                            hint: "the upsampled features come first, the skip second; nearest-neighbour copies each pixel to a 2×2 block")
        },
        Check("hourglass", kind: .build, file: file, hint: "down1(stem), pool, down2, pool, middle; up: upsample ⊕ skip → up2, upsample ⊕ skip → up1, head") { api in
            var rng = RandomGenerator(seed: 304)
            let unet = UNet(channels: 8, using: &rng)
            // Random weights in every layer (a fresh UNet's are random already), on a batch of two 8×8 images.
            let x = Tensor.randn([2, 3, 8, 8], using: &rng)
            for skips in [true, false] {
                let expected = UNet.hourglass(x, unet.layers, skips: skips)
                try expectClose(try api.hourglass(x, unet.layers, skips), expected, "the hourglass on [2, 3, 8, 8]\(skips ? "" : " without skips")",
                                hint: skips ? "concatenate the upsampled features first, then the skip saved *before* each pooling"
                                            : "without skips, zeros of the skip's shape stand where the skip would go")
            }
        },
    ]
}
