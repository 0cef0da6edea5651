import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Counts what the log holds past a budget state's coverage into it (docs/FORMAT.md,
/// "Counters"): every whole line past the covered position of each active segment, each sealed
/// segment once (the position is in its decompressed text), then marked done.
///
/// Every day folder that can still count is looked at, as writers that do not enforce may append
/// to any day (days before ``BudgetState/firstCountingDay(at:)`` cannot: every record of them
/// would be skipped, so they are passed over, and the state forgets its positions in them); but a
/// folder whose segments were all sealed and counted is only `stat`ed: while its inode and
/// modification time are unchanged no segment was added, sealed or removed in it, and sealed
/// segments do not change. So the work per catch-up grows with the number of days by one `stat`
/// each, not by a listing and a `stat` per segment. The quiet folders are remembered in
/// ``QuietDays``, so each new process (every CLI call) need not list every old folder again.
///
/// Within a process, the listings of `segments/` and of the folders that are not quiet are kept
/// the same way: reused while the folder's inode and modification time are unchanged, so a
/// catch-up in a long-lived process `stat`s the folders and the active segments, and lists
/// nothing, until a segment is added, sealed or removed. While the listing of `segments/` is kept,
/// the folders being written and their active segments are looked at through descriptors kept
/// open (`fstat`, no path walked).
struct LogTally {
    let directory: LogDirectory
    let quietDaysPath: String
    private var quietDays: [String: QuietDays.Day] = [:]
    /// Whether ``quietDays`` was read from its file yet.
    private var quietDaysRead = false
    /// Whether ``quietDays`` changed since it was read or written: then it is written back.
    private var quietDaysChanged = false
    /// False for a read-only count (``BudgetStore/peek(now:)``): the hint is read, never written.
    var persistsQuietDays = true
    /// Whether lines are counted through ``RecordScanner`` when the rules allow it (a test turns it
    /// off to count the same log through the full parser and compare).
    var scansRecords = true
    /// Bytes of log counted by this tally so far (lines past a coverage, sealed segments' text):
    /// how far counting went since a checkpoint, without adding up every segment's position.
    private(set) var countedBytes: Int64 = 0
    /// The listing of `segments/`, the last one made: reused while it is ``Listing/trusted`` and
    /// the folder's inode and modification time are those it was listed with. Each of its folders
    /// carries its own kept listing (``ListedFolder/listing``), carried over to the next listing
    /// of `segments/` by name.
    private var rootListing: Listing?
    private let reader: LogReader
    /// How much older than the kernel's clock a folder's time must have been when it was listed
    /// for the listing to be trusted (``FileSystem/modificationTimeMarginMs(_:)``); read once.
    private var marginMs: Int64?
    /// The last day ``folderName(ofDay:)`` named.
    private var dayFolderNamed: (day: Int64, folder: String)?
    /// What reading keeps from one catch-up to the next: open active segments, the read buffer,
    /// the scanner. Shared with a copy of the tally (``BudgetStore/peek(now:)``); the store uses
    /// both under its mutex only.
    private let reading = Reading()

    /// Lets a catch-up that finds an active segment grown read the new lines without opening the
    /// file, allocating a buffer, or making a scanner again: under the budget's lock, between one
    /// enforced append and the next, that is most of what reading another writer's line costs.
    final class Reading {
        /// Active segments read before, open, by path, with the file's inode and device: read
        /// from while a `stat` by path finds that same file. At most ``maximumOpen``; closed when
        /// a catch-up that listed a folder again does not find them active (sealed, removed).
        private var open: [String: KeptFile] = [:]
        static let maximumOpen = 64
        private(set) lazy var buffers = SegmentReadBuffers()
        /// The active segments a catch-up found (reused from one to the next).
        var activeSeen: [String] = []
        /// The scanner, and the rules' values as ids of its interner, for the rules they were made for.
        private var scanning: Scanning?

        final class Scanning {
            let rules: [String: LimitRule]
            var scanner = RecordScanner()
            let ids: [String: [(Dimension, UInt32, String)]]

