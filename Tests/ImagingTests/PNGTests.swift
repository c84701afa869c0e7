import Foundation
import Testing
@testable import Imaging

@Suite struct PNGTests {
    @Test func grayRoundTripIsExactForEveryByteValue() throws {
        // 17 x 16 = 272 pixels: bytes i % 256 cover all 256 values; odd width.
        let pixels = (0..<(17 * 16)).map { UInt8($0 % 256) }
        let image = Image(width: 17, height: 16, channels: 1, pixels: pixels)
        let dir = try makeTemporaryDirectory()
        let path = dir + "/gray.png"
        try image.writePNG(to: path)
        let back = try Image.readPNG(path)
        #expect(back == image)
    }

    @Test func rgbRoundTripIsExactForEveryByteValueAndOddSizes() throws {
        let dir = try makeTemporaryDirectory()
        // 13 x 7 x 3 = 273 bytes, all 256 values present.
        let a = Image(width: 13, height: 7, channels: 3, pixels: (0..<273).map { UInt8($0 % 256) })
        // 7 x 5, a scrambled pattern so channel order mistakes show.
        let b = Image(width: 7, height: 5, channels: 3, pixels: (0..<105).map { UInt8(($0 * 37 + 11) % 256) })
        for (name, image) in [("a", a), ("b", b)] {
            let path = "\(dir)/\(name).png"
            try image.writePNG(to: path)
            #expect(try Image.readPNG(path) == image)
            #expect(try Image.readPNG(path, channels: 3) == image)
        }
    }

    @Test func readingConvertsBetweenGrayAndRGB() throws {
        let dir = try makeTemporaryDirectory()
        let gray = Image(width: 3, height: 1, channels: 1, pixels: [0, 128, 255])
        try gray.writePNG(to: dir + "/g.png")
        let asRGB = try Image.readPNG(dir + "/g.png", channels: 3)
        #expect(asRGB.channels == 3)
        #expect(asRGB.pixels == [0, 0, 0, 128, 128, 128, 255, 255, 255])
        // Gray pixels written as RGB come back as the same gray.
        try gray.rgb().writePNG(to: dir + "/c.png")
        #expect(try Image.readPNG(dir + "/c.png", channels: 1) == gray)
    }

    @Test func writingCreatesParentDirectoriesAndLeavesNoTemporaryFile() throws {
        let dir = try makeTemporaryDirectory()
        let path = dir + "/a/b/c/out.png"
        try Image(width: 2, height: 2, channels: 3, color: .red).writePNG(to: path)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/a/b/c") == ["out.png"])
    }

    @Test func notAPNGFileThrowsAnErrorNamingTheFile() throws {
        let dir = try makeTemporaryDirectory()
        let path = dir + "/notes.txt"
        try "hello, this is text".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Image.readPNG(path)
            Issue.record("reading a text file as PNG did not throw")
        } catch let error as ImagingError {
            #expect(error.description.contains(path))
            #expect(error.description.contains("not a PNG file"))
            #expect(error.description.contains("libpng:"))
        }
    }

    @Test func missingFileThrowsAnErrorNamingTheFile() throws {
        let path = try makeTemporaryDirectory() + "/missing.png"
        do {
            _ = try Image.readPNG(path)
            Issue.record("reading a missing file did not throw")
        } catch let error as ImagingError {
            #expect(error.description.contains(path))
            #expect(error.description.contains("no such file"))
        }
    }

    @Test func truncatedPNGThrows() throws {
        let dir = try makeTemporaryDirectory()
        let path = dir + "/whole.png"
        try Image(width: 9, height: 9, channels: 3, color: .green).writePNG(to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir + "/cut.png"
        try data.prefix(40).write(to: URL(fileURLWithPath: cut))
        #expect(throws: ImagingError.self) { try Image.readPNG(cut) }
    }
}
