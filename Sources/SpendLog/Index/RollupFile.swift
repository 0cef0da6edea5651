import SystemPackage

/// One rollup file: the sums of one cube at one granularity (docs/FORMAT.md, "Rollup files").
///
/// Magic `SPLR`, version, granularity, the cube's dimension codes, a string table sorted by bytes
/// (id = position + 1, 0 = absent), the cells sorted by (time, ids) as LEB128 varints (time as the
/// step from the previous cell, sums zigzag-coded), and an FNV-1a-64 checksum of everything before
/// it. A cell takes about 25 bytes instead of 108 at fixed width; decoding stays one linear pass.
/// Equal sums encode to equal bytes, which is what makes `index --rebuild` byte-identical.
struct RollupFile {
    static let magic: [UInt8] = Array("SPLR".utf8)
    static let version: UInt16 = 2

    var granularity: Granularity
    var dimensions: [Dimension]
    /// Index 0 is the absent value.
    var strings: [String]
    /// Per cell: lane 0 the time bucket, lanes 1… the string ids of `dimensions`.
    var keys: [SIMD8<UInt32>]
    var metrics: [RollupMetrics]

    /// `core.month.roll`, `core.day.roll`, `core.hour.2026-11-23.roll` (hour cells: one file per day).
    /// Whether `name` is the file of one day's hour cells (`<cube>.hour.<day>.roll`).
    static func isHourFile(_ name: String) -> Bool {
        name.hasSuffix(".roll") && name.contains(".\(Granularity.hour.fileLabel).")
    }

    /// Day cells: one file per month (`core.day.2026-11.roll`); a generation written before day
    /// files were split by month has one `core.day.roll`, still read.
    static func fileName(cube: RollupCube, granularity: Granularity, day: Int64? = nil, month: Int64? = nil)
        -> String
    {
        if let day { return "\(cube.name).\(granularity.fileLabel).\(TimeBuckets.dayLabel(day)).roll" }
        if let month { return "\(cube.name).\(granularity.fileLabel).\(TimeBuckets.monthLabel(month)).roll" }
        return "\(cube.name).\(granularity.fileLabel).roll"
    }

    /// The month of a file of `cube`'s day cells named `name` (`<cube>.day.YYYY-MM.roll`), if it is one.
    static func dayFileMonth(_ name: String, cube: RollupCube) -> Int64? {
        let prefix = cube.name + "." + Granularity.day.fileLabel + "."
        guard name.hasPrefix(prefix), name.hasSuffix(".roll") else { return nil }
        let label = Array(name.utf8.dropFirst(prefix.utf8.count).dropLast(5))
        guard label.count == 7, label[4] == 0x2D,
            let year = Int64(String(decoding: label[0..<4], as: UTF8.self)),
            let month = Int64(String(decoding: label[5..<7], as: UTF8.self)), (1...12).contains(month),
            label.enumerated().allSatisfy({ $0.offset == 4 || ($0.element >= 0x30 && $0.element <= 0x39) })
        else { return nil }
        return (year - 1970) * 12 + month - 1
    }

    /// Encodes `cells`, whose lanes 1… are ids of `interner`, canonically.
    static func encode(
        cells: CellMap, cube: RollupCube, granularity: Granularity, interner: StringInterner
    ) -> [UInt8] {
        let k = cube.dimensions.count
        var used = [Bool](repeating: false, count: interner.count)
        for key in cells.keys {
            for lane in 1...k where key[lane] != 0 { used[Int(key[lane])] = true }
        }
        let values = cells.values
        let sortedIDs = sortedByBytes(
            (1..<interner.count).lazy.filter { used[$0] }.map { UInt32($0) }, interner: interner)
        var remap = [UInt32](repeating: 0, count: interner.count)
        for (position, id) in sortedIDs.enumerated() { remap[Int(id)] = UInt32(position + 1) }
        let mapped: [SIMD8<UInt32>] = cells.keys.map { key in
            var mapped = SIMD8<UInt32>(repeating: 0)
            mapped[0] = key[0]
            for lane in 1...k { mapped[lane] = remap[Int(key[lane])] }
            return mapped
        }
        let order = mapped.withUnsafeBufferPointer { fileOrder($0, dimensions: k) }
        var encoder = Encoder(
            cube: cube, granularity: granularity, strings: sortedIDs.map { interner.strings[Int($0)] },
            cells: mapped.count)
        for index in order { encoder.append(mapped[index], values[index]) }
        return encoder.finish()
    }

