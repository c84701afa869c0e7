// Chapter 0 end to end: run `00-tensors --quick` and check what a learner would look at.

import Foundation
import Imaging
import Testing

@Suite("Chapter00 end to end")
struct Chapter00Tests {
    /// `which -> (w, b)` from fit.csv.
    func readFit(_ directory: String) throws -> [String: (w: Double, b: Double)] {
        let text = try String(contentsOfFile: directory + "/fit.csv", encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        #expect(lines.removeFirst() == "which,w,b,mse")
        var result: [String: (w: Double, b: Double)] = [:]
        for line in lines {
            let cells = line.split(separator: ",").map(String.init)
            try #require(cells.count == 4, "fit.csv line '\(line)'")
            result[cells[0]] = (try #require(Double(cells[1])), try #require(Double(cells[2])))
        }
        return result
    }

    @Test("--quick writes the notebook, its figures and a fit near the truth")
    func quickRun() throws {
        let dir = temporaryDirectory("ch00")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runChapter("00-tensors", ["--quick", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")

        // The notebook: every section, in order.
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let headings = ["# Chapter 0: tensors and gradients",
                        "## 0.1 A tensor is a shape and a flat array", "## 0.2 Broadcasting", "## 0.3 The recorded graph",
                        "## 0.4 Backward, step by step", "## 0.5 Checking a gradient", "## 0.6 Gradient descent fits a line"]
        let found = report.split(separator: "\n").filter { $0.hasPrefix("#") }.map(String.init)
        #expect(found == headings)

        // What the sections must show.
        #expect(report.contains("transposed.data = [0, 3, 1, 4, 2, 5]"))
        #expect(report.contains("[20, 21, 22, 23]"), "the [3, 1] + [4] grid")
        #expect(report.contains("leaf w [1, 1]") && report.contains("constant x [4, 1]") && report.contains("matmul [4, 1]"),
                "the graph of 0.3 with its names")
        #expect(report.contains("a.grad = -24   b.grad = 16   c.grad = 8"), "backward of L = (a·b + c)² at a = 2, b = −3, c = 10")
        #expect(report.contains("autodiff: u.grad = 7"))
        // Six correct ops pass the gradient check and the two 1 % mutations fail.
        let verdicts = report.split(separator: "\n").filter { $0.hasPrefix("|") }.compactMap { $0.split(separator: "|").last }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(verdicts.filter { $0 == "pass" }.count == 6, "\(verdicts)")
        #expect(verdicts.filter { $0 == "FAIL" }.count == 2, "\(verdicts)")
        #expect(report.contains("identical to the hand-written loop."))

        // Figures: each linked PNG exists and decodes at a readable size.
        let links = report.matches(of: #/!\[[^\]]*\]\(([^)]+)\)/#).map { String($0.output.1) }
        #expect(links == ["loss.png", "fit.png"])
        for link in links {
            let image = try Image.readPNG(dir + "/" + link)
            #expect(image.width >= 400 && image.height >= 300, "\(link) is \(image.width)×\(image.height)")
            #expect(Set(image.pixels).count > 2, "\(link) is blank")
        }

        // The fit: near the truth y = 2x − 1 (noise σ = 0.3 on 50 points gives ~0.05 of sampling error),
        // and gradient descent agrees with the closed-form least-squares answer.
        let fit = try readFit(dir)
        let gd = try #require(fit["gradient-descent"]), ls = try #require(fit["least-squares"])
        #expect(abs(gd.w - 2) < 0.15 && abs(gd.b + 1) < 0.15, "fitted w = \(gd.w), b = \(gd.b)")
        #expect(abs(gd.w - ls.w) < 1e-3 && abs(gd.b - ls.b) < 1e-3, "gradient descent \(gd) vs least squares \(ls)")
        let losses = try String(contentsOfFile: dir + "/loss.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .compactMap { Double($0.split(separator: ",")[1]) }
        #expect(losses.count == 100)
        #expect(losses.last! < 0.2 && losses.first! > 10 * losses.last!, "loss \(losses.first!) -> \(losses.last!)")
    }

    @Test("the same seed gives the same run; another seed other data")
    func seeds() throws {
        let dirs = (0..<3).map { _ in temporaryDirectory("ch00-seed") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        for (dir, seed) in zip(dirs, ["5", "5", "6"]) {
            let run = try runChapter("00-tensors", ["--quick", "--seed", seed, "--out", dir])
            #expect(run.status == 0, "stderr: \(run.stderr)")
        }
        let reports = try dirs.map { try String(contentsOfFile: $0 + "/report.md", encoding: .utf8) }
        #expect(reports[0] == reports[1])
        #expect(reports[0] != reports[2])
        #expect(try readFit(dirs[0])["gradient-descent"]!.w != readFit(dirs[2])["gradient-descent"]!.w)
    }

    @Test("an unknown flag stops with status 2 and names it")
    func unknownFlag() throws {
        let run = try runChapter("00-tensors", ["--quick", "--no-such-flag"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--no-such-flag"), "stderr: \(run.stderr)")
    }
}
