import Foundation
import Testing
@testable import Imaging

@Suite struct BitmapFontTests {
    /// The lit pixels of `text` rendered at scale 1 with no margin, as rows of
    /// "X" (lit) and "." (dark).
    func picture(_ text: String) -> [String] {
        let image = Image.text(text, scale: 1, color: .white, background: .black, margin: 0)
        return (0..<image.height).map { y in
            String((0..<image.width).map { image[$0, y, 0] == 255 ? "X" : "." })
        }
    }

    @Test func capitalAIsDrawnAsExpected() {
        // 'A' of the classic 5x7 font, drawn by hand (the crossbar is on row 4);
        // row 7 is the descender row, empty for capitals.
        #expect(picture("A") == [
            ".XXX.",
            "X...X",
            "X...X",
            "X...X",
            "XXXXX",
            "X...X",
            "X...X",
            ".....",
        ])
    }

    @Test func lowercaseGHasADescender() {
        #expect(picture("g") == [
            ".....",
            ".....",
            ".XXXX",
            "X...X",
            "X...X",
            ".XXXX",
            "....X",
            "XXXX.",
        ])
    }

    @Test func spaceHasNoLitPixels() {
        let image = Image.text("   ", scale: 2, color: .white, background: .black, margin: 0)
        #expect(image.width == BitmapFont.width(of: "   ", scale: 2))
        #expect(image.pixels.allSatisfy { $0 == 0 })
    }

    @Test func widthCountsAdvanceWithoutTrailingGap() {
        // 5 characters x 6 px advance - 1 trailing gap = 29; at scale 2: 58.
        #expect(BitmapFont.width(of: "t=250") == 29)
        #expect(BitmapFont.width(of: "t=250", scale: 2) == 58)
        #expect(BitmapFont.width(of: "") == 0)
    }

    @Test func scaleMakesBlocks() {
        let one = Image.text("1", scale: 1, background: .black, margin: 0)
        let three = Image.text("1", scale: 3, background: .black, margin: 0)
        #expect(three == one.upscaled(by: 3))
    }

    @Test func nonASCIIIsSubstituted() {
        #expect(picture("≈") == picture("~"))
        #expect(picture("ᾱ") == picture("a"))
        #expect(picture("\u{4E2D}") == picture("?"))  // a CJK character: no glyph
    }

    @Test func wrapBreaksAtSpaces() {
        // "red circle top left": 19 chars. Max 64 px holds 10 chars (10*6-1 = 59).
        #expect(BitmapFont.wrap("red circle top left", maxWidth: 64) == ["red circle", "top left"])
    }

    @Test func verticalTextReadsBottomToTop() {
        // "A" rotated counter-clockwise: its left column (0x7E) becomes the bottom row.
        var image = Image(width: 8, height: 5, channels: 1, color: .black)
        image.drawText("A", x: 0, y: 0, scale: 1, color: .white, vertical: true)
        // Bottom row (y = 4) holds the glyph's column 0: rows 1...6 lit -> x 1...6.
        #expect((0..<8).map { image[$0, 4, 0] == 255 } == [false, true, true, true, true, true, true, false])
    }
}

@Suite struct ImageGridTests {
    /// A w x h RGB image, black except one pixel of `color` at (px, py).
    func marked(_ w: Int, _ h: Int, at px: Int, _ py: Int, _ color: Color) -> Image {
        var image = Image(width: w, height: h, channels: 3, color: .black)
        image.setPixel(x: px, y: py, color)
        return image
    }

    @Test func sizeAndPlacementWithoutLabels() {
        // Three 2x3 images, 2 per row, scale 3, padding 2 -> cells 6x9.
        // Width  = 2 + 6 + 2 + 6 + 2 = 18; height = 2 + 9 + 2 + 9 + 2 = 24.
        let images = [
            marked(2, 3, at: 0, 0, .red),
            marked(2, 3, at: 1, 2, .green),
            marked(2, 3, at: 1, 0, .blue),
        ]
        let grid = ImageGrid(images: images, columns: 2, scale: 3, padding: 2).render()
        #expect(grid.width == 18 && grid.height == 24)
        // Image 1 (row 0, column 1) starts at x = 2 + 6 + 2 = 10, y = 2. Its
        // pixel (1, 2) becomes the 3x3 block x 13...15, y 8...10.
        for y in 8...10 { for x in 13...15 { #expect(grid.color(x: x, y: y) == .green) } }
        #expect(grid.color(x: 12, y: 9) == .black)   // the image's pixel (0, 2)
        #expect(grid.color(x: 16, y: 9) == .darkBackground)  // padding
        // Image 2 (row 1, column 0) starts at (2, 13); pixel (1, 0) -> x 5...7, y 13...15.
        for y in 13...15 { for x in 5...7 { #expect(grid.color(x: x, y: y) == .blue) } }
        // Image 0's pixel (0, 0) -> x 2...4, y 2...4.
        #expect(grid.color(x: 2, y: 2) == .red && grid.color(x: 4, y: 4) == .red)
        // The missing fourth cell is background.
        #expect(grid.color(x: 12, y: 16) == .darkBackground)
    }

    @Test func labelsMoveCellsAndLayoutSaysWhere() {
        let images = [marked(4, 4, at: 0, 0, .red), marked(4, 4, at: 0, 0, .red)]
        // Scale 8: cells are 32 px, wider than the labels, so images sit at columnX.
        let grid = ImageGrid(images: images, columns: 2, scale: 8, padding: 3,
                             rowLabels: ["seed 1"], columnLabels: ["t=0", "t=999"], title: "Samples")
        let layout = grid.layout()
        let image = grid.render()
        #expect(image.width == layout.width && image.height == layout.height)
        // Row labels push the cells right, the title and column labels push them down.
        #expect(layout.columnX[0] >= 3 + BitmapFont.width(of: "seed 1") + 3)
        #expect(layout.rowY[0] >= 3 + BitmapFont.height(scale: 2) + BitmapFont.height(scale: 1))
        // Each image's top-left block is where the layout says.
        for c in 0..<2 {
            #expect(image.color(x: layout.columnX[c], y: layout.rowY[0]) == .red)
            #expect(image.color(x: layout.columnX[c] + 7, y: layout.rowY[0] + 7) == .red)
            #expect(image.color(x: layout.columnX[c] + 8, y: layout.rowY[0]) == .black)
        }
        // Some white text exists above the first row (the title and column labels).
        let textAbove = (0..<layout.rowY[0]).contains { y in
            (0..<image.width).contains { image.color(x: $0, y: y) == .white }
        }
        #expect(textAbove)
    }

    @Test func longColumnLabelWrapsWithinTheCell() {
        // Cells 16 * 4 = 64 px wide; "red circle top left" wraps into 2 lines.
        let grid = ImageGrid(images: [Image(width: 16, height: 16, channels: 3)], columns: 1, scale: 4,
                             columnLabels: ["red circle top left"])
        let layout = grid.layout()
        #expect(layout.columnLabelLines == [["red circle", "top left"]])
        #expect(layout.columnWidths == [64])
    }
}
