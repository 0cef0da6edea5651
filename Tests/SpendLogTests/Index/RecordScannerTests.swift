import Foundation
import Testing

@testable import SpendLog

/// The indexer's fast path is held to the full parser (itself held to Foundation): whenever it
/// accepts a line it must read exactly what the full parser reads, and Foundation must accept the
/// line too. Lines it is unsure of go to the full parser, so `scan` always equals the full parser.
@Suite struct RecordScannerTests {
    static func line(_ record: UsageRecord) -> [UInt8] { Array(record.jsonLine().dropLast()) }

    /// Fast path alone, full parser alone, and `scan` (fast, else full) on one line.
    static func check(
        _ line: [UInt8], scanner: RecordScanner, expectFast: Bool? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var scanner = scanner
        line.withUnsafeBufferPointer { buffer in
            let fast = scanner.scanFast(buffer)
            let full = try? RecordParser.parse(buffer, mode: .stored).record
            let text = String(decoding: line, as: UTF8.self)
            if let expectFast {
                #expect((fast != nil) == expectFast, "fast path on \(text)", sourceLocation: sourceLocation)
            }
            if let fast {
                guard let full else {
                    Issue.record(
                        "fast path accepted a line the full parser rejects: \(text)", sourceLocation: sourceLocation)
                    return
                }
                #expect(fast == scanner.scanned(full), "fast path differs on \(text)", sourceLocation: sourceLocation)
                let foundation = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
                #expect(
                    foundation != nil, "Foundation rejects a line the fast path accepts: \(text)",
                    sourceLocation: sourceLocation)
                if let foundation {
                    #expect(foundation["project"] as? String == full.project, sourceLocation: sourceLocation)
                    #expect(
                        (foundation["input_tokens"] as? NSNumber)?.int64Value ?? 0 == full.inputTokens,
                        sourceLocation: sourceLocation)
                }
            }
            // The fixed-offset time read by queries on indexed segments: a valid record's own time,
            // and for every line spendlog's encoder writes.
            if let full, let ms = RecordScanner.leadingTimestampMs(buffer) {
                #expect(
                    ms == full.timestamp.millisecondsSinceEpoch, "leading time differs on \(text)",
                    sourceLocation: sourceLocation)
            }
            if expectFast == true {
                #expect(RecordScanner.leadingTimestampMs(buffer) != nil, sourceLocation: sourceLocation)
            }
            let scanned = try? scanner.scan(buffer)
            #expect(
                scanned == full.map { scanner.scanned($0) }, "scan differs from the full parser on \(text)",
                sourceLocation: sourceLocation)
        }
    }

    /// Records as writers produce them: the fast path must take every one.
    @Test func plainRecordsTakeTheFastPathAndReadTheSame() {
        var rng = SplitMix(state: 11)
        let scanner = RecordScanner()
        let names = ["etl", "support-bot", "données", "中文", "gpt-4.1", "claude-sonnet-4-5", "u-1", "a b"]
        for i in 0..<2000 {
            var record = UsageRecord(
                timestamp: Timestamp(millisecondsSinceEpoch: Int64.random(in: 0...4_102_444_800_000, using: &rng)),
                project: names.randomElement(using: &rng)!, model: names.randomElement(using: &rng)!,
                provider: Bool.random(using: &rng) ? "openai" : nil,
                inputTokens: 1000, outputTokens: 500, cachedInputTokens: Int64(i % 500),
                cacheWriteTokens: Int64(i % 300),
                reasoningTokens: Int64(i % 400),
                cost: i % 3 == 0 ? nil : Money(nanos: Int64.random(in: 0...1_000_000_000_000_000, using: &rng)))
            if i % 2 == 0 { record.user = names.randomElement(using: &rng)! }
            if i % 3 == 0 { record.caller = "nightly" }
            if i % 5 == 0 { record.role = "planner" }
            if i % 7 == 0 { record.task = "digest" }
            if i % 4 == 0 { record.status = i % 8 == 0 ? .ok : .error }
            if i % 6 == 0 { record.latencyMs = Int64(i) }
            if i % 9 == 0 {
                record.session = "s-\(i)"
                record.requestID = "req_\(i)"
            }
            if i % 10 == 0 { record.tags = ["env": "prod", "team": "中文", "empty": ""] }
            if i % 11 == 0 {
                record.extra = [
                    ("service_tier", .string("batch")), ("x_nested", .array([.number("1"), .object([("k", .null)])])),
                ]
            }
            if i % 13 == 0 { record.costSource = .priced }
            RecordScannerTests.check(RecordScannerTests.line(record), scanner: scanner, expectFast: true)
        }
    }

    /// Random records with every awkward string: whatever the fast path takes, it reads right.
    @Test func randomRecordsReadTheSameAsTheFullParser() {
        var generator = RandomRecords(rng: SplitMix(state: 5))
        let scanner = RecordScanner()
        for _ in 0..<3000 { RecordScannerTests.check(RecordScannerTests.line(generator.record()), scanner: scanner) }
    }

    /// The fixed-offset time is read from spendlog's own layout only: any byte of the layout's
    /// fixed text (`{"v":1,"id":"`, `","ts":"` and the closing quote) changed, an id byte that is
    /// not hex or '-', a time that does not parse, or a line cut short, and it gives nil.
    @Test func theLeadingTimeIsReadFromSpendlogsOwnLayoutOnly() throws {
        let record = UsageRecord(
            timestamp: try #require(Timestamp.parse("2026-10-15T06:30:01.250Z")), project: "etl", model: "m",
            inputTokens: 1, outputTokens: 1)
        let line = RecordScannerTests.line(record)
        func time(_ bytes: [UInt8]) -> Int64? {
            bytes.withUnsafeBufferPointer { RecordScanner.leadingTimestampMs($0) }
        }
        #expect(time(line) == record.timestamp.millisecondsSinceEpoch)
        for position in Array(0..<13) + Array(49..<57) + [81] {
            var changed = line
            changed[position] = changed[position] == 0x78 ? 0x79 : 0x78  // 'x', or 'y' where it was 'x'
            #expect(time(changed) == nil, "byte \(position) changed")
        }
        for position in 13..<49 {
            var changed = line
            changed[position] = UInt8(ascii: "g")
            #expect(time(changed) == nil, "id byte \(position) not hex")
        }
        var badTime = line
        badTime[62] = UInt8(ascii: "x")  // the month's first digit
        #expect(time(badTime) == nil)
        #expect(time(Array(line.prefix(81))) == nil)  // cut before the time's closing quote
        #expect(time(Array(line.prefix(82))) == record.timestamp.millisecondsSinceEpoch)
    }

    /// Valid lines with bytes flipped, inserted, deleted or cut: the fast path never accepts what
    /// the full parser rejects, and never reads something else.
    @Test func mutatedLinesNeverFoolTheFastPath() {
        var rng = SplitMix(state: 99)
        let scanner = RecordScanner()
        let interesting: [UInt8] =
            Array("\"\\{}[],:0123456789-+.eE nulltrf\t".utf8) + [0x00, 0x1F, 0x7F, 0xC2, 0x85, 0xFF, 0xED, 0xA0]
        var base = UsageRecord(
            project: "etl", model: "gpt-4.1", inputTokens: 120, outputTokens: 30, cachedInputTokens: 20,
            cost: Money(nanos: 4_800_000))
        base.user = "u-1"
        base.status = .error
        base.latencyMs = 812
        base.tags = ["env": "prod"]
        base.extra = [("service_tier", .string("flex"))]
        let original = RecordScannerTests.line(base)
        for _ in 0..<20000 {
            var line = original
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0..<max(1, line.count), using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0 where !line.isEmpty: line[at] = interesting.randomElement(using: &rng)!
                case 1: line.insert(interesting.randomElement(using: &rng)!, at: min(at, line.count))
                case 2 where !line.isEmpty: line.remove(at: at)
                default: line = Array(line.prefix(at))
                }
            }
            RecordScannerTests.check(line, scanner: scanner)
        }
    }

    @Test(arguments: [
        #"{"v":1.0,"#, #"{"v":10,"#, #"{"v":01,"#, #"{"v":-1,"#, #"{"v":1e0,"#,
    ])
    func versionSpellingsOtherThanOneAreLeftToTheFullParser(prefix: String) {
        let line =
            prefix
            + #""id":"019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a","ts":"2026-11-23T10:15:02.123Z","project":"p","model":"m"}"#
        RecordScannerTests.check(Array(line.utf8), scanner: RecordScanner(), expectFast: false)
    }

    @Test(arguments: [
        (#""project":"""#, "empty name"),
        (#""project":null"#, "null project"),
        (#""project":"a\u0041""#, "escaped name"),
        ("\"project\":\"a\u{7F}\"", "DEL in a name"),
        ("\"project\":\"a\u{85}\"", "C1 control in a name"),
        (#""project":"p","project":"q""#, "duplicate key"),
        (#""project":"p","x":1,"x":2"#, "duplicate extra key"),
        (#""project":"p","cost_usd":-0"#, "negative zero cost"),
        (#""project":"p","cost_usd":1e-10"#, "cost finer than a nano-dollar"),
        (#""project":"p","cost_usd":0.5,"cost_source":"unpriced""#, "unpriced with a cost"),
        (#""project":"p","tags":{"a":"1","a":"2"}"#, "duplicate tag"),
        (#""project":"p","tags":{"a":1}"#, "tag value not a string"),
        (#""project":"p","input_tokens":10,"cached_input_tokens":11"#, "cache reads above input"),
        (#""project":"p","output_tokens":1,"reasoning_tokens":2"#, "reasoning above output"),
        (#""project":"p","status":"failed""#, "unknown status"),
        (#""project":"p","latency_ms":null"#, "null latency"),
        (#""project":"p","input_tokens":9007199254740993"#, "count above 2^53"),
    ])
    func awkwardLinesReadTheSameEitherWay(fields: String, label: String) {
        let line =
            #"{"v":1,"id":"019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a","ts":"2026-11-23T10:15:02.123Z","model":"m","# + fields
            + "}"
        RecordScannerTests.check(Array(line.utf8), scanner: RecordScanner())
    }

    @Test func deepNestingInAnUnknownKeyIsLeftToTheFullParser() {
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        let line =
            #"{"v":1,"id":"019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a","ts":"2026-11-23T10:15:02.123Z","project":"p","model":"m","x":"#
            + deep + "}"
        RecordScannerTests.check(Array(line.utf8), scanner: RecordScanner(), expectFast: false)
    }

    @Test func providerIsInferredOncePerModel() throws {
        let scanner = RecordScanner()
        let line =
            #"{"v":1,"id":"019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a","ts":"2026-11-23T10:15:02.123Z","project":"p","model":"claude-sonnet-4-5"}"#
        let scanned = try Array(line.utf8).withUnsafeBufferPointer { buffer in try scanner.scanFast(buffer) }
        #expect(scanned.map { scanner.interner.strings[Int($0.ids[.provider])] } == "anthropic")
        #expect(scanned?.metrics.unpricedRequests == 1)
    }

    @Test func stringSpecialDetectionFindsEveryByteInEveryLane() {
        for lane in 0..<8 {
            for byte in [UInt8(0x22), 0x5C, 0x00, 0x1F, 0x80, 0xFF] {
                var bytes = [UInt8](repeating: 0x61, count: 8)
                bytes[lane] = byte
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(JSONScanner.stringSpecialMask(UInt64(littleEndian: word)) != 0, "byte \(byte) in lane \(lane)")
                #expect(JSONScanner.stringSpecialMask(UInt64(littleEndian: word)).trailingZeroBitCount / 8 == lane)
                // The first special byte is found whatever follows it, another special byte included.
                for later in (lane + 1)..<8 {
                    for other in [UInt8(0x22), 0x5C, 0x00, 0x1F, 0x80, 0xFF, 0x20, 0x21] {
                        var two = bytes
                        two[later] = other
                        let word = two.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                        #expect(JSONScanner.stringSpecialMask(UInt64(littleEndian: word)).trailingZeroBitCount / 8 == lane)
                    }
                }
            }
        }
        // Every byte value alone in a lane: flagged exactly when it is special.
        for value in 0...255 {
            var bytes = [UInt8](repeating: 0x61, count: 8)
            bytes[3] = UInt8(value)
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            let special = value == 0x22 || value == 0x5C || value < 0x20 || value >= 0x80
            let mask = JSONScanner.stringSpecialMask(UInt64(littleEndian: word))
            #expect((mask != 0) == special, "byte \(value)")
            if special { #expect(mask.trailingZeroBitCount / 8 == 3) }
        }
        let plain = Array("abcdefgh".utf8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(JSONScanner.stringSpecialMask(UInt64(littleEndian: plain)) == 0)
        let spaces = Array("  ~ !#$%".utf8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(JSONScanner.stringSpecialMask(UInt64(littleEndian: spaces)) == 0)
    }
}
