import Testing

@testable import SpendLog

@Suite struct MoneyTests {
    @Test(arguments: [
        ("0.1", Int64(100_000_000)), ("12", 12_000_000_000), ("0.000000001", 1), ("1.5e-3", 1_500_000),
        ("2E2", 200_000_000_000), ("0", 0), ("0.0", 0), ("1000000", 1_000_000_000_000_000),
        ("0.1000000000", 100_000_000),
        ("123.456789012", 123_456_789_012), ("1e-9", 1), ("+3", 3_000_000_000),
    ])
    func parsesExactDecimals(text: String, nanos: Int64) throws {
        #expect(try Money.parse(text) == Money(nanos: nanos))
    }

    @Test(arguments: [
        ("-0.1", MoneyParseError.negative), ("NaN", .notFinite), ("inf", .notFinite), ("-Infinity", .notFinite),
        ("0.0000000001", .tooPrecise), ("1e-10", .tooPrecise), ("1000000.000000001", .tooLarge), ("1e7", .tooLarge),
        ("abc", .notANumber), ("", .notANumber), ("1.", .notANumber), (".5", .notANumber), ("1e", .notANumber),
        ("1 ", .notANumber), ("0x10", .notANumber),
    ])
    func rejectsWhatIsNotACost(text: String, error: MoneyParseError) {
        #expect(throws: error) { try Money.parse(text) }
    }

    @Test func aMillionTenthsSumToExactlyOneHundredThousand() throws {
        let tenth = try Money.parse("0.1")
        var total = Money.zero
        for _ in 0..<1_000_000 { total += tenth }
        #expect(total.decimalString == "100000")
        #expect(total == Money(dollars: 100_000))
    }

    @Test(arguments: [
        (Int64(100_000_000), "0.1"), (1, "0.000000001"), (12_000_000_000, "12"), (0, "0"), (-1_500_000_000, "-1.5"),
        (1_234_567_890_123, "1234.567890123"),
    ])
    func printsTheShortestExactDecimal(nanos: Int64, text: String) {
        #expect(Money(nanos: nanos).decimalString == text)
    }

    /// The byte writer against the decimal text made with `String`, as it was before: every
    /// digit count, sign and run of trailing zeros.
    @Test func decimalTextAgreesWithStringFormatting() {
        func reference(_ nanos: Int64) -> String {
            var magnitude = nanos.magnitude
            let whole = magnitude / 1_000_000_000
            magnitude %= 1_000_000_000
            var text = (nanos < 0 ? "-" : "") + String(whole)
            if magnitude != 0 {
                var fraction = String(magnitude)
                fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
                while fraction.last == "0" { fraction.removeLast() }
                text += "." + fraction
            }
            return text
        }
        var values: [Int64] = [0, 1, -1, 9, 10, -10, Int64.max, Int64.min, Int64.min + 1, 999_999_999, 1_000_000_000]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -power, 5 * power / 10, 1_000_000_000 + power / 10]
        }
        var rng = SplitMix(state: 7)
        for _ in 0..<20_000 { values.append(Int64(bitPattern: rng.next()) >> Int64.random(in: 0...62, using: &rng)) }
        for value in values {
            #expect(DecimalText.text { DecimalText.writeDollars(nanos: value, at: &$0) } == reference(value), "\(value)")
            #expect(Money(nanos: value).decimalString == reference(value))
            #expect(DecimalText.text { DecimalText.write(value, at: &$0) } == String(value))
        }
    }

    @Test func formatsForPeopleWithRounding() {
        #expect(Money(nanos: 1_234_567_890).formatted(fractionDigits: 2) == "1.23")
        #expect(Money(nanos: 1_235_000_000).formatted(fractionDigits: 2) == "1.24")
        #expect(Money(nanos: 4_000_000).formatted(fractionDigits: 4) == "0.0040")
        #expect(Money(nanos: 0).formatted(fractionDigits: 2) == "0.00")
    }

    @Test func roundTripsRandomAmounts() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let money = Money(nanos: Int64.random(in: 0...Money.maximumPerRecord.nanos, using: &rng))
            #expect(try Money.parse(money.decimalString) == money)
        }
    }
}
