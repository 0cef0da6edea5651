#if canImport(Glibc)
    import Glibc
#endif

/// UTC offsets of an IANA time zone, read from the system's TZif files (`$TZDIR`, else
/// `/usr/share/zoneinfo`), for calendar windows and query groups in local time. Past the last
/// transition in the file, the file's POSIX TZ footer rule (`EST5EDT,M3.2.0,M11.1.0`) gives the
/// offset, so "slim" files (no listed transitions past the zone's last rule change) and "fat" ones
/// (transitions listed through 2037) give the same answers. Held to Foundation's `TimeZone` for
/// every zone of the system's tzdata by the tests.
public struct ZoneInfo: Sendable {
    /// The IANA name (`Europe/Berlin`), or `UTC`.
    public let name: String
    /// Transition instants (ms since the epoch), ascending, and the offset (ms) from each on.
    let transitions: [Int64]
    let offsets: [Int64]
    let initialOffset: Int64
    /// The footer's rule, in force from the last transition on (from the start when there is none).
    let rule: PosixTZRule?

    init(name: String, transitions: [Int64], offsets: [Int64], initialOffset: Int64, rule: PosixTZRule? = nil) {
        self.name = name
        self.transitions = transitions
        self.offsets = offsets
        self.initialOffset = initialOffset
        self.rule = rule
    }

    /// UTC: offset 0 at every instant, with no file read.
    public static let utc = ZoneInfo(name: "UTC", transitions: [], offsets: [], initialOffset: 0)

    /// Whether the offset is 0 at every instant (UTC, Etc/UTC, Etc/GMT, …).
    public var isUTC: Bool {
        initialOffset == 0 && offsets.allSatisfy { $0 == 0 } && (rule.map { $0.isConstant && $0.standard == 0 } ?? true)
    }

    private static let cacheLock = PThreadMutex()
    private nonisolated(unsafe) static var cache: [String: ZoneInfo] = ["UTC": .utc]

    /// The zone called `name` (`Europe/Berlin`, `UTC`), loaded once per process.
    public static func named(_ name: String) throws(SpendLogError) -> ZoneInfo {
        if let zone = cacheLock.withLock({ cache[name] }) { return zone }
        let zone = try load(name)
        cacheLock.withLock { cache[name] = zone }
        return zone
    }