    /// `ids` of `interner` in the order of their strings' bytes: the order of a file's string table.
    static func sortedByBytes<S: Sequence<UInt32>>(_ ids: S, interner: StringInterner) -> [UInt32] {
        ids.sorted { interner.strings[Int($0)].utf8.lexicographicallyPrecedes(interner.strings[Int($1)].utf8) }
    }

    /// The positions of `keys` in file order: by time, then by the (remapped) ids lane by lane.
    /// Keys are distinct, so the order is the same whatever the sort.
    static func fileOrder(_ keys: UnsafeBufferPointer<SIMD8<UInt32>>, dimensions k: Int) -> [Int] {
        var order = Array(0..<keys.count)
        order.sort { a, b in
            let x = keys[a]
            let y = keys[b]
            for lane in 0...k where x[lane] != y[lane] { return x[lane] < y[lane] }
            return false
        }
        return order
    }

    /// Writes a rollup file cell by cell: the header and string table first, then cells in file
    /// order (time, then ids of the string table, as ``fileOrder(_:dimensions:)`` puts them), the
    /// cell count and checksum at the end. ``encode(cells:cube:granularity:interner:)`` is one
    /// use; the indexer streams day files through it one day at a time.
    struct Encoder {
        private var out: [UInt8] = []
        private let countOffset: Int
        private var count: UInt32 = 0
        private var previousTime: UInt32 = 0
        private let k: Int
        /// Bytes already written out by ``drain(into:path:)``.
        private var drained = 0

        /// Bytes made and not yet drained.
        var pendingBytes: Int { out.count }

        /// `strings`: the file's string table, sorted by bytes (id = position + 1).
        init(cube: RollupCube, granularity: Granularity, strings: [String], cells: Int) {
            k = cube.dimensions.count
            out.reserveCapacity(64 + strings.count * 24 + cells * (2 + k + 3 * RollupMetrics.fieldCount))
            out += magic
            RollupFile.append(&out, version)
            out.append(granularity.rawValue)
            out.append(UInt8(k))
            for dimension in cube.dimensions { out.append(dimension.code) }
            RollupFile.append(&out, UInt32(strings.count))
            for string in strings {
                let bytes = Array(string.utf8)
                RollupFile.append(&out, UInt16(bytes.count))
                out += bytes
            }
            countOffset = out.count
            RollupFile.append(&out, UInt32(0))
        }

        /// The next cell, its lanes 1… ids of the string table; cells come in file order.
        mutating func append(_ key: SIMD8<UInt32>, _ value: RollupMetrics) {
            let time = key[0] - previousTime
            previousTime = key[0]
            RollupFile.appendCell(&out, time: time, key: key, lanes: k, value)
            count += 1
        }

        /// Writes the bytes made so far at the end of `fd` (a new file, opened for reading and
        /// writing) and lets them go: a day file of any size is written with about a mebibyte of
        /// it in memory.
        mutating func drain(into fd: FileDescriptor, path: String) throws(SpendLogError) {
            try FileSystem.writeAll(fd, out, at: Int64(drained), path: path)
            drained += out.count
            out.removeAll(keepingCapacity: true)
        }

