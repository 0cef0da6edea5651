import Foundation
import Testing

@testable import SpendLog

/// The flat names of an exported record are unique, whatever keys a record carries.
@Suite struct ExportFieldTests {
    @Test func anUnknownKeyNeverCollidesWithATagOrAKnownName() throws {
        let line = #"{"v":1,"id":"019aaf00-0000-7000-8000-000000000001","ts":"2026-11-20T10:00:00.000Z","project":"p","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":0.1,"tags":{"a":"1"},"tags.a":"x","extra.b":{"c":"\u0000"}}"#
        let record = try RecordParser.parse(line, mode: .stored).record
        let names = ExportFormat.fields(record).map(\.key)
        #expect(Set(names).count == names.count, "\(names)")
        #expect(names.contains("tags.a") && names.contains("extra.tags.a") && names.contains("extra.extra.b"))
        for schema in ExportSchema.allCases {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(ExportFormat.jsonLine(record, schema: schema)))
                    as? [String: Any])
            #expect(object.count == names.count, "\(schema): \(object.keys.sorted())")
            let otlp = String(decoding: ExportFormat.otlpLine([record], schema: schema, scopeVersion: "1"), as: UTF8.self)
            let keys = otlp.components(separatedBy: #"{"key":""#).dropFirst().map { $0.prefix { $0 != "\"" } }
            let attributes = keys.filter { $0 != "service.name" }
            #expect(Set(attributes).count == attributes.count, "\(schema): \(attributes)")
        }
    }

    /// OTLP times are unsigned 64-bit nanoseconds: a record past July 2554 says 0 (unknown) and
    /// keeps its time in its ts attribute, instead of a number no collector can read.
    @Test func aTimeBeyondOTLPsRangeIsUnknownNotWrapped() throws {
        let line = #"{"v":1,"id":"019aaf00-0000-7000-8000-000000000001","ts":"9999-12-31T23:59:59.999Z","project":"p","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":0.1}"#
        let record = try RecordParser.parse(line, mode: .stored).record
        let otlp = String(decoding: ExportFormat.otlpLine([record], schema: .otel, scopeVersion: "1"), as: UTF8.self)
        #expect(otlp.contains(#""timeUnixNano":"0","observedTimeUnixNano":"0""#), "\(otlp)")
        #expect(otlp.contains("9999-12-31T23:59:59.999Z"))
        let recent = try RecordParser.parse(line.replacingOccurrences(of: "9999-12-31T23:59:59.999Z", with: "2026-11-20T10:00:00.000Z"), mode: .stored).record
        let text = String(decoding: ExportFormat.otlpLine([recent], schema: .otel, scopeVersion: "1"), as: UTF8.self)
        #expect(text.contains(#""timeUnixNano":"1795168800000000000""#), "\(text)")
    }
}
