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
        cube: RollupCube, granularity: Granularity, day: Int64? = nil, keeping: ((UInt32) -> Bool)? = nil
    ) throws(SpendLogError) -> RollupFile? {
        let file = path + "/" + RollupFile.fileName(cube: cube, granularity: granularity, day: day)
        guard let bytes = try bytes(of: file, optional: day != nil) else { return nil }
        return try RollupFile.decode(bytes, path: file, keeping: keeping)
    }

    /// The cells of a rollup file of this generation, as they are decoded
    /// (``RollupFile/forEachCell(_:path:checkedOnly:keeping:header:cell:)``); false for an hour
    /// file of a day without records.
    func forEachCell(
        cube: RollupCube, granularity: Granularity, day: Int64? = nil, keeping: ((UInt32) -> Bool)? = nil,
        header: (RollupFile, Int) -> Void, cell: (SIMD8<UInt32>, RollupMetrics) -> Void
    ) throws(SpendLogError) -> Bool {
        let file = path + "/" + RollupFile.fileName(cube: cube, granularity: granularity, day: day)
        guard let bytes = try bytes(of: file, optional: day != nil) else { return false }
        try RollupFile.forEachCell(bytes, path: file, keeping: keeping, header: header, cell: cell)
        return true
    }

    /// The bytes of `file`; nil when it is `optional` and absent while the generation is there.
    private func bytes(of file: String, optional: Bool) throws(SpendLogError) -> [UInt8]? {
        guard let bytes = try FileSystem.readWholeFile(file) else {
            if optional && FileSystem.isDirectory(path) { return nil }
            throw SpendLogError(
                code: .io,
                message:
                    "The index generation '\(path)' was removed while it was read (a concurrent `spendlog index`); try again.",
                path: file)
        }
        return bytes
    }
}
