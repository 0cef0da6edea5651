/// Checks a whole log (`spendlog verify`): every sealed segment decompresses with its checksum,
/// every line is a valid record, every record sits in the folder of its own UTC day, and no id
/// appears twice.
public struct LogVerifier: Sendable {
    public let directory: LogDirectory

    public init(directory: LogDirectory) { self.directory = directory }

    public struct Report: Sendable {
        public var segmentsChecked = 0
        public var sealedSegments = 0
        public var activeSegments = 0
        public var records = 0
        /// Each names the file and byte offset.
        public var problems: [String] = []
        /// Not problems: torn tails of active segments, leftovers of interrupted seals.
        public var notes: [String] = []
    }

    public func verify() throws(SpendLogError) -> Report {
        var report = Report()
        let reader = LogReader(directory: directory)
        var seen = Set<RecordID>()
        for segment in try reader.segments() {
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
        return report
    }
}
