import Foundation
import Testing

@testable import SpendLog

/// Day cells are kept one file per month: a range reads the day files of its months only, the
/// answers stay the scan's, and a generation with the one day file of earlier versions is still
/// read and built on.
@Suite struct MonthlyDayFilesTests {
    /// Records on days from 2026-08-20 to 2026-11-10, in time order.
    static func records(_ rng: inout SplitMix) -> [UsageRecord] {
        let start = Timestamp.parse("2026-08-20T00:00:00Z")!.millisecondsSinceEpoch
        let span = 82 * Timestamp.millisecondsPerDay
        return (0..<3000).map { i in
            var record = UsageRecord(
                timestamp: Timestamp(millisecondsSinceEpoch: start + Int64(i) * span / 3000),
                project: ["etl", "bot", "web"].randomElement(using: &rng)!,
                model: ["gpt-4.1", "o3", "claude-sonnet-4-5"].randomElement(using: &rng)!,
                inputTokens: Int64.random(in: 0...9_000, using: &rng), outputTokens: Int64.random(in: 0...900, using: &rng),
                cost: Money(nanos: Int64.random(in: 0...9_000_000, using: &rng)))
            record.user = ["u1", "u2", "u3"].randomElement(using: &rng)!
            return record
        }
    }

    static func indexedLog(_ dir: TemporaryDirectory, _ rng: inout SplitMix) throws -> LogDirectory {
        let log = try dir.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        _ = try writer.append(contentsOf: records(&rng))
        try writer.sealAll()
        writer.close()
        _ = try Indexer(directory: log).run()
        return log
    }

    /// One more record, in a sealed segment of its own: the next index run builds on the generation.
    static func addSealedRecord(_ log: LogDirectory) throws {
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        _ = try writer.append(
            UsageRecord(
                timestamp: Timestamp.parse("2026-11-09T10:00:00Z")!, project: "etl", model: "o3", inputTokens: 5,
                outputTokens: 5, cost: Money(nanos: 7)))
        try writer.sealAll()
        writer.close()
    }

    /// The day files of a generation, by name, with their bytes.
    static func dayFiles(_ snapshot: IndexSnapshot) throws -> [(String, [UInt8])] {
        try FileManager.default.contentsOfDirectory(atPath: snapshot.path).filter { $0.contains(".day.") }.sorted()
            .map { ($0, [UInt8](FileManager.default.contents(atPath: snapshot.path + "/" + $0) ?? Data())) }
    }

    func query(_ since: String?, _ until: String?, by groupBy: [GroupKey]) -> StatsQuery {
        var q = StatsQuery(groupBy: groupBy)
        q.filter.since = since.map { Timestamp.parse($0)! }
        q.filter.until = until.map { Timestamp.parse($0)! }
        return q
    }

