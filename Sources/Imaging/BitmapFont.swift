// A 5×7 bitmap font for printable ASCII, so figures can carry labels without
// any font library. Glyphs are the classic 5×7 LCD character set (the one
// HD44780/PCD8544 displays made familiar), stored column by column: each glyph
// is 5 bytes, one per column from left to right, bit 0 = top row ... bit 6 =
// baseline row. We redrew g, j, p, q, y with a descender in an eighth row
// (bit 7): without one, "g" reads as "9" and "p" floats. Text is drawn at an integer scale (each font pixel becomes a
// scale × scale block), so it stays crisp.
//
// Characters outside ASCII are mapped to a close ASCII spelling first
// ('≈' → '~', '−' → '-', '×' → 'x', 'ᾱ'/'α' → 'a', ...); anything else is '?'.

/// The built-in 5×7 pixel font (capitals and digits 7 rows tall, descenders
/// one row below). A glyph cell is 6 × 10 pixels at scale 1.
public enum BitmapFont {
    public static let glyphWidth = 5
    public static let glyphHeight = 8  // 7 rows + 1 for descenders
    /// Horizontal distance between the starts of two characters, at scale 1.
    public static let advance = 6
    /// Vertical distance between two lines of text, at scale 1.
    public static let lineHeight = 10

    /// Whether the font pixel (column, row) of `character` is lit; column in
    /// 0..<5, row in 0..<8 (row 0 at the top, row 6 the baseline, row 7 for descenders).
    public static func isLit(_ character: Character, column: Int, row: Int) -> Bool {
        guard column >= 0, column < glyphWidth, row >= 0, row < glyphHeight else { return false }
        return glyph(character)[column] >> UInt8(row) & 1 == 1
    }

    /// Width in pixels of one line of `text` at `scale` (no trailing spacing).
    public static func width(of text: String, scale: Int = 1) -> Int {
        let n = asciiText(text).count
        return n == 0 ? 0 : (n * advance - 1) * scale
    }

    /// Height in pixels of one line of text at `scale`.
    public static func height(scale: Int = 1) -> Int { glyphHeight * scale }

