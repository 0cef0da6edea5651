import Foundation
import Testing

@testable import SpendLog

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-23T10:15:02.123Z", "2026-11-23T10:15:02.123Z"), ("2026-11-23T10:15:02Z", "2026-11-23T10:15:02.000Z"),
        ("2026-11-23T10:15:02.123456789Z", "2026-11-23T10:15:02.123Z"),
        ("2026-11-23T11:15:02.5+01:00", "2026-11-23T10:15:02.500Z"),
        ("2026-11-23T00:15:00-05:30", "2026-11-23T05:45:00.000Z"),
        ("2024-02-29T23:59:59.999Z", "2024-02-29T23:59:59.999Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"), ("2026-11-23t10:15:02z", "2026-11-23T10:15:02.000Z"),
    ])
    func parsesRFC3339ToUTCMilliseconds(text: String, expected: String) throws {
        #expect(try #require(Timestamp.parse(text)).rfc3339 == expected)
    }

    @Test(arguments: [
        "2026-11-23", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T10:15:02",
        "2026-11-23T10:15:02.Z", "2026-11-23T10:15:60Z", "1969-12-31T23:59:59Z", "2026-11-23T10:15:02+0100", "",
    ])
    func rejectsWhatIsNotRFC3339(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    /// The path for the layout spendlog writes (`2026-11-23T10:15:02.123Z`) accepts and refuses
    /// what the general parser does: on written times, and on them with bytes changed to digits,
    /// separators, the bytes just outside the digits (`/`, `:`) and others, one to three at a time.
    @Test func theWrittenLayoutIsReadAsTheGeneralParserReadsIt() {
        var rng = SplitMix(state: 20_261_202)
        let replacements: [UInt8] = Array("0123456789-:.TZtz+ /".utf8) + [0x00, 0x2F, 0x3A, 0x7F, 0x80, 0xFF]
        func agree(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { b in
                let fast = Timestamp.parse(utf8: b)
                let general = Timestamp.parseAnyLayout(utf8: b)
                if fast != general {
                    Issue.record("\(String(decoding: bytes, as: UTF8.self)): \(String(describing: fast)) against \(String(describing: general))")
                }
            }
        }
        var accepted = 0
        for step in 0..<40_000 {
            let ms = Int64.random(in: 0...253_402_300_799_999, using: &rng)
            var bytes = Array(Timestamp(millisecondsSinceEpoch: ms).rfc3339.utf8)
            #expect(bytes.count == 24)
            if step % 8 != 0 {
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    // Keep the three bytes that choose the path, most of the time.
                    let position = Int.random(in: 0..<24, using: &rng)
                    if [10, 19, 23].contains(position) && step % 3 != 0 { continue }
                    bytes[position] = replacements.randomElement(using: &rng)!
                }
            }
            agree(bytes)
            if bytes.withUnsafeBufferPointer({ Timestamp.parse(utf8: $0) }) != nil { accepted += 1 }
        }
        // Both sides of each check are met: many changed times still parse, many do not.
        #expect(accepted > 5_000 && accepted < 35_000)
        // Dates and times at the edges of each field.
        for text in [
            "2024-02-29T23:59:59.999Z", "2026-02-29T00:00:00.000Z", "2100-02-29T00:00:00.000Z",
            "2000-02-29T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "2026-00-10T00:00:00.000Z",
            "2026-13-10T00:00:00.000Z", "2026-01-00T00:00:00.000Z", "2026-01-32T00:00:00.000Z",
            "2026-01-01T24:00:00.000Z", "2026-01-01T23:60:00.000Z", "2026-01-01T23:59:60.000Z",
            "0000-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "1970-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z", "2026-1-010T00:00:00.000Z", "2026-01-01T00:00:00.00aZ",
        ] {
            agree(Array(text.utf8))
        }
        #expect(Timestamp.parse("9999-12-31T23:59:59.999Z") == Timestamp.latest)
        #expect(Timestamp.parse("1970-01-01T00:00:00.000Z") == Timestamp.earliest)
        #expect(Timestamp.parse("2026-02-29T00:00:00.000Z") == nil)
    }

    @Test func agreesWithFoundationOnRandomInstants() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var rng = SplitMix(state: 1)
        for _ in 0..<5_000 {
            let ms = Int64.random(in: 0...253_402_300_799_999, using: &rng)
            let t = Timestamp(millisecondsSinceEpoch: ms)
            let date = Date(timeIntervalSince1970: Double(ms) / 1000)
            #expect(t.rfc3339 == formatter.string(from: date))
            #expect(Timestamp.parse(t.rfc3339) == t)
        }
    }

    /// Day names made in place agree with the padded-string form, for every day from before
    /// year 0 to after 9999.
    @Test func dayStringsAgreeWithPaddedFields() {
        for day in stride(from: Int64(-800_000), through: 3_000_000, by: 997) + [-719_528, -1, 0, 1, 2_932_896, 2_932_897] {
            let (y, m, d) = Timestamp.civilFromDays(day)
            #expect(Timestamp.dayString(utcDay: day) == pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2), "\(day)")
        }
    }

    @Test func dayOfNegativeAndBoundaryInstants() {
        #expect(Timestamp(millisecondsSinceEpoch: 86_399_999).dayString == "1970-01-01")
        #expect(Timestamp(millisecondsSinceEpoch: 86_400_000).dayString == "1970-01-02")
        #expect(Timestamp.parseDateOrTime("2026-11-23")?.rfc3339 == "2026-11-23T00:00:00.000Z")
    }
}

