/// A price per token, held exactly as integer yocto-dollars (10⁻²⁴ USD) per token.
///
/// Why 10⁻²⁴: LiteLLM's table writes prices per token as binary-float text such as `3e-06` or
/// `4.0000000000000003e-07`; the longest needs 24 fractional digits, so every price in it is an
/// exact integer in this unit. One yocto-dollar per token is 10⁻¹⁸ USD per million tokens, so the
/// per-million prices people write (`1.25`) are exact too. A cost is then tokens × price in
/// 128-bit integers, rounded once to nano-dollars (docs/PRICING.md, "Arithmetic").
public struct TokenPrice: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The price of one token in yocto-dollars (10⁻²⁴ USD).
    public var yoctoDollarsPerToken: Int128

    /// Fractional digits of USD per token this type holds.
    public static let perTokenDigits = 24
    /// Fractional digits of USD per million tokens this type holds.
    public static let perMillionDigits = 18
    /// The highest price accepted: 1 USD per token ($1,000,000 per million). More is a unit mistake.
    public static let maximum = TokenPrice(yoctoDollarsPerToken: Int128(10).power(24))
    /// Free.
    public static let zero = TokenPrice(yoctoDollarsPerToken: 0)

    /// A price of `yoctoDollarsPerToken` yocto-dollars per token.
    public init(yoctoDollarsPerToken: Int128) { self.yoctoDollarsPerToken = yoctoDollarsPerToken }

    public static func < (lhs: TokenPrice, rhs: TokenPrice) -> Bool {
        lhs.yoctoDollarsPerToken < rhs.yoctoDollarsPerToken
    }

    /// Parses USD per token (`3e-06`, `0.000003`) exactly.
    public static func parse(perToken text: String) throws(PriceParseError) -> TokenPrice {
        TokenPrice(
            yoctoDollarsPerToken: try ExactDecimal.parse(
                text, fractionDigits: perTokenDigits, limit: maximum.yoctoDollarsPerToken))
    }

    /// Parses USD per million tokens (`1.25`, `0.075`) exactly.
    public static func parse(perMillionTokens text: String) throws(PriceParseError) -> TokenPrice {
        TokenPrice(
            yoctoDollarsPerToken: try ExactDecimal.parse(
                text, fractionDigits: perMillionDigits, limit: maximum.yoctoDollarsPerToken))
    }

    /// USD per million tokens, shortest exact decimal: `1.25`.
    public var perMillionTokensText: String {
        ExactDecimal.format(yoctoDollarsPerToken, fractionDigits: TokenPrice.perMillionDigits)
    }

    /// USD per token, shortest exact decimal: `0.00000125`.
    public var perTokenText: String {
        ExactDecimal.format(yoctoDollarsPerToken, fractionDigits: TokenPrice.perTokenDigits)
    }

    public var description: String { "$\(perMillionTokensText)/1M" }
}

/// Why a decimal could not be taken as a price.
public enum PriceParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a decimal number.
    case notANumber
    /// Below zero.
    case negative
    /// More fractional digits than the unit holds (the count is the limit).
    case tooPrecise(digits: Int)
    /// Above ``TokenPrice/maximum``.
    case tooLarge

    public var description: String {
        switch self {
        case .notANumber: "is not a decimal number"
        case .negative: "must not be negative"
        case .tooPrecise(let digits): "has more than \(digits) decimal places"
        case .tooLarge: "is above 1 USD per token (1000000 per million tokens); check the unit"
        }
    }
}

/// Exact decimal text ↔ scaled 128-bit integers.
enum ExactDecimal {
    /// Parses a JSON number or plain decimal into `value × 10^fractionDigits` exactly.
    static func parse(_ text: String, fractionDigits: Int, limit: Int128) throws(PriceParseError) -> Int128 {
        var bytes = Array(text.utf8)[...]
        guard let first = bytes.first else { throw .notANumber }
        if first == UInt8(ascii: "-") {
            // `-0` is zero, anything else below zero is not a price.
            if bytes.dropFirst().allSatisfy({ $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: ".") }) && bytes.count > 1 {
                return 0
            }
            throw .negative
        }
        if first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        var digits: [UInt8] = []
        var exponent = 0
        var sawDigit = false
        var index = bytes.startIndex
        while index < bytes.endIndex, let d = asciiDigit(bytes[index]) {
            digits.append(UInt8(d))
            sawDigit = true
            index += 1
        }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var fraction = false
            while index < bytes.endIndex, let d = asciiDigit(bytes[index]) {
                digits.append(UInt8(d))
                exponent -= 1
                fraction = true
                index += 1
            }
            guard fraction else { throw .notANumber }
        }
        guard sawDigit else { throw .notANumber }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var negative = false
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                negative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var value = 0
            var any = false
            while index < bytes.endIndex, let d = asciiDigit(bytes[index]) {
                if value < 10_000 { value = value * 10 + d }
                any = true
                index += 1
            }
            guard any else { throw .notANumber }
            exponent += negative ? -value : value
        }
        guard index == bytes.endIndex else { throw .notANumber }
        while let last = digits.last, last == 0, digits.count > 1 {
            digits.removeLast()
            exponent += 1
        }
        while let head = digits.first, head == 0, digits.count > 1 { digits.removeFirst() }
        if digits == [0] { return 0 }
        let shift = exponent + fractionDigits
        guard shift >= 0 else { throw .tooPrecise(digits: fractionDigits) }
        guard digits.count + shift <= 38 else { throw .tooLarge }
        var result: Int128 = 0
        for d in digits { result = result * 10 + Int128(d) }
        for _ in 0..<shift { result *= 10 }
        guard result <= limit else { throw .tooLarge }
        return result
    }

    /// `value × 10^-fractionDigits` as the shortest exact decimal: `1.25`, `12`, `0.000025`.
    static func format(_ value: Int128, fractionDigits: Int) -> String {
        let negative = value < 0
        let magnitude = value.magnitude
        let scale = UInt128(10).power(fractionDigits)
        let whole = magnitude / scale
        var fraction = magnitude % scale
        var text = (negative ? "-" : "") + String(whole)
        if fraction != 0 {
            var width = fractionDigits
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: width - digits.count) + digits
        }
        return text
    }
}

extension FixedWidthInteger {
    /// `self` raised to a small non-negative power, without floating point.
    func power(_ exponent: Int) -> Self {
        var result: Self = 1
        for _ in 0..<exponent { result *= self }
        return result
    }
}
