/// The name of a segment file: `segments/day=YYYY-MM-DD/<host>-<seq>.jsonl[.zst]`.
///
/// All naming lives here (docs/FORMAT.md, "Layout"). `<host>` keeps logs from many machines
/// mergeable; `<seq>` is six zero-padded digits, increasing per host and day.
public struct SegmentName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var day: String
    public var host: String
    public var sequence: Int

    public static let activeSuffix = ".jsonl"
    public static let sealedSuffix = ".jsonl.zst"
    /// A seal in progress. Deliberately not matching `*.jsonl*`, so readers' globs never see it.
    public static let sealingSuffix = ".sealing"
    /// Per host and day, the writers' lock. Also outside `*.jsonl*`.
    public static let lockSuffix = ".lock"
    public static let dayFolderPrefix = "day="

    public init(day: String, host: String, sequence: Int) {
        self.day = day
        self.host = host
        self.sequence = sequence
    }

    public static func < (lhs: SegmentName, rhs: SegmentName) -> Bool {
        (lhs.day, lhs.host, lhs.sequence) < (rhs.day, rhs.host, rhs.sequence)
    }

    /// `<host>-<seq>` without suffix.
    public var stem: String { "\(host)-\(pad(Int64(sequence), 6))" }
    public var activeFileName: String { stem + SegmentName.activeSuffix }
    public var sealedFileName: String { stem + SegmentName.sealedSuffix }
    public var sealingFileName: String { stem + SegmentName.sealingSuffix }
    public var dayFolder: String { SegmentName.dayFolderPrefix + day }
    public var description: String { "\(dayFolder)/\(stem)" }

    /// Splits `<host>-<seq><suffix>`; nil for names that are not segments.
    public static func parse(fileName: String, day: String) -> (name: SegmentName, sealed: Bool)? {
        let sealed: Bool
        let stem: Substring
        if fileName.hasSuffix(sealedSuffix) {
            sealed = true
            stem = fileName.dropLast(sealedSuffix.count)
        } else if fileName.hasSuffix(activeSuffix) {
            sealed = false
            stem = fileName.dropLast(activeSuffix.count)
        } else {
            return nil
        }
        guard let dash = stem.lastIndex(of: "-") else { return nil }
        let digits = stem[stem.index(after: dash)...]
        guard digits.count >= 6, digits.allSatisfy(\.isASCII), let seq = Int(digits), seq >= 0 else { return nil }
        let host = String(stem[..<dash])
        guard isValidHost(host) else { return nil }
        return (SegmentName(day: day, host: host, sequence: seq), sealed)
    }

    /// The day of a `day=YYYY-MM-DD` folder name, or nil.
    public static func day(fromFolder folder: String) -> String? {
        guard folder.hasPrefix(dayFolderPrefix) else { return nil }
        let day = String(folder.dropFirst(dayFolderPrefix.count))
        guard let t = Timestamp.parseDateOrTime(day), t.dayString == day else { return nil }
        return day
    }

    /// Hosts are 1–64 characters of `[A-Za-z0-9._-]`, not starting with `.`.
    public static func isValidHost(_ host: String) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 64, host.first != "." else { return false }
        return host.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F
                || b == 0x2D
        }
    }

    /// A host name made safe for file names: other characters become `_`, long names are cut.
    public static func sanitizeHost(_ raw: String) -> String {
        var bytes = raw.utf8.map { b -> UInt8 in
            let ok =
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E
                || b == 0x5F || b == 0x2D
            return ok ? b : 0x5F
        }
        if bytes.count > 64 { bytes = Array(bytes.prefix(64)) }
        while bytes.first == 0x2E { bytes[0] = 0x5F }
        return bytes.isEmpty ? "localhost" : String(decoding: bytes, as: UTF8.self)
    }
}
