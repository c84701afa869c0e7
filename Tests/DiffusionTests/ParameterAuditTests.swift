// Every model the chapters train lists every trainable tensor it holds: what `parameters` misses,
// Adam never updates and the checkpoint never saves (`unlistedTrainableTensors`, Sources/NN/ParameterAudit.swift).

import Diffusion
import NN
import Tensor
import Testing

@Suite("The course's models list every trainable tensor")
struct ParameterAuditTests {
    @Test("NoiseMLP, UNet (with and without skips), TimeUNet (every t and mixing), TextToImage")
    func everyModelIsComplete() {
        var rng = RandomGenerator(seed: 1)
        var models: [(String, Module)] = [
            ("NoiseMLP", NoiseMLP(width: 16, depth: 2, steps: 1000, using: &rng)),
            ("UNet", UNet(channels: 8, using: &rng)),
            ("UNet without skips", UNet(channels: 8, useSkips: false, using: &rng)),
            ("TextToImage", TextToImage(tokenizer: shapesTokenizer, channels: 8, textDim: 16, coordinates: true, using: &rng)),
        ]
        for t in TimeConditioning.allCases {
            for mixing in PositionMixing.allCases {
                models.append(("TimeUNet t=\(t) mixing=\(mixing)", TimeUNet(channels: 8, conditioning: t, mixing: mixing, heads: 2, using: &rng)))
            }
        }
        for (name, model) in models {
            #expect(!model.parameters.isEmpty, "\(name) lists no parameters")
            #expect(unlistedTrainableTensors(of: model).isEmpty, "\(name) holds unlisted tensors: \(unlistedTrainableTensors(of: model))")
        }
    }
}
