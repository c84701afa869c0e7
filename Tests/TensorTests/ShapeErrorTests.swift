// A shape mistake stops the program with a message naming the op and both shapes, in
// release builds too (fatalError, not precondition). Observed in a child process (exit test).

import Foundation
import Testing
import Tensor

@Suite("Shape errors")
struct ShapeErrorTests {
    func stderr(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test("matmul names both shapes")
    func matmul() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([4, 5]))
        }
        #expect(stderr(r).contains("matmul"))
        #expect(stderr(r).contains("[2, 3]") && stderr(r).contains("[4, 5]"))
    }

    @Test("broadcasting names the op and both shapes")
    func broadcast() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4, 3])
        }
        #expect(stderr(r).contains("add") && stderr(r).contains("[2, 3]") && stderr(r).contains("[4, 3]"))
    }

    @Test("conv2d names the channel mismatch")
    func conv() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 3, 8, 8]).conv2d(Tensor.zeros([4, 2, 3, 3]))
        }
        #expect(stderr(r).contains("conv2d") && stderr(r).contains("3 channels") && stderr(r).contains("[4, 2, 3, 3]"))
    }

    @Test("reshape names the element counts")
    func reshape() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).reshaped([4, 2])
        }
        #expect(stderr(r).contains("reshape") && stderr(r).contains("[2, 3]") && stderr(r).contains("[4, 2]"))
    }
}
