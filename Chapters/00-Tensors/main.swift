// Chapter 0: tensors and gradients.
//
// The box every later chapter stands on, opened: what a tensor is (Sources/Tensor/Tensor.swift),
// how broadcasting lines shapes up (Ops/Elementwise.swift), what reverse-mode autodiff records and
// how backward() walks it (Autodiff.swift), how a gradient is checked against finite differences
// (GradCheck.swift), and a few lines of gradient descent fitting a line.
//
//   swift run -c release 00-tensors [--quick] [--seed N] [--out DIR]

import ArgumentParser
import ChapterKit
import Foundation
import Imaging
import NN
import Tensor

struct Options: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "00-tensors",
        abstract: "Chapter 0: tensors and gradients. What a tensor is, broadcasting, the recorded graph, backward, "
            + "gradient checks, and gradient descent fitting a line. Takes well under a second after the build.")
    @OptionGroup var common: CommonOptions
}
let options = Options.parseOrExit()
let seed = options.common.seed, quick = options.common.quick
let started = Date()
let notebook = Notebook(chapter: Options.chapter, directory: options.directory, title: "Chapter 0: tensors and gradients")
var rng = RandomGenerator(seed: seed)
notebook.say("Run with seed \(seed)\(quick ? " (--quick: fewer points and steps in 0.6)" : ""). "
    + "Every number below comes from the library in `Sources/Tensor/`; the code that printed it is in "
    + "`Chapters/00-Tensors/main.swift`, one `// MARK:` per section.")

// MARK: - 0.1 A tensor is a shape and a flat array

notebook.section("0.1 A tensor is a shape and a flat array")
let t = Tensor([0, 1, 2, 3, 4, 5], shape: [2, 3])
notebook.say("A `Tensor` is a `shape` and one flat array of Float32 numbers, `data`, in row-major order: "
    + "the last axis varies fastest. The *strides* say how far apart neighbours along each axis are in `data`: "
    + "element [i, j] of a [2, 3] tensor lives at `data[i·3 + j·1]`.")
notebook.code(grid(t, "t") + "\n\n"
    + "t.data               = \(list(t.data))\n"
    + "strides of [2, 3]    = \(contiguousStrides(t.shape))\n"
    + "t[1, 2]              = \(num(t[1, 2]))   (data[1·3 + 2·1] = data[5])\n"
    + "strides of [2, 3, 4] = \(contiguousStrides([2, 3, 4]))   (element [i, j, k] at data[12i + 4j + k])")

let reshaped = t.reshaped([3, 2])
let transposed = t.transposed()  // [2, 3] -> [3, 2]
notebook.say("`reshaped` and `transposed` both turn [2, 3] into [3, 2], but they are different operations. "
    + "A reshape reads the same flat array under a new shape, so `data` is unchanged. A transpose (a permutation "
    + "of axes) puts element [i, j] at [j, i]; reading t's array with strides [1, 3] instead of [3, 1] would give it, "
    + "and PyTorch returns exactly such a strided *view*. This library keeps every tensor contiguous, so "
    + "`permuted`/`transposed` copy the elements into their new order — one pass over memory, and every kernel "
    + "can then assume the simple layout.")
notebook.code(sideBySide([grid(reshaped, "t.reshaped([3, 2])"), grid(transposed, "t.transposed()")]) + "\n\n"
    + "reshaped.data   = \(list(reshaped.data))   (the same array)\n"
    + "transposed.data = \(list(transposed.data))   (a copy in a new order)")

// MARK: - 0.2 Broadcasting

notebook.section("0.2 Broadcasting")
let column = Tensor([0, 10, 20], shape: [3, 1])
let row = Tensor([0, 1, 2, 3], shape: [4])
let table = column + row  // [3, 1] + [4] -> [3, 4]
notebook.say("A binary op on two different shapes *broadcasts* (NumPy's rule): align the shapes on their last axis, "
    + "treat a missing leading axis as size 1, and on each axis the sizes must be equal or one of them 1; "
    + "a size-1 axis is repeated to match. So [3, 1] + [4] reads [4] as [1, 4] and gives [3, 4]: "
    + "the column is repeated across, the row down.")
