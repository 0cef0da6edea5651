import Foundation
import Testing

@testable import SpendLog

/// Damage to the index that used to pass for a valid index: a manifest path changed by one byte
/// (its segment then counted from the raw log and from the rollups), and a CURRENT naming a
/// generation that does not exist (reported as a concurrent run, "try again").
@Suite struct IndexDamageTests {
    /// A log of two sealed segments and one index generation; returns the manifest's path.
    func indexedLog(_ temp: TemporaryDirectory) throws -> (LogDirectory, String) {
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        try writer.append(contentsOf: (0..<5).map { sampleRecord($0, at: "2026-11-22T10:00:00.000Z") })
        try writer.append(contentsOf: (5..<9).map { sampleRecord($0, at: "2026-11-23T10:00:00.000Z") })
        try writer.sealAll()
        _ = try Indexer(directory: log).run()
        let current = String(decoding: FileManager.default.bytes(log.indexPath + "/CURRENT"), as: UTF8.self)
        return (log, log.indexPath + "/" + current.trimmingCharacters(in: .newlines) + "/MANIFEST")
    }

    /// The damage `stats` names; its answer, computed from the segments instead, must equal a scan.
    func statsError(_ log: LogDirectory) -> SpendLogError? {
        do throws(SpendLogError) {
            let query = StatsQuery(groupBy: [.project])
            let result = try Query(directory: log).stats(query)
            #expect(result.rows == (try Query(directory: log).statsByScanning(query)).rows)
            return result.trace.indexDamage
        } catch {
            return error
        }
    }

    @Test func aManifestPathChangedByOneByteIsNamedInsteadOfCountedTwice() throws {
        let temp = TemporaryDirectory()
        let (log, manifest) = try indexedLog(temp)
        var bytes = FileManager.default.bytes(manifest)
        let text = String(decoding: bytes, as: UTF8.self)
        let at = text.utf8.distance(from: text.startIndex, to: text.range(of: "day=2026-11-22")!.lowerBound) + 13
        bytes[at] ^= 0x01  // day=2026-11-22 → day=2026-11-23: still a well-formed line
        writeBytes(bytes, to: manifest)
        let error = try #require(statsError(log))
        #expect(error.code == .corruption)
        #expect(error.path == manifest)
        #expect(error.message.contains("checksum mismatch"), "\(error.message)")
    }

    @Test func aManifestCutAtALineEndIsNamedAsCutShort() throws {
        let temp = TemporaryDirectory()
        let (log, manifest) = try indexedLog(temp)
        let bytes = FileManager.default.bytes(manifest)
        let lastLine = bytes.dropLast().lastIndex(of: 0x0A)! + 1
        writeBytes(Array(bytes[..<lastLine]), to: manifest)
        let error = try #require(statsError(log))
        #expect(error.code == .corruption && error.path == manifest)
        #expect(error.message.contains("cut short"), "\(error.message)")
    }

    @Test func aManifestCutToItsHeaderIsNamedAsCutShort() throws {
        let temp = TemporaryDirectory()
        let (log, manifest) = try indexedLog(temp)
        for header in ["spendlog-index 2", "spendlog-index 2\n"] {
            writeBytes(Array(header.utf8), to: manifest)
            let error = try #require(statsError(log))
            #expect(error.code == .corruption && error.path == manifest, "\(error.message)")
        }
    }

    @Test func aManifestOfVersionOneWithoutTheChecksumLineIsStillRead() throws {
        let temp = TemporaryDirectory()
        let (log, manifest) = try indexedLog(temp)
        var text = String(decoding: FileManager.default.bytes(manifest), as: UTF8.self)
        #expect(text.hasPrefix("spendlog-index 2\n"))
        text = "spendlog-index 1\n" + text.dropFirst("spendlog-index 2\n".count)
        text = String(text[..<text.range(of: "end ")!.lowerBound])
        writeBytes(Array(text.utf8), to: manifest)
        let query = StatsQuery(groupBy: [.day, .project])
        let answer = try Query(directory: log).stats(query)
        #expect(answer.rows == (try Query(directory: log).statsByScanning(query)).rows)
        #expect(answer.trace.cube == "core")
    }

    @Test func aCurrentNamingAMissingGenerationIsNamedAsDamage() throws {
        let temp = TemporaryDirectory()
        let (log, _) = try indexedLog(temp)
        writeBytes(Array("gen-000009\n".utf8), to: log.indexPath + "/CURRENT")
        let error = try #require(statsError(log))
        #expect(error.code == .corruption)
        #expect(error.path == log.indexPath + "/CURRENT")
        #expect(error.message.contains("gen-000009"), "\(error.message)")
    }
}
