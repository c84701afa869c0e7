// Functions composed from the primitives: no hand-written backward, so nothing new to get wrong.
// Their gradients come from the ops they are made of, and the gradient checks cover them too.

extension Tensor {
    /// softmax(x)_i = e^(x_i − m) / Σ_j e^(x_j − m) along `axis`, with m = max_j x_j.
    /// Subtracting the max changes nothing mathematically but keeps e^x from overflowing.
    /// The max is detached: the result does not depend on m, so no gradient needs to flow through it.
    public func softmax(axis: Int = -1) -> Tensor {
        let m = max(axis: axis, keepDims: true).detached()
        let e = (self - m).exp()
        return e / e.sum(axes: [axis], keepDims: true)
    }

    /// log softmax(x)_i = (x_i − m) − log Σ_j e^(x_j − m): stable even when softmax underflows to 0.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let shifted = self - max(axis: axis, keepDims: true).detached()
        return shifted - shifted.exp().sum(axes: [axis], keepDims: true).log()
    }

    /// Mean squared error: mean((self − target)²).
    public func mse(_ target: Tensor) -> Tensor { (self - target).pow(2).mean() }
}
