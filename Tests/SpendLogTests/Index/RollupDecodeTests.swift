import Testing

@testable import SpendLog

/// Decoding a rollup file reads a cell far from the end without checking the end at every byte,
/// and reads it again the checked way when something in it is wrong. Both ways give the same
/// file, or the same error at the same byte, whatever the damage.
@Suite struct RollupDecodeTests {
    /// A day file of the `core` cube (4 dimensions), built number by number: each cell is its time
    /// step, 4 string ids and 11 sums, already zigzag-coded, as LEB128 varints.
    static func file(strings: [String], cells: [[UInt64]]) -> [UInt8] {
        var out: [UInt8] = Array("SPLR".utf8)
        RollupFile.append(&out, UInt16(2))
        out.append(Granularity.day.rawValue)
        out.append(4)
        for dimension in RollupCube.core.dimensions { out.append(dimension.code) }
        RollupFile.append(&out, UInt32(strings.count))
        for string in strings {
            RollupFile.append(&out, UInt16(string.utf8.count))
            out += Array(string.utf8)
        }
        RollupFile.append(&out, UInt32(cells.count))
        for cell in cells {
            for number in cell { varint(number, into: &out) }
        }
        RollupFile.append(&out, out.withUnsafeBufferPointer { fnv1a64($0) })
        return out
    }

    static func varint(_ number: UInt64, into out: inout [UInt8]) {
        var v = number
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var body = Array(bytes.dropLast(8))
        RollupFile.append(&body, body.withUnsafeBufferPointer { fnv1a64($0) })
        return body
    }

    /// 240 cells over 30 days: one-byte numbers mostly, and numbers of every length up to 10 bytes.
    static func cells(_ generator: inout SplitMix) -> [[UInt64]] {
        (0..<240).map { index in
            var cell: [UInt64] = [index == 0 ? 20_400 : (index % 8 == 0 ? 1 : 0)]
            for _ in 0..<4 { cell.append(UInt64.random(in: 0...5, using: &generator)) }
            for _ in 0..<RollupMetrics.fieldCount {
                let bits = [3, 7, 7, 14, 21, 35, 63, 64].randomElement(using: &generator)!
                cell.append(bits == 64 ? UInt64.random(in: 0...UInt64.max, using: &generator)
                    : UInt64.random(in: 0..<(UInt64(1) << bits), using: &generator))
            }
            return cell
        }
    }

    func decoded(_ bytes: [UInt8], checkedOnly: Bool) -> Result<RollupFile, SpendLogError> {
        Result { () throws(SpendLogError) in try RollupFile.decode(bytes, path: "x", checkedOnly: checkedOnly) }
    }

    func expectSame(_ bytes: [UInt8], _ context: String) {
        switch (decoded(bytes, checkedOnly: false), decoded(bytes, checkedOnly: true)) {
        case (.success(let fast), .success(let checked)):
            #expect(fast.keys == checked.keys && fast.metrics == checked.metrics && fast.strings == checked.strings,
                "\(context)")
        case (.failure(let fast), .failure(let checked)):
            #expect(fast.message == checked.message && fast.offset == checked.offset, "\(context)")
        case (let fast, let checked):
            Issue.record("\(context): unchecked first gave \(fast), checked only \(checked)")
        }
    }

    @Test func readingUncheckedFirstGivesWhatCheckedReadingGives() throws {
        var generator = SplitMix(state: 7)
        let strings = ["a", "b", "c", "d", "e"]
        let cells = Self.cells(&generator)
        let bytes = Self.file(strings: strings, cells: cells)
        let file = try RollupFile.decode(bytes, path: "x")
        #expect(file.keys.count == 240 && file.keys.first?[0] == 20_400 && file.keys.last?[0] == 20_429)
        #expect(file.metrics[3].requests == Int64(bitPattern: (cells[3][5] >> 1) ^ (0 &- (cells[3][5] & 1))))
        expectSame(bytes, "intact")

        // Random damage, the checksum made right again so that the structure checks are reached.
        let cellsStart = bytes.count - 8 - cells.reduce(0) { total, cell in
            var out: [UInt8] = []
            for number in cell { Self.varint(number, into: &out) }
            return total + out.count
        }
        for round in 0..<3000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                damaged[Int.random(in: cellsStart..<(bytes.count - 8), using: &generator)] = UInt8.random(
                    in: 0...255, using: &generator)
            }
            expectSame(Self.resealed(damaged), "round \(round)")
        }
        // Each of the first 600 bytes of cells set to the values at the edges of the checks.
        for position in cellsStart..<(cellsStart + 600) {
            for value: UInt8 in [0, 1, 2, 5, 6, 0x7F, 0x80, 0x81, 0xFF] {
                var damaged = bytes
                damaged[position] = value
                expectSame(Self.resealed(damaged), "byte \(position) set to \(value)")
            }
        }
    }

    /// A reading that keeps only some times passes over the other cells without decoding them:
    /// it gives exactly the kept cells of a whole reading, whatever the numbers' lengths. With
    /// damage (the checksum made right), it fails or gives cells of kept times only.
    @Test func keepingSomeTimesGivesTheKeptCellsOfAWholeReading() throws {
        var generator = SplitMix(state: 9)
        let bytes = Self.file(strings: ["a", "b", "c", "d", "e"], cells: Self.cells(&generator))
        let whole = try RollupFile.decode(bytes, path: "x")
        let keeps: [(String, (UInt32) -> Bool)] = [
            ("none", { _ in false }), ("all", { _ in true }), ("from the 15th day", { $0 >= 20_415 }),
            ("odd days", { $0 % 2 == 1 }), ("one day", { $0 == 20_422 }), ("before the 10th day", { $0 < 20_410 }),
        ]
        for (name, keep) in keeps {
            let kept = try RollupFile.decode(bytes, path: "x", keeping: keep)
            let expected = whole.keys.indices.filter { keep(whole.keys[$0][0]) }
            #expect(kept.keys == expected.map { whole.keys[$0] }, "\(name)")
            #expect(kept.metrics == expected.map { whole.metrics[$0] }, "\(name)")
            #expect(kept.strings == whole.strings, "\(name)")
        }
        for round in 0..<2000 {
            var damaged = bytes
            damaged[Int.random(in: (bytes.count - 1500)..<(bytes.count - 8), using: &generator)] = UInt8.random(
                in: 0...255, using: &generator)
            let (name, keep) = keeps[round % keeps.count]
            if let kept = try? RollupFile.decode(Self.resealed(damaged), path: "x", keeping: keep) {
                #expect(kept.keys.allSatisfy { keep($0[0]) }, "round \(round), \(name)")
            }
        }
    }

    /// A time step that would carry the time past 2^64 is refused as out of range, near the start
    /// of a file (read unchecked first) and at its end; it used to stop the process.
    @Test func aTimeStepNear2To64IsRefusedNotWrappedAround() {
        var generator = SplitMix(state: 8)
        for at in [1, 120, 239] {
            var cells = Self.cells(&generator)
            cells[at][0] = UInt64.max - 20_000
            let bytes = Self.file(strings: ["a", "b", "c", "d", "e"], cells: cells)
            for checkedOnly in [false, true] {
                guard case .failure(let error) = decoded(bytes, checkedOnly: checkedOnly) else {
                    Issue.record("cell \(at): decoded")
                    continue
                }
                #expect(error.message.contains("time bucket out of range"), "\(error.message)")
            }
            expectSame(bytes, "cell \(at)")
        }
    }
}
