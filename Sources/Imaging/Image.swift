// Image: the 8-bit raster every figure of the course passes through.
//
// A model produces Float tensors, channel-planar ([C, H, W]) and usually in
// -1...1; a person looks at PNG files. `Image` sits between the two: 8-bit
// pixels, row-major, channels interleaved (R, G, B, R, G, B, ... or one gray
// byte per pixel), the layout libpng reads and writes. The Float initialisers
// say exactly how a value becomes a byte (see `Image.byte(_:range:)`).
//
// Drawing helpers (pixels, rectangles, lines, discs, pasting) live here too;
// text is in BitmapFont.swift, grids in ImageGrid.swift, plots in Plot.swift.
import Foundation

/// An error from the Imaging module. Its description names the file (when there
/// is one) and what went wrong, e.g.
/// `not a PNG file: /x/y.txt (libpng: Not a PNG file)`.
public struct ImagingError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// An 8-bit sRGB colour.
public struct Color: Equatable, Hashable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public init(gray: UInt8) { self.init(gray, gray, gray) }

    public static let black = Color(0, 0, 0)
    public static let white = Color(255, 255, 255)
    public static let red = Color(255, 0, 0)
    public static let green = Color(0, 255, 0)
    public static let blue = Color(0, 0, 255)
    /// Dark gray: the background of grids (text on it is white).
    public static let darkBackground = Color(24, 24, 28)

    /// Ten distinguishable colours for plot series (matplotlib's "tab10").
    public static let palette: [Color] = [
        Color(31, 119, 180), Color(255, 127, 14), Color(44, 160, 44), Color(214, 39, 40),
        Color(148, 103, 189), Color(140, 86, 75), Color(227, 119, 194), Color(127, 127, 127),
        Color(188, 189, 34), Color(23, 190, 207),
    ]

    /// Luma (ITU-R BT.601 weights), rounded: how a colour becomes one gray byte.
    public var luma: UInt8 {
        let red: Double = 0.299 * Double(r)
        let green: Double = 0.587 * Double(g)
        let blue: Double = 0.114 * Double(b)
        return UInt8((red + green + blue).rounded())
    }
}