@Suite struct RecordIDTests {
    @Test func idsAreVersion7AndStrictlyIncreasingWithinAProcess() {
        var previous = RecordID.generate()
        let now = Timestamp.now()
        for _ in 0..<100_000 {
            let id = RecordID.generate(at: now)  // same millisecond: the counter orders them
            #expect(id > previous)
            #expect(id.version == 7)
            #expect(id.low >> 62 == 0b10)
            previous = id
        }
    }

    @Test func embedsTheMillisecondsAndRoundTripsThroughText() throws {
        let t = try #require(Timestamp.parse("2026-11-23T10:15:02.123Z"))
        let id = RecordID.generate(at: Timestamp(millisecondsSinceEpoch: t.millisecondsSinceEpoch + 10_000))
        #expect(id.milliseconds >= t.millisecondsSinceEpoch)
        #expect(RecordID.parse(id.description) == id)
        #expect(UUID(uuidString: id.description)?.uuidString.lowercased() == id.description)
        #expect(
            RecordID.parse("019A6F3C-5B2E-7C41-8D2A-3F9E1B7C6D5A")?.description
                == "019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a")
        #expect(RecordID.parse("019a6f3c5b2e7c418d2a3f9e1b7c6d5a") == nil)
    }

    /// The text written in place against hex digits made with `String(radix:)`.
    @Test func textAgreesWithHexDigits() {
        var rng = SplitMix(state: 3)
        for i in 0..<5_000 {
            let id = i < 3 ? RecordID(high: [0, .max, 0x0123_4567_89AB_CDEF][i], low: [0, .max, 0xFEDC_BA98_7654_3210][i])
                : RecordID(high: rng.next(), low: rng.next())
            func hex(_ word: UInt64) -> String {
                let digits = String(word, radix: 16)
                return String(repeating: "0", count: 16 - digits.count) + digits
            }
            let all = hex(id.high) + hex(id.low)
            let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
                String(all.utf8.dropFirst(range.lowerBound).prefix(range.count))!
            }
            #expect(id.description == parts.joined(separator: "-"))
        }
    }

    /// A forked child must not draw the random bytes its parent draws next: the buffer it
    /// inherited is emptied in the child (without that, both would give the same ids' bits).
    /// Run on a thread of its own, whose buffer starts empty: after one draw it holds 31 more
    /// values, which parent and child would both hand out.
    @Test func aForkedChildDrawsOtherRandomBytesThanItsParent() throws {
        final class Outcome: @unchecked Sendable {
            var mine: [UInt64] = []
            var childs: [UInt64] = []
            var read = 0
            var forked: Int32 = -1
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            var random = PooledRandom()
            _ = random.next()
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { return }
            let child = fork()
            if child == 0 {
                var drawn = (random.next(), random.next(), random.next(), random.next())
                let written = withUnsafeBytes(of: &drawn) { write(fds[1], $0.baseAddress, $0.count) }
                _exit(written == 32 ? 0 : 1)
            }
            outcome.forked = child
            close(fds[1])
            outcome.mine = [random.next(), random.next(), random.next(), random.next()]
            var theirs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            outcome.read = withUnsafeMutableBytes(of: &theirs) { Glibc.read(fds[0], $0.baseAddress, $0.count) }
            close(fds[0])
            var status: Int32 = 0
            if child > 0 { waitpid(child, &status, 0) }
            outcome.childs = [theirs.0, theirs.1, theirs.2, theirs.3]
        }
        thread.start()
        done.wait()
        #expect(outcome.forked > 0)
        #expect(outcome.read == 32)
        #expect(Set(outcome.mine).isDisjoint(with: outcome.childs), "parent \(outcome.mine), child \(outcome.childs)")
        #expect(Set(outcome.childs).count == 4)
    }
}

@Suite struct SegmentNameTests {
    @Test func namesAndParsesSegmentFiles() throws {
        let name = SegmentName(day: "2026-11-23", host: "web-1.example", sequence: 7)
        #expect(name.activeFileName == "web-1.example-000007.jsonl")
        #expect(name.sealedFileName == "web-1.example-000007.jsonl.zst")
        #expect(name.dayFolder == "day=2026-11-23")
        let parsed = try #require(SegmentName.parse(fileName: "web-1.example-000007.jsonl.zst", day: "2026-11-23"))
        #expect(parsed.name == name)
        #expect(parsed.sealed)
        #expect(SegmentName.parse(fileName: "web-1.example-000007.sealing", day: "2026-11-23") == nil)
        #expect(SegmentName.parse(fileName: "web-1.example.lock", day: "2026-11-23") == nil)
        #expect(SegmentName.parse(fileName: "host-12.jsonl", day: "2026-11-23") == nil)
        #expect(SegmentName.parse(fileName: "host-1234567.jsonl", day: "2026-11-23")?.name.sequence == 1_234_567)
    }

    @Test func sanitizesHostNames() {
        #expect(SegmentName.sanitizeHost("my host/../x") == "my_host_.._x")
        #expect(SegmentName.sanitizeHost(".hidden") == "_hidden")
        #expect(SegmentName.sanitizeHost("") == "localhost")
        #expect(SegmentName.sanitizeHost(String(repeating: "h", count: 100)).count == 64)
    }

    @Test func dayFoldersMustBeRealDates() {
        #expect(SegmentName.day(fromFolder: "day=2026-11-23") == "2026-11-23")
        #expect(SegmentName.day(fromFolder: "day=2026-02-30") == nil)
        #expect(SegmentName.day(fromFolder: "2026-11-23") == nil)
    }

    @Test func segmentsSortByDayHostSequence() {
        let a = SegmentName(day: "2026-11-22", host: "b", sequence: 9)
        let b = SegmentName(day: "2026-11-23", host: "a", sequence: 1)
        let c = SegmentName(day: "2026-11-23", host: "a", sequence: 10)
        #expect([c, b, a].sorted() == [a, b, c])
    }
}