    /// Breaks `text` into lines no wider than `maxWidth` pixels at `scale`,
    /// at spaces where possible (a single word wider than `maxWidth` keeps its
    /// own line). Explicit "\n" also breaks.
    public static func wrap(_ text: String, maxWidth: Int, scale: Int = 1) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                let candidate = line.isEmpty ? String(word) : line + " " + word
                if line.isEmpty || width(of: candidate, scale: scale) <= maxWidth {
                    line = candidate
                } else {
                    lines.append(line)
                    line = String(word)
                }
            }
            lines.append(line)
        }
        return lines
    }

    /// The text with every character replaced by the one the font draws.
    static func asciiText(_ text: String) -> [Character] {
        var out: [Character] = []
        for ch in text {
            if let ascii = ch.asciiValue, ascii >= 0x20, ascii < 0x7F {
                out.append(ch)
            } else if let replacement = substitutes[ch] {
                out.append(contentsOf: replacement)
            } else {
                out.append("?")
            }
        }
        return out
    }

    static let substitutes: [Character: String] = [
        "≈": "~", "−": "-", "–": "-", "—": "-", "×": "x", "·": ".", "…": "...",
        "α": "a", "ᾱ": "a", "β": "b", "ε": "e", "σ": "s", "θ": "o", "μ": "u", "±": "+-",
        "≤": "<=", "≥": ">=", "→": "->", "√": "sqrt", "²": "^2", "\t": " ",
        "‘": "'", "’": "'", "“": "\"", "”": "\"",
    ]

    /// The 5 column bytes of a printable ASCII character ('?' for others).
    static func glyph(_ character: Character) -> ArraySlice<UInt8> {
        var code = Int(character.asciiValue ?? 0x3F)
        if code < 0x20 || code > 0x7E { code = 0x3F }
        let start = (code - 0x20) * 5
        return glyphs[start..<(start + 5)]
    }

    /// 95 glyphs, 0x20 (space) through 0x7E (~), 5 column bytes each.
    static let glyphs: [UInt8] = [
        0x00, 0x00, 0x00, 0x00, 0x00,  // 20 space
        0x00, 0x00, 0x5F, 0x00, 0x00,  // 21 !
        0x00, 0x07, 0x00, 0x07, 0x00,  // 22 "
        0x14, 0x7F, 0x14, 0x7F, 0x14,  // 23 #
        0x24, 0x2A, 0x7F, 0x2A, 0x12,  // 24 $
        0x23, 0x13, 0x08, 0x64, 0x62,  // 25 %
        0x36, 0x49, 0x55, 0x22, 0x50,  // 26 &
        0x00, 0x05, 0x03, 0x00, 0x00,  // 27 '
        0x00, 0x1C, 0x22, 0x41, 0x00,  // 28 (
        0x00, 0x41, 0x22, 0x1C, 0x00,  // 29 )
        0x14, 0x08, 0x3E, 0x08, 0x14,  // 2A *
        0x08, 0x08, 0x3E, 0x08, 0x08,  // 2B +
        0x00, 0x50, 0x30, 0x00, 0x00,  // 2C ,
        0x08, 0x08, 0x08, 0x08, 0x08,  // 2D -
        0x00, 0x60, 0x60, 0x00, 0x00,  // 2E .
        0x20, 0x10, 0x08, 0x04, 0x02,  // 2F /
        0x3E, 0x51, 0x49, 0x45, 0x3E,  // 30 0
        0x00, 0x42, 0x7F, 0x40, 0x00,  // 31 1
        0x42, 0x61, 0x51, 0x49, 0x46,  // 32 2
        0x21, 0x41, 0x45, 0x4B, 0x31,  // 33 3
        0x18, 0x14, 0x12, 0x7F, 0x10,  // 34 4
        0x27, 0x45, 0x45, 0x45, 0x39,  // 35 5
        0x3C, 0x4A, 0x49, 0x49, 0x30,  // 36 6
        0x01, 0x71, 0x09, 0x05, 0x03,  // 37 7
        0x36, 0x49, 0x49, 0x49, 0x36,  // 38 8
        0x06, 0x49, 0x49, 0x29, 0x1E,  // 39 9
        0x00, 0x36, 0x36, 0x00, 0x00,  // 3A :
        0x00, 0x56, 0x36, 0x00, 0x00,  // 3B ;
        0x08, 0x14, 0x22, 0x41, 0x00,  // 3C <
        0x14, 0x14, 0x14, 0x14, 0x14,  // 3D =
        0x00, 0x41, 0x22, 0x14, 0x08,  // 3E >
        0x02, 0x01, 0x51, 0x09, 0x06,  // 3F ?
        0x32, 0x49, 0x79, 0x41, 0x3E,  // 40 @
        0x7E, 0x11, 0x11, 0x11, 0x7E,  // 41 A
        0x7F, 0x49, 0x49, 0x49, 0x36,  // 42 B
        0x3E, 0x41, 0x41, 0x41, 0x22,  // 43 C
        0x7F, 0x41, 0x41, 0x22, 0x1C,  // 44 D
        0x7F, 0x49, 0x49, 0x49, 0x41,  // 45 E
        0x7F, 0x09, 0x09, 0x09, 0x01,  // 46 F
        0x3E, 0x41, 0x49, 0x49, 0x7A,  // 47 G
        0x7F, 0x08, 0x08, 0x08, 0x7F,  // 48 H
        0x00, 0x41, 0x7F, 0x41, 0x00,  // 49 I
        0x20, 0x40, 0x41, 0x3F, 0x01,  // 4A J
        0x7F, 0x08, 0x14, 0x22, 0x41,  // 4B K
        0x7F, 0x40, 0x40, 0x40, 0x40,  // 4C L
        0x7F, 0x02, 0x0C, 0x02, 0x7F,  // 4D M
        0x7F, 0x04, 0x08, 0x10, 0x7F,  // 4E N
        0x3E, 0x41, 0x41, 0x41, 0x3E,  // 4F O
        0x7F, 0x09, 0x09, 0x09, 0x06,  // 50 P
        0x3E, 0x41, 0x51, 0x21, 0x5E,  // 51 Q
        0x7F, 0x09, 0x19, 0x29, 0x46,  // 52 R
        0x46, 0x49, 0x49, 0x49, 0x31,  // 53 S
        0x01, 0x01, 0x7F, 0x01, 0x01,  // 54 T
        0x3F, 0x40, 0x40, 0x40, 0x3F,  // 55 U
        0x1F, 0x20, 0x40, 0x20, 0x1F,  // 56 V
        0x3F, 0x40, 0x38, 0x40, 0x3F,  // 57 W
        0x63, 0x14, 0x08, 0x14, 0x63,  // 58 X
        0x07, 0x08, 0x70, 0x08, 0x07,  // 59 Y
        0x61, 0x51, 0x49, 0x45, 0x43,  // 5A Z
        0x00, 0x7F, 0x41, 0x41, 0x00,  // 5B [
        0x02, 0x04, 0x08, 0x10, 0x20,  // 5C backslash
        0x00, 0x41, 0x41, 0x7F, 0x00,  // 5D ]
        0x04, 0x02, 0x01, 0x02, 0x04,  // 5E ^
        0x40, 0x40, 0x40, 0x40, 0x40,  // 5F _
        0x00, 0x01, 0x02, 0x04, 0x00,  // 60 `
        0x20, 0x54, 0x54, 0x54, 0x78,  // 61 a
        0x7F, 0x48, 0x44, 0x44, 0x38,  // 62 b
        0x38, 0x44, 0x44, 0x44, 0x20,  // 63 c
        0x38, 0x44, 0x44, 0x48, 0x7F,  // 64 d
        0x38, 0x54, 0x54, 0x54, 0x18,  // 65 e
        0x08, 0x7E, 0x09, 0x01, 0x02,  // 66 f
        0x98, 0xA4, 0xA4, 0xA4, 0x7C,  // 67 g (descender)
        0x7F, 0x08, 0x04, 0x04, 0x78,  // 68 h
        0x00, 0x44, 0x7D, 0x40, 0x00,  // 69 i
        0x40, 0x80, 0x80, 0x7D, 0x00,  // 6A j (descender)
        0x7F, 0x10, 0x28, 0x44, 0x00,  // 6B k
        0x00, 0x41, 0x7F, 0x40, 0x00,  // 6C l
        0x7C, 0x04, 0x18, 0x04, 0x78,  // 6D m
        0x7C, 0x08, 0x04, 0x04, 0x78,  // 6E n
        0x38, 0x44, 0x44, 0x44, 0x38,  // 6F o
        0xFC, 0x24, 0x24, 0x24, 0x18,  // 70 p (descender)
        0x18, 0x24, 0x24, 0x24, 0xFC,  // 71 q (descender)
        0x7C, 0x08, 0x04, 0x04, 0x08,  // 72 r
        0x48, 0x54, 0x54, 0x54, 0x20,  // 73 s
        0x04, 0x3F, 0x44, 0x40, 0x20,  // 74 t
        0x3C, 0x40, 0x40, 0x20, 0x7C,  // 75 u
        0x1C, 0x20, 0x40, 0x20, 0x1C,  // 76 v
        0x3C, 0x40, 0x30, 0x40, 0x3C,  // 77 w
        0x44, 0x28, 0x10, 0x28, 0x44,  // 78 x
        0x9C, 0xA0, 0xA0, 0xA0, 0x7C,  // 79 y (descender)
        0x44, 0x64, 0x54, 0x4C, 0x44,  // 7A z
        0x00, 0x08, 0x36, 0x41, 0x00,  // 7B {
        0x00, 0x00, 0x7F, 0x00, 0x00,  // 7C |
        0x00, 0x41, 0x36, 0x08, 0x00,  // 7D }
        0x08, 0x04, 0x08, 0x10, 0x08,  // 7E ~
    ]
}

