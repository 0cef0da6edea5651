/// One consistent generation of the index: the folder `index/CURRENT` names, its manifest, and
/// its rollup files, loaded on demand.
public struct IndexSnapshot: Sendable {
    /// The name of a generation's manifest file.
    public static let manifestFileName = "MANIFEST"

    /// The generation's name (its folder under `index/`).
    public let generation: String
    /// The generation's folder.
    public let path: String
    /// The segments it covers.
    public let manifest: IndexManifest

    /// The current generation, nil when nothing was indexed yet.
    public static func open(_ directory: LogDirectory) throws(SpendLogError) -> IndexSnapshot? {
        let generations = IndexGenerations(indexPath: directory.indexPath)
        for _ in 0..<10 {
            guard let generation = try generations.current() else { return nil }
            let path = generations.path(of: generation)
            // A concurrent `index` may have replaced and removed this generation since CURRENT was read.
            // If CURRENT still names it, it is damaged: a generation is complete before it is named.
            guard let bytes = try FileSystem.readWholeFile(path + "/" + manifestFileName) else {
                if try generations.current() == generation {
                    throw IndexManifest.damaged(
                        generations.currentPath, 0, "it names \(generation), which has no \(manifestFileName)")
                }
                continue
            }
            return IndexSnapshot(
                generation: generation, path: path,
                manifest: try IndexManifest.decode(bytes, path: path + "/" + manifestFileName))
        }
        throw SpendLogError(
            code: .io,
            message:
                "The index in '\(directory.indexPath)' kept changing while it was read; try again, or run `spendlog index --rebuild`."
        )
    }

    /// The days this generation has hour files of `cube` for, ascending.
    func hourFileDays(cube: RollupCube) throws(SpendLogError) -> [Int64] {
        let prefix = cube.name + "." + Granularity.hour.fileLabel + "."
        let names = try FileSystem.listDirectory(path) ?? []
        return names.compactMap { name -> Int64? in
            guard name.hasPrefix(prefix), name.hasSuffix(".roll"),
                let start = Timestamp.parseDateOrTime(String(name.dropFirst(prefix.count).dropLast(5)))
            else { return nil }
            return TimeBuckets.day(ofMilliseconds: start.millisecondsSinceEpoch)
        }.sorted()
    }

    /// A day or month file of this generation: never optional, one gone is an error (removed
    /// while read). `month`: a day file's month, as ``dayFiles(cube:)`` gives it. `keeping`: the
    /// time buckets whose cells are wanted (``RollupFile/decode(_:path:checkedOnly:keeping:)``).
    func rollup(
        cube: RollupCube, granularity: Granularity, month: Int64? = nil, keeping: ((UInt32) -> Bool)? = nil
    ) throws(SpendLogError) -> RollupFile {
        precondition(granularity != .hour, "hour files are read with hourRollup")
        let file = path + "/" + RollupFile.fileName(cube: cube, granularity: granularity, month: month)
        return try RollupFile.decode(try bytes(of: file), path: file, keeping: keeping)
    }

    /// The hour file of `cube` for `day`; nil when the day has no records.
    func hourRollup(cube: RollupCube, day: Int64) throws(SpendLogError) -> RollupFile? {
        let file = path + "/" + RollupFile.fileName(cube: cube, granularity: .hour, day: day)
        guard let bytes = try bytesIfPresent(of: file) else { return nil }
        return try RollupFile.decode(bytes, path: file)
    }

    /// The cells of a rollup file of this generation, as they are decoded
    /// (``RollupFile/forEachCell(_:path:checkedOnly:keeping:header:cell:)``); false for an hour
    /// file of a day without records. A day or month file gone is an error, as in ``rollup``.
    @discardableResult
    func forEachCell(
        cube: RollupCube, granularity: Granularity, day: Int64? = nil, month: Int64? = nil,
        keeping: ((UInt32) -> Bool)? = nil,
        header: (RollupFile, Int) -> Void, cell: (SIMD8<UInt32>, RollupMetrics) -> Void
    ) throws(SpendLogError) -> Bool {
        let file = path + "/" + RollupFile.fileName(cube: cube, granularity: granularity, day: day, month: month)
        guard let bytes = try day == nil ? bytes(of: file) : bytesIfPresent(of: file) else { return false }
        try RollupFile.forEachCell(bytes, path: file, keeping: keeping, header: header, cell: cell)
        return true
    }

    /// Whether this generation keeps `cube`: every run writes each cube's month file. A generation
    /// of an earlier version lacks the cubes added since (`model`).
    func has(_ cube: RollupCube) throws(SpendLogError) -> Bool {
        try FileSystem.status(path: path + "/" + RollupFile.fileName(cube: cube, granularity: .month)) != nil
    }

    /// The files of `cube`'s day cells: one per month with records, ascending (month set), or
    /// the one file of a generation written before day files were split by month (month nil).
    func dayFiles(cube: RollupCube) throws(SpendLogError) -> [(name: String, month: Int64?)] {
        guard let names = try FileSystem.listDirectory(path) else { throw removedWhileRead(path) }
        let single = RollupFile.fileName(cube: cube, granularity: .day)
        if names.contains(single) { return [(single, nil)] }
        return names.compactMap { name in RollupFile.dayFileMonth(name, cube: cube).map { (name, $0) } }
            .sorted { $0.1 < $1.1 }.map { (name: $0.0, month: Optional($0.1)) }
    }