    /// The offset from UTC in force at `ms`, in milliseconds.
    public func offset(at ms: Int64) -> Int64 {
        guard let first = transitions.first else { return rule?.offset(at: ms) ?? initialOffset }
        guard ms >= first else { return initialOffset }
        if let rule, ms >= transitions[transitions.count - 1] { return rule.offset(at: ms) }
        var low = 0
        var high = transitions.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if transitions[mid] <= ms { low = mid } else { high = mid - 1 }
        }
        return offsets[low]
    }

    /// The local calendar day (days since 1970-01-01) of the instant `ms`.
    @inline(__always)
    public func localDay(ofMilliseconds ms: Int64) -> Int64 {
        floorDiv(ms + offset(at: ms), Timestamp.millisecondsPerDay)
    }

    /// The first instant after `ms` at which the offset may change; nil when it never does.
    public func nextChange(after ms: Int64) -> Int64? {
        if let last = transitions.last, ms < last {
            var low = 0
            var high = transitions.count - 1
            while low < high {
                let mid = (low + high) / 2
                if transitions[mid] > ms { high = mid } else { low = mid + 1 }
            }
            return transitions[low]
        }
        return rule?.nextChange(after: ms)
    }

    /// The runs of constant offset that make up `[lo, hi)`: each `(start, end, offset)`.
    public func pieces(from lo: Int64, to hi: Int64) -> [(start: Int64, end: Int64, offset: Int64)] {
        var result: [(start: Int64, end: Int64, offset: Int64)] = []
        var t = lo
        while t < hi {
            let next = min(nextChange(after: t) ?? hi, hi)
            result.append((t, next, offset(at: t)))
            t = next
        }
        return result
    }

    /// Whether every instant of `[lo, hi)` falls on one local day.
    public func isOneLocalDay(from lo: Int64, to hi: Int64) -> Bool {
        let day = localDay(ofMilliseconds: lo)
        for piece in pieces(from: lo, to: hi) {
            // Within a run of one offset, local days only increase: its two ends decide.
            if floorDiv(piece.start + piece.offset, Timestamp.millisecondsPerDay) != day
                || floorDiv(piece.end - 1 + piece.offset, Timestamp.millisecondsPerDay) != day
            {
                return false
            }
        }
        return true
    }

    /// The first instant whose local day is `day` or later: local midnight, or where a change of
    /// offset skips midnight, the change. (Offsets stay within ±26 hours, so it lies within 27
    /// hours of the UTC midnight of `day`.)
    public func startOfLocalDay(_ day: Int64) -> Int64 {
        let midnight = day * Timestamp.millisecondsPerDay
        let window = 27 * TimeBuckets.millisecondsPerHour
        for piece in pieces(from: midnight - window, to: midnight + window) {
            // Within a run of one offset, local time increases with the instant.
            let first = max(piece.start, midnight - piece.offset)
            if first < piece.end { return first }
        }
        return midnight
    }

    /// Whether `name` has the shape of an IANA zone name: letters, digits, `/_+-`, never a path
    /// that could leave the zone folder. (A zone name comes from the journal as well as from
    /// the person running a command: it is data, and never becomes an arbitrary path.)
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count < 128 && !name.hasPrefix("/")
            && !name.split(separator: "/").contains("..")
            && name.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2F
                    || b == 0x5F || b == 0x2B || b == 0x2D
            }
    }

    static func load(_ name: String) throws(SpendLogError) -> ZoneInfo {
        guard isValidName(name) else {
            throw .invalid(field: "tz", "'\(name)' is not an IANA time zone name like Europe/Berlin.")
        }
        var folder = "/usr/share/zoneinfo"
        if let raw = getenv("TZDIR"), raw.pointee != 0 { folder = String(cString: raw) }
        let path = folder + "/" + name
        guard let fd = try FileSystem.openIfExists(path, O_RDONLY, followSymlinks: true) else {
            throw .invalid(
                field: "tz", "unknown time zone '\(name)' (no '\(path)'); use an IANA name like Europe/Berlin or UTC.")
        }
        defer { FileSystem.close(fd) }
        // A folder of zones (`Europe`) or a file that cannot be read is no zone either: the name
        // is refused, not the system (the message names no path of this machine).
        guard let bytes = try? FileSystem.pread(fd, count: 1 << 17, at: 0, path: path), let zone = parse(bytes, name: name)
        else {
            throw .invalid(
                field: "tz", "'\(name)' is not a time zone (a group of zones, or no zone file); use an IANA name like Europe/Berlin.")
        }
        return zone
    }

    /// Parses TZif (RFC 8536), preferring the 64-bit data block of version 2 and later.
    static func parse(_ b: [UInt8], name: String) -> ZoneInfo? {
        func u32(_ at: Int) -> Int64 {
            Int64(b[at]) << 24 | Int64(b[at + 1]) << 16 | Int64(b[at + 2]) << 8 | Int64(b[at + 3])
        }
        func i32(_ at: Int) -> Int64 { Int64(Int32(truncatingIfNeeded: u32(at))) }
        func i64(_ at: Int) -> Int64 { Int64(bitPattern: UInt64(u32(at)) << 32 | UInt64(u32(at + 4))) }
        func header(_ at: Int) -> (utc: Int, std: Int, leap: Int, time: Int, type: Int, char: Int)? {
            guard b.count >= at + 44, b[at] == 0x54, b[at + 1] == 0x5A, b[at + 2] == 0x69, b[at + 3] == 0x66 else {
                return nil
            }
            let c = (0..<6).map { Int(u32(at + 20 + 4 * $0)) }
            return (c[0], c[1], c[2], c[3], c[4], c[5])
        }
        guard var h = header(0) else { return nil }
        var at = 44
        var timeSize = 4
        if b[4] >= 0x32 {
            let v1 = h.time * 5 + h.type * 6 + h.char + h.leap * 8 + h.std + h.utc
            guard let h2 = header(44 + v1) else { return nil }
            h = h2
            at = 44 + v1 + 44
            timeSize = 8
        }
        let needed = at + h.time * (timeSize + 1) + h.type * 6
        guard h.type > 0, b.count >= needed else { return nil }
        var times: [Int64] = []
        for i in 0..<h.time { times.append(timeSize == 8 ? i64(at + 8 * i) : i32(at + 4 * i)) }
        let indexAt = at + h.time * timeSize
        let typeAt = indexAt + h.time
        var typeOffsets: [Int64] = []
        var typeIsDST: [Bool] = []
        for t in 0..<h.type {
            typeOffsets.append(i32(typeAt + 6 * t) * 1000)
            typeIsDST.append(b[typeAt + 6 * t + 4] != 0)
        }
        var offsets: [Int64] = []
        for i in 0..<h.time {
            let index = Int(b[indexAt + i])
            guard index < h.type else { return nil }
            offsets.append(typeOffsets[index])
        }
        let initial = typeOffsets[typeIsDST.firstIndex(of: false) ?? 0]
        var rule: PosixTZRule?
        if timeSize == 8 {
            // The footer: "\n<POSIX TZ string>\n" after the 64-bit data block.
            let footerAt = needed + h.char + h.leap * 12 + h.std + h.utc
            if b.count > footerAt, b[footerAt] == 0x0A, let end = b[(footerAt + 1)...].firstIndex(of: 0x0A),
                end > footerAt + 1
            {
                guard let parsed = PosixTZRule.parse(Array(b[(footerAt + 1)..<end])) else { return nil }
                rule = parsed
            }
        }
        return ZoneInfo(
            name: name, transitions: times.map { $0 * 1000 }, offsets: offsets, initialOffset: initial, rule: rule)
    }
}
