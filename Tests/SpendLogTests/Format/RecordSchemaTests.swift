import Foundation
import Testing

@testable import SpendLog

/// The record's two readers — the full parser and the index's fast scanner — and the encoder all
/// follow ``RecordSchema``. Lines are generated from the schema itself, one per rule broken, and
/// both readers must refuse each alike: the full parser with the error naming the field, the fast
/// path by handing the line over (never by accepting it), so that `scan` reports the same error.
@Suite struct RecordSchemaTests {
    static let head = #"{"v":1,"id":"019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a","ts":"2026-11-23T10:15:02.123Z""#

    /// A line with the required keys, `key` set to `value` (raw JSON), and `more` members.
    static func line(_ key: RecordSchema.Key, _ value: String, more: String = "") -> [UInt8] {
        var members: [(String, String)] = [
            ("v", "1"), ("id", #""019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a""#), ("ts", #""2026-11-23T10:15:02.123Z""#),
            ("project", #""etl""#), ("model", #""gpt-4.1""#), ("input_tokens", "100"), ("output_tokens", "50"),
        ]
        if let index = members.firstIndex(where: { $0.0 == key.name }) {
            members[index].1 = value
        } else {
            members.append((key.name, value))
        }
        let body = members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
        return Array(("{" + body + more + "}").utf8)
    }

    /// Values that break the rule of each kind of key (raw JSON).
    static func breaking(_ value: RecordSchema.Value) -> [String] {
        let tooLong = String(repeating: "a", count: RecordSchema.maximumNameBytes + 1)
        switch value {
        case .version: return ["0", "2", #""1""#, "1.0", "null", "-1"]
        case .id:
            return [
                #""x""#, #""019a6f3c-5b2e-4c41-8d2a-3f9e1b7c6d5a""#, #""019a6f3c-5b2e-7c41-cd2a-3f9e1b7c6d5a""#, "1",
                "null",
            ]
        case .reference:
            return [#""x""#, "1", #""019a6f3c-5b2e-4c41-8d2a-3f9e1b7c6d5b""#, "{}"]
        case .timestamp: return [#""2026-11-23""#, #""yesterday""#, "5", "null", #""2026-13-01T00:00:00.000Z""#]
        case .name(let required):
            return [#""""#, "\"\(tooLong)\"", #""a\u0001""#, "\"a\u{7F}\"", "\"a\u{85}\"", "5", "true", "{}"]
                + (required ? ["null"] : [])
        case .count:
            return ["-1", "1.5", "1e3", #""5""#, "9007199254740993", "null", "01"]
        case .money: return ["-0.01", "1e-10", #""1""#, "1000000.000000001", "null", "true"]
        case .costSource: return [#""free""#, "1", "null"]
        case .status: return [#""failed""#, "1", #""OK""#]
        case .tags:
            let many = (0...RecordSchema.maximumTagCount).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
            let longValue = String(repeating: "v", count: RecordSchema.maximumTagValueBytes + 1)
            return [
                "[]", #"{"a":1}"#, #"{"":"x"}"#, "{\(many)}", "{\"a\":\"\(longValue)\"}", #"{"a":"\u0001"}"#,
                #"{"a":"1","a":"2"}"#, "\"{}\"",
            ]
        }
    }

    /// Both readers on one line: the full parser's verdict, and the fast path never accepting
    /// what it refuses (nor reading anything else when both accept).
    static func readBothWays(_ line: [UInt8]) -> (full: Result<UsageRecord, RecordParseError>, fast: ScannedRecord?) {
        let scanner = RecordScanner()
        return line.withUnsafeBufferPointer { buffer in
            let full = Result { () throws(RecordParseError) -> UsageRecord in
                try RecordParser.parse(buffer, mode: .stored).record
            }
            let fast = scanner.scanFast(buffer)
            var scanning = scanner
            let scanned = Result { () throws(RecordParseError) -> ScannedRecord in try scanning.scan(buffer) }
            switch (full, scanned) {
            case (.success(let record), .success(let s)): #expect(s == scanner.scanned(record))
            case (.failure(let a), .failure(let b)): #expect(a == b)
            default: Issue.record("scan and the full parser disagree on \(String(decoding: line, as: UTF8.self))")
            }
            return (full, fast)
        }
    }

    @Test(arguments: RecordSchema.Key.allCases)
    func everyBrokenRuleOfAKeyIsRefusedByBothReaders(key: RecordSchema.Key) {
        for value in Self.breaking(key.value) {
            let line = Self.line(key, value)
            let text = String(decoding: line, as: UTF8.self)
            let (full, fast) = Self.readBothWays(line)
            #expect(fast == nil, "the fast path accepted \(text)")
            switch full {
            case .success: Issue.record("the full parser accepted \(text)")
            case .failure(let error):
                #expect(error.field?.hasPrefix(key.name) == true, "\(text): \(error)")
            }
        }
    }

    @Test(arguments: [
        (#","cached_input_tokens":101"#, "cached_input_tokens"),
        (#","cache_write_tokens":101"#, "cache_write_tokens"),
        (#","cached_input_tokens":60,"cache_write_tokens":41"#, "cache_write_tokens"),
        (#","reasoning_tokens":51"#, "reasoning_tokens"),
        (#","cost_usd":0.5,"cost_source":"unpriced""#, "cost_source"),
        (#","project":"again""#, "project"),
        (#","x":1,"x":2"#, "x"),
        (#","\u0070roject":"p""#, "project"),
    ])
    func everyBrokenRuleBetweenFieldsIsRefusedByBothReaders(more: String, field: String) {
        let line = Self.line(.v, "1", more: more)
        let (full, fast) = Self.readBothWays(line)
        #expect(fast == nil)
        guard case .failure(let error) = full else {
            Issue.record("accepted \(String(decoding: line, as: UTF8.self))")
            return
        }
        #expect(error.field == field, "\(error)")
    }

    /// A repeated key inside an unknown key's value is refused too, at any depth, by both.
    @Test(arguments: [#","x":{"a":1,"a":2}"#, #","x":[{"b":{"c":1,"c":1}}]"#])
    func aRepeatedKeyAtAnyDepthIsRefusedByBothReaders(more: String) {
        let (full, fast) = Self.readBothWays(Self.line(.v, "1", more: more))
        #expect(fast == nil)
        guard case .failure(let error) = full else {
            Issue.record("accepted a repeated nested key")
            return
        }
        #expect(error.reason.hasPrefix("duplicate key"), "\(error)")
    }

    /// Values exactly at each limit are records, read the same both ways, on the fast path.
    @Test func valuesAtTheLimitsAreAcceptedAlike() {
        let name = String(repeating: "n", count: RecordSchema.maximumNameBytes)
        let tags = (0..<RecordSchema.maximumTagCount).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
        let longValue = String(repeating: "v", count: RecordSchema.maximumTagValueBytes)
        let lines = [
            Self.line(.project, "\"\(name)\""),
            Self.line(.inputTokens, "9007199254740992", more: #","cached_input_tokens":9007199254740992"#),
            Self.line(.costUSD, "1000000"),
            Self.line(.costUSD, "0.000000001"),
            Self.line(.tags, "{\(tags)}"),
            Self.line(.tags, "{\"a\":\"\(longValue)\",\"b\":\"\"}"),
            Self.line(.user, "\"\u{A0}é中\""),
        ]
        for line in lines {
            let (full, fast) = Self.readBothWays(line)
            let text = String(decoding: line.prefix(120), as: UTF8.self)
            guard case .success = full else {
                Issue.record("refused \(text)")
                continue
            }
            #expect(fast != nil, "the fast path handed over \(text)")
        }
    }

    /// The encoder writes the known keys in the schema's order: what it writes is the format.
    @Test func theEncoderWritesEveryKnownKeyInTheSchemasOrder() throws {
        var record = UsageRecord(
            project: "p", model: "m", provider: "openai", inputTokens: 3, outputTokens: 2, cachedInputTokens: 1,
            cacheWriteTokens: 1, reasoningTokens: 1, cost: Money(nanos: 5))
        record.latencyMs = 4
        record.user = "u"
        record.caller = "c"
        record.session = "s"
        record.requestID = "r"
        record.role = "o"
        record.task = "t"
        record.status = .ok
        record.tags = ["k": "v"]
        record.adjusts = RecordID.generate()
        let line = record.jsonLine()
        guard case .object(let members) = try JSONValue.parse(Array(line.dropLast())) else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == RecordSchema.Key.allCases.map(\.name))
        #expect(Set(members.map(\.key)) == RecordSchema.knownKeys)
    }

    /// Documents, journal lines and provider responses share the rule: a repeated key is an error.
    @Test(arguments: [#"{"a":1,"a":1}"#, #"{"usage":{"input_tokens":1,"input_tokens":2}}"#, #"[{"k":1,"k":null}]"#])
    func aRepeatedKeyInAnyDocumentIsAnError(text: String) {
        #expect(throws: RecordParseError.self) { try JSONValue.parse(text) }
    }
}