    /// Where the records of the indexed segments of `day`'s (`YYYY-MM-DD`, or its `YYYY-MM`)
    /// month lie, frame by frame; nil when this generation has no frames file for the month (one
    /// written before frames were kept).
    func frames(day: String) throws(SpendLogError) -> SegmentFrames? {
        let file = path + "/" + SegmentFrames.fileName(day: day)
        guard let bytes = try bytesIfPresent(of: file) else { return nil }
        return try SegmentFrames.decode(bytes, path: file)
    }

    /// The bytes of `file`, which the generation holds; its absence means the generation was
    /// removed while it was read.
    private func bytes(of file: String) throws(SpendLogError) -> [UInt8] {
        guard let bytes = try FileSystem.readWholeFile(file) else { throw removedWhileRead(file) }
        return bytes
    }

    /// The bytes of `file`, which the generation may lack (an hour file of a day without records,
    /// a frames file of an earlier version): nil when it is absent while the generation is there.
    private func bytesIfPresent(of file: String) throws(SpendLogError) -> [UInt8]? {
        guard let bytes = try FileSystem.readWholeFile(file) else {
            if FileSystem.isDirectory(path) { return nil }
            throw removedWhileRead(file)
        }
        return bytes
    }

    private func removedWhileRead(_ file: String) -> SpendLogError {
        SpendLogError(
            code: .io,
            message:
                "The index generation '\(path)' was removed while it was read (a concurrent `spendlog index`); try again.",
            path: file)
    }
}

/// The day cells of a cube in a generation (the previous one, in an index run), read one day file
/// at a time (``IndexSnapshot/dayFiles(cube:)``), so that no more than a month's cells are held.
/// The day files of one generation share one string table: ``header``'s.
struct BaseDayCells {
    let snapshot: IndexSnapshot
    let cube: RollupCube
    let files: [(name: String, month: Int64?)]
    /// The first day file without its cells: its strings and dimensions.
    let header: RollupFile

    /// Nil when the generation has no day file of `cube`.
    init?(_ snapshot: IndexSnapshot, cube: RollupCube) throws(SpendLogError) {
        let files = try snapshot.dayFiles(cube: cube)
        guard let first = files.first else { return nil }
        self.snapshot = snapshot
        self.cube = cube
        self.files = files
        header = try snapshot.rollup(cube: cube, granularity: .day, month: first.month, keeping: { _ in false })
    }

    /// The `index`th day file, whole; damage when its string table or dimensions are not
    /// ``header``'s.
    func file(_ index: Int) throws(SpendLogError) -> RollupFile {
        let file = try snapshot.rollup(cube: cube, granularity: .day, month: files[index].month)
        guard sameTable(file) else { throw differs(index) }
        return file
    }

    private func sameTable(_ file: RollupFile) -> Bool {
        file.strings == header.strings && file.dimensions == header.dimensions
    }

    fileprivate func damaged(_ index: Int, _ reason: String) -> SpendLogError {
        .indexDamage("Rollup file", path: snapshot.path + "/" + files[index].name, offset: 0, reason)
    }

    private func differs(_ index: Int) -> SpendLogError {
        damaged(index, "its string table or dimensions differ from those of the other day files of its generation")
    }

    /// Calls `body` with the key of every cell, file by file, without keeping the cells. A file
    /// whose string table is not ``header``'s is refused before any of its cells is given.
    func forEachKey(_ body: (SIMD8<UInt32>) -> Void) throws(SpendLogError) {
        for index in files.indices {
            var same = false
            try snapshot.forEachCell(
                cube: cube, granularity: .day, month: files[index].month, keeping: { _ in same },
                header: { read, _ in same = sameTable(read) }, cell: { key, _ in body(key) })
            guard same else { throw differs(index) }
        }
    }

    /// The cells in day order, read a file at a time: the files come in month order, and a file's
    /// cells are in day order already (their times are stored as steps forward).
    func inDayOrder() -> Cursor { Cursor(cells: self) }

    struct Cursor {
        let cells: BaseDayCells
        private var nextFile = 0
        private var file: RollupFile? = nil
        private var at = 0

        init(cells: BaseDayCells) { self.cells = cells }

        /// The day of the next cell; `UInt32.max` when none is left.
        mutating func day() throws(SpendLogError) -> UInt32 {
            while at >= (file?.keys.count ?? 0) {
                file = nil  // the month read, let go before the next is read
                at = 0
                guard nextFile < cells.files.count else { return UInt32.max }
                let loaded = try cells.file(nextFile)
                // The merge takes the files in month order: a monthly file holds its month's days
                // only (else a day could come after a later one).
                if let month = cells.files[nextFile].month, let first = loaded.keys.first, let last = loaded.keys.last,
                    TimeBuckets.month(ofDay: Int64(first[0])) != month
                        || TimeBuckets.month(ofDay: Int64(last[0])) != month
                {
                    throw cells.damaged(nextFile, "it holds days of another month")
                }
                nextFile += 1
                file = loaded
            }
            return file!.keys[at][0]
        }

        /// The next cell when it is of `day`, moved past; nil when the next is of a later day.
        mutating func next(onDay day: UInt32) throws(SpendLogError) -> (key: SIMD8<UInt32>, metrics: RollupMetrics)? {
            guard try self.day() == day else { return nil }
            defer { at += 1 }
            return (file!.keys[at], file!.metrics[at])
        }
    }
}
