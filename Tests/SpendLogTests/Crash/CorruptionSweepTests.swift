import Foundation
import Testing

@testable import SpendLog

/// Damage to every file a reader trusts, one case at a time, on a small log of two days (two
/// sealed segments of each, one active segment), an index of two generations, and a budget with
/// a journal and a sidecar: every single-byte flip (xor 0xFF and xor 0x01), every truncation
/// length, and a zeroed 4 KiB block at each aligned offset. After each case the file is put back.
///
/// - A sealed segment: `verify` and the reader name the file and an offset inside it; the other
///   segments read in full.
/// - The index (CURRENT, MANIFEST, rollups): every query answers what a scan of the records
///   answers, or throws a corruption error naming the damaged file.
/// - The budget sidecar: the counters are recounted; spend equals the log.
/// - The control journal: the budget reader names the journal and the offset of the damaged
///   line, or reads an intact journal of fewer events (a cut at a line end, or a damaged last
///   line without its newline, which is a torn write); silent changes of an event are counted.
///
/// `make test` takes about 24 offsets of each file (6 of five index files, whose queries are
/// slower) and the first and last bytes; `make soak-crash` sets `SPENDLOG_SWEEP=full` for every
/// offset of every file. No log carries a shipper's cursor file yet, so there
/// is none to damage.
@Suite(.serialized) struct CorruptionSweepTests {
    static let full = ProcessInfo.processInfo.environment["SPENDLOG_SWEEP"] == "full"
    static let now = time("2026-11-23T12:00:00Z")

    enum Damage: CustomStringConvertible {
        case flip(offset: Int, mask: UInt8)
        case truncate(length: Int)
        case zero(offset: Int)

        var description: String {
            switch self {
            case .flip(let offset, let mask): "byte \(offset) xor 0x\(String(mask, radix: 16))"
            case .truncate(let length): "cut to \(length) bytes"
            case .zero(let offset): "4 KiB zeroed at \(offset)"
            }
        }

        /// The first byte the damage changes.
        var firstByte: Int {
            switch self {
            case .flip(let offset, _), .zero(let offset): offset
            case .truncate(let length): length
            }
        }

        func apply(_ bytes: [UInt8]) -> [UInt8] {
            var out = bytes
            switch self {
            case .flip(let offset, let mask): out[offset] ^= mask
            case .truncate(let length): out.removeSubrange(length...)
            case .zero(let offset):
                for i in offset..<min(offset + 4096, out.count) { out[i] = 0 }
            }
            return out
        }
    }

    /// Every damage of a file of `size` bytes, or a sample: about `samples` evenly spaced offsets
    /// and the first and last two bytes.
    static func damages(size: Int, samples: Int) -> [Damage] {
        let step = max(1, size / samples)
        let offsets = (0..<size).filter { full || $0 % step == 0 || $0 < 2 || $0 >= size - 2 }
        return offsets.flatMap { [Damage.flip(offset: $0, mask: 0xFF), .flip(offset: $0, mask: 0x01)] }
            + offsets.map { .truncate(length: $0) }
            + stride(from: 0, to: size, by: 4096).map { .zero(offset: $0) }
    }

    struct Figures: CustomStringConvertible {
        var kind: String
        var cases = 0
        var namedWithOffset = 0
        var rightAnswer = 0
        var silentlyChanged = 0

        var description: String {
            "corruption sweep: \(kind): \(cases) cases, \(namedWithOffset) named with file and offset, "
                + "\(rightAnswer) answered right, \(silentlyChanged) silently changed"
        }
    }

    /// The log of the sweep and what its readers answer before any damage.
    final class Fixture {
        let temp = TemporaryDirectory("spendlog-sweep")
        let log: LogDirectory
        let queries: [StatsQuery]
        let answers: [[[String?]: RawSums]]
        let spent: [Int64]
        let events: Int
        /// Every file of the log and its bytes.
        let pristine: [String: [UInt8]]

