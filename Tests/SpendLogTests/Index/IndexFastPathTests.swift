import Foundation
import Testing

@testable import SpendLog

/// The indexer's hand-written fast paths, each held to the general path it replaces on many
/// generated inputs: the SWAR id parser, the short compare, the id set, the interner's tables,
/// the packed day cells, and the scanner's guess of the next key.
@Suite struct IndexFastPathTests {
    /// The id parser as it was, digit by digit: the reference for the SWAR one.
    static func referenceParse(_ b: [UInt8]) -> RecordID? {
        guard b.count == 36 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var nibbles = 0
        for (i, byte) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard byte == 0x2D else { return nil }
                continue
            }
            let value: UInt64
            switch byte {
            case 0x30...0x39: value = UInt64(byte - 0x30)
            case 0x61...0x66: value = UInt64(byte - 0x61 + 10)
            case 0x41...0x46: value = UInt64(byte - 0x41 + 10)
            default: return nil
            }
            if nibbles < 16 { high = high << 4 | value } else { low = low << 4 | value }
            nibbles += 1
        }
        return RecordID(high: high, low: low)
    }

    static func parse(_ bytes: [UInt8]) -> RecordID? { bytes.withUnsafeBufferPointer { RecordID.parse(utf8: $0) } }

    @Test func idParserAgreesWithTheDigitByDigitParser() {
        var rng = SplitMix(state: 3)
        for round in 0..<20000 {
            let id = RecordID(high: rng.next(), low: rng.next())
            var text = Array(id.description.utf8)
            if round % 2 == 1 {
                // Mixed case.
                for k in text.indices where Bool.random(using: &rng) && text[k] >= 0x61 { text[k] -= 0x20 }
            }
            #expect(IndexFastPathTests.parse(text) == id)
            #expect(IndexFastPathTests.parse(text) == IndexFastPathTests.referenceParse(text))
            // One byte changed to any value, anywhere.
            var mutated = text
            mutated[Int.random(in: 0..<36, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            #expect(
                IndexFastPathTests.parse(mutated) == IndexFastPathTests.referenceParse(mutated),
                "\(String(decoding: mutated, as: UTF8.self))")
        }
        // Every byte value at every position.
        let text = Array("019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a".utf8)
        for position in 0..<36 {
            for byte in 0...255 {
                var mutated = text
                mutated[position] = UInt8(byte)
                #expect(IndexFastPathTests.parse(mutated) == IndexFastPathTests.referenceParse(mutated))
            }
        }
        for length in [0, 1, 35, 37, 40] {
            let bytes = [UInt8](repeating: 0x61, count: length)
            #expect(IndexFastPathTests.parse(bytes) == nil)
        }
    }

    @Test func shortCompareAgreesWithMemcmp() {
        var rng = SplitMix(state: 8)
        for _ in 0..<20000 {
            let count = Int.random(in: 0...40, using: &rng)
            let a = (0..<count).map { _ in UInt8.random(in: 0x60...0x63, using: &rng) }
            var b = a
            if count > 0 && Bool.random(using: &rng) {
                b[Int.random(in: 0..<count, using: &rng)] = UInt8.random(in: 0x60...0x63, using: &rng)
            }
            let fast = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    count == 0 || shortBytesEqual(pa.baseAddress!, pb.baseAddress!, count)
                }
            }
            #expect(fast == (a == b), "\(a) vs \(b)")
        }
    }

    @Test func idSetAgreesWithSet() {
        var rng = SplitMix(state: 21)
        var pool: [RecordID] = [RecordID(high: 0, low: 0), RecordID(high: 0, low: 1), RecordID(high: 1, low: 0)]
        for _ in 0..<3 {
            var set = RecordIDSet()
            var reference = Set<RecordID>()
            for _ in 0..<20000 {
                let id: RecordID
                if Int.random(in: 0..<3, using: &rng) == 0 {
                    id = pool.randomElement(using: &rng)!
                } else {
                    // Few distinct high halves, like ids of one day; some low halves equal too.
                    id = RecordID(high: UInt64.random(in: 0..<64, using: &rng), low: rng.next() & 0xFFFF_FF0F)
                    pool.append(id)
                }
                #expect(set.insert(id) == reference.insert(id).inserted)
                #expect(set.count == reference.count)
                // Filled to at most three quarters, and grown only to half full: its memory
                // follows the ids it holds.
                #expect(set.count <= set.capacity * 3 / 4 + 1)
                #expect(set.capacity <= max(1024, set.count * 2 + 2))
            }
            // Every id seen, in the set or not, answers as the reference does once more.
            for id in pool.shuffled(using: &rng).prefix(5000) {
                #expect(set.insert(id) == reference.insert(id).inserted)
            }
        }
    }

    @Test func internerGivesEachStringOneIdAndKeepsItsBytes() {
        var rng = SplitMix(state: 34)
        let interner = StringInterner()
        var ids: [String: UInt32] = [:]
        let alphabet = Array("ab-_.0é中".unicodeScalars).map(String.init)
        for _ in 0..<20000 {
            let length = Int.random(in: 1...40, using: &rng)
            let text = (0..<length).map { _ in alphabet.randomElement(using: &rng)! }.joined()
            var copy = text
            let id = copy.withUTF8 { interner.id(forName: $0) }
            #expect(id != nil && id != 0)
            if let known = ids[text] { #expect(id == known) } else { ids[text] = id }
            #expect(interner.id(for: text) == id)
            #expect(interner.strings[Int(id!)] == text)
        }
        #expect(interner.count == ids.count + 1)
        #expect(interner.statusOK == interner.id(for: "ok"))
        #expect(interner.statusError == interner.id(for: "error"))
        // Invalid names are refused, and not added.
        let before = interner.count
        for invalid in [[UInt8](), [0xFF], [0x61, 0x00]] {
            #expect(invalid.withUnsafeBufferPointer { interner.id(forName: $0) } == nil)
        }
        #expect(interner.count == before)
    }

    /// In memory; spilled to a scratch file a few kilobytes at a time, two cubes' cells sharing
    /// it (which leaves no file behind in its folder); and with a spill that cannot be written (a
    /// folder that does not exist), where the cells stay in memory.
    @Test(arguments: ["memory", "spilled", "unwritable"]) func packedDayCellsGiveBackTheCellsSummedIn(
        where kept: String
    ) throws {
        let temp = TemporaryDirectory()
        let spill = DayCellSpill(folder: kept == "unwritable" ? temp.path + "/missing" : temp.path)
        let spilling = kept == "spilled"
        var rng = SplitMix(state: 55)
        for k in [2, 4] {
            var packed = PackedDayCells(
                dimensions: k, spill: kept == "memory" ? nil : spill, spillBytes: kept == "memory" ? 256 << 10 : 4096)
            var expected: [UInt32: [SIMD8<UInt32>: RollupMetrics]] = [:]
            for round in 0..<30 {
                let cells = CellMap(capacity: 16)
                for _ in 0..<Int.random(in: 0...300, using: &rng) {
                    var key = SIMD8<UInt32>(repeating: 0)
                    // Mostly the day of the round; now and then another day, as a stray record would.
                    key[0] = Int.random(in: 0..<10, using: &rng) == 0 ? UInt32.random(in: 0...40, using: &rng) : UInt32(round)
                    for lane in 1...k { key[lane] = UInt32.random(in: 0...5, using: &rng) }
                    var m = RollupMetrics()
                    m.requests = 1
                    m.inputTokens = Int64.random(in: 0...1_000_000, using: &rng)
                    m.costNanos = Int64.random(in: Int64.min...Int64.max, using: &rng)
                    m.latencySumMs = Int64.random(in: -5...Int64.max, using: &rng)
                    m.errors = Int64.random(in: 0...1, using: &rng)
                    cells.add(key, m)
                    expected[key[0], default: [:]][key, default: RollupMetrics()].add(m)
                }
                packed.append(cells)
            }
            var found: [UInt32: [SIMD8<UInt32>: RollupMetrics]] = [:]
            for run in packed.runs {
                try packed.forEachCell(of: run) { key, metrics in
                    #expect(key[0] == run.day)
                    for lane in (k + 1)..<8 { #expect(key[lane] == 0) }
                    found[key[0], default: [:]][key, default: RollupMetrics()].add(metrics)
                }
            }
            #expect(found == expected)
            #expect(packed.bytes.count < (spilling ? 4096 + 300 * 100 : Int.max))
            #expect(spilling || packed.bytes.count > 20_000)
        }
        #expect((spill.file != nil) == spilling)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.path).isEmpty)
    }

    /// A day file written to disk as it is made (drained every few cells, its count and checksum
    /// written last) has the bytes of the same file made in memory, and decodes.
    @Test func aDrainedEncoderWritesTheBytesOfOneMadeInMemory() throws {
        let temp = TemporaryDirectory()
        var rng = SplitMix(state: 91)
        let strings = ["a", "b", "c", "d"]
        for (round, cells) in [0, 1, 7, 500].enumerated() {
            var inMemory = RollupFile.Encoder(cube: .core, granularity: .day, strings: strings, cells: cells)
            var drained = RollupFile.Encoder(cube: .core, granularity: .day, strings: strings, cells: 0)
            let path = temp.path + "/day-\(round).roll"
            let fd = try FileSystem.open(path, O_RDWR | O_CREAT | O_TRUNC)
            defer { FileSystem.close(fd) }
            var day: UInt32 = 20_000
            for index in 0..<cells {
                day += UInt32.random(in: 0...1, using: &rng)
                var key = SIMD8<UInt32>(repeating: 0)
                key[0] = day
                key[1] = UInt32(index % 4 + 1)
                var metrics = RollupMetrics()
                metrics.requests = Int64.random(in: 1...9, using: &rng)
                metrics.costNanos = Int64.random(in: Int64.min...Int64.max, using: &rng)
                inMemory.append(key, metrics)
                drained.append(key, metrics)
                if Int.random(in: 0..<5, using: &rng) == 0 { try drained.drain(into: fd, path: path) }
            }
            try drained.finish(into: fd, path: path)
            let expected = inMemory.finish()
            let written = FileManager.default.bytes(path)
            #expect(written == expected, "\(cells) cells")
            #expect(try RollupFile.decode(written, path: path).keys.count == cells)
        }
    }

    /// Keys in writer order are read by guessing the next one; any other order, spacing or
    /// spelling must read exactly as the full parser reads it.
    @Test func keyOrderAndSpacingVariantsReadTheSame() {
        var rng = SplitMix(state: 77)
        let scanner = RecordScanner()
        var record = UsageRecord(
            project: "etl", model: "gpt-4.1", inputTokens: 120, outputTokens: 30, cachedInputTokens: 20,
            cost: Money(nanos: 4_800_000))
        record.user = "u-1"
        record.caller = "cron"
        record.role = "planner"
        record.task = "digest"
        record.status = .ok
        record.latencyMs = 812
        record.session = "s-1"
        let line = String(decoding: RecordScannerTests.line(record), as: UTF8.self)
        RecordScannerTests.check(Array(line.utf8), scanner: scanner, expectFast: true)
        // The members of the line, in writer order.
        let inner = line.dropFirst().dropLast()
        var members: [String] = []
        var depth = 0
        var inString = false
        var current = ""
        for character in inner {
            if character == "\"" { inString.toggle() }
            if !inString && (character == "{" || character == "[") { depth += 1 }
            if !inString && (character == "}" || character == "]") { depth -= 1 }
            if character == "," && !inString && depth == 0 {
                members.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        members.append(current)
        for round in 0..<4000 {
            var variant = members
            switch round % 6 {
            case 0: variant.swapAt(Int.random(in: 0..<variant.count, using: &rng), Int.random(in: 0..<variant.count, using: &rng))
            case 1: variant.remove(at: Int.random(in: 0..<variant.count, using: &rng))
            case 2: variant.insert(variant.randomElement(using: &rng)!, at: Int.random(in: 0...variant.count, using: &rng))
            case 3:
                let at = Int.random(in: 0..<variant.count, using: &rng)
                variant[at] = variant[at].replacingOccurrences(of: "\":", with: ["\" :", "\":  ", "\"\t:"].randomElement(using: &rng)!)
            case 4:
                let at = Int.random(in: 0..<variant.count, using: &rng)
                variant[at] = variant[at].replacingOccurrences(of: "\":", with: ["_\":", "x\":", "\\u0020\":"].randomElement(using: &rng)!)
            default: variant.shuffle(using: &rng)
            }
            let text = "{" + variant.joined(separator: Bool.random(using: &rng) ? "," : " , ") + "}"
            RecordScannerTests.check(Array(text.utf8), scanner: scanner)
        }
    }
}
