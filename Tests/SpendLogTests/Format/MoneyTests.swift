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
