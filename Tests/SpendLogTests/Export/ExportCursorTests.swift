import Foundation
import Testing

@testable import SpendLog

/// `spendlog export --cursor`: each run emits the records earlier runs did not, across appends,
/// rotations, seals, a concurrent indexer and writer, and runs killed at any point (the built
/// binary, with fault points that SIGKILL it).
@Suite struct ExportCursorTests {
    @Test func eachRunEmitsWhatIsNewAcrossAppendsSealsAndHosts() throws {
        var log = ExportLog("export-cursor")
        var emitted: [String] = []
        func export() throws -> [String] {
            let result = try log.run(["export", "--cursor", log.cursor])
            #expect(result.status == 0, "\(result.stderr)")
            return completeLines(result.stdout)
        }
        try log.add(40)
        emitted += try export()
        #expect(emitted.count == 40)
        #expect(try export().isEmpty, "nothing new, nothing emitted")
        try log.add(25)
        try log.seal()  // the active segments (read in part) become .jsonl.zst
        try log.add(30, host: "api")  // another host
        try log.add(10, days: 1, dayOffset: -5)  // an earlier day folder, new segments
        emitted += try export()
        try log.seal()
        #expect(try log.run(["index"]).status == 0)
        try log.add(7)  // new segments after the seal: the next sequence
        emitted += try export()
        // Byte-exact lines, each record once, none missing.
        let stored = try log.storedLines()
        #expect(emitted.count == stored.count)
        #expect(Set(emitted) == Set(stored.values))
        #expect(Set(emitted.map(recordID(ofLine:))).count == emitted.count)
        let cursorText = String(decoding: FileManager.default.bytes(log.cursor), as: UTF8.self)
        #expect(cursorText.hasPrefix("spendlog-cursor 1\n"))
        #expect(cursorText.contains("done day=2026-11-2"), "sealed segments read whole are folded")
        #expect(!cursorText.contains("etl"), "the cursor never holds record content")
    }

