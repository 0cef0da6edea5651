/// `budget/quiet-days`: day folders whose segments were all sealed and counted when last listed,
/// so that a catch-up only `stat`s them (docs/FORMAT.md, "Counters"). A hint, never a count: an
/// entry is used only while its folder's inode and modification time are unchanged and the
/// checkpoint has every segment it names sealed and counted, so a stale, damaged or missing file
/// costs a listing, never a miscount. Written (temp, rename; no fsync) under the budget lock when
/// it changes:
///
///     spendlog-quiet-days 1
///     <folder> TAB <inode> TAB <mtime ms> TAB <segment> TAB <segment> ...
///     end <FNV-1a-64 of the lines before, 16 hex digits>
enum QuietDays {
    struct Day: Equatable {
        var inode: UInt64
        var modifiedMs: Int64
        var segments: [String]
    }

    static let header = "spendlog-quiet-days 1"

    /// The days in the file; none when it is missing, damaged or of another version.
    static func read(_ path: String) -> [String: Day] {
        guard let bytes = try? FileSystem.readWholeFile(path), bytes.last == 0x0A,
            let endStart = bytes.dropLast().lastIndex(of: 0x0A).map({ $0 + 1 })
        else { return [:] }
        let checksum = bytes.withUnsafeBufferPointer { fnv1a64(UnsafeBufferPointer(rebasing: $0[..<endStart])) }
        let headerLine = Array((header + "\n").utf8)
        guard bytes[endStart...].elementsEqual("end \(hex16(checksum))\n".utf8), bytes.starts(with: headerLine)
        else { return [:] }
        // Read as bytes: this runs in every CLI call, on a line per day of the log.
        var days: [String: Day] = [:]
        for line in bytes[headerLine.count..<endStart].split(separator: 0x0A) {
            let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
            guard fields.count >= 3, let inode = UInt64(String(decoding: fields[1], as: UTF8.self)),
                let modified = Int64(String(decoding: fields[2], as: UTF8.self)),
                let folder = String(validating: fields[0], as: UTF8.self)
            else { return [:] }
            var segments: [String] = []
            for field in fields[3...] {
                guard let name = String(validating: field, as: UTF8.self) else { return [:] }
                segments.append(name)
            }
            days[folder] = Day(inode: inode, modifiedMs: modified, segments: segments)
        }
        return days
    }

    /// Replaces the file; a hint that fails to be written only costs a listing next time.
    static func write(_ days: [String: Day], to path: String) {
        var text = header + "\n"
        for (folder, day) in days.sorted(by: { $0.key < $1.key }) {
            let names = [folder] + day.segments
            guard !names.contains(where: { $0.contains("\t") || $0.contains("\n") }) else { continue }
            text += ([folder, String(day.inode), String(day.modifiedMs)] + day.segments).joined(separator: "\t")
            text += "\n"
        }
        var bytes = Array(text.utf8)
        let checksum = bytes.withUnsafeBufferPointer { fnv1a64($0) }
        bytes += Array("end \(hex16(checksum))\n".utf8)
        try? FileSystem.replaceAtomically(path, contents: bytes, sync: false)
    }
}