            init(rules: [String: LimitRule], scopes: ScannedScopes) {
                self.rules = rules
                ids = scopes.interned(in: scanner.interner)
            }
        }

        /// The active segment at `path` whose `stat` found `status`, open: the one kept open, or
        /// opened now (and kept, below ``maximumOpen``); nil when it cannot be opened (gone since)
        /// or is not the file the `stat` found (replaced since).
        func descriptor(_ path: String, _ status: FileSystem.Status) throws(SpendLogError) -> OwnedDescriptor? {
            if let kept = open[path] {
                if kept.isFile(status) { return kept.file }
                open[path] = nil
            }
            guard let opened = try KeptFile(opening: path, O_RDONLY, as: status) else { return nil }
            if hasRoom { open[path] = opened }
            return opened.file
        }

        /// Whether another segment would be kept open.
        private var hasRoom: Bool { open.count < Reading.maximumOpen }

        /// The paths of the segments kept open (for tests).
        var openPaths: [String] { Array(open.keys) }

        /// Closes every segment kept open.
        func closeAll() { open = [:] }

        /// Closes every segment but the active ones a whole catch-up found, `active`.
        func keepOnly(_ active: Set<String>) {
            if open.keys.contains(where: { !active.contains($0) }) { open = open.filter { active.contains($0.key) } }
        }

        /// The status of the active segment listed at `path`; nil when it is gone (sealed or
        /// removed since it was listed). While its folder's listing is kept (`listingKept`: no
        /// entry of the folder was added, renamed or removed since), the name still refers to the
        /// file kept open for it: an `fstat` of that, while it is linked, instead of a `stat`
        /// walking the path; such a segment not open yet is opened to be kept (a process
        /// appending on). A segment not found is closed.
        func status(ofActive path: String, listingKept: Bool) -> FileSystem.Status? {
            if listingKept, let kept = open[path] {
                if let status = kept.statusWhileLinked() { return status }
                open[path] = nil
            }
            guard let found = (try? FileSystem.status(path: path)) ?? nil else {
                open[path] = nil
                return nil
            }
            if listingKept && hasRoom { _ = try? descriptor(path, found) }
            return found
        }

        /// The scanner for `rules`, nil when their scopes need the full parser. Made again for
        /// other rules, and when its interner has kept many names (a long-lived process).
        func scanning(for rules: [String: LimitRule]) -> Scanning? {
            if let scanning, scanning.scanner.interner.count < 4096, scanning.rules == rules { return scanning }
            scanning = ScannedScopes(rules).map { Scanning(rules: rules, scopes: $0) }
            return scanning
        }
    }

    /// A file kept open between catch-ups (an active segment, a day folder), with the inode and
    /// device it had when opened. While the listing its name is in is kept (no entry of that
    /// folder added, renamed or removed since), the name still refers to it: its status is then an
    /// `fstat`, no path walked.
    struct KeptFile {
        let inode: UInt64
        let device: UInt64
        let file: OwnedDescriptor

        /// `path` opened with `flags`, when it is the file a `stat` of it found, `status`; nil when
        /// it is gone, or another file, since.
        init?(opening path: String, _ flags: Int32, as status: FileSystem.Status) throws(SpendLogError) {
            guard let fd = try FileSystem.openIfExists(path, flags) else { return nil }
            file = OwnedDescriptor(fd, path: path)  // closed when released, kept or not
            let opened = try FileSystem.status(fd, path: path)
            guard opened.inode == status.inode && opened.device == status.device else { return nil }
            (inode, device) = (opened.inode, opened.device)
        }

        func isFile(_ status: FileSystem.Status) -> Bool { inode == status.inode && device == status.device }

        /// The file's status, nil once it is unlinked (removed, or replaced by a rename).
        func statusWhileLinked() -> FileSystem.Status? {
            guard let status = try? FileSystem.status(file.fd, path: file.path), status.linkCount > 0 else { return nil }
            return status
        }
    }

