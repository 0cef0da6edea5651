import Synchronization

/// A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then version, a 12-bit counter and random
/// bits. Ids sort by creation time and are unique across processes and hosts; consumers
/// de-duplicate on them.
public struct RecordID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The first 64 bits: the 48-bit Unix milliseconds, the version (7) and the 12-bit counter.
    public var high: UInt64
    /// The last 64 bits: the variant and random bits.
    public var low: UInt64

    /// The id made of these two halves, as they are; nothing is checked (``parse(_:)`` checks text).
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static func < (lhs: RecordID, rhs: RecordID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// The Unix milliseconds embedded in the id.
    public var milliseconds: Int64 { Int64(high >> 16) }
    /// The UUID version field: 7 for the ids this library generates.
    public var version: Int { Int((high >> 12) & 0xF) }

    private static let generatorState = Mutex<(lastMs: UInt64, counter: UInt64)>((0, 0))

    /// A new id for `now`. Within one process ids are strictly increasing (RFC 9562 method 1:
    /// a counter in `rand_a`, reseeded each millisecond; an exhausted counter borrows the next
    /// millisecond).
    public static func generate(at now: Timestamp = .now()) -> RecordID {
        var rng = SystemRandomNumberGenerator()
        let (ms, counter) = generatorState.withLock { state -> (UInt64, UInt64) in
            let wall = UInt64(max(0, now.millisecondsSinceEpoch))
            if wall > state.lastMs {
                state.lastMs = wall
                state.counter = rng.next() & 0x7FF  // top bit clear leaves room to count up
            } else if state.counter < 0xFFF {
                state.counter += 1
            } else {
                state.lastMs += 1
                state.counter = rng.next() & 0x7FF
            }
            return (state.lastMs, state.counter)
        }
        let high = (ms & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | counter
        let low = (rng.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        return RecordID(high: high, low: low)
    }

    /// The id of the adjustment that prices the record `id` (docs/FORMAT.md, "Adjustments"): a
    /// UUIDv7 of the same millisecond, so that it sorts beside the record, whose other 74 bits are
    /// a hash of `id`. Pricing a record again gives the same id, so the retry check of
    /// ``LogWriter/appendOnce(contentsOf:)`` writes its adjustment once however often it is priced.
    public static func adjustment(of id: RecordID) -> RecordID {
        // SplitMix64's finalizer: every bit of `id` changes about half of the result's bits.
        func mix(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let a = mix(id.high ^ mix(id.low ^ 0x6164_6A75_7374_7321))  // "adjusts!"
        let b = mix(a ^ id.low)
        let high = (id.high & 0xFFFF_FFFF_FFFF_0000) | 0x7000 | (a & 0xFFF)
        let low = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        return RecordID(high: high, low: low)
    }

    /// Lower-case, hyphenated: `019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a`.
    public var description: String {
        var bytes = [UInt8](repeating: 0x2D, count: 36)
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var position = 0
        for nibbleIndex in 0..<32 {
            if position == 8 || position == 13 || position == 18 || position == 23 { position += 1 }
            let word = nibbleIndex < 16 ? high : low
            let shift = UInt64(60 - (nibbleIndex % 16) * 4)
            bytes[position] = hex[Int((word >> shift) & 0xF)]
            position += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses the 36-character text form (either case). Returns nil for anything else.
    public static func parse(_ text: String) -> RecordID? {
        var copy = text
        return copy.withUTF8 { parse(utf8: $0) }
    }

    /// ``parse(_:)`` over UTF-8 bytes, without making a `String`.
    public static func parse(utf8 b: UnsafeBufferPointer<UInt8>) -> RecordID? {
        guard b.count == 36, let p = b.baseAddress else { return nil }
        guard p[8] == 0x2D, p[13] == 0x2D, p[18] == 0x2D, p[23] == 0x2D else { return nil }
        // Groups of 8, 4, 4 | 4, 12 hex digits; `bad` collects an invalid digit anywhere.
        var bad: UInt8 = 0
        @inline(__always) func digits(_ from: Int, _ count: Int, into value: inout UInt64) {
            for k in from..<(from + count) {
                let c = p[k]
                let d = c &- 0x30
                let l = (c | 0x20) &- 0x61
                let isDigit = d < 10
                let isLetter = l < 6
                bad |= (isDigit || isLetter) ? 0 : 1
                value = value << 4 | UInt64(isDigit ? d : l &+ 10)
            }
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        digits(0, 8, into: &high)
        digits(9, 4, into: &high)
        digits(14, 4, into: &high)
        digits(19, 4, into: &low)
        digits(24, 12, into: &low)
        guard bad == 0 else { return nil }
        return RecordID(high: high, low: low)
    }
}
