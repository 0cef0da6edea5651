import CSystemShims
import Synchronization

/// The operating system's random bytes, as `SystemRandomNumberGenerator` gives them, but drawn a
/// few hundred bytes per system call (`spendlog_random_u64`): one `getrandom` per id was a
/// measurable part of an append.
struct PooledRandom: RandomNumberGenerator {
    mutating func next() -> UInt64 {
        var value: UInt64 = 0
        if spendlog_random_u64(&value) == 1 { return value }
        var system = SystemRandomNumberGenerator()
        return system.next()
    }
}

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
        var rng = PooledRandom()
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

    /// SplitMix64's finalizer: every bit of `x` changes about half of the result's bits. For ids
    /// derived from other values (adjustments, imported rows).
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The id of the adjustment that prices the record `id` (docs/FORMAT.md, "Adjustments"): a
    /// UUIDv7 of the same millisecond, so that it sorts beside the record, whose other 74 bits are
    /// a hash of `id`. Pricing a record again gives the same id, so the retry check of
    /// ``LogWriter/appendOnce(contentsOf:)`` writes its adjustment once however often it is priced.
    public static func adjustment(of id: RecordID) -> RecordID {
        let mix = RecordID.mix
        let a = mix(id.high ^ mix(id.low ^ 0x6164_6A75_7374_7321))  // "adjusts!"
        let b = mix(a ^ id.low)
        let high = (id.high & 0xFFFF_FFFF_FFFF_0000) | 0x7000 | (a & 0xFFF)
        let low = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        return RecordID(high: high, low: low)
    }

    /// Lower-case, hyphenated: `019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a`.
    public var description: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            writeText(into: buffer.baseAddress!)
            return 36
        }
    }

    /// Writes ``description``'s 36 bytes at `p`.
    @inline(__always)
    func writeText(into p: UnsafeMutablePointer<UInt8>) {
        var position = 0
        for nibbleIndex in 0..<32 {
            if position == 8 || position == 13 || position == 18 || position == 23 {
                p[position] = 0x2D
                position += 1
            }
            let word = nibbleIndex < 16 ? high : low
            let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - (nibbleIndex % 16) * 4)) & 0xF
            p[position] = JSONWriter.hexDigit(nibble)
            position += 1
        }
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
        let raw = UnsafeRawPointer(p)
        @inline(__always) func word(_ at: Int) -> UInt64 {
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))
        }
        @inline(__always) func half(_ at: Int) -> UInt64 {
            // Four digits, padded with four '0' that become the low 16 bits.
            UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                | 0x3030_3030_0000_0000
        }
        guard let a = hex8(word(0)), let b = hex8(half(9)), let c = hex8(half(14)), let d = hex8(half(19)),
            let e = hex8(word(24)), let f = hex8(half(32))
        else { return nil }
        let high = UInt64(a) << 32 | UInt64(b >> 16) << 16 | UInt64(c >> 16)
        let low = UInt64(d >> 16) << 48 | UInt64(e) << 16 | UInt64(f >> 16)
        return RecordID(high: high, low: low)
    }

    /// Eight hex digits (either case), the first in the lowest byte of `w`, as their value; nil
    /// when any byte is not a hex digit. All eight at once (SWAR): no byte carries into the next.
    @inline(__always)
    static func hex8(_ w: UInt64) -> UInt32? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        guard w & highs == 0 else { return nil }
        // Bytes below 0x80: adding up to 0x50 keeps each byte below 0x100; bit 7 says x ≥ bound.
        let atLeast0 = (w &+ ones &* 0x50) & highs  // x ≥ 0x30
        let above9 = (w &+ ones &* 0x46) & highs  // x ≥ 0x3A
        let lower = w | ones &* 0x20  // 'A'–'F' → 'a'–'f'
        let atLeastA = (lower &+ ones &* 0x1F) & highs  // ≥ 0x61
        let aboveF = (lower &+ ones &* 0x19) & highs  // ≥ 0x67
        guard (atLeast0 & ~above9) | (atLeastA & ~aboveF) == highs else { return nil }
        // Digit value: low nibble, plus 9 for letters (bit 6 set).
        let nibbles = (w & 0x0F0F_0F0F_0F0F_0F0F) &+ ((w >> 6) & ones) &* 9
        // The first digit is the most significant: reverse the bytes, then pack pairs, quads, octets.
        var v = nibbles.byteSwapped
        v = ((v >> 4) | v) & 0x00FF_00FF_00FF_00FF
        v = ((v >> 8) | v) & 0x0000_FFFF_0000_FFFF
        v = ((v >> 16) | v) & 0x0000_0000_FFFF_FFFF
        return UInt32(truncatingIfNeeded: v)
    }
}