        /// Ends a file written through ``drain(into:path:)``: the last bytes, the cell count in
        /// its place, then the checksum of every byte before it, read back from the file (the
        /// count is known last, and FNV-1a runs front to back); then fsync, or with `syncs`, the
        /// fsync left to them.
        consuming func finish(into fd: FileDescriptor, path: String, syncs: DeferredSyncs? = nil)
            throws(SpendLogError)
        {
            try drain(into: fd, path: path)
            var countBytes: [UInt8] = []
            RollupFile.append(&countBytes, count)
            try FileSystem.writeAll(fd, countBytes, at: Int64(countOffset), path: path)
            var checksum: UInt64 = 0xcbf2_9ce4_8422_2325
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { chunk.deallocate() }
            var at = 0
            while at < drained {
                let n = try FileSystem.pread(
                    fd, into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<min(chunk.count, drained - at)]),
                    at: Int64(at), path: path)
                guard n > 0 else {
                    throw SpendLogError(
                        code: .io, message: "'\(path)' ends at byte \(at) of the \(drained) just written to it.",
                        path: path)
                }
                checksum = fnv1a64(UnsafeBufferPointer(rebasing: chunk.bindMemory(to: UInt8.self)[0..<n]), seed: checksum)
                at += n
            }
            var tail: [UInt8] = []
            RollupFile.append(&tail, checksum)
            try FileSystem.writeAll(fd, tail, at: Int64(drained), path: path)
            if let syncs { try syncs.add(fd, path: path) } else { try FileSystem.fsync(fd, path: path) }
        }

        /// The file's bytes.
        consuming func finish() -> [UInt8] {
            withUnsafeBytes(of: count.littleEndian) { bytes in
                for (offset, byte) in bytes.enumerated() { out[countOffset + offset] = byte }
            }
            let checksum = out.withUnsafeBufferPointer { fnv1a64($0) }
            RollupFile.append(&out, checksum)
            return out
        }
    }

    static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    /// Appends a cell's varints to `out` in one go: `time` (when given), lanes 1...`lanes` of
    /// `key`, then the sums, zigzag-coded. LEB128: 7 bits a byte, low bits first, the high bit set
    /// on every byte but the last.
    @inline(__always)
    static func appendCell(_ out: inout [UInt8], time: UInt32?, key: SIMD8<UInt32>, lanes k: Int, _ value: RollupMetrics) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10 * (1 + 8 + RollupMetrics.fieldCount)) { buffer in
            var at = 0
            @inline(__always) func varint(_ value: UInt64) {
                var v = value
                while v >= 0x80 {
                    buffer[at] = UInt8(truncatingIfNeeded: v) | 0x80
                    at += 1
                    v >>= 7
                }
                buffer[at] = UInt8(v)
                at += 1
            }
            if let time { varint(UInt64(time)) }
            for lane in 1...k { varint(UInt64(key[lane])) }
            value.forEachField { field in varint(UInt64(bitPattern: (field << 1) ^ (field >> 63))) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<at]))
        }
    }

    /// Decodes a file, checking its checksum and structure; errors name the file and offset.
    /// `keeping`: the time buckets whose cells are kept (asked once per bucket); the others are
    /// passed over, their ids and sums not read (only where each ends), and left out of ``keys``
    /// and ``metrics``.
    /// `checkedOnly` (for tests): every number is read the checked way, none first unchecked.
    static func decode(
        _ bytes: [UInt8], path: String, checkedOnly: Bool = false, keeping: ((UInt32) -> Bool)? = nil
    ) throws(SpendLogError) -> RollupFile {
        var file: RollupFile? = nil
        try forEachCell(
            bytes, path: path, checkedOnly: checkedOnly, keeping: keeping,
            header: { header, cellCount in
                file = header
                file!.keys.reserveCapacity(cellCount)
                file!.metrics.reserveCapacity(cellCount)
            },
            cell: { key, metrics in
                file!.keys.append(key)
                file!.metrics.append(metrics)
            })
        return file!
    }

    /// Decodes a file as ``decode(_:path:checkedOnly:keeping:)`` does, without keeping its cells:
    /// `header` gets the file without cells (and how many it has) once the string table is read,
    /// then `cell` gets each cell kept, in file order. A query sums cells as they are read instead
    /// of holding a file's cells first (a day file at 10M records holds 141,000: 17 MB).
    /// When this throws, some cells may have been given already.
    static func forEachCell(
        _ bytes: [UInt8], path: String, checkedOnly: Bool = false, keeping: ((UInt32) -> Bool)? = nil,
        header: (RollupFile, Int) -> Void, cell: (SIMD8<UInt32>, RollupMetrics) -> Void
    ) throws(SpendLogError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(SpendLogError) in
                try decode(raw, path: path, checkedOnly: checkedOnly, keeping: keeping, header: header, cell: cell)
            }
        }
        try result.get()
    }

    private static func decode(
        _ raw: UnsafeRawBufferPointer, path: String, checkedOnly: Bool, keeping: ((UInt32) -> Bool)?,
        header: (RollupFile, Int) -> Void, cell visit: (SIMD8<UInt32>, RollupMetrics) -> Void
    ) throws(SpendLogError) {
        func corrupt(_ offset: Int, _ reason: String) -> SpendLogError {
            .indexDamage("Rollup file", path: path, offset: offset, reason)
        }
        guard raw.count >= 24, Array(raw[0..<4]) == magic else { throw corrupt(0, "not a rollup file (bad magic)") }
        let stored = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self))
        guard fnv1a64(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<(raw.count - 8)])) == stored
        else {
            throw corrupt(raw.count - 8, "checksum mismatch")
        }
        var at = 4
        func read<T: FixedWidthInteger>(_: T.Type) throws(SpendLogError) -> T {
            guard at + MemoryLayout<T>.size <= raw.count - 8 else { throw corrupt(at, "file ends early") }
            let value = T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self))
            at += MemoryLayout<T>.size
            return value
        }
        guard try read(UInt16.self) == version else { throw corrupt(4, "unsupported rollup file version") }
        guard let granularity = Granularity(rawValue: try read(UInt8.self)) else {
            throw corrupt(6, "unknown granularity")
        }
        let k = Int(try read(UInt8.self))
        guard (1...RollupCube.maximumDimensions).contains(k) else { throw corrupt(7, "bad dimension count") }
        var dimensions: [Dimension] = []
        for _ in 0..<k {
            guard let dimension = Dimension(code: try read(UInt8.self)) else {
                throw corrupt(at - 1, "unknown dimension")
            }
            dimensions.append(dimension)
        }
        let stringCount = Int(try read(UInt32.self))
        guard stringCount <= (raw.count - 8 - at) / 2 else {
            throw corrupt(at - 4, "string count \(stringCount) does not fit the file")
        }
        var strings = [""]
        strings.reserveCapacity(stringCount + 1)
        for _ in 0..<stringCount {
            let length = Int(try read(UInt16.self))
            guard at + length <= raw.count - 8,
                let text = String(
                    validating: UnsafeRawBufferPointer(rebasing: raw[at..<(at + length)]).bindMemory(to: UInt8.self),
                    as: UTF8.self)
            else { throw corrupt(at, "bad string") }
            strings.append(text)
            at += length
        }
        let cellCount = Int(try read(UInt32.self))
        let end = raw.count - 8
        // Every cell takes at least one byte per lane and per sum: a count the file cannot hold is damage.
        guard cellCount <= (end - at) / (1 + k + RollupMetrics.fieldCount) else {
            throw corrupt(at - 4, "cell count \(cellCount) does not fit the file")
        }
        @inline(__always) func varint() throws(SpendLogError) -> UInt64 {
            if at < end, raw[at] < 0x80 {  // one byte: most ids and time steps
                at += 1
                return UInt64(raw[at - 1])
            }
            var value: UInt64 = 0
            var shift: UInt64 = 0
            let start = at
            while true {
                guard at < end else { throw corrupt(start, "file ends inside a cell") }
                let byte = raw[at]
                at += 1
                guard shift < 63 || byte <= 1 else { throw corrupt(start, "number longer than 64 bits") }
                value |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        header(
            RollupFile(granularity: granularity, dimensions: dimensions, strings: strings, keys: [], metrics: []),
            cellCount)
        var time: UInt64 = 0
        var kept: (time: UInt64, keep: Bool)? = nil
        @inline(__always) func sum() throws(SpendLogError) -> Int64 {
            let z = try varint()
            return Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
        }
        let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        // A cell starting this far from the end cannot run past it (a number takes at most 10
        // bytes), so it is first read without checking the end at every byte; a cell that reads
        // wrong that way (a number too long, a time or id out of range) is read again the checked
        // way below, which names the damage and its byte.
        let roomyEnd = checkedOnly ? -1 : end - 10 * (1 + RollupCube.maximumDimensions + RollupMetrics.fieldCount)
        let stringLimit = UInt64(stringCount)
        for _ in 0..<cellCount {
            var key = SIMD8<UInt32>(repeating: 0)
            let cellStart = at
            if at <= roomyEnd {
                var p = base + at
                var bad = false
                let step = uncheckedVarint(&p, &bad)
                bad = bad || step > UInt64(UInt32.max) - time
                let next = time &+ step
                if !bad, let keeping {
                    if kept?.time != next { kept = (next, keeping(UInt32(next))) }
                    // A cell of a time not kept: its ids and sums are passed over, not read (a
                    // query of part of a month walks the whole month's day file). The checksum
                    // vouched for the bytes; a cell that does not end where it may is read the
                    // checked way below, which names the damage.
                    if !kept!.keep, let past = skipNumbers(p, count: k + RollupMetrics.fieldCount) {
                        time = next
                        at = past - base
                        continue
                    }
                }
                key[0] = UInt32(truncatingIfNeeded: next)
                for lane in 1...k {
                    let id = uncheckedVarint(&p, &bad)
                    bad = bad || id > stringLimit
                    key.setLane(lane, UInt32(truncatingIfNeeded: id))
                }
                let cell = RollupMetrics(reading: { () -> Int64 in
                    let z = uncheckedVarint(&p, &bad)
                    return Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
                })
                if !bad {
                    time = next
                    at = p - base
                    if let keeping {
                        if kept?.time != time { kept = (time, keeping(UInt32(time))) }
                        guard kept!.keep else { continue }
                    }
                    visit(key, cell)
                    continue
                }
            }
            let step = try varint()
            // `time` is at most UInt32.max: compared this way, a step near 2^64 cannot wrap around.
            guard step <= UInt64(UInt32.max) - time else { throw corrupt(cellStart, "time bucket out of range") }
            time += step
            key[0] = UInt32(time)
            for lane in 1...k {
                let idStart = at
                let id = try varint()
                guard id <= stringCount else { throw corrupt(idStart, "string id out of range") }
                key.setLane(lane, UInt32(id))
            }
            let cell = try RollupMetrics(reading: sum)
            if let keeping {
                if kept?.time != time { kept = (time, keeping(UInt32(time))) }
                guard kept!.keep else { continue }
            }
            visit(key, cell)
        }
        guard at == end else { throw corrupt(at, "bytes after the last cell") }
    }
}

