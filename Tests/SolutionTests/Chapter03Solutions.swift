// The same checks as the learner's, run against solutions/: every solution must pass.

import Diffusion
import ExerciseChecks
import Solutions03
import Testing

@Suite("Chapter03 solutions")
struct Chapter03Solutions {
    static let api = Chapter03API(
        convOutputSize: { try Solutions03.convOutputSize(input: $0, kernel: $1, stride: $2, padding: $3) },
        downBlock: { try Solutions03.downBlock($0, conv: $1, norm: $2) },
        skipConcat: { try Solutions03.skipConcat($0, skip: $1) },
        hourglass: { x, l, skips in
            try Solutions03.hourglass(x, stem: l.stem, down1: l.down1, down2: l.down2, middle: l.middle, up2: l.up2, up1: l.up1,
                                      head: l.head, skips: skips)
        })

    @Test(arguments: Chapter03Checks.all.map(\.id))
    func check(_ id: String) {
        let verdict = evaluate(Chapter03Checks.all.first { $0.id == id }!, Self.api)
        #expect(verdict == .passed, "\(id): \(verdict)")
    }
}
