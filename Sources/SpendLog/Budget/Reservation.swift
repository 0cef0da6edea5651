#if canImport(Glibc)
    import Glibc
#endif

/// An estimated amount held against the limits until the call's real record is settled, the
/// hold is released, its holder process dies, or its deadline passes (docs/FORMAT.md, "Budgets").
public struct Reservation: Hashable, Sendable {
    /// `R` followed by a UUIDv7.
    public var id: String
    /// The fields of the call (`project=etl,model=gpt-4.1`): the hold counts against every rule
    /// whose scope they cover.
    public var scope: LimitScope
    /// The estimate held against cost limits.
    public var amount: Money
    /// The process the hold belongs to; the hold ends when it exits (checked on its own host only).
    public var holder: HolderProcess
    /// When the hold expires by itself (ms since the epoch).
    public var deadline: Int64
    /// When the hold was made (ms since the epoch).
    public var createdAt: Int64

    /// How much of `metric` the hold takes: the amount for cost, one request, no tokens.
    public func held(_ metric: LimitMetric) -> Int64 { Reservation.held(amount.nanos, metric) }

    /// How much of `metric` a hold of `nanos` takes.
    static func held(_ nanos: Int64, _ metric: LimitMetric) -> Int64 {
        switch metric {
        case .cost: nanos
        case .requests: 1
        default: 0
        }
    }
}

/// A process that holds a reservation, identified so that a reused pid is not mistaken for it:
/// pid, start time (clock ticks after boot, `/proc/<pid>/stat` field 22) and host.
public struct HolderProcess: Hashable, Sendable {
    /// The process id.
    public var pid: Int32
    /// The process's start time, in clock ticks after boot (`/proc/<pid>/stat` field 22); 0 when it
    /// could not be read, and then only the pid is compared.
    public var startTicks: Int64
    /// The host name the holder runs on (``WriterOptions/defaultHost()``).
    public var host: String

    /// A holder; ``current()`` and ``process(_:)`` fill these in.
    public init(pid: Int32, startTicks: Int64, host: String) {
        self.pid = pid
        self.startTicks = startTicks
        self.host = host
    }

    /// This process.
    public static func current() -> HolderProcess { process(getpid()) }

    /// The running process `pid` of this host (start time 0 when it cannot be read).
    public static func process(_ pid: Int32) -> HolderProcess {
        HolderProcess(pid: pid, startTicks: startTicks(of: pid) ?? 0, host: WriterOptions.defaultHost())
    }

    /// Whether the holder may still be running. Holders on other hosts cannot be checked: only
    /// their deadline ends their holds.
    public var mayBeAlive: Bool {
        guard host == WriterOptions.defaultHost() else { return true }
        guard let ticks = HolderProcess.startTicks(of: pid) else { return false }
        return startTicks == 0 || ticks == startTicks
    }

    /// Field 22 of `/proc/<pid>/stat`; nil when the process does not exist.
    static func startTicks(of pid: Int32) -> Int64? {
        guard pid > 0, let fd = try? FileSystem.openIfExists("/proc/\(pid)/stat", O_RDONLY) else { return nil }
        defer { FileSystem.close(fd) }
        let bytes = (try? FileSystem.pread(fd, count: 1024, at: 0, path: "/proc/\(pid)/stat")) ?? []
        let n = bytes.count
        // The command name (field 2) is in parentheses and may contain spaces: count from the last ')'.
        guard n > 0, let close = bytes[0..<n].lastIndex(of: 0x29) else { return nil }
        let fields = bytes[(close + 1)..<n].split(separator: 0x20)
        // fields[0] is field 3 (state); field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        // A zombie has exited: its holds are over.
        if fields[0].first == UInt8(ascii: "Z") { return nil }
        return Int64(String(decoding: fields[19], as: UTF8.self))
    }
}
