// Grids of images with labels: the course's main figure. A row can be one
// sample's trajectory (columns "t=999", "t=750", ...), a column one prompt, a
// whole grid a batch of samples. Small images are enlarged by an integer
// factor with nearest-neighbour sampling so that 16×16 samples stay sharp.
//
// Layout, top to bottom: title, column labels, then the rows of cells, each
// row preceded by its label on the left. Everything sits on a dark background
// with white text; `padding` pixels separate cells and surround the grid.

/// A grid of images with optional title, row labels and column labels.
///
///     let grid = ImageGrid(rows: trajectories, scale: 4,
///                          rowLabels: ["seed 1", "seed 2"],
///                          columnLabels: ["t=999", "t=500", "t=0"],
///                          title: "Reverse process")
///     try grid.render().writePNG(to: "output/02/reverse.png")
public struct ImageGrid {
    /// The cells, row by row; rows may be shorter than others and `nil` leaves
    /// a cell empty.
    public var rows: [[Image?]]
    /// Nearest-neighbour enlargement factor applied to every image.
    public var scale: Int
    /// Pixels between cells and around the grid.
    public var padding: Int
    public var rowLabels: [String]?
    public var columnLabels: [String]?
    public var title: String?
    /// Font scale for labels (the title is drawn at twice this).
    public var textScale: Int
    public var background: Color
    public var textColor: Color

    public init(rows: [[Image?]], scale: Int = 1, padding: Int = 2,
                rowLabels: [String]? = nil, columnLabels: [String]? = nil, title: String? = nil,
                textScale: Int = 1, background: Color = .darkBackground, textColor: Color = .white) {
        if scale < 1 { fatalError("ImageGrid: scale must be at least 1, got \(scale)") }
        self.rows = rows
        self.scale = scale
        self.padding = max(0, padding)
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.title = title
        self.textScale = max(1, textScale)
        self.background = background
        self.textColor = textColor
    }

    /// A grid filled row by row from a flat list, `columns` images per row.
    public init(images: [Image], columns: Int, scale: Int = 1, padding: Int = 2,
                rowLabels: [String]? = nil, columnLabels: [String]? = nil, title: String? = nil,
                textScale: Int = 1, background: Color = .darkBackground, textColor: Color = .white) {
        if columns < 1 { fatalError("ImageGrid: columns must be at least 1, got \(columns)") }
        let rows = stride(from: 0, to: images.count, by: columns).map { start in
            images[start..<min(start + columns, images.count)].map { Optional($0) }
        }
        self.init(rows: rows, scale: scale, padding: padding, rowLabels: rowLabels,
                  columnLabels: columnLabels, title: title, textScale: textScale,
                  background: background, textColor: textColor)
    }

    /// Where everything goes, in pixels of the rendered image.
    public struct Layout: Equatable {
        public var width: Int
        public var height: Int
        /// Size of one cell: the largest image times `scale`.
        public var cellWidth: Int
        public var cellHeight: Int
        /// Width of each column (a wide column label can widen its column).
        public var columnWidths: [Int]
        /// x of each column's left edge and y of each row's top edge.
        public var columnX: [Int]
        public var rowY: [Int]
        /// Column labels after word wrapping, one list of lines per column.
        public var columnLabelLines: [[String]]
        public var titleY: Int
        public var columnLabelY: Int
        public var rowLabelX: Int
    }

    var labelLineHeight: Int { BitmapFont.lineHeight * textScale }