    /// A folder's names when listed, and what is made of them once: objects, so that a catch-up
    /// that finds nothing changed walks them without copying names and paths.
    private final class Listing {
        let inode: UInt64
        let modifiedMs: Int64
        let names: [String]
        /// Taken long enough after the folder's last change for an unchanged time to prove it current.
        let trusted: Bool
        /// Of `segments/`: its folders, one per name.
        var folders: [ListedFolder]?
        /// Of `segments/`: how many of its folders are kept open (``ListedFolder/handle``).
        var foldersOpen = 0
        /// Of a day folder: its segments (``LogReader/segmentNames(in:day:)``).
        var segments: [ListedSegment]?

        init(inode: UInt64, modifiedMs: Int64, names: [String], trusted: Bool) {
            (self.inode, self.modifiedMs, self.names, self.trusted) = (inode, modifiedMs, names, trusted)
        }
    }

    /// A name in `segments/`: its day (nil: not a day folder), its path, its listing while that
    /// is kept (trusted, from an earlier call), and the folder open once a catch-up looked into it
    /// (a folder with segments not all counted sealed). It lives as long as the listing of
    /// `segments/` it is in, which is kept only while no folder was added, renamed or removed.
    private final class ListedFolder {
        let name: String
        let day: String?
        let path: String
        var listing: Listing?
        var handle: KeptFile?

        init(name: String, day: String?, path: String, listing: Listing?) {
            (self.name, self.day, self.path, self.listing) = (name, day, path, listing)
        }
    }

    /// A segment listed in a day folder: its name, form, key (``SegmentName/description``) and path.
    private final class ListedSegment {
        let name: SegmentName
        let sealed: Bool
        let key: String
        let path: String

        init(name: SegmentName, sealed: Bool, key: String, path: String) {
            (self.name, self.sealed, self.key, self.path) = (name, sealed, key, path)
        }
    }

    init(directory: LogDirectory, quietDaysPath: String) {
        self.directory = directory
        self.quietDaysPath = quietDaysPath
        reader = LogReader(directory: directory)
    }

    /// Counts every line past `state`'s coverage of every segment. An active segment shorter than
    /// its coverage had lines taken back after a failed write or fsync (docs/FORMAT.md, "What an
    /// error promises"), lines the counters may hold: then everything is counted again.
    mutating func catchUp(_ state: inout BudgetState) throws(SpendLogError) {
        do throws(SpendLogError) {
            if try !catchUpOnce(&state) {
                state.clearCounts()
                if !quietDays.isEmpty { quietDaysChanged = true }
                quietDays = [:]
                rootListing = nil
                // Shrunk again meanwhile: the listings of this run were not all followed by a look
                // at each of their segments, so the next run lists again.
                if try !catchUpOnce(&state) { rootListing = nil }
            }
        } catch {
            // A catch-up that fails (a segment that cannot be counted blocks enforcement until it
            // is repaired) keeps no segment open: those sealed meanwhile would hold their space.
            reading.closeAll()
            throw error
        }
    }

    /// The active segments kept open between catch-ups (for tests).
    var segmentsKeptOpen: [String] { reading.openPaths }

    /// The day folders kept open between catch-ups, by path, with the inode of the folder open (for tests).
    var foldersKeptOpen: [String: UInt64] {
        var open: [String: UInt64] = [:]
        for folder in rootListing?.folders ?? [] { if let handle = folder.handle { open[folder.path] = handle.inode } }
        return open
    }

    /// Drops the kept listings: the next catch-up lists every folder that is not quiet (a state
    /// loaded from the checkpoint, or a rebuild, must not rely on what an earlier state saw).
    mutating func forgetListings() { rootListing = nil }

