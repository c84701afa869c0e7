// `08-few-steps --mine`: the chapter on the learner's build exercises (exercises/Chapter08): their uniform-in-λ
// grid (8.2) is the grid of section 8.3's fourth sampler, their DPM-Solver++(2M) step (8.3) takes every step of
// both DPM-Solver rows, and their distillation target (8.4) is what every student of section 8.5 learns (the
// students are trained afresh and never cached). Graded by the chapter's own measures: the energy distance of
// DPM-Solver++(2M) against DDIM's at the same number of calls, and of the 4-step student against the chain it
// was distilled from.

import ChapterKit
import Diffusion
import Exercises08
import Imaging
import Tensor

/// Puts the learner's grid, solver step and distillation target in place of the library's for the rest of the
/// run (each falls back to the library's if not attempted).
func installMine(_ mine: MineRun) {
    DPMSolver.gridReplacement = { count, alphaBar in
        mine.use("logSNRTimesteps", learner: {
            let grid = try logSNRTimesteps(count: count, alphaBar: alphaBar)
            guard grid.count == count, grid.first == alphaBar.count - 1, zip(grid, grid.dropFirst()).allSatisfy({ $0 > $1 }),
                  grid.last.map({ $0 >= 0 }) ?? false else {
                Options.fail("--mine: your logSNRTimesteps(count: \(count)) gave \(grid.prefix(8))…; it must give \(count) steps, "
                             + "strictly decreasing from \(alphaBar.count - 1) and none below 0")
            }
            return grid
        }, library: { withLibraryCode { DPMSolver.logSNRTimesteps(count: count, schedule: schedule) } })
    }
    DPMSolver.stepReplacement = { x, x0, previous, level, next in
        mine.use("dpmSolverStep", learner: {
            let out = try dpmSolverStep(x: x, x0: x0, previous: previous.map { ($0.x0, $0.level.alpha, $0.level.sigma) },
                                        from: (level.alpha, level.sigma), to: (next.alpha, next.sigma))
            guard out.shape == x.shape else {
                Options.fail("--mine: your dpmSolverStep gave shape \(out.shape) for x of shape \(x.shape)")
            }
            return out
        }, library: { DPMSolver.step(x, x0, previous: previous, from: level, to: next) })
    }
    ProgressiveDistillation.targetReplacement = { z, z2, alpha, sigma, alpha2, sigma2 in
        mine.use("distillationTarget", learner: {
            let target = try distillationTarget(z: z, twoStepsLater: z2, alpha: alpha, sigma: sigma, alpha2: alpha2, sigma2: sigma2)
            guard target.shape == z.shape else {
                Options.fail("--mine: your distillationTarget gave shape \(target.shape) for z of shape \(z.shape)")
            }
            return target
        }, library: { ProgressiveDistillation.targetFormula(z, z2, alpha, sigma, alpha2, sigma2) })
    }
}

/// Runs `body` on the library's code: the learner's grid, step and target are set aside meanwhile.
func withLibraryCode<T>(_ body: () -> T) -> T {
    let saved = (DPMSolver.gridReplacement, DPMSolver.stepReplacement, ProgressiveDistillation.targetReplacement)
    (DPMSolver.gridReplacement, DPMSolver.stepReplacement, ProgressiveDistillation.targetReplacement) = (nil, nil, nil)
    defer { (DPMSolver.gridReplacement, DPMSolver.stepReplacement, ProgressiveDistillation.targetReplacement) = saved }
    return body()
}

/// The learner's DPM-Solver++(2M) samples with `calls` network calls beside the library's, from the same x_T.
func compareMine(_ mine: MineRun, yours: Tensor, predictor: NoisePredictor, from xT: Tensor, calls: Int) {
    let library = withLibraryCode { DPMSolver.sample(predictor, from: xT, schedule: schedule, steps: calls) }
    func panel(_ x: Tensor) -> Image { scatter("DPM-Solver++(2M), \(calls) calls", [("samples", x, sampleColor)], size: 320).render() }
    mine.compare(yours: panel(yours), library: panel(library), what: "\(main.rawValue): DPM-Solver++(2M) with \(calls) calls",
                 yoursTensor: yours, libraryTensor: library)
}

/// The grade, two measures: DPM-Solver++(2M)'s energy distance at `calls` calls as a share of DDIM's at as many
/// (at most 0.8: a second-order step must beat the first-order one), and the 4-step student's as a multiple of
/// the chain it was distilled from (at most 2).
func gradeMine(_ mine: MineRun, calls: Int, solverRatio: Double, studentSteps: Int, studentRatio: Double) {
    mine.grade("DPM-Solver++(2M) with your step, \(calls) calls: energy distance ÷ DDIM's at \(calls) calls",
               value: Report.format(solverRatio, digits: 3), threshold: "≤ 0.8", passed: solverRatio <= 0.8)
    mine.grade("the \(studentSteps)-step student trained on your target: energy distance ÷ its teacher chain's",
               value: Report.format(studentRatio, digits: 3), threshold: "≤ 2", passed: studentRatio <= 2)
    mine.report(in: book)
}