        init() throws {
            log = try temp.log()
            let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
            func records(_ day: String, from: Int, count: Int) -> [UsageRecord] {
                (from..<(from + count)).map { i in
                    var record = sampleRecord(
                        i, at: "\(day)T0\(i % 10):1\(i % 6):00.000Z", project: ["etl", "web"][i % 2])
                    record.user = "u\(i % 3)"
                    record.caller = "c\(i % 2)"
                    record.role = i % 4 == 0 ? nil : "r\(i % 2)"
                    return record
                }
            }
            try writer.append(contentsOf: records("2026-11-22", from: 0, count: 12))
            try writer.append(contentsOf: records("2026-11-23", from: 100, count: 12))
            try writer.sealAll()
            _ = try Indexer(directory: log).run()
            try writer.append(contentsOf: records("2026-11-22", from: 200, count: 6))
            try writer.append(contentsOf: records("2026-11-23", from: 300, count: 6))
            try writer.sealAll()
            _ = try Indexer(directory: log).run()
            try writer.append(contentsOf: records("2026-11-23", from: 400, count: 3))

            let budget = Budget(directory: log, writerOptions: WriterOptions(fsync: .none))
            try budget.setLimit(try rule("global", "cost", "1", "day"), now: time("2026-11-23T11:00:00Z"))
            try budget.setLimit(
                try rule("project=etl", "requests", "1000", "lifetime"), now: time("2026-11-23T11:00:00Z"))
            let hold = try budget.reserve(
                fields: try LimitScope.parse("project=etl"), amount: dollars("0.01"), ttlMs: 60_000,
                now: time("2026-11-23T11:30:00Z"))
            try budget.release(hold.id, now: time("2026-11-23T11:30:01Z"))
            try enforced(budget, call("0.002", at: "2026-11-23T11:40:00Z"))
            spent = try budget.status(now: CorruptionSweepTests.now).map(\.spent)
            events = lines(budget.journalPath).count

            let middle = RecordFilter(since: time("2026-11-22T03:30:00Z"), until: time("2026-11-23T05:30:00Z"))
            queries = [[GroupKey.project, .model], [.user], [.caller], [.role], [.task]].flatMap { keys in
                [
                    StatsQuery(groupBy: keys), StatsQuery(groupBy: [.day] + keys),
                    StatsQuery(groupBy: keys, filter: middle),
                ]
            }
            let query = Query(directory: log)
            answers = try queries.map { group(try query.statsByScanning($0)) }
            var files: [String: [UInt8]] = [:]
            for path in FileManager.default.enumerator(atPath: log.path)!.compactMap({ $0 as? String }) {
                let full = log.path + "/" + path
                if !FileSystem.isDirectory(full) { files[full] = FileManager.default.bytes(full) }
            }
            pristine = files
        }

        /// Puts every file back as it was and removes files made since.
        func restore() {
            for path in FileManager.default.enumerator(atPath: log.path)!.compactMap({ $0 as? String }) {
                let full = log.path + "/" + path
                if !FileSystem.isDirectory(full) && pristine[full] == nil {
                    try? FileManager.default.removeItem(atPath: full)
                }
            }
            for (path, bytes) in pristine where FileManager.default.bytes(path) != bytes { writeBytes(bytes, to: path) }
        }

        func files(_ suffix: String) -> [String] { pristine.keys.filter { $0.hasSuffix(suffix) }.sorted() }
    }

    /// Applies every damage to `path` in turn and calls `check` with the damage and the damaged size.
    func sweep(_ fixture: Fixture, _ path: String, samples: Int = 24, _ check: (Damage) throws -> Void) rethrows {
        let bytes = fixture.pristine[path]!
        for damage in Self.damages(size: bytes.count, samples: samples) {
            writeBytes(damage.apply(bytes), to: path)
            try check(damage)
            fixture.restore()
        }
    }