notebook.code(sideBySide([grid(column, "column"), grid(row, "row"), grid(table, "column + row")]))
let pairs: [([Int], [Int])] = [([3, 1], [4]), ([2, 3, 4], [4]), ([8, 3], []), ([4, 1, 3], [2, 1]), ([64, 32, 16, 16], [1, 32, 1, 1])]
notebook.table(headers: ["a", "b", "shape of a + b (or a·b, a − b, …)"],
               rows: pairs.map { a, b in ["\(a)", "\(b)", "\(broadcastShapes(a, b, op: "table"))"] })
notebook.say("Shapes such as [3] and [4] do not broadcast: the op stops with a message naming itself and both shapes. "
    + "The repetition is never stored — the kernel reads the same element again (stride 0).")

let a2 = Tensor([0, 10, 20], shape: [3, 1], requiresGrad: true)
let b2 = Tensor([0, 1, 2, 3], shape: [4], requiresGrad: true)
(a2 * b2).sum().backward()
notebook.say("Broadcasting has a consequence for gradients. In `(column * row).sum()` each of the 3 column values "
    + "is used 4 times, so its gradient adds up 4 contributions — the 4 row values; each row value is used 3 times "
    + "and collects the 3 column values. The backward of a broadcasting op **sums over the broadcast axes** "
    + "to bring the gradient back to its input's shape (exercise 0.1):")
notebook.code(sideBySide([grid(a2.grad!, "∂/∂column"), grid(b2.grad!, "∂/∂row")])
    + "\n\n∂/∂column[i] = Σ_j row[j] = \(num(row.data.reduce(0, +)))      ∂/∂row[j] = Σ_i column[i] = \(num(column.data.reduce(0, +)))")

// MARK: - 0.3 The recorded graph

notebook.section("0.3 The recorded graph")
let x = Tensor([-1, 0, 1, 2], shape: [4, 1])             // 4 examples, 1 feature
let y = Tensor([-3, -1, 1, 3], shape: [4, 1])            // targets, on the line y = 2x − 1
let w = Tensor([0.5], shape: [1, 1], requiresGrad: true)  // a parameter
let b = Tensor([0], shape: [1], requiresGrad: true)       // a parameter
let prediction = x.matmul(w) + b                          // [4, 1]·[1, 1] + [1] -> [4, 1]
let residual = prediction - y                             // [4, 1]
let loss = residual.pow(2).mean()                         // [4, 1] -> []
notebook.say("Every op on a tensor that requires a gradient records a `Node`: the op's name, its inputs, and a "
    + "closure that turns the gradient of the output into gradients of the inputs. Here is a least-squares loss "
    + "for a line through four points, `loss = mean((x·w + b − y)²)`, and the graph it recorded "
    + "(`loss.graphDescription(names:)`, read from the loss down to the leaves):")
notebook.code("""
    let prediction = x.matmul(w) + b      // [4, 1]·[1, 1] + [1] -> [4, 1]
    let residual = prediction - y
    let loss = residual.pow(2).mean()     // -> []
    """)
let names = [ObjectIdentifier(x): "x", ObjectIdentifier(y): "y", ObjectIdentifier(w): "w", ObjectIdentifier(b): "b",
             ObjectIdentifier(prediction): "prediction", ObjectIdentifier(residual): "residual", ObjectIdentifier(loss): "loss"]
notebook.code(loss.graphDescription(names: names) + "\n\nloss = \(num(loss.item))    \(loss)")
notebook.say("A *leaf* is a tensor we asked gradients for (`requiresGrad: true`: w and b); a *constant* is data "
    + "(x and y). `mean` is not a primitive: it is a `sum` times the constant 1/4, so it shows up as those two "
    + "nodes. Each node holds its inputs strongly and nothing else holds a node, so when `loss` goes out of scope "
    + "the whole graph is freed. Inside `withoutGradients { … }` nothing is recorded.")

// MARK: - 0.4 Backward, step by step