    /// A sequence missing from a day folder may still arrive (a partial staging copy, `collect`
    /// linking segments one by one): the segments after the gap are not folded past it, and the
    /// missing one is emitted when it comes.
    @Test func aSegmentThatArrivesLateAfterLaterOnesIsStillEmitted() throws {
        var source = ExportLog("export-gap-source")
        for _ in 0..<3 {
            try source.add(5, days: 1)
            try source.seal()
        }
        let sealed = try FileManager.default.contentsOfDirectory(atPath: source.dir + "/segments/day=2026-11-20")
            .filter { $0.hasSuffix(".jsonl.zst") }.sorted()
        #expect(sealed == ["web-000000.jsonl.zst", "web-000001.jsonl.zst", "web-000002.jsonl.zst"])
        let staging = source.folder.path + "/staging"
        let destination = ExportLog("export-gap-destination")
        #expect(try runProcess("/bin/cp", ["-a", source.dir, staging]).status == 0)
        let late = staging + "/segments/day=2026-11-20/web-000001.jsonl.zst"
        try FileManager.default.removeItem(atPath: late)
        func collect() throws {
            let r = try spendlog(["collect", staging, "--into", destination.dir])
            #expect(r.status == 0, "\(r.stderr)")
        }
        func export() throws -> [String] {
            let r = try destination.run(["export", "--cursor", destination.cursor])
            #expect(r.status == 0, "\(r.stderr)")
            return completeLines(r.stdout)
        }
        try collect()
        var emitted = try export()
        #expect(emitted.count == 10)
        let cursorText = String(decoding: FileManager.default.bytes(destination.cursor), as: UTF8.self)
        #expect(cursorText.contains("done day=2026-11-20/web-000000\n"), "\(cursorText)")
        #expect(!cursorText.contains("done day=2026-11-20/web-000002"), "\(cursorText)")
        #expect(try export().isEmpty)
        #expect(
            try runProcess("/bin/cp", [source.dir + "/segments/day=2026-11-20/web-000001.jsonl.zst", late]).status == 0)
        try collect()
        emitted += try export()
        #expect(emitted.count == 15)
        #expect(Set(emitted) == Set(try source.storedLines().values))
        let folded = String(decoding: FileManager.default.bytes(destination.cursor), as: UTF8.self)
        #expect(folded.contains("done day=2026-11-20/web-000002\n"), "the gap filled, all three fold: \(folded)")
    }

    @Test func limitGivesBoundedBatchesAndFiltersStay() throws {
        var log = ExportLog("export-limit")
        try log.add(50)
        var batches: [[String]] = []
        for _ in 0..<20 {
            let r = try log.run(["export", "--cursor", log.cursor, "--limit", "7", "--project", "etl"])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = completeLines(r.stdout)
            if lines.isEmpty { break }
            #expect(lines.count <= 7)
            batches.append(lines)
            if batches.count == 2 { try log.add(9) }
        }
        let all = batches.flatMap { $0 }
        let expected = try log.storedLines().values.filter { $0.contains(#""project":"etl""#) }
        #expect(all.count == expected.count)
        #expect(Set(all) == Set(expected))
        // The cursor remembers its filter: another one is refused, naming the file.
        let other = try log.run(["export", "--cursor", log.cursor])
        #expect(other.status == 64)
        #expect(other.stderr.contains(log.cursor) && other.stderr.contains("filter"), "\(other.stderr)")
        // Tag filters are written in one order whatever the process's hashing: the same filter is
        // the same cursor on every run.
        let tagged = log.folder.path + "/tagged-cursor"
        for _ in 0..<8 {
            let r = try log.run([
                "export", "--cursor", tagged, "--tag", "env=prod", "--tag", "team=a,b", "--tag", "team=x",
                "--tag", "zone=1",
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }
    }

    @Test func damagedOrForeignCursorIsAnErrorNeverAFreshStart() throws {
        var log = ExportLog("export-bad-cursor")
        try log.add(12)
        #expect(try log.run(["export", "--cursor", log.cursor]).status == 0)
        let good = FileManager.default.bytes(log.cursor)
        var flipped = good
        flipped[good.count / 2] ^= 0x01
        let cases: [(String, [UInt8])] = [
            ("empty", []), ("foreign", Array("{\"offset\": 12}\n".utf8)), ("a changed byte", flipped),
            ("truncated", Array(good.prefix(good.count - 5))),
        ]
        for (label, bytes) in cases {
            writeBytes(bytes, to: log.cursor)
            let r = try log.run(["export", "--cursor", log.cursor])
            #expect(r.status == 65, "\(label): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(label): nothing exported")
            #expect(r.stderr.contains("'\(log.cursor)'") && r.stderr.contains("byte "), "\(label): \(r.stderr)")
        }
        // A well-formed cursor whose offset falls inside a line (made for another log).
        var cursor = try ExportCursor.decode(good, path: log.cursor)
        let name = try #require(cursor.positions.keys.sorted().first)
        cursor.positions[name]! -= 3
        writeBytes(cursor.encoded(), to: log.cursor)
        let r = try log.run(["export", "--cursor", log.cursor])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("inside a line") && r.stderr.contains(name.stem), "\(r.stderr)")
    }

    /// At-least-once: runs killed at every step (mid-output, after the output, while replacing the
    /// cursor) while another process appends and seals and an indexer runs. Every record reaches
    /// the consumer; a record is seen twice only when a killed run had emitted it.
    @Test func killedExportsLoseNothing() throws {
        var log = ExportLog("export-kill")
        try log.add(30)
        let writer = try backgroundWriter(log, rounds: 12)
        let indexer = Process()
        indexer.executableURL = URL(fileURLWithPath: "/bin/sh")
        indexer.arguments = [
            "-c", "for i in 1 2 3 4 5 6 7 8; do \"$0\" index --dir \"$1\" >/dev/null 2>&1; sleep 0.05; done",
            TestPaths.binary, log.dir,
        ]
        try indexer.run()
        let points = [
            "export.afterRecord@1", "export.afterRecord@17", "export.afterOutput", "export.cursorTempWritten",
            "export.cursorBeforeRename", "export.cursorRenamed", "export.afterRecord@3",
        ]
        var seen: [String: Int] = [:]
        var fromKilled = Set<String>()
        var killed = 0
        for round in 0..<(points.count * 2) {
            let point = points[round % points.count]
            let env = round % 2 == 0 ? ["SPENDLOG_CRASH_AT": point] : [:]
            let r = try log.run(["export", "--cursor", log.cursor], environment: env)
            let lines = completeLines(r.stdout)
            if r.status == SIGKILL {
                killed += 1
                fromKilled.formUnion(lines)
            } else {
                #expect(r.status == 0, "\(point): \(r.stderr)")
            }
            for line in lines { seen[line, default: 0] += 1 }
        }
        writer.waitForExit()
        indexer.waitForExit()
        #expect(writer.terminationStatus == 0)
        let last = try log.run(["export", "--cursor", log.cursor])
        #expect(last.status == 0, "\(last.stderr)")
        for line in completeLines(last.stdout) { seen[line, default: 0] += 1 }
        let stored = try log.storedLines()
        #expect(Set(seen.keys) == Set(stored.values), "no gaps, no records that are not in the log")
        for (line, count) in seen where count > 1 {
            #expect(fromKilled.contains(line), "emitted twice without a kill: \(line.prefix(60))")
        }
        #expect(killed >= 5)
        print("export kill loop: \(killed) runs killed, \(stored.count) records, \(seen.values.filter { $0 > 1 }.count) re-emitted")
    }

    /// Exactly-once: a consumer stores a batch only when the export exited 0, then commits.
    /// Exports and commits are killed at every step; the union of the stored batches is the log,
    /// with no duplicates and no gaps.
    @Test func pendingAndCommitGiveExactlyOnce() throws {
        var log = ExportLog("export-commit")
        try log.add(20)
        let writer = try backgroundWriter(log, rounds: 8)
        let exportPoints = [
            "", "export.afterRecord@2", "export.afterOutput", "export.pendingTempWritten", "export.pendingRenamed", "",
        ]
        let commitPoints = ["", "export.commitTempWritten", "export.commitRenamed", "", "export.commitBeforeRename"]
        var stored: [String] = []
        var round = 0
        var emptyAfterWriter = 0
        while emptyAfterWriter < 2 && round < 200 {
            round += 1
            let point = exportPoints[round % exportPoints.count]
            let r = try log.run(
                ["export", "--cursor", log.cursor, "--pending", "--limit", "9"],
                environment: point.isEmpty ? [:] : ["SPENDLOG_CRASH_AT": point])
            guard r.status == 0 else {
                #expect(r.status == SIGKILL, "\(point): \(r.stderr)")
                continue  // not stored, not committed: the next export emits the batch again
            }
            let batch = completeLines(r.stdout)
            stored += batch
            // Commit, retrying after a kill (the consumer knows it stored the batch).
            var commitPoint = commitPoints[round % commitPoints.count]
            while true {
                let c = try log.run(
                    ["export", "--cursor", log.cursor, "--commit"],
                    environment: commitPoint.isEmpty ? [:] : ["SPENDLOG_CRASH_AT": commitPoint])
                if c.status == 0 { break }
                #expect(c.status == SIGKILL, "\(c.stderr)")
                commitPoint = ""
            }
            if batch.isEmpty && !writer.isRunning { emptyAfterWriter += 1 }
        }
        writer.waitForExit()
        #expect(writer.terminationStatus == 0)
        let all = try log.storedLines()
        #expect(stored.count == all.count, "no duplicates")
        #expect(Set(stored) == Set(all.values), "no gaps")
        // A pending batch made before the cursor moved cannot be committed.
        try log.add(3)
        #expect(try log.run(["export", "--cursor", log.cursor, "--pending"]).status == 0)
        var moved = try #require(try ExportCursor.decode(FileManager.default.bytes(log.cursor), path: log.cursor))
        moved.positions[SegmentName(day: "2026-11-01", host: "x", sequence: 0)] = 1
        writeBytes(moved.encoded(), to: log.cursor)
        let c = try log.run(["export", "--cursor", log.cursor, "--commit"])
        #expect(c.status == 64 && c.stderr.contains("Nothing was committed"), "\(c.stderr)")
    }

    /// Appends in `rounds` batches of 5 records, sealing every third round.
    func backgroundWriter(_ log: ExportLog, rounds: Int) throws -> Process {
        var script = "set -e\n"
        for round in 0..<rounds {
            var lines: [String] = []
            for k in 0..<5 {
                lines.append(
                    #"{"ts":"2026-11-2\#(round % 3)T12:00:0\#(k).000Z","project":"bg","model":"gpt-4.1","input_tokens":\#(round * 10 + k),"cost_usd":0.001}"#
                )
            }
            script += "printf '%s\\n' '\(lines.joined(separator: "' '"))' | \"$0\" ingest --dir \"$1\" - >/dev/null\n"
            if round % 3 == 2 { script += "\"$0\" seal --dir \"$1\" >/dev/null\n" }
            script += "sleep 0.02\n"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, TestPaths.binary, log.dir]
        try process.run()
        return process
    }
}