    @Test func everyDamageToASealedSegmentIsNamedWithItsFileAndOffset() throws {
        let fixture = try Fixture()
        let target = fixture.files(".jsonl.zst").first { $0.contains("day=2026-11-22") }!
        let reader = LogReader(directory: fixture.log)
        let segments = try reader.segments()
        let others = try segments.filter { $0.path != target }.map { segment in
            var ids: [RecordID] = []
            _ = try reader.readSegment(segment) { record, _ in ids.append(record.id) }
            return ids
        }
        var original: [UsageRecord] = []
        let decompressedSize = try reader.readSegment(segments.first { $0.path == target }!) { record, _ in
            original.append(record)
        }.bytes
        var figures = Figures(kind: "sealed segment")
        try sweep(fixture, target) { damage in
            figures.cases += 1
            let size = FileManager.default.bytes(target).count
            var caught: SpendLogError?
            var read: [UsageRecord] = []
            do throws(SpendLogError) {
                _ = try reader.readSegment(segments.first { $0.path == target }!) { record, _ in read.append(record) }
            } catch {
                caught = error
            }
            guard let caught else {
                // The content checksum covers the decompressed text: a flip that zstd decodes to
                // the same text (a bit the decoder never reads) changes no record.
                if read == original {
                    figures.rightAnswer += 1
                } else {
                    figures.silentlyChanged += 1
                    Issue.record("\(damage) of \(target) was read without an error, with other records")
                }
                return
            }
            let inText = caught.message.contains("decompressed text")
            let offset = caught.offset ?? -1
            let named =
                caught.code == .corruption && caught.path == target && caught.message.contains(target)
                && (inText ? offset <= decompressedSize : offset <= size)
            #expect(named, "\(damage): \(caught.message)")
            if named { figures.namedWithOffset += 1 }
            let report = try LogVerifier(directory: fixture.log).verify()
            #expect(report.problems.count == 1 && report.problems[0].contains(target), "\(damage): \(report.problems)")
            let after = try segments.filter { $0.path != target }.map { segment in
                var ids: [RecordID] = []
                _ = try reader.readSegment(segment) { record, _ in ids.append(record.id) }
                return ids
            }
            #expect(after == others, "\(damage): the other segments changed")
        }
        print(figures)
        #expect(figures.silentlyChanged == 0 && figures.namedWithOffset + figures.rightAnswer == figures.cases)
    }

    @Test func everyDamageToTheIndexIsNamedOrAnsweredRight() throws {
        let fixture = try Fixture()
        let index = fixture.log.indexPath
        let generation = index + "/gen-000002/"
        var targets =
            [index + "/CURRENT", generation + "MANIFEST"] + fixture.files(".roll").filter { $0.hasPrefix(generation) }
        if !Self.full {
            let sample = ["core.month", "core.day.2026-11", "core.hour.2026-11-23", "user.day.2026-11", "task.month"]
            targets = targets.filter { path in
                !path.hasSuffix(".roll") || sample.contains { path.hasSuffix("/\($0).roll") }
            }
            for name in sample {
                #expect(targets.contains { $0.hasSuffix("/\(name).roll") }, "\(name).roll is a file of the index")
            }
        }
        var figures = Figures(kind: "index (\(targets.count) files)")
        let query = Query(directory: fixture.log)
        let cubes = ["core", "user", "caller", "role", "task"]
        for target in targets {
            // A rollup file is read by the three queries of its cube; CURRENT and MANIFEST by all.
            let name = String(target.split(separator: "/").last!)
            let picked =
                cubes.firstIndex { name.hasPrefix($0 + ".") }.map { Array((3 * $0)..<(3 * $0 + 3)) }
                ?? [0, 1, 2, 3, 6, 9, 12]
            sweep(fixture, target, samples: Self.full ? 24 : 6) { damage in
                figures.cases += 1
                var named = false
                var wrong = false
                for i in picked {
                    let (q, expected) = (fixture.queries[i], fixture.answers[i])
                    do throws(SpendLogError) {
                        let answer = try query.stats(q)
                        // A damaged index is named, and the answer comes from the segments.
                        if let error = answer.trace.indexDamage {
                            let ok = error.code == .corruption && error.message.contains(target) && error.offset != nil
                            named = named || ok
                            #expect(ok, "\(damage) of \(target): \(error.message)")
                        }
                        if group(answer) != expected {
                            wrong = true
                            Issue.record(
                                "\(damage) of \(target): \(q.groupBy) answered \(group(answer)), not \(expected)")
                        }
                    } catch {
                        let ok = error.code == .corruption && error.message.contains(target) && error.offset != nil
                        named = named || ok
                        #expect(ok, "\(damage) of \(target): \(error.message)")
                    }
                }
                if named { figures.namedWithOffset += 1 }
                if !wrong && !named { figures.rightAnswer += 1 }
                if wrong { figures.silentlyChanged += 1 }
            }
        }
        print(figures)
        #expect(figures.silentlyChanged == 0)
    }

    @Test func everyDamageToTheBudgetSidecarIsRecounted() throws {
        let fixture = try Fixture()
        let budget = Budget(directory: fixture.log)
        var figures = Figures(kind: "budget sidecar")
        try sweep(fixture, budget.sidecarPath) { damage in
            figures.cases += 1
            let spent = try budget.status(now: Self.now).map(\.spent)
            #expect(spent == fixture.spent, "\(damage): \(spent), not \(fixture.spent)")
            #expect(try budget.rebuiltSidecar() == budget.checkpoint(now: Self.now), "\(damage)")
            if spent == fixture.spent { figures.rightAnswer += 1 } else { figures.silentlyChanged += 1 }
        }
        print(figures)
        #expect(figures.rightAnswer == figures.cases)
    }

