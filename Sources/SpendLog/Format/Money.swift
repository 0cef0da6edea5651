/// An exact amount of US dollars, held as integer nano-dollars (10⁻⁹ USD).
///
/// Money is never a floating-point number anywhere in spendlog: costs are parsed from their
/// decimal text, summed as integers and printed back as exact decimals (docs/FORMAT.md, "Money").
/// A million records of `0.1` total exactly `100000`.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nano-dollars.
    public var nanos: Int64

    /// No money: 0 nano-dollars.
    public static let zero = Money(nanos: 0)
    /// Nano-dollars per dollar.
    public static let nanosPerDollar: Int64 = 1_000_000_000
    /// The largest cost one record may carry: $1,000,000. Anything above is a unit mistake.
    public static let maximumPerRecord = Money(nanos: 1_000_000 * nanosPerDollar)

    /// An amount of `nanos` nano-dollars (10⁻⁹ USD).
    public init(nanos: Int64) { self.nanos = nanos }

    /// A whole number of dollars. Traps past ±9.2 billion dollars.
    public init(dollars: Int64) { self.nanos = dollars * Money.nanosPerDollar }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.nanos < rhs.nanos }

    /// Adds exactly; traps only past ±9.2 billion dollars, which no sum of valid records reaches
    /// before 9,200 records of the per-record maximum.
    public static func + (lhs: Money, rhs: Money) -> Money { Money(nanos: lhs.nanos + rhs.nanos) }
    /// Subtracts exactly; traps past ±9.2 billion dollars.
    public static func - (lhs: Money, rhs: Money) -> Money { Money(nanos: lhs.nanos - rhs.nanos) }
    /// Adds `rhs` to `lhs` exactly.
    public static func += (lhs: inout Money, rhs: Money) { lhs.nanos += rhs.nanos }
    /// Subtracts `rhs` from `lhs` exactly.
    public static func -= (lhs: inout Money, rhs: Money) { lhs.nanos -= rhs.nanos }

    /// The shortest exact decimal: `0.1`, `12`, `0.000000001`, `-3.5`.
    public var description: String { decimalString }

    /// The shortest exact decimal of dollars, as ``description``: `0.1`, `12`, `0.000000001`.
    public var decimalString: String { DecimalText.text { DecimalText.writeDollars(nanos: nanos, at: &$0) } }

    /// Dollars with a fixed number of fraction digits, rounded half away from zero, for people
    /// (tables); never for storage.
    public func formatted(fractionDigits: Int) -> String {
        precondition((0...9).contains(fractionDigits))
        var unit: Int64 = 1
        for _ in 0..<(9 - fractionDigits) { unit *= 10 }
        let negative = nanos < 0
        var magnitude = nanos.magnitude
        magnitude = (magnitude + UInt64(unit / 2)) / UInt64(unit)
        var scale: UInt64 = 1
        for _ in 0..<fractionDigits { scale *= 10 }
        let whole = magnitude / scale
        let fraction = magnitude % scale
        var text = negative && magnitude != 0 ? "-" : ""
        text += String(whole)
        if fractionDigits > 0 {
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: fractionDigits - digits.count) + digits
        }
        return text
    }

    /// Parses a JSON number or a plain decimal (`0.1`, `12`, `1.5e-3`, `2E2`) exactly.
    ///
    /// Rejects, naming the problem: a sign (costs are never negative), NaN and infinities (not
    /// numbers at all here), more precision than a nano-dollar, and values above
    /// ``maximumPerRecord``.
    public static func parse(_ text: String) throws(MoneyParseError) -> Money {
        var copy = text
        let result = copy.withUTF8 { buffer in
            Result { () throws(MoneyParseError) -> Money in try parse(utf8: buffer) }
        }
        return try result.get()
    }

    /// ``parse(_:)`` over UTF-8 bytes, without making a `String` (the record parser's path).
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(MoneyParseError) -> Money {
        var index = 0
        let count = bytes.count
        guard count > 0 else { throw .notANumber }
        // Only text that starts with a sign or a letter can spell NaN or infinity.
        if asciiDigit(bytes[0]) == nil,
            ["nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"].contains(
                String(decoding: bytes.prefix(10), as: UTF8.self).lowercased())
        {
            throw .notFinite
        }
        if bytes[0] == UInt8(ascii: "-") { throw .negative }
        if bytes[0] == UInt8(ascii: "+") { index = 1 }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0  // value = mantissa × 10^exponent
        var sawDigit = false
        var droppedNonZero = false
        while index < count, let digit = asciiDigit(bytes[index]) {
            sawDigit = true
            if mantissa != 0 || digit != 0 { significantDigits += 1 }
            if significantDigits > 18 {
                exponent += 1  // too many digits to hold: only harmless if the value is then too large
                if digit != 0 { droppedNonZero = true }
            } else {
                mantissa = mantissa * 10 + UInt64(digit)
            }
            index += 1
        }
        if index < count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var fractionDigit = false
            while index < count, let digit = asciiDigit(bytes[index]) {
                fractionDigit = true
                if mantissa != 0 || digit != 0 { significantDigits += 1 }
                if significantDigits > 18 {
                    if digit != 0 { droppedNonZero = true }
                } else {
                    mantissa = mantissa * 10 + UInt64(digit)
                    exponent -= 1
                }
                index += 1
            }
            guard fractionDigit else { throw .notANumber }
        }
        guard sawDigit else { throw .notANumber }
        if index < count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var negativeExponent = false
            if index < count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                negativeExponent = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var value = 0
            var expDigit = false
            while index < count, let digit = asciiDigit(bytes[index]) {
                expDigit = true
                if value < 10_000 { value = value * 10 + digit }
                index += 1
            }
            guard expDigit else { throw .notANumber }
            exponent += negativeExponent ? -value : value
        }
        guard index == count else { throw .notANumber }
        if mantissa == 0 { return .zero }
        if droppedNonZero { throw .tooPrecise }
        // Scale to nano-dollars: nanos = mantissa × 10^(exponent + 9).
        var shift = exponent + 9
        while shift < 0 {
            if mantissa % 10 != 0 { throw .tooPrecise }
            mantissa /= 10
            shift += 1
        }
        let limit = UInt64(Money.maximumPerRecord.nanos)
        while shift > 0 {
            if mantissa > limit { throw .tooLarge }
            mantissa *= 10
            shift -= 1
        }
        if mantissa > limit { throw .tooLarge }
        return Money(nanos: Int64(mantissa))
    }

    /// Parses a `Double` that came from a provider or a user exactly as its shortest decimal text.
    public init(exactly value: Double) throws(MoneyParseError) {
        guard value.isFinite else { throw .notFinite }
        guard value >= 0 else { throw .negative }
        self = try Money.parse("\(value)")
    }
}

@inline(__always)
func asciiDigit(_ byte: UInt8) -> Int? {
    byte >= 0x30 && byte <= 0x39 ? Int(byte &- 0x30) : nil
}

/// Why a decimal could not be taken as an amount of money.
public enum MoneyParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a decimal number (empty, letters, a malformed exponent).
    case notANumber
    /// NaN or an infinity.
    case notFinite
    /// Below zero: costs are never negative.
    case negative
    /// More than 9 decimal places: finer than a nano-dollar.
    case tooPrecise
    /// Above ``Money/maximumPerRecord`` ($1,000,000).
    case tooLarge

    public var description: String {
        switch self {
        case .notANumber: "is not a decimal number"
        case .notFinite: "must be a finite number (NaN and infinity are not costs)"
        case .negative: "must not be negative"
        case .tooPrecise: "has more than 9 decimal places (the smallest unit is a nano-dollar, 0.000000001)"
        case .tooLarge: "is above the per-record maximum of 1000000 USD"
        }
    }
}
