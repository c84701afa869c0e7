// Helpers shared by the Diffusion tests.

import NN
import Tensor

/// Fills every parameter with small random values, so zero-initialised layers take part too.
func randomize(_ module: Module, seed: UInt64) {
    var rng = RandomGenerator(seed: seed)
    for p in module.parameters { p.data = Tensor.randn(p.shape, using: &rng).data.map { $0 * 0.3 } }
}
