/// The name of a segment file: `segments/day=YYYY-MM-DD/<host>-<seq>.jsonl[.zst]`, and of the
/// `.sealing` and `.lock` files beside them.
///
/// All naming lives here: every file name is built and parsed by this type, and nothing else
/// matches file names (docs/FORMAT.md, "Layout"). `<host>` keeps logs from many machines
/// mergeable; `<seq>` is six zero-padded digits, increasing per host and day.
public struct SegmentName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// `YYYY-MM-DD`: the UTC day of every record in the segment.
    public var day: String { didSet { description = SegmentName.key(day, host, sequence) } }
    /// The writer's host, file-name safe (``WriterOptions/host``).
    public var host: String { didSet { description = SegmentName.key(day, host, sequence) } }
    /// The segment's number among those of its host and day: six digits in the name, increasing.
    public var sequence: Int { didSet { description = SegmentName.key(day, host, sequence) } }
    /// `day=YYYY-MM-DD/<host>-<seq>`: made once, as budgets key their log positions by it on every call.
    public private(set) var description: String

    /// The suffix of an active segment, appended to.
    public static let activeSuffix = ".jsonl"
    /// The suffix of a sealed segment: zstd, immutable.
    public static let sealedSuffix = ".jsonl.zst"
    /// A seal in progress. Deliberately not matching `*.jsonl*`, so readers' globs never see it.
    public static let sealingSuffix = ".sealing"
    /// Per host and day, the writers' lock. Also outside `*.jsonl*`.
    public static let lockSuffix = ".lock"
    /// The prefix of day folders: `day=YYYY-MM-DD`, hive-style.
    public static let dayFolderPrefix = "day="

    /// The segment numbered `sequence` of `host` on `day`; nothing is checked (``parseFile(_:day:)``
    /// checks names).
    public init(day: String, host: String, sequence: Int) {
        self.day = day
        self.host = host
        self.sequence = sequence
        description = SegmentName.key(day, host, sequence)
    }

    private static func key(_ day: String, _ host: String, _ sequence: Int) -> String {
        dayFolderPrefix + day + "/" + host + "-" + pad(Int64(sequence), 6)
    }

    public static func == (lhs: SegmentName, rhs: SegmentName) -> Bool {
        lhs.sequence == rhs.sequence && lhs.host == rhs.host && lhs.day == rhs.day
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(day)
        hasher.combine(host)
        hasher.combine(sequence)
    }

    public static func < (lhs: SegmentName, rhs: SegmentName) -> Bool {
        (lhs.day, lhs.host, lhs.sequence) < (rhs.day, rhs.host, rhs.sequence)
    }

    /// The three files a segment can be.
    public enum Kind: Sendable, CaseIterable {
        /// `<stem>.jsonl`, appended to.
        case active
        /// `<stem>.jsonl.zst`, immutable.
        case sealed
        /// `<stem>.sealing`, a seal in progress.
        case sealing

        var suffix: String {
            switch self {
            case .active: SegmentName.activeSuffix
            case .sealed: SegmentName.sealedSuffix
            case .sealing: SegmentName.sealingSuffix
            }
        }
    }

    /// `<host>-<seq>` without suffix.
    public var stem: String { "\(host)-\(pad(Int64(sequence), 6))" }
    /// `<stem>` and the suffix of `kind`.
    public func fileName(_ kind: Kind) -> String { stem + kind.suffix }
    /// `<host>-<seq>.jsonl`.
    public var activeFileName: String { fileName(.active) }
    /// `<host>-<seq>.jsonl.zst`.
    public var sealedFileName: String { fileName(.sealed) }
    /// `<host>-<seq>.sealing`.
    public var sealingFileName: String { fileName(.sealing) }
    /// `day=YYYY-MM-DD`.
    public var dayFolder: String { SegmentName.dayFolderPrefix + day }

    /// A sealed segment being copied in by `collect`: `<stem>.incoming-<pid>`. Outside
    /// `*.jsonl*`, and not a segment to any reader; removed by the next `collect` once its process
    /// is gone.
    public static let incomingInfix = ".incoming-"

    /// `<stem>.incoming-<pid>` of the process `pid`.
    public func incomingFileName(pid: Int32) -> String { stem + SegmentName.incomingInfix + String(pid) }

    /// The process id of a `collect` temporary (`<host>-<seq>.incoming-<pid>`), nil for other names.
    public static func incomingProcess(_ fileName: String, day: String) -> Int32? {
        let bytes = Array(fileName.utf8)
        let infix = Array(incomingInfix.utf8)
        var digitsStart = bytes.count
        while digitsStart > 0, bytes[digitsStart - 1] >= 0x30, bytes[digitsStart - 1] <= 0x39 { digitsStart -= 1 }
        let stemEnd = digitsStart - infix.count
        guard digitsStart < bytes.count, bytes.count - digitsStart <= 9, stemEnd > 0,
            Array(bytes[stemEnd..<digitsStart]) == infix,
            let pid = Int32(String(decoding: bytes[digitsStart...], as: UTF8.self)), pid > 0,
            parseFile(String(decoding: bytes[..<stemEnd], as: UTF8.self) + sealedSuffix, day: day)?.kind == .sealed
        else { return nil }
        return pid
    }

    /// Left by retention for the highest sequence of a host it removed from a day folder:
    /// `<host>-<seq>.retired`, empty. Writers number past it, so a removed segment's name (which
    /// the index still lists) is never given to new records. Outside `*.jsonl*`; read by nobody else.
    public static let retiredSuffix = ".retired"
    /// `<host>-<seq>.retired`.
    public var retiredFileName: String { stem + SegmentName.retiredSuffix }

    /// The segment a `<host>-<seq>.retired` marker stands for; nil for other names.
    public static func retiredMarker(_ fileName: String, day: String) -> SegmentName? {
        guard fileName.hasSuffix(retiredSuffix),
            let (name, kind) = parseFile(String(fileName.dropLast(retiredSuffix.count)) + sealedSuffix, day: day),
            kind == .sealed
        else { return nil }
        return name
    }

    /// The writers' lock of `host` in a day folder: `<host>.lock`.
    public static func lockFileName(host: String) -> String { host + lockSuffix }

    /// Whether `fileName` is a writers' lock, `<host>.lock` of a valid host.
    public static func isLockFile(_ fileName: String) -> Bool {
        fileName.hasSuffix(lockSuffix) && isValidHost(String(fileName.dropLast(lockSuffix.count)))
    }

    /// Splits `<host>-<seq><suffix>` of any ``Kind``; nil for names that are not segment files.
    /// The only place a file name is taken apart: the host is everything before the last `-`,
    /// so `web` and `web-2` are different hosts whatever their files are called.
    public static func parseFile(_ fileName: String, day: String) -> (name: SegmentName, kind: Kind)? {
        // `.jsonl.zst` before `.jsonl`: the longer suffix first.
        guard let kind = [Kind.sealed, .active, .sealing].first(where: { fileName.hasSuffix($0.suffix) }) else {
            return nil
        }
        let stem = fileName.dropLast(kind.suffix.count)
        guard let dash = stem.lastIndex(of: "-") else { return nil }
        let digits = stem[stem.index(after: dash)...]
        // Only the canonical spelling: a name that parsed to a sequence but was spelled otherwise
        // (`web-0000001.jsonl`, `web-+00001.jsonl`) would be read back under a name that is not its own.
        guard digits.count >= 6, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seq = Int(digits),
            pad(Int64(seq), 6) == digits
        else { return nil }
        let host = String(stem[..<dash])
        guard isValidHost(host) else { return nil }
        return (SegmentName(day: day, host: host, sequence: seq), kind)
    }

    /// Like ``parseFile(_:day:)`` for the files readers see: active and sealed segments.
    public static func parse(fileName: String, day: String) -> (name: SegmentName, sealed: Bool)? {
        guard let (name, kind) = parseFile(fileName, day: day), kind != .sealing else { return nil }
        return (name, kind == .sealed)
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
