import Foundation
import Testing
@testable import Imaging

/// A fresh empty directory under the system temporary directory.
func makeTemporaryDirectory(_ name: String = #function) throws -> String {
    let clean = name.filter { $0.isLetter || $0.isNumber }
    let path = (NSTemporaryDirectory() as NSString)
        .appendingPathComponent("imaging-tests-\(clean)-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct FloatToByteTests {
    // byte = clamp(round((v - lo) / (hi - lo) * 255), 0, 255), halves away from zero.
    // Worked by hand for range -1...1 (hi - lo = 2):
    //   -1    -> 0/2 * 255       = 0
    //    1    -> 2/2 * 255       = 255
    //    0    -> 1/2 * 255       = 127.5   -> 128 (half rounds up)
    //    0.5  -> 1.5/2 * 255     = 191.25  -> 191
    //   -0.5  -> 0.5/2 * 255     = 63.75   -> 64
    //    2    -> 3/2 * 255       = 382.5   -> clamped to 255
    //   -3    -> -2/2 * 255      = -255    -> clamped to 0
    //   NaN   -> 0
    @Test func mapsMinusOneToOne() {
        let cases: [(Float, UInt8)] = [(-1, 0), (1, 255), (0, 128), (0.5, 191), (-0.5, 64),
                                       (2, 255), (-3, 0), (.nan, 0), (.infinity, 255), (-.infinity, 0)]
        for (value, expected) in cases {
            #expect(Image.byte(value, range: -1...1) == expected, "value \(value)")
        }
    }

    // Range 0...1: 0.25 * 255 = 63.75 -> 64; 0.0019 * 255 = 0.4845 -> 0;
    // 0.002 * 255 = 0.51 -> 1; 1.5 -> 382.5 -> 255.
    @Test func mapsZeroToOne() {
        let cases: [(Float, UInt8)] = [(0, 0), (1, 255), (0.25, 64), (0.0019, 0), (0.002, 1), (1.5, 255), (-0.1, 0)]
        for (value, expected) in cases {
            #expect(Image.byte(value, range: 0...1) == expected, "value \(value)")
        }
    }

    // A 2x1 RGB image given channel-planar: plane R = [-1, 1], G = [1, -1], B = [0, 0].
    // Interleaved pixels: (R,G,B) of x=0 then x=1 = (0,255,128), (255,0,128).
    @Test func chwBecomesInterleaved() {
        let image = Image(chw: [-1, 1, 1, -1, 0, 0], channels: 3, height: 1, width: 2, range: -1...1)
        #expect(image.pixels == [0, 255, 128, 255, 0, 128])
        #expect(image.width == 2 && image.height == 1 && image.channels == 3)
    }

    // A 1-channel 2x2 [C, H, W] array is row-major: (x=1, y=0) is element 1.
    @Test func chwGrayIsRowMajor() {
        let image = Image(chw: [0, 1, 0.5, 0.25], channels: 1, height: 2, width: 2, range: 0...1)
        #expect(image[1, 0, 0] == 255)
        #expect(image[0, 1, 0] == 128)  // 0.5 * 255 = 127.5 -> 128
        #expect(image[1, 1, 0] == 64)   // 0.25 * 255 = 63.75 -> 64
    }

    @Test func floatsInterleavedUseTheSameMapping() {
        let image = Image(width: 1, height: 1, channels: 3, floats: [0, 0.5, 1], range: 0...1)
        #expect(image.pixels == [0, 128, 255])
    }
}

@Suite struct DrawingTests {
    @Test func vstackPutsImagesTopToBottomOnTheBackground() {
        // A 2×1 gray [10, 20] above a 1×2 gray [30, 40], 1 pixel apart on black: 2 wide, 1 + 1 + 2 = 4 tall,
        // rows [10, 20], [0, 0] (the gap), [30, 0] and [40, 0] (the narrower image left-aligned).
        let stacked = Image.vstack([Image(width: 2, height: 1, channels: 1, pixels: [10, 20]),
                                    Image(width: 1, height: 2, channels: 1, pixels: [30, 40])], gap: 1, background: .black)
        #expect(stacked.width == 2 && stacked.height == 4 && stacked.channels == 1)
        #expect((0..<4).map { y in (0..<2).map { stacked[$0, y, 0] } } == [[10, 20], [0, 0], [30, 0], [40, 0]])
    }

    @Test func upscaleRepeatsEachPixelInABlock() {
        // 2x1 gray [10, 20] upscaled by 3 -> 6x3, columns 0-2 are 10, 3-5 are 20.
        let big = Image(width: 2, height: 1, channels: 1, pixels: [10, 20]).upscaled(by: 3)
        #expect(big.width == 6 && big.height == 3)
        for y in 0..<3 {
            #expect((0..<6).map { big[$0, y, 0] } == [10, 10, 10, 20, 20, 20])
        }
    }

    @Test func lineHasNoGaps() {
        // A steep line from (1, 0) to (4, 9): every row 0...9 must have a lit pixel.
        var image = Image(width: 6, height: 10, channels: 1, color: .black)
        image.drawLine(x0: 1, y0: 0, x1: 4, y1: 9, .white)
        for y in 0..<10 {
            #expect((0..<6).contains { image[$0, y, 0] == 255 }, "row \(y) is empty")
        }
        #expect(image[1, 0, 0] == 255 && image[4, 9, 0] == 255)  // both ends drawn
    }

    @Test func pasteClipsAtTheEdges() {
        var canvas = Image(width: 3, height: 3, channels: 3, color: .black)
        canvas.paste(Image(width: 2, height: 2, channels: 3, color: .red), x: 2, y: -1)
        #expect(canvas.color(x: 2, y: 0) == .red)
        #expect(canvas.color(x: 2, y: 1) == .black)
        #expect(canvas.color(x: 1, y: 0) == .black)
    }

    @Test func grayConversionUsesLuma() {
        // BT.601: 0.299 * 255 = 76.245 -> 76 for pure red.
        #expect(Image(width: 1, height: 1, channels: 3, color: .red).gray().pixels == [76])
        #expect(Image(width: 1, height: 1, channels: 1, pixels: [9]).rgb().pixels == [9, 9, 9])
    }
}
