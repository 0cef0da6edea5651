import Foundation
import Testing

@testable import SpendLog

/// Every line of the hostile corpus's ingest inputs (Fixtures/hostile/cases.jsonl), and each with
/// the `v` and `id` a stored line has, read by the index's scanner and by the full parser: the fast
/// path accepts only what the full parser accepts, with the same values, and the scan accepts and
/// refuses exactly what the full parser does, with the same error.
@Suite struct HostileLinesScannerTests {
    static func lines() throws -> [[UInt8]] {
        let text = try String(contentsOfFile: TestPaths.fixtures + "/hostile/cases.jsonl", encoding: .utf8)
        var lines: [[UInt8]] = []
        for caseLine in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(caseLine.utf8)) as? [String: Any])
            guard (object["argv"] as? [Any])?.first as? String == "ingest" else { continue }
            var input: [UInt8]?
            if let text = (object["stdin"] ?? object["file"]) as? String { input = Array(text.utf8) }
            if let encoded = (object["stdin_b64"] ?? object["file_b64"]) as? String {
                input = Array(try #require(Data(base64Encoded: encoded)))
            }
            for line in (input ?? []).split(separator: 0x0A) where !line.isEmpty {
                lines.append(Array(line))
                // As a stored line: `v` and `id` first, as a writer puts them.
                lines.append(Array(#"{"v":1,"id":"019ab1f2-5c00-7000-8000-000000000001","#.utf8) + line.dropFirst())
            }
        }
        return lines
    }

    @Test func theScannerAndTheFullParserAgreeOnEveryHostileLine() throws {
        let lines = try Self.lines()
        #expect(lines.count > 600)
        var scanner = RecordScanner()
        for line in lines {
            line.withUnsafeBufferPointer { bytes in
                let full = Result { () throws(RecordParseError) -> UsageRecord in
                    try RecordParser.parse(bytes, mode: .stored).record
                }
                let text = String(decoding: bytes, as: UTF8.self).prefix(300)
                if let fast = scanner.scanFast(bytes) {
                    guard case .success(let record) = full else {
                        Issue.record("the fast path accepts a line the parser refuses: \(text)")
                        return
                    }
                    #expect(fast == scanner.scanned(record), "\(text)")
                }
                let scanned = Result { () throws(RecordParseError) -> ScannedRecord in try scanner.scan(bytes) }
                switch (scanned, full) {
                case (.success(let a), .success(let record)): #expect(a == scanner.scanned(record), "\(text)")
                case (.failure(let a), .failure(let b)): #expect(a == b, "\(text)")
                default: Issue.record("scan \(scanned) and parse \(full) disagree: \(text)")
                }
            }
        }
    }
}
