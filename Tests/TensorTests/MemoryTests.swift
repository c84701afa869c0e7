import Testing
@testable import Tensor

@Suite("Graph memory")
struct MemoryTests {
    @Test("the graph of an early training step is freed")
    func graphIsFreed() {
        var rng = RandomGenerator(seed: 5)
        let w = Tensor.randn([4, 4], using: &rng, requiresGrad: true)
        let x = Tensor.randn([8, 4], using: &rng)
        weak var firstHidden: Tensor?
        weak var firstLoss: Tensor?
        for step in 0..<50 {
            let hidden = x.matmul(w).tanh()
            let loss = hidden.pow(2).mean()
            if step == 0 { firstHidden = hidden; firstLoss = loss }
            loss.backward()
            withoutGradients {
                for i in 0..<w.count { w.data[i] -= 0.1 * w.grad!.data[i] }
            }
            w.zeroGrad()
        }
        #expect(firstHidden == nil, "an intermediate of step 0 is still alive: the graph leaks")
        #expect(firstLoss == nil)
    }
}