notebook.section("0.4 Backward, step by step")
let sa = Tensor(2, requiresGrad: true), sb = Tensor(-3, requiresGrad: true), sc = Tensor(10, requiresGrad: true)
let sd = sa * sb           // d = a·b
let se = sd + sc           // e = d + c
let sl = se.pow(2)         // L = e²
sl.backward()
notebook.say("`backward()` starts from ∂L/∂L = 1 and visits the nodes from the loss back to the leaves (reverse "
    + "topological order). At each node it multiplies the gradient arriving from above by the node's *local* "
    + "derivative — the chain rule, ∂L/∂u = ∂L/∂v · ∂v/∂u — and passes the product down. Take L = (a·b + c)² "
    + "with a = 2, b = −3, c = 10. (The walk is `backward(seed:)` in Sources/Tensor/Autodiff.swift, about 40 lines; "
    + "each op's local derivative sits next to its forward in Sources/Tensor/Ops/.)")
notebook.code(sl.graphDescription(names: [ObjectIdentifier(sa): "a", ObjectIdentifier(sb): "b", ObjectIdentifier(sc): "c",
                                          ObjectIdentifier(sd): "d", ObjectIdentifier(se): "e", ObjectIdentifier(sl): "L"]))
let (av, bv, ev) = (sa.item, sb.item, se.item)
let dLde = 2 * ev, dLdd = dLde * 1
notebook.table(headers: ["node", "value", "local derivative", "∂L/∂node = from above × local"], rows: [
    ["L = e²", num(sl.item), "", "1 (the start)"],
    ["e = d + c", num(ev), "∂L/∂e = 2e = \(num(2 * ev))", "1 × \(num(2 * ev)) = \(num(dLde))"],
    ["d = a·b", num(sd.item), "∂e/∂d = 1", "\(num(dLde)) × 1 = \(num(dLdd))"],
    ["c", num(sc.item), "∂e/∂c = 1", "\(num(dLde)) × 1 = \(num(dLde))"],
    ["a", num(av), "∂d/∂a = b = \(num(bv))", "\(num(dLdd)) × \(num(bv)) = \(num(dLdd * bv))"],
    ["b", num(bv), "∂d/∂b = a = \(num(av))", "\(num(dLdd)) × \(num(av)) = \(num(dLdd * av))"],
])
notebook.code("after backward():  a.grad = \(num(sa.grad!.item))   b.grad = \(num(sb.grad!.item))   c.grad = \(num(sc.grad!.item))")

sl.backward()  // a second time, without zeroGrad
let twice = (sa.grad!.item, sb.grad!.item, sc.grad!.item)
sa.zeroGrad(); sb.zeroGrad(); sc.zeroGrad()
let afterZero = sa.grad == nil ? "nil" : "not nil (unexpected)"
sl.backward()
notebook.say("Leaves *add* into `grad`: a gradient is a sum over every path from the loss, and a leaf may be reached "
    + "by several backward passes (gradient accumulation over micro-batches relies on it). So a training loop calls "
    + "`zeroGrad()` before each backward:")
notebook.table(headers: ["", "a.grad", "b.grad", "c.grad"], rows: [
    ["backward() again, no zeroGrad", num(twice.0), num(twice.1), num(twice.2)],
    ["zeroGrad() (a.grad is now \(afterZero)), then backward()", num(sa.grad!.item), num(sb.grad!.item), num(sc.grad!.item)],
])

let u = Tensor(3, requiresGrad: true)
let f = u * u + u  // u is used three times
f.backward()
notebook.say("The same sum happens inside one graph when a tensor is used more than once: in f = u·u + u every use "
    + "sends back its own gradient and `backward` adds them where they meet.")
notebook.code(f.graphDescription(names: [ObjectIdentifier(u): "u", ObjectIdentifier(f): "f"])
    + "\n\nu = \(num(u.item)):  ∂f/∂u = u + u + 1 = 2u + 1 = \(num(2 * u.item + 1));  autodiff: u.grad = \(num(u.grad!.item))")