/// Where the `count` LEB128 numbers from `start` end, without reading their values: a byte
/// below 0x80 ends a number, and they are counted 8 bytes at a time. Nil when they take more than
/// 10 bytes each on average (damage, for the checked reading to name). The caller knows that
/// `10 * count + 7` bytes are there.
@inline(__always)
private func skipNumbers(_ start: UnsafePointer<UInt8>, count: Int) -> UnsafePointer<UInt8>? {
    let limit = start + 10 * count
    var p = start
    var remaining = count
    while p < limit {
        var ends = ~UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)) & 0x8080_8080_8080_8080
        let found = ends.nonzeroBitCount
        if found < remaining {
            remaining -= found
            p += 8
            continue
        }
        for _ in 1..<remaining { ends &= ends &- 1 }  // the remaining-th end of this word
        let past = p + ends.trailingZeroBitCount / 8 + 1
        return past <= limit ? past : nil
    }
    return nil
}

/// Reads the LEB128 number at `p` and moves `p` past it, without checking where the bytes end:
/// the caller knows that 10 bytes are there. A number longer than 64 bits sets `bad` (and stops
/// within those 10 bytes).
@inline(__always)
private func uncheckedVarint(_ p: inout UnsafePointer<UInt8>, _ bad: inout Bool) -> UInt64 {
    let first = p[0]
    if first < 0x80 {
        p += 1
        return UInt64(first)
    }
    var value = UInt64(first & 0x7f)
    var shift: UInt64 = 7
    var q = p + 1
    while true {
        let byte = q[0]
        q += 1
        if shift == 63 && byte > 1 {
            bad = true
            p = q
            return 0
        }
        value |= UInt64(byte & 0x7f) << shift
        if byte < 0x80 {
            p = q
            return value
        }
        shift += 7
    }
}

/// A 64-bit checksum as text: 16 lowercase hex digits, zero-padded.
func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}

/// FNV-1a, 64 bits: the checksum of rollup files and of the segments the index covers.
func fnv1a64(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
    var h = seed
    for byte in bytes {
        h ^= UInt64(byte)
        h = h &* 0x0000_0100_0000_01b3
    }
    return h
}