    @Test func eachMonthHasItsDayFileAndARangeReadsOnlyThoseOfItsMonths() throws {
        let dir = TemporaryDirectory()
        var rng = SplitMix(state: 31)
        let log = try Self.indexedLog(dir, &rng)
        let snapshot = try #require(try IndexSnapshot.open(log))
        let names = try FileManager.default.contentsOfDirectory(atPath: snapshot.path)
        for cube in RollupCube.all {
            #expect(try snapshot.dayFiles(cube: cube).map(\.name) == ["08", "09", "10", "11"].map { "\(cube.name).day.2026-\($0).roll" })
            #expect(!names.contains("\(cube.name).day.roll"))
        }
        let strings = try ["08", "09", "10", "11"].map { month in
            try RollupFile.decode([UInt8](try #require(FileManager.default.contents(atPath: snapshot.path + "/core.day.2026-\(month).roll"))), path: month).strings
        }
        #expect(Set(strings.map { $0 }).count == 1, "one string table for the cube's day files")

        let questions = [
            query("2026-10-03T00:00:00Z", "2026-10-20T00:00:00Z", by: [.project]),
            query("2026-10-15T06:30:00Z", nil, by: [.day, .model]),
            query("2026-09-30T23:00:00Z", "2026-10-02T01:00:00Z", by: [.user]),
            query(nil, nil, by: [.day, .project]),
            query("2026-08-31T00:00:00Z", "2026-11-01T00:00:00Z", by: [.model]),
        ]
        for q in questions {
            #expect(try Query(directory: log).stats(q).rows == (try Query(directory: log).statsByScanning(q)).rows)
        }
        // Damage to August's day files is met only by questions that read them.
        for cube in ["model", "core", "user"] {
            let path = snapshot.path + "/\(cube).day.2026-08.roll"
            var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
            bytes[bytes.count / 2] ^= 0x10
            try FileManager.default.removeItem(atPath: path)
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
        }
        for (q, readsAugust) in zip(questions, [false, false, false, true, true]) {
            let answer = try Query(directory: log).stats(q)
            #expect((answer.trace.indexDamage != nil) == readsAugust)
            if readsAugust { #expect(answer.trace.indexDamage?.path?.hasSuffix(".day.2026-08.roll") == true) }
            #expect(answer.rows == (try Query(directory: log).statsByScanning(q)).rows)
        }
    }

    /// A later day file of the previous generation that does not fit it (put there by hand, its
    /// checksum right): a string table longer than the first file's, with a cell using the added
    /// string, or a day of an earlier month. The next run stops with index damage naming the
    /// file, instead of a crash or a merge out of day order.
    @Test(arguments: ["more strings", "another month's day"])
    func aDayFileThatDoesNotFitItsGenerationIsNamed(damage: String) throws {
        let dir = TemporaryDirectory()
        var rng = SplitMix(state: 33)
        let log = try Self.indexedLog(dir, &rng)
        let snapshot = try #require(try IndexSnapshot.open(log))
        let days = try #require(try BaseDayCells(snapshot, cube: .core))
        #expect(days.files.count >= 3)
        let index = days.files.count - 1
        let original = try days.file(index)
        var strings = Array(original.strings.dropFirst())
        var keys = original.keys
        if damage == "more strings" {
            strings.append("zzz-added")
            keys[0][1] = UInt32(strings.count)
        } else {
            keys[0][0] -= 40
        }
        var encoder = RollupFile.Encoder(cube: .core, granularity: .day, strings: strings, cells: keys.count)
        for (key, metrics) in zip(keys, original.metrics) { encoder.append(key, metrics) }
        let name = days.files[index].name
        FileManager.default.createFile(atPath: snapshot.path + "/" + name, contents: Data(encoder.finish()))
        try Self.addSealedRecord(log)
        #expect {
            _ = try Indexer(directory: log).run()
        } throws: { error in
            let reason = damage == "more strings" ? "string table or dimensions differ" : "holds days of another month"
            return (error as? SpendLogError).map {
                $0.code == .corruption && $0.message.contains(name) && $0.message.contains(reason)
            } ?? false
        }
    }

    /// A day file gone after the generation's files were listed (the generation removed by a
    /// concurrent run) is an error naming it, whichever way it is read: never a month of no cells.
    @Test func aDayFileGoneWhileReadIsAnError() throws {
        let dir = TemporaryDirectory()
        var rng = SplitMix(state: 34)
        let log = try Self.indexedLog(dir, &rng)
        let snapshot = try #require(try IndexSnapshot.open(log))
        let days = try #require(try BaseDayCells(snapshot, cube: .core))
        let last = days.files.count - 1
        let name = days.files[last].name
        try FileManager.default.removeItem(atPath: snapshot.path + "/" + name)
        let named: (any Error) -> Bool = { error in
            (error as? SpendLogError).map { $0.code == .io && $0.path?.hasSuffix("/" + name) == true } ?? false
        }
        #expect(performing: { _ = try days.file(last) }, throws: named)
        #expect(performing: { try days.forEachKey { _ in } }, throws: named)
        var cursor = days.inDayOrder()
        #expect(
            performing: { while try cursor.day() != UInt32.max { _ = try cursor.next(onDay: try cursor.day()) } },
            throws: named)
    }

    /// A generation written before day files were split (one `<cube>.day.roll`): read by queries,
    /// and built on by the next run, which writes monthly files with the same sums.
    @Test func aGenerationWithOneDayFilePerCubeIsReadAndBuiltOn() throws {
        let dir = TemporaryDirectory()
        var rng = SplitMix(state: 32)
        let log = try Self.indexedLog(dir, &rng)
        let snapshot = try #require(try IndexSnapshot.open(log))
        let monthly = try Self.dayFiles(snapshot)
        // Put each cube's monthly files together into one day file, as earlier versions wrote; and
        // those versions kept no model cube.
        for name in try FileManager.default.contentsOfDirectory(atPath: snapshot.path) where name.hasPrefix("model.") {
            try FileManager.default.removeItem(atPath: snapshot.path + "/" + name)
        }
        #expect(try !snapshot.has(.model))
        for cube in RollupCube.all where cube != .model {
            let days = try #require(try BaseDayCells(snapshot, cube: cube))
            let files = try days.files.indices.map { (index: Int) throws(SpendLogError) in try days.file(index) }
            var encoder = RollupFile.Encoder(
                cube: cube, granularity: .day, strings: Array(days.header.strings.dropFirst()),
                cells: files.reduce(0) { $0 + $1.keys.count })
            for file in files {
                for (key, metrics) in zip(file.keys, file.metrics) { encoder.append(key, metrics) }
            }
            for (name, _) in try snapshot.dayFiles(cube: cube) { try FileManager.default.removeItem(atPath: snapshot.path + "/" + name) }
            FileManager.default.createFile(atPath: snapshot.path + "/\(cube.name).day.roll", contents: Data(encoder.finish()))
            #expect(try snapshot.dayFiles(cube: cube).map(\.name) == ["\(cube.name).day.roll"])
        }
        for q in [
            query("2026-10-15T06:30:00Z", nil, by: [.day, .model]), query(nil, "2026-09-05T00:00:00Z", by: [.user]),
            query(nil, nil, by: [.day, .model]), query(nil, nil, by: [.model]),
        ] {
            let answer = try Query(directory: log).stats(q)
            #expect(answer.trace.indexDamage == nil && answer.trace.rollupCells > 0)
            #expect(answer.trace.cube != "model")
            #expect(answer.rows == (try Query(directory: log).statsByScanning(q)).rows)
        }
        // The next run builds on it and writes the monthly files a rebuild writes.
        try Self.addSealedRecord(log)
        // The run reads every segment again: only that makes the model cube's sums.
        let report = try Indexer(directory: log).run()
        #expect(report.segmentsIndexed == (try LogReader(directory: log).segments().filter(\.sealed).count))
        let next = try #require(try IndexSnapshot.open(log))
        #expect(try next.has(.model))
        let incremental = try Self.dayFiles(next)
        #expect(incremental.map(\.0) == monthly.map(\.0))
        _ = try Indexer(directory: log).run(IndexOptions(rebuild: true))
        let rebuilt = try #require(try IndexSnapshot.open(log))
        let fresh = try Self.dayFiles(rebuilt)
        #expect(fresh.map(\.0) == incremental.map(\.0) && zip(fresh, incremental).allSatisfy { $0.1 == $1.1 })
    }

    /// Questions about models alone over whole UTC days are answered by the `model` cube (no
    /// project, no hours); a bound inside a day or a zone's local days take `core`. The answers
    /// are the scan's either way.
    @Test func modelQuestionsOverWholeDaysUseTheModelCube() throws {
        let dir = TemporaryDirectory()
        var rng = SplitMix(state: 33)
        let log = try Self.indexedLog(dir, &rng)
        var zoned = query(nil, nil, by: [.day, .model])
        zoned.timeZone = try ZoneInfo.named("Asia/Kolkata")
        var filtered = query("2026-09-01T00:00:00Z", nil, by: [.day])
        filtered.filter.models = ["o3"]
        let cases: [(StatsQuery, String)] = [
            (query(nil, nil, by: [.day, .model]), "model"),
            (query("2026-09-03T00:00:00Z", "2026-10-20T00:00:00Z", by: [.model, .status]), "model"),
            (filtered, "model"),
            (query(nil, nil, by: [.month]), "model"),
            (query("2026-10-15T06:30:00Z", nil, by: [.day, .model]), "core"),
            (query(nil, "2026-10-15T00:00:01Z", by: [.model]), "core"),
            (zoned, "core"),
            (query(nil, nil, by: [.project, .model]), "core"),
        ]
        for (q, cube) in cases {
            let answer = try Query(directory: log).stats(q)
            #expect(answer.trace.cube == cube)
            #expect(answer.rows == (try Query(directory: log).statsByScanning(q)).rows)
        }
    }

    @Test func dayFileNamesAreParsedOnlyInTheirOwnSpelling() {
        let november: Int64 = (2026 - 1970) * 12 + 10
        #expect(RollupFile.dayFileMonth("core.day.2026-11.roll", cube: .core) == november)
        #expect(RollupFile.dayFileMonth("core.day.1970-01.roll", cube: .core) == Int64(0))
        for name in [
            "core.day.roll", "core.day.2026-13.roll", "core.day.2026-00.roll", "core.day.2026-1.roll",
            "core.day.2026-11-02.roll", "user.day.2026-11.roll", "core.hour.2026-11.roll", "core.day.2026-11.rol",
            "core.day.+026-11.roll", "core.day.2026_11.roll",
        ] {
            #expect(RollupFile.dayFileMonth(name, cube: .core) == nil, "\(name)")
        }
    }
}