    public func layout() -> Layout {
        let columnCount = max(rows.map(\.count).max() ?? 0, columnLabels?.count ?? 0)
        let rowCount = max(rows.count, rowLabels?.count ?? 0)
        var cellWidth = 0, cellHeight = 0
        for row in rows {
            for case let image? in row {
                cellWidth = max(cellWidth, image.width * scale)
                cellHeight = max(cellHeight, image.height * scale)
            }
        }
        // Column labels wrap to the cell width; a word wider than the cell widens its column.
        var labelLines: [[String]] = []
        var columnWidths = [Int](repeating: cellWidth, count: columnCount)
        if let columnLabels {
            for c in 0..<columnCount {
                let label = c < columnLabels.count ? columnLabels[c] : ""
                let lines = label.isEmpty ? [] : BitmapFont.wrap(label, maxWidth: max(cellWidth, 1), scale: textScale)
                labelLines.append(lines)
                let widest = lines.map { BitmapFont.width(of: $0, scale: textScale) }.max() ?? 0
                columnWidths[c] = max(cellWidth, widest)
            }
        }
        let rowLabelWidth = (rowLabels ?? []).map { BitmapFont.width(of: $0, scale: textScale) }.max() ?? 0

        var y = padding
        let titleY = y
        if let title, !title.isEmpty {
            y += BitmapFont.height(scale: 2 * textScale) + 2 * padding + 2 * textScale
        }
        let columnLabelY = y
        let maxLabelLines = labelLines.map(\.count).max() ?? 0
        if maxLabelLines > 0 {
            y += (maxLabelLines - 1) * labelLineHeight + BitmapFont.height(scale: textScale) + padding + 2 * textScale
        }
        var rowY: [Int] = []
        for _ in 0..<rowCount {
            rowY.append(y)
            y += cellHeight + padding
        }
        let height = max(y, padding * 2)

        var rowLabelX = padding
        var x = padding + (rowLabelWidth > 0 ? rowLabelWidth + padding + 2 * textScale : 0)
        var columnX: [Int] = []
        for c in 0..<columnCount {
            columnX.append(x)
            x += columnWidths[c] + padding
        }
        var width = max(x, padding * 2)
        if let title, !title.isEmpty {
            let titleWidth = BitmapFont.width(of: title, scale: 2 * textScale) + 2 * padding + 4 * textScale
            if titleWidth > width {
                // A title wider than the grid: centre the grid under it.
                let shift = (titleWidth - width) / 2
                columnX = columnX.map { $0 + shift }
                rowLabelX += shift
                width = titleWidth
            }
        }
        return Layout(width: width, height: height, cellWidth: cellWidth, cellHeight: cellHeight,
                      columnWidths: columnWidths, columnX: columnX, rowY: rowY,
                      columnLabelLines: labelLines, titleY: titleY, columnLabelY: columnLabelY,
                      rowLabelX: rowLabelX)
    }

    /// The grid as one RGB image.
    public func render() -> Image {
        let l = layout()
        var canvas = Image(width: l.width, height: l.height, channels: 3, color: background)
        if let title, !title.isEmpty {
            let w = BitmapFont.width(of: title, scale: 2 * textScale)
            canvas.drawText(title, x: (l.width - w) / 2, y: l.titleY, scale: 2 * textScale, color: textColor)
        }
        for (c, lines) in l.columnLabelLines.enumerated() {
            for (i, line) in lines.enumerated() {
                let w = BitmapFont.width(of: line, scale: textScale)
                let x = l.columnX[c] + (l.columnWidths[c] - w) / 2
                canvas.drawText(line, x: x, y: l.columnLabelY + i * labelLineHeight,
                                scale: textScale, color: textColor)
            }
        }
        for r in 0..<l.rowY.count {
            if let rowLabels, r < rowLabels.count {
                let y = l.rowY[r] + (l.cellHeight - BitmapFont.height(scale: textScale)) / 2
                canvas.drawText(rowLabels[r], x: l.rowLabelX, y: y, scale: textScale, color: textColor)
            }
            guard r < rows.count else { continue }
            for (c, cell) in rows[r].enumerated() {
                guard let image = cell else { continue }
                let big = image.upscaled(by: scale)
                // Centre an image smaller than its cell.
                let x = l.columnX[c] + (l.columnWidths[c] - big.width) / 2
                let y = l.rowY[r] + (l.cellHeight - big.height) / 2
                canvas.paste(big, x: x, y: y)
            }
        }
        return canvas
    }
}
