/// Decimal digits written straight into a byte buffer, without an intermediate `String`: the
/// integers and amounts of a record's line.
enum DecimalText {
    /// Appends `value` in decimal, with a `-` when negative: what `String(value)` spells.
    @inline(__always)
    static func append(_ value: Int64, to out: inout [UInt8]) {
        if value >= 0 && value < 10 {
            out.append(0x30 &+ UInt8(truncatingIfNeeded: value))
            return
        }
        if value < 0 { out.append(0x2D) }
        append(value.magnitude, width: 1, to: &out)
    }

    /// Appends `value` in decimal, padded with leading zeros to at least `width` digits (≤ 20).
    static func append(_ value: UInt64, width: Int, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var v = value
            var i = 20
            repeat {
                i -= 1
                digits[i] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            } while v != 0
            while 20 - i < width {
                i -= 1
                digits[i] = 0x30
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    /// Appends `nanos` nano-dollars as the shortest exact decimal of dollars: `0.1`, `12`,
    /// `0.000000001`, `-3.5` (``Money/decimalString``).
    static func appendDollars(nanos: Int64, to out: inout [UInt8]) {
        if nanos < 0 { out.append(0x2D) }
        let magnitude = nanos.magnitude
        let perDollar = UInt64(Money.nanosPerDollar)
        append(magnitude / perDollar, width: 1, to: &out)
        var fraction = magnitude % perDollar
        guard fraction != 0 else { return }
        var digits = 9
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        out.append(0x2E)
        append(fraction, width: digits, to: &out)
    }
}
