#if canImport(Glibc)
    import Glibc
#endif

/// UTC offsets of an IANA time zone, read from the system's TZif files (`$TZDIR`, else
/// `/usr/share/zoneinfo`), for calendar windows in local time. Past the last transition in the
/// file the last offset holds; distributions ship "fat" files with transitions through 2037.
public struct ZoneInfo: Sendable {
    public let name: String
    /// Transition instants (ms since the epoch), ascending, and the offset (ms) from each on.
    let transitions: [Int64]
    let offsets: [Int64]
    let initialOffset: Int64

    public static let utc = ZoneInfo(name: "UTC", transitions: [], offsets: [], initialOffset: 0)

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
        guard let first = transitions.first, ms >= first else { return initialOffset }
        var low = 0
        var high = transitions.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if transitions[mid] <= ms { low = mid } else { high = mid - 1 }
        }
        return offsets[low]
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
        let bytes = try FileSystem.pread(fd, count: 1 << 17, at: 0, path: path)
        guard let zone = parse(bytes, name: name) else {
            throw .invalid(field: "tz", "'\(path)' is not a TZif time zone file.")
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
        return ZoneInfo(name: name, transitions: times.map { $0 * 1000 }, offsets: offsets, initialOffset: initial)
    }
}