    /// False when a segment shrank below its coverage (the counts are then partly done).
    private mutating func catchUpOnce(_ state: inout BudgetState) throws(SpendLogError) -> Bool {
        if !quietDaysRead {
            quietDays = QuietDays.read(quietDaysPath)
            quietDaysRead = true
        }
        defer {
            if persistsQuietDays, quietDaysChanged {
                QuietDays.write(quietDays, to: quietDaysPath)
                quietDaysChanged = false
            }
        }
        let margin = marginMs ?? FileSystem.modificationTimeMarginMs(directory.path)
        marginMs = margin
        var coverageByFolder: [String: [String]]?
        // Counts do not depend on the order segments are read in (see BudgetState.fold).
        let root = try FileSystem.status(path: directory.segmentsPath)
        var folders: [ListedFolder] = []
        // Whether a folder was listed again: then segments kept open that are no longer active
        // (sealed, removed) are closed at the end, from the active segments found.
        var relisted = root == nil
        reading.activeSeen.removeAll(keepingCapacity: true)
        // Buckets are pruned when the newest record time moved (see BudgetState.prune).
        let highWater = state.highWater
        defer { if state.highWater != highWater { state.prune(since: highWater) } }
        // Days none of whose records can count any more are not looked at (a lifetime window
        // counts them all; the first counting day only moves later as records come).
        var firstDay: String?
        if let day = state.firstCountingDay(at: highWater) { firstDay = folderName(ofDay: day) }
        if let root {
            let (listing, kept) = try list(directory.segmentsPath, root, kept: rootListing, margin: margin)
            if !kept {
                relisted = true
                // Each folder's kept listing goes on with its name (it proves itself by its own time).
                var earlier: [String: Listing] = [:]
                for folder in rootListing?.folders ?? [] { if let kept = folder.listing { earlier[folder.name] = kept } }
                // In name order, so that the days before the first counting day are passed over at once.
                listing.folders = listing.names.sorted().map {
                    ListedFolder(
                        name: $0, day: SegmentName.day(fromFolder: $0), path: directory.segmentsPath + "/" + $0,
                        listing: earlier[$0])
                }
                rootListing = listing
            }
            folders = listing.folders ?? []
        }
        // Folders named before the first counting day: day folders of days that cannot count, and
        // names that are no day folder (never counted).
        var start = 0
        if let firstDay {
            var end = folders.count
            while start < end {
                let middle = (start + end) / 2
                if folders[middle].name < firstDay { start = middle + 1 } else { end = middle }
            }
        }
        for folder in folders[start...] {
            let quiet = quietDays[folder.name]
            guard quiet != nil || folder.day != nil,
                let folderStatus = try status(of: folder, keepOpen: quiet == nil)
            else {
                setQuiet(folder.name, nil)
                continue
            }
            if let quiet, quiet.inode == folderStatus.inode, quiet.modifiedMs == folderStatus.modifiedMs,
                quiet.segments.allSatisfy({ state.coverage[$0]?.sealed == true })
            {
                continue
            }
            guard let day = folder.day else { continue }
            let (listing, kept) = try list(folder.path, folderStatus, kept: folder.listing, margin: margin)
            if !kept {
                relisted = true
                listing.segments = LogReader.segmentNames(in: listing.names, day: day).map {
                    ListedSegment(
                        name: $0.name, sealed: $0.sealed, key: $0.name.description,
                        path: reader.path(inFolder: folder.name, $0.name, sealed: $0.sealed))
                }
                folder.listing = listing.trusted ? listing : nil
            }
            let segments = listing.segments ?? []
            var sawActive = false
            for segment in segments {
                let covered = state.coverage[segment.key] ?? SegmentCoverage(bytes: 0, sealed: false)
                // A sealed segment counted once is done: no `stat` for it.
                if covered.sealed { continue }
                var active: FileSystem.Status?
                if !segment.sealed {
                    sawActive = true
                    reading.activeSeen.append(segment.path)
                    active = reading.status(ofActive: segment.path, listingKept: kept)
                    // Unchanged since counted: the common case, with nothing made for it.
                    if let active, active.size == covered.bytes { continue }
                }
                guard
                    let file = active.map({
                        SegmentFile(
                            name: segment.name, sealed: false, path: segment.path, size: $0.size, modifiedMs: $0.modifiedMs)
                    })
                        ?? reader.currentSegment(
                            at: segment.path, inFolder: folder.name, segment.name, sealed: segment.sealed)
                else {
                    // Gone: removed as empty (or by retention). If any of it was counted, its lines
                    // were taken back: count everything again.
                    folder.listing = nil
                    if covered.bytes > 0 { return false }
                    continue
                }
                if file.sealed != segment.sealed { folder.listing = nil }  // sealed since it was listed
                if try !count(file, covered: covered, status: active, into: &state) { return false }
            }
            // Sealed segments removed since they were counted (`spendlog retention`): their records
            // count no more once their buckets are dropped, which retention waits for, so the
            // position forgets them, as a rebuild from the log would. (A kept listing: none.)
            // An active segment counted but gone had its lines taken back to none, and was then
            // removed as empty by the next writer: what was counted of it must be counted again.
            if !kept, !forgetRemoved(folder.name, segments.map(\.key), &coverageByFolder, &state) { return false }
            // A folder with an active segment is not quiet (one sealed while it was read: next time).
            if listing.trusted && !sawActive && segments.allSatisfy({ state.coverage[$0.key]?.sealed == true }) {
                setQuiet(
                    folder.name,
                    QuietDays.Day(inode: listing.inode, modifiedMs: listing.modifiedMs, segments: segments.map(\.key)))
            } else if quiet != nil {
                setQuiet(folder.name, nil)
            }
        }
        if relisted { reading.keepOnly(Set(reading.activeSeen)) }
        return true
    }

