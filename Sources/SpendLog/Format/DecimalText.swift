/// Decimal digits written straight into a buffer, without an intermediate `String`: the integers
/// and amounts of a record's line. The writer makes sure there is room (at most 20 bytes for an
/// integer, 30 for an amount).
enum DecimalText {
    /// Writes `value` in decimal, with a `-` when negative (what `String(value)` spells), at
    /// `p`, and moves `p` past it.
    @inline(__always)
    static func write(_ value: Int64, at p: inout UnsafeMutablePointer<UInt8>) {
        if value >= 0 && value < 10 {
            p.pointee = 0x30 &+ UInt8(truncatingIfNeeded: value)
            p += 1
            return
        }
        if value < 0 {
            p.pointee = 0x2D
            p += 1
        }
        write(value.magnitude, width: 1, at: &p)
    }

    /// Writes `value` in decimal, padded with leading zeros to at least `width` digits (≤ 20).
    static func write(_ value: UInt64, width: Int, at p: inout UnsafeMutablePointer<UInt8>) {
        var digits = 1
        var rest = value / 10
        while rest != 0 {
            digits += 1
            rest /= 10
        }
        digits = max(digits, width)
        var v = value
        for i in stride(from: digits - 1, through: 0, by: -1) {
            p[i] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10)
            v /= 10
        }
        p += digits
    }

    /// Writes `nanos` nano-dollars as the shortest exact decimal of dollars: `0.1`, `12`,
    /// `0.000000001`, `-3.5` (``Money/decimalString``).
    static func writeDollars(nanos: Int64, at p: inout UnsafeMutablePointer<UInt8>) {
        if nanos < 0 {
            p.pointee = 0x2D
            p += 1
        }
        let magnitude = nanos.magnitude
        let perDollar = UInt64(Money.nanosPerDollar)
        write(magnitude / perDollar, width: 1, at: &p)
        var fraction = magnitude % perDollar
        guard fraction != 0 else { return }
        var digits = 9
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        p.pointee = 0x2E
        p += 1
        write(fraction, width: digits, at: &p)
    }

    /// The text one of the writers above makes, as a `String`.
    static func text(_ write: (inout UnsafeMutablePointer<UInt8>) -> Void) -> String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            var p = buffer.baseAddress!
            write(&p)
            return p - buffer.baseAddress!
        }
    }
}
