import Foundation
import Testing

@testable import SpendLog

/// The index's duplicate check of a day: a filter that answers "new" or "may have been seen",
/// settled by reading the ids before again, and exact for the rest of the day once that happens
/// twice. Its answers are a set's answers, whatever the filter says.
@Suite struct DayIDsTests {
    /// `ids` in order through a `DayIDs`, against a set; returns how often the ids before were read.
    static func check(_ ids: [RecordID], check: inout DayIDs) throws -> Int {
        var before: [RecordID] = []
        var reference = Set<RecordID>()
        var reads = 0
        for id in ids {
            let new = try check.insert(
                id,
                readPrior: { (each: (RecordID) -> Void) throws(SpendLogError) in
                    reads += 1
                    for earlier in before { each(earlier) }
                })
            #expect(new == reference.insert(id).inserted, "\(id)")
            before.append(id)
        }
        return reads
    }

    static func ids(_ count: Int, repeats: Int, rng: inout SplitMix) -> [RecordID] {
        var ids: [RecordID] = []
        for i in 0..<count {
            if i > 0 && Int.random(in: 0..<100, using: &rng) < repeats {
                ids.append(ids.randomElement(using: &rng)!)
            } else {
                ids.append(RecordID(high: UInt64.random(in: 0..<64, using: &rng), low: rng.next()))
            }
        }
        return ids
    }

    @Test func aFullFilterAnswersAsASetAndTurnsExact() throws {
        var rng = SplitMix(state: 61)
        // 512 bits: full after a few dozen ids, so nearly every later id "may have been seen".
        var small = DayIDs(filterWords: 8)
        let ids = Self.ids(3000, repeats: 10, rng: &rng)
        let reads = try Self.check(ids, check: &small)
        #expect(small.exact != nil)
        #expect(reads == 2)  // one question settled by reading, then the read that made it exact
        // The next day starts over: the same ids are new again, and it is exact again only once
        // two questions were settled.
        small.removeAll()
        #expect(small.exact == nil)
        #expect(try Self.check(ids, check: &small) == 2)
    }

    @Test func aFalseAlarmIsSettledByReadingAndTheFilterStays() throws {
        var rng = SplitMix(state: 62)
        // 8,192 bits for 600 distinct ids: now and then a new id "may have been seen".
        var settled = 0
        for round in 0..<40 {
            var check = DayIDs(filterWords: 128)
            let reads = try Self.check(Self.ids(600, repeats: 0, rng: &rng), check: &check)
            #expect((reads == 2) == (check.exact != nil), "round \(round)")
            if reads == 1 { settled += 1 }
        }
        #expect(settled > 0)
    }

    @Test func aDayOf27000RecordsNeedsNoSet() throws {
        var rng = SplitMix(state: 63)
        var check = DayIDs()
        let reads = try Self.check(Self.ids(27_400, repeats: 0, rng: &rng), check: &check)
        #expect(reads == 0)
        #expect(check.exact == nil)
        // A repeat is settled by reading, the first time.
        let repeated = try Self.check(Self.ids(2, repeats: 0, rng: &rng) + [RecordID(high: 1, low: 2)] * 2, check: &check)
        #expect(repeated >= 1)
    }

    @Test func idsAddedWithoutAQuestionAreSeenByLaterOnes() throws {
        var check = DayIDs(filterWords: 8)
        let earlier = (0..<100).map { RecordID(high: 7, low: UInt64($0)) }
        for id in earlier { check.add(id) }
        for (index, id) in (earlier + [RecordID(high: 8, low: 1)]).enumerated() {
            let new = try check.insert(
                id, readPrior: { (each: (RecordID) -> Void) throws(SpendLogError) in earlier.forEach(each) })
            #expect(new == (index == 100))
        }
    }

    /// A log whose day has a record twice in one segment and whole copies of its segment, indexed
    /// from nothing and then as copies arrive: each record counts once, as the scan counts it.
    /// With a small filter, most new ids "may have been seen", and the index reads the ids before
    /// them again (the lines before in the segment, the segments before in the day).
    @Test(arguments: [DayIDs.filterWords, 8, 64])
    func copiesAndRepeatsOfADayCountOnce(filterWords: Int) throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        var rng = SplitMix(state: 64)
        let records = SegmentFramesTests.records(count: 400, ordered: true, rng: &rng)
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        _ = try writer.append(contentsOf: records + [records[123]])
        writer.close()
        try SegmentFramesTests.sealAll(log, frameBytes: 8_192)
        let segment = try #require(try LogReader(directory: log).segments().first)
        let folder = String(segment.path[..<segment.path.lastIndex(of: "/")!])
        try FileManager.default.copyItem(atPath: segment.path, toPath: folder + "/copy-000000.jsonl.zst")

        let q = StatsQuery(groupBy: [.project, .model])
        var options = IndexOptions(rebuild: true)
        options.dayIDFilterWords = filterWords
        let first = try Indexer(directory: log).run(options)
        #expect(first.recordsIndexed == 400)
        #expect(first.duplicates == 1 + 401)
        let answer = try Query(directory: log).stats(q)
        #expect(answer.rows == (try Query(directory: log).statsByScanning(q)).rows)
        #expect(answer.rows.map(\.metrics.requests).reduce(0, +) == 400)

        // A later copy meets the ids of the segments indexed before.
        try FileManager.default.copyItem(atPath: segment.path, toPath: folder + "/late-000000.jsonl.zst")
        options.rebuild = false
        let second = try Indexer(directory: log).run(options)
        #expect(second.recordsIndexed == 0)
        #expect(second.duplicates == 401)
        #expect(try Query(directory: log).stats(q).rows == answer.rows)
    }
}

extension Array {
    fileprivate static func * (items: [Element], times: Int) -> [Element] {
        (0..<times).flatMap { _ in items }
    }
}