// MARK: - 0.5 Checking a gradient

notebook.section("0.5 Checking a gradient")
notebook.say("A backward rule written by hand can be wrong, so every op in the library is checked against finite "
    + "differences. `gradientCheck` (Sources/Tensor/GradCheck.swift) takes random weights w shaped like the output "
    + "and a random direction v shaped like each input, and compares two numbers for S(x) = Σ w·f(x): "
    + "⟨∇S, v⟩ from `backward()`, and the central difference (S(x + h·v) − S(x − h·v)) / 2h with h = 0.01, summed "
    + "in Double. One random direction tests every entry of the gradient at once. The check passes when the "
    + "relative error is at most 2·10⁻³ (Float32 rounding of the forward pass limits the numerical side).")
struct GradCase {
    let name: String
    let inputs: [Tensor]
    let f: ([Tensor]) -> Tensor
}
let cases = [
    GradCase(name: "a ⊙ b, [3, 1] ⊙ [1, 4]", inputs: [Tensor.randn([3, 1], using: &rng), Tensor.randn([1, 4], using: &rng)]) { $0[0] * $0[1] },
    GradCase(name: "a·b (matmul), [3, 4]·[4, 2]", inputs: [Tensor.randn([3, 4], using: &rng), Tensor.randn([4, 2], using: &rng)]) { $0[0].matmul($0[1]) },
    GradCase(name: "sum over axis 1 of [2, 3, 4]", inputs: [Tensor.randn([2, 3, 4], using: &rng)]) { $0[0].sum(axes: [1]) },
    GradCase(name: "softmax over the last axis, [3, 5]", inputs: [Tensor.randn([3, 5], using: &rng)]) { $0[0].softmax(axis: -1) },
    GradCase(name: "tanh, [8]", inputs: [Tensor.randn([8], using: &rng)]) { $0[0].tanh() },
    GradCase(name: "mean((x·w + b − y)²), the loss of 0.3", inputs: [x, y, w.detached(), b.detached()]) {
        ($0[0].matmul($0[2]) + $0[3] - $0[1]).pow(2).mean()
    },
]
var checkRows: [[String]] = []
func checkSeed(_ i: Int) -> UInt64 { seed &+ UInt64(i + 1) }
for (i, c) in cases.enumerated() {
    let r = gradientCheck(c.inputs, seed: checkSeed(i), c.f)
    checkRows.append([c.name, num(r.analytic, digits: 7), num(r.numerical, digits: 7), String(format: "%.1e", r.relativeError),
                      r.passes() ? "pass" : "FAIL"])
}
notebook.table(headers: ["f", "analytic ⟨∇S, v⟩", "numerical", "relative error", "verdict"], rows: checkRows)

notebook.say("What does a wrong gradient look like? `GradMode.$mutation` is a test hook that scales the gradient one "
    + "op sends back. With the backward of `mul` or of `matmul` off by just 1 %, the same checks (same inputs, same w and v) fail: the numerical side is unchanged, the analytic side moved by 1 %.")
var mutationRows: [[String]] = []
for (op, i) in [("mul", 0), ("matmul", 1)] {
    let c = cases[i]
    let r = GradMode.$mutation.withValue((op, 1.01)) { gradientCheck(c.inputs, seed: checkSeed(i), c.f) }
    mutationRows.append(["\(c.name), backward of \(op) × 1.01", num(r.analytic, digits: 7), num(r.numerical, digits: 7),
                         String(format: "%.1e", r.relativeError), r.passes() ? "pass" : "FAIL"])
}
notebook.table(headers: ["f", "analytic ⟨∇S, v⟩", "numerical", "relative error", "verdict"], rows: mutationRows)
notebook.say("The exercises of this chapter are graded the same way: you write the backward of mul with broadcasting, "
    + "of matmul, of a sum over an axis and of softmax, and the check compares your gradients with central differences "
    + "along random directions (`swift test --filter Chapter00`).")

// MARK: - 0.6 Gradient descent fits a line