    /// `day=YYYY-MM-DD` of the UTC day `day`, made again only when the day moved (every catch-up
    /// asks for it: the first counting day).
    private mutating func folderName(ofDay day: Int64) -> String {
        if let named = dayFolderNamed, named.day == day { return named.folder }
        let folder = SegmentName.dayFolderPrefix + Timestamp.dayString(utcDay: day)
        dayFolderNamed = (day, folder)
        return folder
    }

    /// Sets the quiet-days entry of folder `name`, noting a change.
    private mutating func setQuiet(_ name: String, _ day: QuietDays.Day?) {
        guard quietDays[name] != day else { return }
        quietDays[name] = day
        quietDaysChanged = true
    }

    /// Folders kept open at most (those whose segments are not all counted sealed: a day or two).
    static let maximumFoldersOpen = 16

    /// The status of `folder` (listed in ``rootListing``), nil when it is gone: an `fstat` of the
    /// folder kept open, while it is linked (the folder object lives only as long as the listing of
    /// `segments/` is kept, so its name still refers to that folder), else a `stat` by path. With
    /// `keepOpen`, a folder not open yet is opened then, while fewer than ``maximumFoldersOpen`` are.
    private func status(of folder: ListedFolder, keepOpen: Bool) throws(SpendLogError) -> FileSystem.Status? {
        if let handle = folder.handle {
            if let status = handle.statusWhileLinked() { return status }
            closeHandle(of: folder)
        }
        guard let found = try FileSystem.status(path: folder.path) else { return nil }
        if keepOpen, let root = rootListing, root.foldersOpen < LogTally.maximumFoldersOpen,
            let opened = try? KeptFile(opening: folder.path, O_RDONLY | O_DIRECTORY, as: found)
        {
            folder.handle = opened
            root.foldersOpen += 1
        }
        return found
    }

    private func closeHandle(of folder: ListedFolder) {
        folder.handle = nil
        rootListing?.foldersOpen -= 1
    }

