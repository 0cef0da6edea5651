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
}
