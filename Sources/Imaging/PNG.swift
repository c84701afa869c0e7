// PNG files through the system libpng, using its "simplified" API
// (png_image_*). The classic API reports errors with longjmp, which Swift
// cannot survive; the simplified one returns 0 and leaves a message in
// `png_image.message`, which we put into the thrown error.
//
// Only 8-bit gray and 8-bit RGB are written. Any PNG can be read (palette,
// 16-bit, alpha, ...): libpng converts it to the layout we ask for; alpha is
// composited onto black (the Shapes dataset's background).
import CLibPNG
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Image {
    /// Writes the image as an 8-bit PNG (gray or RGB, as the image is).
    /// Parent directories are created; the file appears atomically
    /// (written to a temporary name, then renamed).
    public func writePNG(to path: String) throws {
        if width == 0 || height == 0 {
            throw ImagingError("cannot write PNG \(path): the image is empty (\(width)x\(height))")
        }
        try createParentDirectory(of: path)
        let temp = temporaryPath(beside: path)
        var image = png_image()
        image.version = clibpng_image_version()
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = channels == 1 ? clibpng_format_gray() : clibpng_format_rgb()
        let ok = pixels.withUnsafeBytes { bytes in
            // row_stride 0 means "packed rows", i.e. width * channels bytes.
            png_image_write_to_file(&image, temp, 0, bytes.baseAddress, 0, nil)
        }
        if ok == 0 {
            let message = libpngMessage(image)
            png_image_free(&image)
            unlink(temp)
            throw ImagingError("cannot write PNG \(path) (libpng: \(message))")
        }
        png_image_free(&image)
        try moveIntoPlace(temp, path)
    }

    /// Reads a PNG file. `channels` chooses the result: 1 (gray), 3 (RGB), or
    /// nil to keep what the file holds (gray files give gray, others RGB).
    /// Throws an `ImagingError` naming the file if it is missing, unreadable or
    /// not a PNG.
    public static func readPNG(_ path: String, channels: Int? = nil) throws -> Image {
        if let channels, channels != 1 && channels != 3 {
            throw ImagingError("cannot read PNG \(path): channels must be 1 or 3, got \(channels)")
        }
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            throw ImagingError("no such file: \(path)")
        }
        if isDirectory.boolValue {
            throw ImagingError("cannot read PNG \(path): it is a directory")
        }
        var image = png_image()
        image.version = clibpng_image_version()
        if png_image_begin_read_from_file(&image, path) == 0 {
            let message = libpngMessage(image)
            png_image_free(&image)
            if !hasPNGSignature(path) {
                throw ImagingError("not a PNG file: \(path) (libpng: \(message))")
            }
            throw ImagingError("cannot read PNG \(path) (libpng: \(message))")
        }
        let isColor = image.format & clibpng_format_flag_color() != 0
        let outChannels = channels ?? (isColor ? 3 : 1)
        image.format = outChannels == 1 ? clibpng_format_gray() : clibpng_format_rgb()
        let width = Int(image.width), height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * outChannels)
        var black = png_color(red: 0, green: 0, blue: 0)
        let ok = pixels.withUnsafeMutableBytes { bytes in
            png_image_finish_read(&image, &black, bytes.baseAddress, 0, nil)
        }
        if ok == 0 {
            let message = libpngMessage(image)
            png_image_free(&image)
            throw ImagingError("cannot read PNG \(path) (libpng: \(message))")
        }
        png_image_free(&image)
        return Image(width: width, height: height, channels: outChannels, pixels: pixels)
    }
}

/// libpng's message: a NUL-terminated C string in a fixed 64-byte field.
private func libpngMessage(_ image: png_image) -> String {
    var copy = image.message
    let text = withUnsafeBytes(of: &copy) { raw -> String in
        let bytes = raw.bindMemory(to: UInt8.self)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
    return text.isEmpty ? "unknown error" : text
}

/// Whether the file starts with the 8-byte PNG signature (\x89 P N G \r \n \x1a \n).
private func hasPNGSignature(_ path: String) -> Bool {
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    let head = handle.readData(ofLength: 8)
    return [UInt8](head) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
}