    /// Forgets the coverage of sealed segments of `folder` that are not among `keys` (listed).
    /// False when an active segment with lines counted is not listed: its lines were taken back
    /// (a failed write) and the emptied file removed, so the counts hold records the log does
    /// not (a segment only disappears unsealed when it is empty; retention removes sealed ones).
    private func forgetRemoved(
        _ folder: String, _ keys: [String], _ coverageByFolder: inout [String: [String]]?, _ state: inout BudgetState
    ) -> Bool {
        if coverageByFolder == nil {
            coverageByFolder = Dictionary(grouping: state.coverage.keys) { String($0.prefix { $0 != "/" }) }
        }
        let listed = Set(keys)
        for key in coverageByFolder?[folder] ?? [] where !listed.contains(key) {
            guard let covered = state.coverage[key] else { continue }
            if covered.sealed {
                state.coverage[key] = nil
            } else if covered.bytes > 0 {
                return false
            }
        }
        return true
    }

    /// The names in folder `path`, whose `stat` found `status`: `kept` (an earlier listing, trusted)
    /// while the folder's inode and modification time are those it was listed with (then `kept` is
    /// true), else a new one. A listing is trusted (fit to be kept) when it was taken at least
    /// `margin` after the folder's last change, by the kernel's clock read before its `stat`: an
    /// entry added, renamed or removed later moves the time then, which a change in the same tick of
    /// the file system's coarse clock might not.
    private func list(_ path: String, _ status: FileSystem.Status, kept: Listing?, margin: Int64)
        throws(SpendLogError) -> (listing: Listing, kept: Bool)
    {
        if let kept, kept.trusted, kept.inode == status.inode, kept.modifiedMs == status.modifiedMs {
            return (kept, true)
        }
        let listedAt = FileSystem.kernelTimeMs()
        let now = try FileSystem.status(path: path) ?? status
        let listing = Listing(
            inode: now.inode, modifiedMs: now.modifiedMs, names: try FileSystem.listDirectory(path) ?? [],
            trusted: FileSystem.listedLateEnough(modifiedMs: now.modifiedMs, listedAt: listedAt, marginMs: margin))
        return (listing, false)
    }

    /// Counts a record just appended at `placement` directly when nothing else was appended to
    /// that segment since the state was caught up; else catches up (which reads it with the rest).
    mutating func count(
        _ record: UsageRecord, at placement: AppendReceipt.Placement, into state: inout BudgetState
    ) throws(SpendLogError) {
        // A record of a day that can no longer count (back-dated): nothing to count, and no
        // position kept in a day no catch-up looks at (a rebuild keeps none either).
        if record.timestamp.millisecondsSinceEpoch < state.highWater,
            let first = state.firstCountingDay(at: state.highWater), record.timestamp.utcDay < first
        {
            return
        }
        let key = placement.segment.description
        let covered = state.coverage[key] ?? SegmentCoverage(bytes: 0, sealed: false)
        if !covered.sealed && covered.bytes == placement.startOffset {
            let highWater = state.highWater
            state.fold(record)
            state.coverage[key] = SegmentCoverage(bytes: placement.endOffset, sealed: false)
            countedBytes += placement.endOffset - placement.startOffset
            if state.highWater != highWater { state.prune(since: highWater) }
        } else {
            try catchUp(&state)
        }
    }

    /// Counts what `segment` holds past its coverage, `covered`; false when it is shorter than
    /// that. `status` is what the `stat` of an active segment by path found (nil for a sealed one).
    private mutating func count(
        _ segment: SegmentFile, covered: SegmentCoverage, status: FileSystem.Status?, into state: inout BudgetState
    ) throws(SpendLogError) -> Bool {
        let key = segment.name.description
        if covered.sealed { return true }
        if !segment.sealed && segment.size < covered.bytes { return false }
        if !segment.sealed && segment.size == covered.bytes { return true }
        let summary: SegmentReadSummary
        let start = segment.sealed ? 0 : covered.bytes
        do throws(SpendLogError) {
            var file: OwnedDescriptor?
            if let status { file = try reading.descriptor(segment.path, status) }
            // Open until the lines are read: a file not kept is closed when it is released.
            defer { withExtendedLifetime(file) {} }
            let opened = file?.fd
            if scansRecords, let scanning = reading.scanning(for: state.rules) {
                // Every line is read as the full parser would judge it (the scanner hands it any
                // line it is not sure of), without building a record.
                let interner = scanning.scanner.interner
                let ids = scanning.ids
                summary = try reader.readLines(
                    segment, startOffset: start, fileBytes: nil, buffers: reading.buffers, opened: opened
                ) { line, offset throws(SpendLogError) in
                    let record = try scanning.scanner.scan(line, of: segment, at: offset)
                    guard offset >= covered.bytes else { return }
                    state.fold(
                        at: record.timestampMs,
                        matching: { ScannedScopes.matches(record, ids[$0.id] ?? [], interner) },
                        amount: { ScannedScopes.amount($0, record.metrics) })
                }
            } else {
                summary = try reader.readSegment(
                    segment, startOffset: start, buffers: reading.buffers, opened: opened
                ) { record, offset throws(SpendLogError) in
                    if offset >= covered.bytes { state.fold(record) }
                }
            }
        } catch {
            throw LogTally.uncountable(error)
        }
        if summary.bytes < covered.bytes { return false }
        countedBytes += summary.bytes - covered.bytes
        state.coverage[key] = SegmentCoverage(bytes: summary.bytes, sealed: summary.segment.sealed)
        return true
    }