notebook.section("0.6 Gradient descent fits a line")
let n = quick ? 50 : 200
let steps = quick ? 100 : 200
let learningRate: Float = 0.05
let (trueW, trueB, noise): (Float, Float, Float) = (2, -1, 0.3)
let xs = Tensor.uniform([n], in: -2...2, using: &rng)                             // [n]
let ys = xs * trueW + trueB + Tensor.randn([n], using: &rng) * noise               // y = 2x − 1 + noise
notebook.say("\(n) points y = \(num(trueW))x \(trueB < 0 ? "−" : "+") \(num(abs(trueB))) + noise, with x uniform in [−2, 2] and "
    + "Gaussian noise of standard deviation \(num(noise)). We fit w and b by minimising the mean squared error with plain "
    + "gradient descent, θ ← θ − η·∂L/∂θ, η = \(num(learningRate)), starting from w = b = 0. The whole training loop:")
notebook.code("""
    for step in 0..<\(steps) {
        let loss = (xs * w + b - ys).pow(2).mean()   // [\(n)]·[] + [] -> [\(n)] -> []
        w.zeroGrad(); b.zeroGrad()
        loss.backward()
        w.data[0] -= learningRate * w.grad!.item     // θ ← θ − η·∂L/∂θ
        b.data[0] -= learningRate * b.grad!.item
    }
    """)
let fitW = Tensor(0, requiresGrad: true), fitB = Tensor(0, requiresGrad: true)  // shape []: broadcast over the n points
var losses: [Float] = [], history: [(Float, Float)] = []
for _ in 0..<steps {
    let loss = (xs * fitW + fitB - ys).pow(2).mean()  // [n]·[] + [] -> [n] -> []
    fitW.zeroGrad(); fitB.zeroGrad()
    loss.backward()
    fitW.data[0] -= learningRate * fitW.grad!.item   // θ ← θ − η·∂L/∂θ
    fitB.data[0] -= learningRate * fitB.grad!.item
    losses.append(loss.item)
    history.append((fitW.item, fitB.item))
}
let finalLoss = withoutGradients { (xs * fitW + fitB - ys).pow(2).mean().item }
notebook.say("w and b have shape [] and are broadcast over all \(n) points, so by the rule of 0.2 their gradients are sums "
    + "over the points — nothing special had to be written for that.")
let shownSteps = [0, 1, 2, 5, 10, 20, 50, 100, 200, steps - 1].filter { $0 < steps }
notebook.table(headers: ["step", "loss (before the step)", "w (after)", "b (after)"],
               rows: Array(Set(shownSteps)).sorted().map { s in [String(s), num(losses[s]), num(history[s].0), num(history[s].1)] })

// The closed-form answer: least squares in Double, w* = cov(x, y)/var(x), b* = ȳ − w*·x̄.
let xd = xs.data.map(Double.init), yd = ys.data.map(Double.init)
let mx = xd.reduce(0, +) / Double(n), my = yd.reduce(0, +) / Double(n)
let sxy = zip(xd, yd).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }, sxx = xd.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
let lsW = sxy / sxx, lsB = my - lsW * mx
let lsLoss = zip(xd, yd).reduce(0) { $0 + pow(lsW * $1.0 + lsB - $1.1, 2) } / Double(n)
let trueLoss = zip(xd, yd).reduce(0) { $0 + pow(Double(trueW) * $1.0 + Double(trueB) - $1.1, 2) } / Double(n)
notebook.say("Where did it land? For a line the best fit has a closed form, least squares: w* = cov(x, y)/var(x), "
    + "b* = ȳ − w*·x̄. Gradient descent converges to that answer, not to the truth: with noise, the line that fits "
    + "these \(n) points best is a little off the line that made them, and the loss cannot go below what the noise "
    + "leaves (about σ² = \(num(noise * noise))).")
notebook.table(headers: ["", "w", "b", "mean squared error"], rows: [
    ["truth (made the data)", num(trueW), num(trueB), num(trueLoss)],
    ["gradient descent, \(steps) steps", num(fitW.item, digits: 7), num(fitB.item, digits: 7), num(finalLoss, digits: 7)],
    ["least squares (closed form)", num(lsW, digits: 7), num(lsB, digits: 7), num(lsLoss, digits: 7)],
])

