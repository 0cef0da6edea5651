import Testing

@testable import SpendLog

@Suite struct TokenPriceTests {
    @Test(arguments: [
        ("3e-06", "3"), ("1.25e-07", "0.125"), ("0.000003", "3"), ("6.25e-08", "0.0625"),
        ("4.0000000000000003e-07", "0.4000000000000000300"), ("1.1428571428571428e-06", "1.1428571428571428"),
        ("0", "0"), ("0.0", "0"), ("1E-6", "1"),
    ])
    func perTokenTextIsReadExactly(text: String, perMillion: String) throws {
        #expect(try TokenPrice.parse(perToken: text).perMillionTokensText == perMillion.trimmingTrailingZeros)
    }

    @Test func perMillionAndPerTokenAgree() throws {
        #expect(try TokenPrice.parse(perMillionTokens: "1.25") == TokenPrice.parse(perToken: "1.25e-06"))
        #expect(try TokenPrice.parse(perMillionTokens: "0.075").perTokenText == "0.000000075")
        #expect(try TokenPrice.parse(perToken: "3e-06").yoctoDollarsPerToken == 3_000_000_000_000_000_000)
    }

    @Test(arguments: [
        ("-1", PriceParseError.negative), ("1e-25", .tooPrecise(digits: 24)), ("2", .tooLarge), ("abc", .notANumber),
        ("1.", .notANumber), ("", .notANumber), ("1e", .notANumber),
    ])
    func rejectsWhatIsNotAPrice(text: String, error: PriceParseError) {
        #expect(throws: error) { try TokenPrice.parse(perToken: text) }
    }
}

extension String {
    var trimmingTrailingZeros: String {
        guard contains(".") else { return self }
        var text = self
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