    /// A segment that cannot be counted blocks enforcement: say how to unblock it.
    private static func uncountable(_ error: SpendLogError) -> SpendLogError {
        guard error.code == .corruption else { return error }
        var blocked = error
        blocked.message +=
            " Limits are not enforced while a segment cannot be counted: repair the file or move it out"
            + " of the log, then run `spendlog budget rebuild`."
        return blocked
    }
}

/// The rules' scopes as the scanner can match them: each field a ``Dimension`` and its value's
/// interned id. Nil when a scope names a tag, which the scanner does not keep: those rules count
/// from full records.
struct ScannedScopes {
    /// Rule id → the (dimension, value) pairs of its scope; a pair with no dimension never matches.
    private let fields: [String: [(Dimension?, String)]]

    init?(_ rules: [String: LimitRule]) {
        var fields: [String: [(Dimension?, String)]] = [:]
        for (id, rule) in rules {
            var pairs: [(Dimension?, String)] = []
            for (key, value) in rule.scope.fields {
                if key.hasPrefix("tag:") { return nil }
                // The keys ``LimitScope/matches(_:)`` reads; any other never matches.
                let dimension: Dimension? =
                    switch key {
                    case "project": .project
                    case "model": .model
                    case "provider": .provider
                    case "user": .user
                    case "caller": .caller
                    default: nil
                    }
                pairs.append((dimension, value))
            }
            fields[id] = pairs
        }
        self.fields = fields
    }

    /// Rule id → its scope's (dimension, value id, value) triples, the values interned in
    /// `interner` (value id 0, which no value has, for a key that never matches).
    func interned(in interner: StringInterner) -> [String: [(Dimension, UInt32, String)]] {
        fields.mapValues { pairs in
            pairs.map { ($0.0 ?? .project, $0.0 == nil ? 0 : interner.id(for: $0.1), $0.1) }
        }
    }

    /// Whether `record` has every value of `triples` (``LimitScope/matches(_:)``): the same id, or
    /// a value equal as a `String` is (canonically equivalent text in other bytes, which the
    /// interner keeps apart).
    static func matches(_ record: ScannedRecord, _ triples: [(Dimension, UInt32, String)], _ interner: StringInterner)
        -> Bool
    {
        triples.allSatisfy { dimension, valueID, value in
            let id = record.ids[dimension]
            return id == valueID ? id != 0 : id != 0 && valueID != 0 && interner.strings[Int(id)] == value
        }
    }

    /// ``LimitMetric/amount(of:)`` from a scanned record's sums.
    static func amount(_ metric: LimitMetric, _ sums: RollupMetrics) -> Int64 {
        switch metric {
        case .cost: sums.costNanos
        case .requests: sums.requests
        case .inputTokens: sums.inputTokens
        case .outputTokens: sums.outputTokens
        case .totalTokens: sums.inputTokens + sums.outputTokens
        }
    }
}
