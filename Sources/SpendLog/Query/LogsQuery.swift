/// A page of raw records, newest first.
public struct LogsPage: Sendable {
    /// The records of the page, newest first.
    public var records: [UsageRecord]
    /// Damaged segments left out.
    public var problems: [SpendLogError] = []
    /// Lines whose record id appeared earlier in their day, left out (`spendlog verify` names them).
    public var duplicates = 0
    /// The cost an adjustment added, by the id of the record it prices, for the records listed
    /// (docs/FORMAT.md, "Adjustments"). Adjustments themselves are not calls and are not listed.
    public var repriced: [RecordID: Money] = [:]
}

extension Query {
    /// Records matching `filter`, newest first (by time, then id), skipping `offset`, at most
    /// `limit`. Reads day folders from the newest and stops as soon as the page is full: a day
    /// folder holds exactly the records of its UTC day.
    public func logs(filter: RecordFilter, limit: Int, offset: Int) throws(SpendLogError) -> LogsPage {
        let reader = LogReader(directory: directory)
        let segments = try reader.segments(days: { filter.mayMatch(day: $0) })
        let days = Array(Set(segments.map(\.name.day))).sorted(by: >)
        var page = LogsPage(records: [])
        var skip = offset
        for day in days where page.records.count < limit {
            var found: [UsageRecord] = []
            // A record id twice in a day (a copied segment) is one record (docs/FORMAT.md, "Record ids").
            var seen = Set<RecordID>()
            var adjustments: [RecordID: Money] = [:]
            for segment in segments where segment.name.day == day {
                do {
                    _ = try reader.readSegment(segment) { record, _ throws(SpendLogError) in
                        guard filter.matches(record) else { return }
                        if let target = record.adjusts {
                            if seen.insert(record.id).inserted { adjustments[target] = record.cost }
                            return
                        }
                        if seen.insert(record.id).inserted { found.append(record) } else { page.duplicates += 1 }
                    }
                } catch {
                    guard error.code == .corruption else { throw error }
                    page.problems.append(error)
                }
            }
            found.sort { ($0.timestamp, $0.id) > ($1.timestamp, $1.id) }
            if skip >= found.count {
                skip -= found.count
                continue
            }
            let listed = found[skip...].prefix(limit - page.records.count)
            for record in listed { page.repriced[record.id] = adjustments[record.id] }
            page.records += listed
            skip = 0
        }
        return page
    }

    /// The `count` newest records matching `filter`, newest last (`tail`).
    public func tail(filter: RecordFilter, count: Int) throws(SpendLogError) -> LogsPage {
        var page = try logs(filter: filter, limit: count, offset: 0)
        page.records.reverse()
        return page
    }
}