// The library's optimizer does the same update: the same numbers, bit for bit.
let libW = Tensor(0, requiresGrad: true), libB = Tensor(0, requiresGrad: true)
let sgd = SGD([libW, libB], learningRate: learningRate)
for _ in 0..<steps {
    let loss = (xs * libW + libB - ys).pow(2).mean()
    libW.zeroGrad(); libB.zeroGrad()
    loss.backward()
    sgd.step()
}
notebook.say("The same loop with the library's optimizer (`SGD` in Sources/NN/Optimizers.swift, which later chapters use) "
    + "gives w = \(num(libW.item, digits: 7)), b = \(num(libB.item, digits: 7)) — "
    + (libW.item == fitW.item && libB.item == fitB.item ? "identical to the hand-written loop." : "not identical to the hand-written loop (unexpected)."))

// The loss above the least-squares minimum, in Double from each step's parameters. For a line it
// is exactly mean((Δw·x + Δb)²) with Δw = w − w*, Δb = b − b*: no subtraction of two nearly equal losses.
let meanX2 = xd.reduce(0) { $0 + $1 * $1 } / Double(n)
let excess = ([(Float(0), Float(0))] + history.dropLast()).map { w, b -> Double in
    let dw = Double(w) - lsW, db = Double(b) - lsB
    return dw * dw * meanX2 + 2 * dw * db * mx + db * db
}
var lossPlot = Plot(title: "Gradient descent on a line: loss per step", xLabel: "step", yLabel: "mean squared error", logY: true,
                    yRange: 1e-14...1e3, legend: .topRight)
lossPlot.line("loss", y: losses)
lossPlot.line("loss above the least-squares minimum", y: excess)
notebook.figure(lossPlot, name: "loss.png",
                    caption: "Loss per step (log scale), and how far it is above the best a line can do.")
notebook.say("The loss drops fast and then flattens at the noise floor. What is left above the least-squares minimum "
    + "shrinks by the same factor every step — a straight line on the log axis — which is what gradient descent does "
    + "on a quadratic bowl: here about ×\(num(pow(excess[50] / excess[25], 1.0 / 25), digits: 3)) per step, a factor set by the learning rate and by the "
    + "shape of the bowl (the spread of x). The line levels off once w and b are as close to w*, b* as Float32 can hold them.")

var fitPlot = Plot(title: "Data, the true line and the fitted line", xLabel: "x", yLabel: "y")
fitPlot.scatter("data", x: xs.data, y: ys.data, color: Color(120, 120, 120), radius: 3)
fitPlot.line("truth: y = 2x - 1", x: [Float(-2), 2], y: [trueW * -2 + trueB, trueW * 2 + trueB], color: Color(40, 160, 60),
             thickness: 6)
fitPlot.line("fitted", x: [Float(-2), 2], y: [fitW.item * -2 + fitB.item, fitW.item * 2 + fitB.item],
             color: Color(220, 60, 40), thickness: 2)
notebook.figure(fitPlot, name: "fit.png", caption: "The \(n) noisy points, the line that made them, and the line gradient descent found.")

notebook.must { try writeCSV(notebook.path("fit.csv"), header: ["which", "w", "b", "mse"], rows: [
    ["truth", "\(trueW)", "\(trueB)", "\(trueLoss)"],
    ["gradient-descent", "\(fitW.item)", "\(fitB.item)", "\(finalLoss)"],
    ["least-squares", "\(lsW)", "\(lsB)", "\(lsLoss)"],
]) }
notebook.must { try writeCSV(notebook.path("loss.csv"), header: ["step", "loss"], rows: losses.enumerated().map { ["\($0)", "\($1)"] }) }
notebook.say("The fitted numbers are also in `fit.csv` (`which,w,b,mse`) and the loss per step in `loss.csv`.")

notebook.save()
print(String(format: "Done in %.2f s.", Date().timeIntervalSince(started)))
