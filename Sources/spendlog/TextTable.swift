/// A plain-text table: columns padded to their widest cell (in characters), two spaces apart.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let lines = [header] + rows
        // Each cell's width is worked out once: `String.count` walks the cell's characters.
        let cellWidths = lines.map { $0.map(width) }
        var widths = cellWidths[0]
        for row in cellWidths { for (i, cellWidth) in row.enumerated() { widths[i] = max(widths[i], cellWidth) } }
        let right = widths.indices.map { rightAligned.contains($0) }
        var text: [UInt8] = []
        text.reserveCapacity((widths.reduce(0, +) + 2 * widths.count + 1) * lines.count)
        let space = UInt8(ascii: " ")
        for (row, cells) in lines.enumerated() {
            for (i, cell) in cells.enumerated() {
                let padding = widths[i] - cellWidths[row][i]
                if i > 0 { text.append(contentsOf: [space, space]) }
                if right[i] { text.append(contentsOf: repeatElement(space, count: padding)) }
                text.append(contentsOf: cell.utf8)
                if !right[i] && i != cells.count - 1 { text.append(contentsOf: repeatElement(space, count: padding)) }
            }
            text.append(UInt8(ascii: "\n"))
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The characters of `cell`: its bytes when they are all ASCII.
    static func width(_ cell: String) -> Int {
        cell.utf8.allSatisfy { $0 < 0x80 } ? cell.utf8.count : cell.count
    }
}