extension Image {
    /// Draws one line of `text` with its top-left corner at (x, y), each font
    /// pixel a `scale` × `scale` block; only lit pixels are painted, so the
    /// background shows through. With `vertical: true` the text runs bottom to
    /// top (rotated 90° counter-clockwise), for a y-axis label; (x, y) is then
    /// the top-left corner of the rotated text's box.
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1,
                                  color: Color = .white, vertical: Bool = false) {
        let characters = BitmapFont.asciiText(text)
        let s = max(1, scale)
        let totalWidth = BitmapFont.width(of: text, scale: s)
        for (index, character) in characters.enumerated() {
            let columns = BitmapFont.glyph(character)
            for (column, bits) in columns.enumerated() where bits != 0 {
                for row in 0..<BitmapFont.glyphHeight where bits >> UInt8(row) & 1 == 1 {
                    // Font pixel position in unrotated text coordinates.
                    let u = (index * BitmapFont.advance + column) * s
                    let v = row * s
                    if vertical {
                        // Rotate CCW: text u runs up from the bottom of the box.
                        fillRect(x: x + v, y: y + totalWidth - u - s, width: s, height: s, color)
                    } else {
                        fillRect(x: x + u, y: y + v, width: s, height: s, color)
                    }
                }
            }
        }
    }

    /// A new image holding `text` (several lines allowed, separated by "\n"),
    /// light text on a dark background, with `margin` pixels around it.
    public static func text(_ text: String, scale: Int = 1, color: Color = .white,
                            background: Color = .darkBackground, margin: Int = 2) -> Image {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let w = lines.map { BitmapFont.width(of: $0, scale: scale) }.max() ?? 0
        let h = lines.isEmpty ? 0 : ((lines.count - 1) * BitmapFont.lineHeight + BitmapFont.glyphHeight) * scale
        var image = Image(width: w + 2 * margin, height: h + 2 * margin, channels: 3, color: background)
        for (i, line) in lines.enumerated() {
            image.drawText(line, x: margin, y: margin + i * BitmapFont.lineHeight * scale, scale: scale, color: color)
        }
        return image
    }
}
