import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Which segments retention removes, and which old ones it keeps and why.
public struct RetentionPlan: Sendable {
    /// Segments holding records before this time (the start of a UTC day) may go.
    public var horizon: Timestamp
    /// Sealed, indexed (the index lists exactly these bytes) and wholly before the horizon.
    public var removable: [SegmentFile] = []
    /// The bytes of the removable segments.
    public var removableBytes: Int64 = 0
    /// The records they hold.
    public var removableRecords: Int64 = 0
    /// Segments before the horizon that stay, each with the reason.
    public var kept: [(segment: SegmentFile, reason: String)] = []
    /// Limits whose counters still need records from before the horizon.
    public var blockingRules: [LimitRule] = []
}

/// Removes old segments once the index holds their sums (docs/SCALE.md, "Retention").
///
/// Only whole sealed segments are removed, of days wholly before the horizon and only whole days
/// (a record and its adjustment may be in different segments of a day), and only those the
/// current index generation lists with their exact size and checksum: their sums stay in the
/// rollups, so `stats` over those months still answers. Active, unindexed or changed segments are
/// kept. Limits whose window reaches before the horizon make it refuse: their counters may be
/// recounted from the log (a new limit, a reset, `budget rebuild`).
///
/// Runs under `index/lock`, so no indexer runs meanwhile. Per day folder it first leaves a
/// `<host>-<seq>.retired` marker for each host's highest removed sequence (writers number past
/// it), then unlinks the segments and fsyncs the folder. A crash at any point leaves a log that
/// verifies clean and an index that still covers every remaining segment: the removed ones are
/// simply absent, as they will be once the run is redone.
public struct Retention: Sendable {
    /// The log whose old segments are considered.
    public let directory: LogDirectory

    /// Retention for `directory`.
    public init(directory: LogDirectory) { self.directory = directory }

    /// What removing everything older than `keepDays` days before `now` would remove.
    public func plan(keepDays: Int, now: Timestamp) throws(SpendLogError) -> RetentionPlan {
        guard keepDays >= 1 && keepDays <= 100_000 else {
            throw .invalid(field: "keep", "must be a number of days from 1 to 100000 (got \(keepDays)).")
        }
        let day = Timestamp.millisecondsPerDay
        let horizonMs = floorDiv(now.millisecondsSinceEpoch - Int64(keepDays) * day, day) * day
        var plan = RetentionPlan(horizon: Timestamp(millisecondsSinceEpoch: horizonMs))
        let horizonDay = plan.horizon.dayString
        let snapshot = try IndexSnapshot.open(directory)
        let old = try LogReader(directory: directory).segments(days: { $0 < horizonDay })
        for segment in old {
            guard segment.sealed else {
                plan.kept.append((segment, "it is active (not sealed yet)"))
                continue
            }
            guard let entry = snapshot?.manifest.entries[IndexManifest.key(for: segment)] else {
                plan.kept.append((segment, "it is not indexed yet"))
                continue
            }
            let (bytes, checksum) = try Collector.sizeAndChecksum(segment.path)
            guard bytes == entry.bytes && checksum == entry.checksum else {
                plan.kept.append(
                    (
                        segment,
                        "its bytes are not the ones the index holds (\(bytes) bytes, checksum \(hex16(checksum)); "
                            + "indexed: \(entry.bytes) bytes, \(hex16(entry.checksum))): `spendlog verify` checks it"
                    ))
                continue
            }
            plan.removable.append(segment)
            plan.removableBytes += bytes
            plan.removableRecords += entry.records
        }
        // A day goes whole or not at all: a record and the adjustment that prices it later are in
        // one day folder but may be in different segments, and `verify` and `reprice` read them
        // together.
        let keptDays = Set(plan.kept.map(\.segment.name.day))
        if !keptDays.isEmpty {
            let held = plan.removable.filter { keptDays.contains($0.name.day) }
            plan.removable.removeAll { keptDays.contains($0.name.day) }
            for segment in held {
                let entry = snapshot?.manifest.entries[IndexManifest.key(for: segment)]
                plan.removableBytes -= entry?.bytes ?? 0
                plan.removableRecords -= entry?.records ?? 0
                plan.kept.append((segment, "another segment of its day is kept, and a day is removed whole"))
            }
        }
        if !plan.removable.isEmpty {
            let rules = try Budget(directory: directory).limits()
            plan.blockingRules = rules.filter {
                $0.window.pruneBelow(highWater: now.millisecondsSinceEpoch) < horizonMs
            }
        }
        return plan
    }

    /// Removes what ``plan(keepDays:now:)`` lists, under `index/lock`; refuses, naming the limit,
    /// when a limit's window reaches before the horizon. Returns the plan it carried out.
    @discardableResult
    public func apply(keepDays: Int, now: Timestamp) throws(SpendLogError) -> RetentionPlan {
        let lockPath = directory.indexPath + "/lock"
        guard let lock = try FileSystem.openIfExists(lockPath, O_RDWR) else {
            // Nothing was ever indexed, so nothing can be removed.
            return try plan(keepDays: keepDays, now: now)
        }
        defer { FileSystem.close(lock) }
        try FileSystem.lock(lock, path: lockPath)
        let plan = try plan(keepDays: keepDays, now: now)
        if let rule = plan.blockingRules.first {
            throw Retention.refusal(rule, horizon: plan.horizon)
        }
        var byFolder: [String: [SegmentFile]] = [:]
        for segment in plan.removable { byFolder[segment.name.day, default: []].append(segment) }
        for day in byFolder.keys.sorted() {
            let segments = byFolder[day]!
            let folder = directory.dayFolderPath(day)
            var highest: [String: SegmentName] = [:]
            for segment in segments where segment.name.sequence > highest[segment.name.host]?.sequence ?? -1 {
                highest[segment.name.host] = segment.name
            }
            let names = try FileSystem.listDirectory(folder) ?? []
            for name in highest.values.sorted() {
                let fd = try FileSystem.open(folder + "/" + name.retiredFileName, O_WRONLY | O_CREAT)
                FileSystem.close(fd)
            }
            try FileSystem.fsyncDirectory(folder)
            FaultInjection.reach("retention.afterMarkers")
            for segment in segments {
                try FileSystem.unlinkIfExists(segment.path)
                FaultInjection.reach("retention.afterUnlink")
            }
            try FileSystem.fsyncDirectory(folder)
            // Older markers of the same hosts say less than the new ones.
            var removedMarkers = false
            for file in names {
                guard let marker = SegmentName.retiredMarker(file, day: day), let top = highest[marker.host],
                    marker.sequence < top.sequence
                else { continue }
                try FileSystem.unlinkIfExists(folder + "/" + file)
                removedMarkers = true
            }
            if removedMarkers { try FileSystem.fsyncDirectory(folder) }
        }
        return plan
    }

    static func refusal(_ rule: LimitRule, horizon: Timestamp) -> SpendLogError {
        SpendLogError(
            code: .invalidInput,
            message:
                "keep: limit \(rule.id) (\(rule.summary)) counts records from before \(horizon.dayString), "
                + "and its counters are recounted from the log when limits change: removing those segments would "
                + "lower its spend. Nothing was removed. Keep more days, or delete the limit (`spendlog limit delete "
                + "\(rule.id)`) if it is no longer needed.",
            field: "keep")
    }
}
