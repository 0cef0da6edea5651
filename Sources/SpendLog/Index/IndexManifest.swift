/// Which sealed segments an index generation covers (docs/FORMAT.md, "Index"): one line per
/// segment, `day=YYYY-MM-DD/<file>`, its size, the FNV-1a-64 of its bytes and its record count,
/// tab-separated, sorted by path, after the header line; then `end` and the FNV-1a-64 of every
/// byte before that line. Without the checksum, a damaged path would leave its segment uncovered
/// while its sums stay in the rollups, and queries would count it twice.
public struct IndexManifest: Sendable, Equatable {
    /// The first line of a manifest this version writes.
    public static let header = "spendlog-index 2"
    /// Manifests written before the checksum line; read as they are.
    static let unsummedHeader = "spendlog-index 1"

    /// One covered segment.
    public struct Entry: Sendable, Equatable {
        /// `day=YYYY-MM-DD/<host>-<seq>.jsonl.zst`
        public var path: String
        /// The segment's size when it was indexed.
        public var bytes: Int64
        /// FNV-1a-64 of its bytes.
        public var checksum: UInt64
        /// Its records, as counted.
        public var records: Int64
    }

    /// The covered segments, by ``key(for:)``.
    public var entries: [String: Entry] = [:]

    /// A manifest that covers nothing.
    public init() {}

    /// `day=YYYY-MM-DD/<file>`: how a manifest names `segment`.
    public static func key(for segment: SegmentFile) -> String { segment.name.dayFolder + "/" + segment.fileName }

    /// Whether `segment` is sealed and covered.
    public func covers(_ segment: SegmentFile) -> Bool {
        segment.sealed && entries[IndexManifest.key(for: segment)] != nil
    }

    /// The records of every covered segment.
    public var totalRecords: Int64 { entries.values.reduce(0) { $0 + $1.records } }

    func encoded() -> [UInt8] {
        var text = IndexManifest.header + "\n"
        for path in entries.keys.sorted() {
            let e = entries[path]!
            text += "\(path)\t\(e.bytes)\t\(hex16(e.checksum))\t\(e.records)\n"
        }
        return EndLine.sealed(text)
    }

    static func decode(_ bytes: [UInt8], path: String) throws(SpendLogError) -> IndexManifest {
        var manifest = IndexManifest()
        var offset = 0
        var first = true
        var body = bytes[...]
        // The first line says which format follows; a version 2 manifest must end in its checksum.
        let firstLine = bytes.firstIndex(of: 0x0A) ?? bytes.count
        if String(decoding: bytes[..<firstLine], as: UTF8.self) == header {
            body = bytes[..<(try EndLine.checked(bytes) { damaged(path, $0, $1) })]
        }
        for line in body.split(separator: 0x0A, omittingEmptySubsequences: false) {
            defer { offset += line.count + 1 }
            if first {
                first = false
                let text = String(decoding: line, as: UTF8.self)
                guard text == header || text == unsummedHeader else {
                    throw damaged(path, 0, "the first line is not '\(header)'")
                }
                continue
            }
            if line.isEmpty { continue }
            let fields = line.split(separator: 0x09, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard fields.count == 4, let size = Int64(fields[1]), let checksum = UInt64(fields[2], radix: 16),
                let records = Int64(fields[3])
            else { throw damaged(path, offset, "a line is not <segment> <bytes> <checksum> <records>") }
            manifest.entries[fields[0]] = Entry(path: fields[0], bytes: size, checksum: checksum, records: records)
        }
        if first { throw damaged(path, 0, "the file is empty") }
        return manifest
    }

    static func damaged(_ path: String, _ offset: Int, _ reason: String) -> SpendLogError {
        .indexDamage("Index manifest", path: path, offset: offset, reason)
    }
}

/// The last line of the index's text files (the manifest, frames files): `end <FNV-1a-64 of
/// every byte before it, 16 hex digits>`, which makes any damage or a cut an error.
enum EndLine {
    /// `text` followed by its end line.
    static func sealed(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)
        bytes += Array("end \(hex16(bytes.withUnsafeBufferPointer { fnv1a64($0) }))\n".utf8)
        return bytes
    }

    /// The offset of the end line of `bytes`, once it is checked; `damaged` makes the error.
    static func checked(_ bytes: [UInt8], damaged: (Int, String) -> SpendLogError) throws(SpendLogError) -> Int {
        let end = bytes.dropLast().lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        let trailer = String(decoding: bytes[end...], as: UTF8.self)
        guard bytes.last == 0x0A, trailer.hasPrefix("end "), trailer.count == 21,
            let stored = UInt64(trailer.dropFirst(4).dropLast(), radix: 16)
        else { throw damaged(end, "the last line is not 'end <checksum>' (the file is cut short)") }
        guard bytes[..<end].withUnsafeBufferPointer({ fnv1a64($0) }) == stored else {
            throw damaged(end, "checksum mismatch")
        }
        return end
    }
}
