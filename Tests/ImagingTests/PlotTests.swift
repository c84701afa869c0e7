import Foundation
import Testing
@testable import Imaging

@Suite struct TickTests {
    // Heckbert's loose labelling with count 6 (5 intervals), worked by hand:
    //   nice(x, round: false): 1, 2, 5 or 10 times 10^floor(log10 x), the first >= x
    //   nice(x, round: true):  the nearest of those (cut-offs 1.5, 3, 7)
    //   step = nice(nice(hi - lo, false) / 5, true); ticks floor(lo/step)...ceil(hi/step)
    @Test func zeroToOne() {
        // range nice(1) = 1; step nice(0.2) = 0.2 -> 0, 0.2, ..., 1.
        #expect(Plot.niceTicks(lower: 0, upper: 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
    }

    @Test func straddlingZero() {
        // range 5.9 -> nice 10; step nice(2) = 2; floor(-3.2/2) = -2, ceil(2.7/2) = 2.
        #expect(Plot.niceTicks(lower: -3.2, upper: 2.7) == [-4, -2, 0, 2, 4])
    }

    @Test func trainingSteps() {
        // range 999 -> nice 1000; step nice(200) = 200.
        #expect(Plot.niceTicks(lower: 0, upper: 999) == [0, 200, 400, 600, 800, 1000])
    }

    @Test func smallValuesAreExactDecimals() {
        // range 0.074 -> nice 0.1; step nice(0.02) = 0.02; floor(0.65) = 0, ceil(4.35) = 5.
        // 3 * 0.02 in floating point is 0.06000000000000001; the ticks must be the literals.
        #expect(Plot.niceTicks(lower: 0.013, upper: 0.087) == [0, 0.02, 0.04, 0.06, 0.08, 0.1])
    }

    @Test func degenerateRangeIsWidened() {
        // lo == hi == 3: widened to 1.5...4.5, range 3 -> nice 5, step nice(1) = 1.
        #expect(Plot.niceTicks(lower: 3, upper: 3) == [1, 2, 3, 4, 5])
    }

    @Test func logTicksAddTwoAndFiveOverFewDecades() {
        // log10(0.013) = -1.89 -> 10^-2; log10(0.9) = -0.05 -> 10^0: two decades.
        #expect(Plot.logTicks(lower: 0.013, upper: 0.9) == [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1])
        // 1e-4 ... 3: four decades, powers of ten only.
        #expect(Plot.logTicks(lower: 1e-4, upper: 3) == [1e-4, 1e-3, 1e-2, 0.1, 1, 10])
    }

    @Test func labelsUseTheDecimalsTheStepNeeds() {
        #expect(Plot.tickLabel(0.4, step: 0.2) == "0.4")
        #expect(Plot.tickLabel(0, step: 0.2) == "0.0")
        #expect(Plot.tickLabel(-0.0, step: 0.5) == "0.0")
        #expect(Plot.tickLabel(150, step: 50) == "150")
        #expect(Plot.tickLabel(0.06, step: 0.02) == "0.06")
        #expect(Plot.tickLabel(2_000_000, step: 1_000_000) == "2e6")
        #expect(Plot.logTickLabel(0.002) == "0.002")
        #expect(Plot.logTickLabel(500) == "500")
        #expect(Plot.logTickLabel(1e-6) == "1e-6")
    }
}

@Suite struct PlotRenderTests {
    /// Mean position of the pixels of `color`, or nil if there are none.
    func centroid(_ image: Image, _ color: Color) -> (x: Double, y: Double, count: Int)? {
        var sx = 0, sy = 0, n = 0
        for y in 0..<image.height {
            for x in 0..<image.width where image.color(x: x, y: y) == color {
                sx += x; sy += y; n += 1
            }
        }
        return n == 0 ? nil : (Double(sx) / Double(n), Double(sy) / Double(n), n)
    }

    @Test func pointsLandWhereTheAxesSay() throws {
        // (0, 0) is bottom left, (10, 10) top right: y grows upwards on a plot.
        let a = Color(250, 0, 250), b = Color(0, 250, 250)
        var plot = Plot(xRange: 0...10, yRange: 0...10, legend: .hidden)
        plot.scatter("", x: [1.0], y: [1.0], color: a, radius: 3)
        plot.scatter("", x: [9.0], y: [9.0], color: b, radius: 3)
        let image = plot.render()
        #expect(image.width == 640 && image.height == 480)
        let pa = try #require(centroid(image, a))
        let pb = try #require(centroid(image, b))
        #expect(pb.x - pa.x > 300)  // 8/10 of a plot area at least 400 px wide
        #expect(pa.y - pb.y > 200)  // and at least 300 px tall
    }

    @Test func linesAreContinuous() {
        // A steep line must light a pixel in every image row it spans.
        let c = Color(250, 0, 250)
        var plot = Plot(xRange: 0...10, yRange: 0...10, legend: .hidden)
        plot.line("", x: [4.0, 5.0], y: [0.0, 10.0], color: c, thickness: 1)
        let image = plot.render()
        let rows = (0..<image.height).filter { y in (0..<image.width).contains { image.color(x: $0, y: y) == c } }
        #expect(rows.count > 300)
        #expect(rows.last! - rows.first! + 1 == rows.count)  // no gaps
    }

    @Test func logAxisDropsNonPositiveValuesAndKeepsTheRest() {
        let c = Color(250, 0, 250)
        var plot = Plot(logY: true, legend: .hidden)
        plot.line("", x: [0.0, 1, 2, 3], y: [1.0, 0.1, -1, 0.01], color: c)
        let image = plot.render()
        #expect(centroid(image, c) != nil)  // the segment 1 -> 0.1 is drawn
    }

    @Test func legendShowsSeriesNames() {
        var plot = Plot(legend: .topRight)
        plot.scatter("data", x: [0.0, 1], y: [0.0, 1], color: Color(1, 2, 3))
        let with = plot.render()
        plot.legend = .hidden
        let without = plot.render()
        #expect(with != without)
    }
}
