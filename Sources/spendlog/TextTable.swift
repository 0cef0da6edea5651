/// Aligned plain-text tables for people.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (i, cell) in cells.enumerated() {
                let padding = String(repeating: " ", count: widths[i] - cell.count)
                if i > 0 { text += "  " }
                text += rightAligned.contains(i) ? padding + cell : (i == cells.count - 1 ? cell : cell + padding)
            }
            return text + "\n"
        }
        return line(header) + rows.map(line).joined()
    }
}
