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

    /// A rollup file of this generation; nil for an hour file of a day without records. `keeping`:
    /// the time buckets whose cells are wanted (``RollupFile/decode(_:path:checkedOnly:keeping:)``).
    func rollup(
        cube: RollupCube, granularity: Granularity, day: Int64? = nil, month: Int64? = nil,
        keeping: ((UInt32) -> Bool)? = nil
    ) throws(SpendLogError) -> RollupFile? {
        let file = path + "/" + RollupFile.fileName(cube: cube, granularity: granularity, day: day, month: month)
        guard let bytes = try bytes(of: file, optional: day != nil) else { return nil }
        return try RollupFile.decode(bytes, path: file, keeping: keeping)
    }

    /// The cells of a rollup file of this generation, as they are decoded
    /// (``RollupFile/forEachCell(_:path:checkedOnly:keeping:header:cell:)``); false for an hour
    /// file of a day without records.
    func forEachCell(
        cube: RollupCube, granularity: Granularity, day: Int64? = nil, month: Int64? = nil,
        keeping: ((UInt32) -> Bool)? = nil,
        header: (RollupFile, Int) -> Void, cell: (SIMD8<UInt32>, RollupMetrics) -> Void
    ) throws(SpendLogError) -> Bool {
        let file = path + "/" + RollupFile.fileName(cube: cube, granularity: granularity, day: day, month: month)
        guard let bytes = try bytes(of: file, optional: day != nil) else { return false }
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

    /// Every day cell of `cube`, from its day files (``dayFiles(cube:)``) put together; nil when
    /// it has none. The day files of one generation share one string table.
    func dayCells(cube: RollupCube) throws(SpendLogError) -> RollupFile? {
        var result: RollupFile? = nil
        for (name, month) in try dayFiles(cube: cube) {
            guard let file = try rollup(cube: cube, granularity: .day, month: month) else { continue }
            guard result != nil else {
                result = file
                continue
            }
            guard file.strings == result!.strings, file.dimensions == result!.dimensions else {
                throw .indexDamage(
                    "Rollup file", path: path + "/" + name, offset: 0,
                    "its string table or dimensions differ from those of the other day files of its generation")
            }
            // Appended in place: a copy of the cells so far for each month would hold them twice.
            result!.keys.append(contentsOf: file.keys)
            result!.metrics.append(contentsOf: file.metrics)
        }
        return result
    }

    /// Where the records of the indexed segments of `day`'s (`YYYY-MM-DD`, or its `YYYY-MM`)
    /// month lie, frame by frame; nil when this generation has no frames file for the month (one
    /// written before frames were kept).
    func frames(day: String) throws(SpendLogError) -> SegmentFrames? {
        let file = path + "/" + SegmentFrames.fileName(day: day)
        guard let bytes = try bytes(of: file, optional: true) else { return nil }
        return try SegmentFrames.decode(bytes, path: file)
    }

    /// The bytes of `file`; nil when it is `optional` and absent while the generation is there.
    private func bytes(of file: String, optional: Bool) throws(SpendLogError) -> [UInt8]? {
        guard let bytes = try FileSystem.readWholeFile(file) else {
            if optional && FileSystem.isDirectory(path) { return nil }
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