    /// Every journal line carries a checksum, so a flip that would leave a valid event (a digit of
    /// a maximum, a letter of an id) is seen; a cut is seen against the checkpoint, which says how
    /// much of the journal it covered.
    @Test func everyDamageToTheControlJournalThatIsSeenIsNamedWithItsLine() throws {
        let fixture = try Fixture()
        let budget = Budget(directory: fixture.log)
        let journal = fixture.pristine[budget.journalPath]!
        let lineStarts = [0] + journal.indices.filter { journal[$0] == 0x0A }.map { $0 + 1 }
        let pristine = try budget.rebuiltSidecar()
        var figures = Figures(kind: "control journal")
        var cutShort = 0
        var zoneErrors = 0
        sweep(fixture, budget.journalPath) { damage in
            figures.cases += 1
            do throws(SpendLogError) {
                if try budget.rebuiltSidecar() == pristine {
                    figures.rightAnswer += 1
                } else if case .truncate = damage {
                    cutShort += 1
                } else {
                    figures.silentlyChanged += 1
                    Issue.record("\(damage) changed the budget without an error")
                }
            } catch {
                // A cut is named where the journal now ends (the checkpoint covers more); other damage
                // at the start of its line (each line carries a checksum).
                var line = Int64(lineStarts.last { $0 <= damage.firstByte } ?? 0)
                if case .truncate(let length) = damage, error.message.contains("events were lost") {
                    line = Int64(length)
                } else if error.message.contains("events were lost") {
                    line = error.offset ?? -1  // the last newline damaged: where the complete lines end
                }
                // A damaged zone name ('UTC' → 'UTB') reads as a zone this system lacks: named, but
                // taken for missing time zone data rather than damage.
                let zone = error.code == .io && error.message.contains("time zone")
                let named =
                    (error.code == .corruption || zone) && error.message.contains(budget.journalPath)
                    && error.offset == line
                #expect(named, "\(damage): \(error.message)")
                if named { figures.namedWithOffset += 1 }
                if zone { zoneErrors += 1 }
            }
        }
        print(
            "\(figures), \(cutShort) cut short and read as fewer events, \(zoneErrors) of the named taken for "
                + "missing time zone data")
        #expect(figures.namedWithOffset > 0)
    }

    /// The CLI on a sample of the same damage: the file named, never a signal; exit 65, except for
    /// a damaged index, which `stats` answers without.
    @Test func theCLINamesDamageAndExitsWithTheDataErrorCode() throws {
        let fixture = try Fixture()
        let segment = fixture.files(".jsonl.zst").first { $0.contains("day=2026-11-22") }!
        let rollup = fixture.files("core.month.roll").first { !$0.contains("gen-000001") }!
        let env = ["SPENDLOG_NOW": "2026-11-23T12:00:00Z"]
        for (path, damage) in [
            (segment, Damage.flip(offset: 20, mask: 0xFF)), (segment, .truncate(length: 30)),
            (rollup, .flip(offset: 12, mask: 0x01)),
            (fixture.log.budgetPath + "/journal.jsonl", .flip(offset: 3, mask: 0xFF)),
        ] {
            writeBytes(damage.apply(fixture.pristine[path]!), to: path)
            // `budget status` trusts the checkpoint for the events it covers; a rebuild reads them all.
            let command =
                path.hasSuffix(".roll")
                ? ["stats", "--by", "project"] : path.contains("/budget/") ? ["budget", "rebuild"] : ["verify"]
            let result = try spendlog(command + ["--dir", fixture.log.path], environment: env)
            // A damaged index is derived data: stats answers from the segments (exit 0) and names it.
            let expected: Int32 = path.hasSuffix(".roll") ? 0 : 65
            #expect(
                result.status == expected, "\(command) after \(damage) of \(path): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(path), "\(result.stderr)")
            fixture.restore()
        }
        writeBytes(
            Damage.flip(offset: 40, mask: 0x01).apply(fixture.pristine[Budget(directory: fixture.log).sidecarPath]!),
            to: Budget(directory: fixture.log).sidecarPath)
        let status = try spendlog(
            ["budget", "status", "--dir", fixture.log.path, "--format", "json"], environment: env)
        #expect(status.status == 0, "\(status.stderr)")
    }
}