/// An 8-bit image: `width` × `height` pixels, `channels` bytes per pixel
/// (1 = gray, 3 = RGB), stored row-major with channels interleaved:
/// the byte for (x, y, c) is `pixels[(y * width + x) * channels + c]`.
public struct Image: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    /// An image from its bytes. A wrong byte count or channel count stops the
    /// program with a message (it is a programming error, not a runtime condition).
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        Image.checkGeometry(width: width, height: height, channels: channels)
        if pixels.count != width * height * channels {
            fatalError("Image: \(width)x\(height)x\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image filled with one colour (gray images take the colour's luma).
    public init(width: Int, height: Int, channels: Int = 3, color: Color = .black) {
        Image.checkGeometry(width: width, height: height, channels: channels)
        self.width = width
        self.height = height
        self.channels = channels
        if channels == 1 {
            pixels = [UInt8](repeating: color.luma, count: width * height)
        } else {
            pixels = [UInt8](repeating: 0, count: width * height * 3)
            for i in 0..<(width * height) {
                pixels[3 * i] = color.r
                pixels[3 * i + 1] = color.g
                pixels[3 * i + 2] = color.b
            }
        }
    }

    /// An image from Float values laid out like `pixels` (row-major, channels
    /// interleaved, [H, W, C]); each value is mapped with `Image.byte(_:range:)`.
    public init(width: Int, height: Int, channels: Int, floats: [Float], range: ClosedRange<Float> = 0...1) {
        if floats.count != width * height * channels {
            fatalError("Image(floats:): \(width)x\(height)x\(channels) needs \(width * height * channels) values, got \(floats.count)")
        }
        self.init(width: width, height: height, channels: channels,
                  pixels: floats.map { Image.byte($0, range: range) })
    }

    /// An image from channel-planar Float values, the layout a tensor holds:
    /// [C, H, W], so the value for (x, y, c) is `chw[(c * height + y) * width + x]`.
    /// Each value is mapped with `Image.byte(_:range:)`; -1...1 is the usual range
    /// for a diffusion model's images.
    public init(chw: [Float], channels: Int, height: Int, width: Int, range: ClosedRange<Float> = -1...1) {
        Image.checkGeometry(width: width, height: height, channels: channels)
        if chw.count != channels * height * width {
            fatalError("Image(chw:): [\(channels), \(height), \(width)] needs \(channels * height * width) values, got \(chw.count)")
        }
        var bytes = [UInt8](repeating: 0, count: chw.count)
        let plane = height * width
        for c in 0..<channels {
            for i in 0..<plane {
                bytes[i * channels + c] = Image.byte(chw[c * plane + i], range: range)
            }
        }
        self.init(width: width, height: height, channels: channels, pixels: bytes)
    }

    /// The byte for a Float value: the range's lower end maps to 0 and its upper
    /// end to 255, linearly, rounded to the nearest integer (halves away from
    /// zero) and clamped to 0...255; NaN maps to 0.
    ///
    ///     byte = clamp(round((value - lower) / (upper - lower) * 255), 0, 255)
    ///
    /// With range -1...1: -1 → 0, 0 → 127.5 → 128, 0.5 → 191.25 → 191, 7 → 255.
    @inlinable
    public static func byte(_ value: Float, range: ClosedRange<Float>) -> UInt8 {
        let span = range.upperBound - range.lowerBound
        let scaled = span > 0 ? (value - range.lowerBound) / span * 255 : 0
        if !(scaled >= 0) { return 0 }  // negative or NaN
        if scaled >= 255 { return 255 }
        return UInt8(scaled.rounded(.toNearestOrAwayFromZero))
    }

    private static func checkGeometry(width: Int, height: Int, channels: Int) {
        if channels != 1 && channels != 3 {
            fatalError("Image: channels must be 1 (gray) or 3 (RGB), got \(channels)")
        }
        if width < 0 || height < 0 {
            fatalError("Image: width and height must not be negative, got \(width)x\(height)")
        }
    }

    // MARK: - Pixels

    /// The byte at (x, y, channel c).
    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// The colour at (x, y); a gray pixel gives a gray colour.
    public func color(x: Int, y: Int) -> Color {
        let i = (y * width + x) * channels
        return channels == 1 ? Color(gray: pixels[i]) : Color(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Sets the pixel at (x, y); coordinates outside the image are ignored, so
    /// drawing code may run over the edges.
    @inline(__always)
    public mutating func setPixel(x: Int, y: Int, _ color: Color) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * channels
        if channels == 1 {
            pixels[i] = color.luma
        } else {
            pixels[i] = color.r
            pixels[i + 1] = color.g
            pixels[i + 2] = color.b
        }
    }

    /// Fills the rectangle with top-left corner (x, y), clipped to the image.
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ color: Color) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 {
            for xx in x0..<x1 { setPixel(x: xx, y: yy, color) }
        }
    }

    /// Draws the 1-pixel outline of a rectangle.
    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, _ color: Color) {
        guard w > 0, h > 0 else { return }
        fillRect(x: x, y: y, width: w, height: 1, color)
        fillRect(x: x, y: y + h - 1, width: w, height: 1, color)
        fillRect(x: x, y: y, width: 1, height: h, color)
        fillRect(x: x + w - 1, y: y, width: 1, height: h, color)
    }

    /// Draws a line from (x0, y0) to (x1, y1), both ends included, with
    /// Bresenham's algorithm: every step moves one pixel along the major axis, so
    /// the line has no gaps. `thickness` > 1 stamps a small square at each pixel.
    public mutating func drawLine(x0: Int, y0: Int, x1: Int, y1: Int, _ color: Color, thickness: Int = 1) {
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        var x = x0, y = y0
        let lo = -(thickness - 1) / 2, hi = thickness / 2
        while true {
            if thickness <= 1 {
                setPixel(x: x, y: y, color)
            } else {
                for oy in lo...hi { for ox in lo...hi { setPixel(x: x + ox, y: y + oy, color) } }
            }
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// Fills a disc of the given radius centred on (cx, cy).
    public mutating func fillCircle(cx: Int, cy: Int, radius: Int, _ color: Color) {
        guard radius > 0 else { setPixel(x: cx, y: cy, color); return }
        let r2 = radius * radius + radius  // the +radius rounds the outline nicely
        for dy in -radius...radius {
            for dx in -radius...radius where dx * dx + dy * dy <= r2 {
                setPixel(x: cx + dx, y: cy + dy, color)
            }
        }
    }

    /// Copies `image` with its top-left corner at (x, y), clipped to this image.
    /// A gray image pasted into an RGB one is spread over the three channels;
    /// an RGB image pasted into a gray one is converted to luma.
    public mutating func paste(_ image: Image, x: Int, y: Int) {
        for sy in 0..<image.height {
            let ty = y + sy
            guard ty >= 0, ty < height else { continue }
            if image.channels == channels {
                let sx0 = max(0, -x), sx1 = min(image.width, width - x)
                guard sx0 < sx1 else { continue }
                let src = (sy * image.width + sx0) * channels
                let dst = (ty * width + x + sx0) * channels
                let n = (sx1 - sx0) * channels
                pixels.withUnsafeMutableBufferPointer { d in
                    image.pixels.withUnsafeBufferPointer { s in
                        for k in 0..<n { d[dst + k] = s[src + k] }
                    }
                }
            } else {
                for sx in 0..<image.width { setPixel(x: x + sx, y: ty, image.color(x: sx, y: sy)) }
            }
        }
    }

    // MARK: - Whole-image transforms

    /// The image enlarged by an integer factor with nearest-neighbour sampling:
    /// each pixel becomes a `factor` × `factor` block, so a 16×16 sample stays
    /// crisp at 64×64 (no blur that would hide what the model drew).
    public func upscaled(by factor: Int) -> Image {
        if factor < 1 { fatalError("Image.upscaled(by:): factor must be at least 1, got \(factor)") }
        if factor == 1 { return self }
        let w = width * factor, h = height * factor
        var out = [UInt8](repeating: 0, count: w * h * channels)
        for y in 0..<h {
            let sy = y / factor
            for x in 0..<w {
                let s = (sy * width + x / factor) * channels
                let d = (y * w + x) * channels
                for c in 0..<channels { out[d + c] = pixels[s + c] }
            }
        }
        return Image(width: w, height: h, channels: channels, pixels: out)
    }

    /// The same picture with 3 channels (gray bytes repeated).
    public func rgb() -> Image {
        if channels == 3 { return self }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            out[3 * i] = pixels[i]; out[3 * i + 1] = pixels[i]; out[3 * i + 2] = pixels[i]
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// The same picture with 1 channel (BT.601 luma, see `Color.luma`).
    public func gray() -> Image {
        if channels == 1 { return self }
        var out = [UInt8](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            out[i] = Color(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]).luma
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }

    /// Images side by side, left to right, `gap` pixels apart on `background`
    /// (e.g. a noise strip x_0, x_100, ..., x_999). Heights may differ; all are
    /// top-aligned. The result is RGB unless every image is gray.
    public static func hstack(_ images: [Image], gap: Int = 0, background: Color = .darkBackground) -> Image {
        let w = images.reduce(0) { $0 + $1.width } + gap * max(0, images.count - 1)
        let h = images.map(\.height).max() ?? 0
        let channels = images.allSatisfy { $0.channels == 1 } ? 1 : 3
        var out = Image(width: w, height: h, channels: channels, color: background)
        var x = 0
        for image in images {
            out.paste(image, x: x, y: 0)
            x += image.width + gap
        }
        return out
    }

    /// Images one above the other, top to bottom, `gap` pixels apart on `background`; left-aligned.
    public static func vstack(_ images: [Image], gap: Int = 0, background: Color = .darkBackground) -> Image {
        let w = images.map(\.width).max() ?? 0
        let h = images.reduce(0) { $0 + $1.height } + gap * max(0, images.count - 1)
        let channels = images.allSatisfy { $0.channels == 1 } ? 1 : 3
        var out = Image(width: w, height: h, channels: channels, color: background)
        var y = 0
        for image in images {
            out.paste(image, x: 0, y: y)
            y += image.height + gap
        }
        return out
    }
}
