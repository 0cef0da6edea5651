/// Checks a whole log (`spendlog verify`): every name in `segments/` is a day folder, a segment,
/// a writers' lock or a seal in progress; every sealed segment decompresses with its checksum,
/// every line is a valid record, every record sits in the folder of its own UTC day, no id
/// appears twice, and every adjustment prices an unpriced record of its day.
public struct LogVerifier: Sendable {
    /// The log checked.
    public let directory: LogDirectory

    /// A verifier of `directory`.
    public init(directory: LogDirectory) { self.directory = directory }

    /// What a check found.
    public struct Report: Sendable {
        /// Segments read.
        public var segmentsChecked = 0
        /// Of them, sealed.
        public var sealedSegments = 0
        /// Of them, active.
        public var activeSegments = 0
        /// Valid records read.
        public var records = 0
        /// Of the records, the adjustments (docs/FORMAT.md, "Adjustments").
        public var adjustments = 0
        /// Each names the file and byte offset.
        public var problems: [String] = []
        /// Not problems: torn tails of active segments, leftovers of interrupted seals.
        public var notes: [String] = []
    }

    /// Checks the whole log. Damage is reported in the result, not thrown; an I/O error that stops
    /// the check (a folder that cannot be listed or read) is thrown.
    public func verify() throws(SpendLogError) -> Report {
        var report = Report()
        report.problems += try strayNames()
        let reader = LogReader(directory: directory)
        var seen = Set<RecordID>()
        var day = DayOfAdjustments()
        for segment in try reader.segments() {
            if segment.name.day != day.name {
                report.problems += day.problems()
                day = DayOfAdjustments(name: segment.name.day)
            }
            report.segmentsChecked += 1
            if segment.sealed { report.sealedSegments += 1 } else { report.activeSegments += 1 }
            var count = 0
            do {
                let summary = try reader.readSegment(segment) { record, offset throws(SpendLogError) in
                    if record.timestamp.dayString != segment.name.day {
                        throw SpendLogError.corruption(
                            path: segment.path, offset: offset,
                            "record \(record.id) has ts \(record.timestamp) but lies in the folder of \(segment.name.day)"
                        )
                    }
                    if !seen.insert(record.id).inserted {
                        throw SpendLogError.corruption(
                            path: segment.path, offset: offset, "record id \(record.id) appears a second time")
                    }
                    day.add(record, in: segment, at: offset)
                    if record.isAdjustment { report.adjustments += 1 }
                    count += 1
                }
                if summary.tornTailBytes > 0 {
                    report.notes.append(
                        "'\(segment.path)' ends with \(summary.tornTailBytes) bytes of an unfinished line at byte \(summary.bytes) (a writer was interrupted or is writing); it is not a record and the next append removes it."
                    )
                }
            } catch {
                if error.code != .corruption { throw error }
                report.problems.append(error.message)
            }
            report.records += count
        }
        report.problems += day.problems()
        return report
    }

    /// The records and adjustments of one day folder. An adjustment has its record's `ts`, so
    /// both lie in the same folder: each day is checked on its own, and only a day's worth of
    /// records is held.
    struct DayOfAdjustments {
        var name = ""
        /// Every record of the day that is not an adjustment.
        var records: [RecordID: (source: UsageRecord.CostSource, project: String, model: String)] = [:]
        var adjustments: [(record: UsageRecord, path: String, offset: Int64)] = []

        mutating func add(_ record: UsageRecord, in segment: SegmentFile, at offset: Int64) {
            if record.isAdjustment {
                adjustments.append((record, segment.path, offset))
            } else {
                records[record.id] = (record.costSource, record.project, record.model)
            }
        }

        /// Each adjustment must price an unpriced record of its day, of the same project and
        /// model, and be the only one to price it (docs/FORMAT.md, "Adjustments").
        func problems() -> [String] {
            var problems: [String] = []
            var first: [RecordID: RecordID] = [:]
            for (adjustment, path, offset) in adjustments {
                guard let target = adjustment.adjusts else { continue }
                let at = "'\(path)' at byte \(offset): adjustment \(adjustment.id) adjusts record \(target)"
                guard let record = records[target] else {
                    problems.append(
                        "\(at), which is not in the log (no record with that id in day=\(name)): its cost "
                            + "counts, but no unpriced record is priced by it.")
                    continue
                }
                if record.source != .unpriced {
                    problems.append(
                        "\(at), whose cost_source is \"\(record.source.rawValue)\": only unpriced records are "
                            + "repriced, so this cost is counted twice.")
                }
                if !record.project.utf8.elementsEqual(adjustment.project.utf8)
                    || !record.model.utf8.elementsEqual(adjustment.model.utf8)
                {
                    problems.append(
                        "\(at), of project \(Quoted(Array(record.project.utf8))) and model "
                            + "\(Quoted(Array(record.model.utf8))), but the adjustment has project "
                            + "\(Quoted(Array(adjustment.project.utf8))) and model "
                            + "\(Quoted(Array(adjustment.model.utf8))): its cost is counted under other names.")
                }
                if let earlier = first[target] {
                    problems.append(
                        "\(at), which adjustment \(earlier) prices already: its cost is counted twice.")
                } else {
                    first[target] = adjustment.id
                }
            }
            return problems
        }
    }

    /// Every name in `segments/` that no reader takes for a segment, a writers' lock or a seal in
    /// progress (docs/FORMAT.md, "Layout"). Every reader skips such files, all by the one parser
    /// (``SegmentName/parseFile(_:day:)``): `tail`, budgets, the index and the records `stats`
    /// reads leave them out alike; only the sums of a segment indexed before it was renamed stay
    /// in the index, as for a deleted one.
    func strayNames() throws(SpendLogError) -> [String] {
        var problems: [String] = []
        let segmentsPath = directory.segmentsPath
        for folder in (try FileSystem.listDirectory(segmentsPath) ?? []).sorted() {
            let folderPath = segmentsPath + "/" + folder
            guard let day = SegmentName.day(fromFolder: folder), FileSystem.isDirectory(folderPath) else {
                problems.append(
                    "'\(folderPath)' is not a day folder (day=YYYY-MM-DD, a real date): no reader looks inside it, "
                        + "so tail, budgets, the index and stats leave out what it holds (stats keeps only sums indexed "
                        + "before it got this name). Rename it to the day of its records, or move it out of segments/.")
                continue
            }
            for name in (try FileSystem.listDirectory(folderPath) ?? []).sorted() {
                if SegmentName.parseFile(name, day: day) != nil || SegmentName.isLockFile(name)
                    || SegmentName.incomingProcess(name, day: day) != nil
                    || SegmentName.retiredMarker(name, day: day) != nil
                {
                    continue
                }
                problems.append(
                    "'\(folderPath)/\(name)' is not a segment name (<host>-<seq>.jsonl or <host>-<seq>.jsonl.zst, "
                        + "<seq> six digits or more without extra leading zeros), a writers' lock or a seal in "
                        + "progress: no reader takes it for a segment, so tail, budgets, the index and stats leave out "
                        + "any records it holds (stats keeps only sums indexed before it got this name). Rename it to "
                        + "the segment it is, or move it out of segments/.")
            }
        }
        return problems
    }
}
