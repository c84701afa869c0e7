// Appendix A end to end: run `a-fast --quick` and check what a learner would look at — every rung's
// section, both figures, and a ladder in which every rung computes the right product at a real speed.

import Foundation
import Imaging
import Testing

@Suite("Appendix A (a-fast) end to end")
struct AppendixFastTests {
    /// The fields of one CSV line (RFC 4180: a field may be quoted, "" inside quotes is a quote).
    func fields(_ line: String) -> [String] {
        var out: [String] = [], field = "", quoted = false, previous: Character? = nil
        for ch in line {
            if quoted {
                if ch == "\"" { quoted = false } else { field.append(ch) }
            } else if ch == "\"" {
                if previous == "\"" { field.append("\"") }
                quoted = true
            } else if ch == "," {
                out.append(field); field = ""
            } else {
                field.append(ch)
            }
            previous = ch
        }
        out.append(field)
        return out
    }

    /// A CSV file as its header and rows of named fields.
    func readCSV(_ path: String) throws -> (header: [String], rows: [[String: String]]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = fields(try #require(lines.first, "\(path) is empty"))
        let rows = try lines.dropFirst().map { line -> [String: String] in
            let cells = fields(line)
            try #require(cells.count == header.count, "\(path): '\(line)' has \(cells.count) fields, the header \(header.count)")
            return Dictionary(uniqueKeysWithValues: zip(header, cells))
        }
        return (header, rows)
    }

    @Test("--quick writes every rung's section, both figures, and a ladder of correct products")
    func quickRun() throws {
        let dir = temporaryDirectory("appendix-fast")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("a-fast", ["--quick", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")

        // The notebook: every section, in order.
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let headings = ["# Appendix A: how the matrix multiply got fast",
                        "## A.1 The ceiling: the machine's FMA peak", "## A.2 Rung 1: the naive triple loop",
                        "## A.3 Rung 2: loop order i-k-j", "## A.4 Rung 3: cache blocking",
                        "## A.5 Rung 4: packing and a register tile", "## A.6 Rung 5: vectors and fused multiply-add",
                        "## A.7 Rung 6: the library's gemm on one thread", "## A.8 Rung 7: the library's gemm on all threads",
                        "## A.9 The ladder", "## A.10 The roofline", "## A.11 Further reading"]
        let found = report.split(separator: "\n").filter { $0.hasPrefix("#") }.map(String.init)
        #expect(found == headings)
        // The library's promise, checked by the run: the same bits on one thread and on all.
        #expect(report.contains("and on one thread: **the same bits**."), "rung 7's C must equal rung 6's, bit for bit")

        // Figures: each linked PNG exists and decodes at a readable size.
        let links = report.matches(of: #/!\[[^\]]*\]\(([^)]+)\)/#).map { String($0.output.1) }
        #expect(links == ["ladder.png", "roofline.png"])
        for link in links {
            let image = try Image.readPNG(dir + "/" + link)
            #expect(image.width >= 640 && image.height >= 480, "\(link) is \(image.width)×\(image.height)")
            #expect(Set(image.pixels).count > 2, "\(link) is blank")
        }

        // The ladder: every rung, a positive finite speed, and the product it computed close to the naive one.
        let ladder = try readCSV(dir + "/ladder.csv")
        #expect(ladder.header == ["rung", "name", "m", "n", "k", "threads", "peak_bits", "gflops", "gflops_median", "max_error", "peak_gflops"])
        let ids = ladder.rows.compactMap { $0["rung"] }
        #expect(ids.prefix(5) == ["1", "2", "3", "4", "5"] && ids.last == "7", "\(ids)")
        #expect(ids.contains("6") || ids.contains("6a"), "\(ids)")
        for row in ladder.rows {
            let rung = row["rung"] ?? "?"
            let gflops = try #require(Double(row["gflops"] ?? ""), "rung \(rung): gflops '\(row["gflops"] ?? "")'")
            let peak = try #require(Double(row["peak_gflops"] ?? ""), "rung \(rung): peak_gflops")
            #expect(gflops.isFinite && gflops > 0, "rung \(rung): \(gflops) GFLOP/s")
            #expect(peak.isFinite && peak > 0, "rung \(rung): peak \(peak) GFLOP/s")
            // Tolerance: the entries are uniform in [−1, 1], so Σ_p |A[i,p]·B[p,j]| ≤ k, and any order of the k
            // Float32 products' sum is within γ_k·k of the exact value (Higham 2002, §3.1; γ_k = k·u/(1 − k·u),
            // u = 2⁻²⁴). Two orders differ by at most twice that: 1.1e-3 for the --quick run's k = 96. A wrong
            // index or a missed k block gives errors of order 1.
            let k = Double(try #require(Int(row["k"] ?? ""), "rung \(rung): k"))
            let u = pow(2.0, -24.0), gamma = k * u / (1 - k * u)
            let error = try #require(Double(row["max_error"] ?? ""), "rung \(rung): max_error")
            #expect(error >= 0 && error <= 2 * gamma * k, "rung \(rung): max |C − C_naive| = \(error), bound \(2 * gamma * k)")
        }
        // Rungs 2 and 3 reorder the loops but add each C[i, j]'s products in the naive order: the same bits.
        for row in ladder.rows where ["2", "3"].contains(row["rung"] ?? "") {
            #expect(row["max_error"] == "0.0", "rung \(row["rung"]!): \(row["max_error"] ?? "")")
        }

        // The roofline: every point at a positive intensity and speed, with the bandwidth measured.
        let roofline = try readCSV(dir + "/roofline.csv")
        #expect(roofline.rows.filter { $0["kernel"]?.hasPrefix("bandwidth") == true }.count == 2)
        for row in roofline.rows where row["kernel"]?.hasPrefix("bandwidth") == false {
            let i = Double(row["intensity"] ?? ""), g = Double(row["gflops"] ?? "")
            #expect(i.map { $0 > 0 && $0.isFinite } == true && g.map { $0 > 0 && $0.isFinite } == true, "\(row)")
        }

        // Every code excerpt in the report is code that runs: each line (comments aside) is a line of the
        // chapter's Kernels.swift or of the library's Matmul.swift.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sources = try ["Chapters/A-Fast/Kernels.swift", "Sources/Tensor/Kernels/Matmul.swift"].flatMap {
            try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8).split(separator: "\n")
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let known = Set(sources)
        let excerpts = report.matches(of: #/```swift\n([\s\S]*?)```/#).map { String($0.output.1) }
        #expect(excerpts.count >= 5, "the rungs' code excerpts")
        let missing = excerpts.flatMap { $0.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty && !$0.hasPrefix("//") && !known.contains($0) }
        #expect(missing.isEmpty, "report excerpt lines that are not in Kernels.swift or Matmul.swift: \(missing)")
    }

    @Test("an unknown flag stops with status 2 and names it")
    func unknownFlag() throws {
        let run = try runChapter("a-fast", ["--quick", "--no-such-flag"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--no-such-flag"), "stderr: \(run.stderr)")
    }
}
