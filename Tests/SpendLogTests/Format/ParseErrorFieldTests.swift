import Testing

@testable import SpendLog

/// Lines `ingest` refuses because of one field: each problem names its line and the field, says
/// what the field must be, and, for an error in the JSON text itself, the byte offset in the line.
@Suite struct ParseErrorFieldTests {
    static let now = Timestamp.parse("2026-11-23T10:00:00Z")!
    static let head = #"{"ts":"2026-11-23T10:15:02.123Z","project":""#

    /// The problems of a batch whose second line is `bad` (the first is a valid record).
    static func problems(_ bad: [UInt8]) -> [IngestBatch.Problem] {
        let good = Array(#"{"project":"p","model":"m","ts":"2026-11-23T10:15:02.123Z"}"#.utf8)
        let batch = IngestBatch(good + [0x0A] + bad + [0x0A], now: now, prices: .builtin)
        #expect(batch.records.count == 1)
        return batch.problems
    }

    static func problem(_ bad: [UInt8]) throws -> String {
        let found = problems(bad)
        try #require(found.count == 1, "\(found)")
        #expect(found[0].line == 2)
        return found[0].description
    }

    @Test func aVersionGivenAsAStringNamesVAndAsksForTheNumberOne() throws {
        let text = try Self.problem(Array(#"{"v":"1","project":"p","model":"m"}"#.utf8))
        #expect(text == "line 2: v: must be the JSON number 1 (the format version), not a string", "\(text)")
    }

    @Test func aNumericTimestampNamesTsAndAsksForAnRFC3339String() throws {
        let text = try Self.problem(Array(#"{"ts":1732357200,"project":"p","model":"m"}"#.utf8))
        #expect(
            text == "line 2: ts: must be an RFC 3339 time string like 2026-11-23T10:15:02.123Z, not a number",
            "\(text)")
    }

    @Test func aRawNulInsideAStringNamesTheFieldAndTheByte() throws {
        let line = Array(Self.head.utf8) + [0x61, 0x00, 0x62] + Array(#"","model":"m"}"#.utf8)
        let text = try Self.problem(line)
        #expect(text.hasPrefix("line 2: project: raw control character U+0000 (NUL) inside a string"), "\(text)")
        #expect(text.contains(#"escaped as \u0000"#), "\(text)")
        #expect(text.hasSuffix("(byte \(Self.head.utf8.count + 1) of the line)"), "\(text)")
    }

    @Test func aRawTabInsideAStringNamesTheFieldAndTheByte() throws {
        let line = Array(#"{"project":"p","model":"m","task":"a"#.utf8) + [0x09] + Array(#"b"}"#.utf8)
        let text = try Self.problem(line)
        #expect(text.hasPrefix("line 2: task: raw control character U+0009 (tab) inside a string"), "\(text)")
        #expect(text.contains(#"escaped as \u0009"#), "\(text)")
        #expect(text.hasSuffix("(byte 36 of the line)"), "\(text)")
    }

    @Test func aLoneSurrogateEscapeNamesTheFieldAndSaysTextMustBeUnicode() throws {
        let text = try Self.problem(Array((Self.head + #"a\ud800","model":"m"}"#).utf8))
        #expect(text.hasPrefix(#"line 2: project: lone high surrogate \ud800"#), "\(text)")
        #expect(text.contains("must be valid Unicode"), "\(text)")
        #expect(text.hasSuffix("(byte \(Self.head.utf8.count + 1) of the line)"), "\(text)")
        let low = try Self.problem(Array(#"{"project":"p","model":"m","user":"\udc00"}"#.utf8))
        #expect(low.hasPrefix(#"line 2: user: lone low surrogate \udc00"#), "\(low)")
    }

    /// What follows a value that is not ',' or '}' is named by the value's key, known or not.
    @Test func garbageAfterAValueOrACutLineNamesTheKeyBeforeIt() throws {
        let hex = try Self.problem(Array(#"{"project":"p","model":"m","input_tokens":0x10}"#.utf8))
        #expect(hex == "line 2: input_tokens: unexpected 'x' after this value (byte 43); expected ',' or '}'")
        let cut = try Self.problem(Array(#"{"project":"p","model":"m","input_tokens":12"#.utf8))
        #expect(cut.hasPrefix("line 2: input_tokens: the line ends after this value (byte 44)"), "\(cut)")
        let nested = try Self.problem(Array(#"{"project":"p","model":"m","extra":{"a":1,"a":2}}"#.utf8))
        #expect(nested == "line 2: extra: duplicate key \"a\" (byte 42 of the line)", "\(nested)")
    }

    /// Other values of the wrong JSON type say what they are and what the field takes.
    @Test func wrongTypesSayWhatWasFound() throws {
        let id = try Self.problem(Array(#"{"id":7,"project":"p","model":"m"}"#.utf8))
        #expect(id.hasPrefix("line 2: id: must be a UUID string like"), "\(id)")
        #expect(id.hasSuffix("not a number"), "\(id)")
        let name = try Self.problem(Array(#"{"project":["p"],"model":"m"}"#.utf8))
        #expect(name == "line 2: project: must be a string or null, not an array", "\(name)")
    }
}
