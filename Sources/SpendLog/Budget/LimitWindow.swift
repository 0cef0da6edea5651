/// The stretch of time a limit counts over (docs/FORMAT.md, "Budgets", "Windows").
///
/// Counters are kept per bucket: one for `lifetime`, one per window for calendar windows
/// (keyed by the window's start), and buckets of 1/60 of the window for rolling windows. A
/// rolling window counts every bucket that overlaps `(now - length, now]`, so a record counts for
/// at least the window's length and at most one bucket longer — never less.
public enum LimitWindow: Hashable, Sendable, CustomStringConvertible {
    /// All time: one counter, which only a budget reset starts again.
    case lifetime
    /// The current hour, day, week (from Monday) or month of the IANA zone `zone`.
    case calendar(CalendarUnit, zone: String)
    /// The last `milliseconds`, counted in ``rollingBuckets`` buckets: whole minutes, up to 366 days.
    case rolling(milliseconds: Int64)

    /// The length of a calendar window.
    public enum CalendarUnit: String, Sendable, CaseIterable {
        /// An hour, a day, a week starting on Monday, a month: local to the window's zone.
        case hour, day, week, month
    }

    /// The buckets a rolling window is counted in: its length over 60.
    public static let rollingBuckets: Int64 = 60

    /// `lifetime`, `day`, `week (Europe/Berlin)`, `rolling:30m`.
    public var description: String {
        switch self {
        case .lifetime: "lifetime"
        case .calendar(let unit, let zone): zone == "UTC" ? unit.rawValue : "\(unit.rawValue) (\(zone))"
        case .rolling: "rolling:" + durationText
        }
    }

    /// The window's name without the zone, as written in the journal: `day`, `rolling:24h`.
    public var name: String {
        switch self {
        case .lifetime: "lifetime"
        case .calendar(let unit, _): unit.rawValue
        case .rolling: "rolling:" + durationText
        }
    }

    /// The IANA zone of a calendar window; `UTC` for the others.
    public var zoneName: String {
        if case .calendar(_, let zone) = self { return zone }
        return "UTC"
    }

    private var durationText: String {
        guard case .rolling(let ms) = self else { return "" }
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000)] where ms % size == 0 {
            return "\(ms / size)\(unit)"
        }
        return "\(ms / 1000)s"
    }

    /// Parses `lifetime`, `hour`, `day`, `week`, `month` (in `zone`) or `rolling:<n><s|m|h|d>`.
    /// Rolling windows are whole minutes from 1 minute to 366 days.
    /// Only calendar windows have a zone: another zone than UTC with any other window is refused,
    /// as is an unknown zone with any window.
    public static func parse(_ text: String, zone: String = "UTC") throws(SpendLogError) -> LimitWindow {
        _ = try ZoneInfo.named(zone)
        if let unit = CalendarUnit(rawValue: text) { return .calendar(unit, zone: zone) }
        if zone != "UTC" && (text == "lifetime" || text.hasPrefix("rolling:")) {
            throw .invalid(
                field: "tz", "only calendar windows (hour, day, week, month) have a time zone, not '\(text)'.")
        }
        if text == "lifetime" { return .lifetime }
        let usage =
            "use lifetime, hour, day, week, month or rolling:<n>m|h|d (e.g. rolling:30m, rolling:24h, rolling:7d)"
        guard text.hasPrefix("rolling:") else { throw .invalid(field: "window", "unknown window '\(text)'; \(usage).") }
        let spec = text.dropFirst("rolling:".count)
        guard let unit = spec.last, let count = Int64(spec.dropLast()), spec.dropLast().allSatisfy(\.isNumber) else {
            throw .invalid(field: "window", "'\(text)' is not a rolling window; \(usage).")
        }
        let size: Int64
        switch unit {
        case "s": size = 1000
        case "m": size = 60_000
        case "h": size = 3_600_000
        case "d": size = 86_400_000
        default: throw .invalid(field: "window", "'\(text)' has an unknown unit '\(unit)'; \(usage).")
        }
        guard count > 0 else { throw .invalid(field: "window", "'\(text)' is a zero-length window; \(usage).") }
        guard count <= 366 * 86_400_000 / size else {
            throw .invalid(field: "window", "'\(text)' is longer than 366 days.")
        }
        let ms = count * size
        guard ms % 60_000 == 0 else { throw .invalid(field: "window", "'\(text)' must be a whole number of minutes.") }
        return .rolling(milliseconds: ms)
    }

    var bucketWidth: Int64 {
        if case .rolling(let ms) = self { return ms / LimitWindow.rollingBuckets }
        return 0
    }

    private func zoneInfo(_ zone: String) -> ZoneInfo { zone == "UTC" ? .utc : (try? ZoneInfo.named(zone)) ?? .utc }

    /// The key of the counter a record at `ms` adds to.
    public func bucket(at ms: Int64) -> Int64 {
        switch self {
        case .lifetime: 0
        case .calendar: windowStart(at: ms)
        case .rolling: floorDiv(ms, bucketWidth) * bucketWidth
        }
    }

    /// The first bucket that counts at `now`.
    public func firstCountedBucket(at now: Int64) -> Int64 {
        switch self {
        case .lifetime: 0
        case .calendar: windowStart(at: now)
        case .rolling(let length): floorDiv(now - length, bucketWidth) * bucketWidth
        }
    }

    /// Buckets below this can no longer count once a record at `highWater` exists, as long as
    /// the clock is at most a window behind the newest record: calendar windows keep the previous
    /// window too, rolling windows a second window length (and a bucket).
    func pruneBelow(highWater: Int64) -> Int64 {
        switch self {
        case .lifetime: Int64.min
        case .calendar: windowStart(at: windowStart(at: highWater) - 1)
        case .rolling(let length): firstCountedBucket(at: highWater) - length - bucketWidth
        }
    }

    /// The buckets counted at `now`: `[first, last]`. Calendar windows count exactly one. A
    /// rolling window counts every bucket any window containing `now` can hold: from the one
    /// containing `now - length` to the one containing `now + length`.
    func countedRange(at now: Int64) -> ClosedRange<Int64> {
        switch self {
        case .lifetime: return 0...0
        case .calendar:
            let start = windowStart(at: now)
            return start...start
        case .rolling(let length): return firstCountedBucket(at: now)...bucket(at: now + length)
        }
    }

    /// When the window containing `now` ends (calendar windows); nil for lifetime and rolling.
    public func resetTime(after now: Int64) -> Int64? {
        guard case .calendar(let unit, let zone) = self else { return nil }
        let info = zoneInfo(zone)
        let local = now + info.offset(at: now)
        let next: Int64
        switch unit {
        case .hour: next = (floorDiv(local, 3_600_000) + 1) * 3_600_000
        case .day: next = (floorDiv(local, Timestamp.millisecondsPerDay) + 1) * Timestamp.millisecondsPerDay
        case .week:
            let day = floorDiv(local, Timestamp.millisecondsPerDay)
            next = (day - LimitWindow.mod7(day + 3) + 7) * Timestamp.millisecondsPerDay
        case .month:
            let (y, m, _) = Timestamp.civilFromDays(floorDiv(local, Timestamp.millisecondsPerDay))
            next = Timestamp.daysFromCivil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * Timestamp.millisecondsPerDay
        }
        return utc(fromLocal: next, info)
    }

    /// The start (UTC ms) of the calendar window containing `ms`.
    func windowStart(at ms: Int64) -> Int64 {
        guard case .calendar(let unit, let zone) = self else { return 0 }
        // UTC, the common case, without a zone's tables: local time is UTC time. (It is asked
        // for several times per enforced append: per rule, to count, prune and check.)
        if zone == "UTC" { return min(LimitWindow.start(of: unit, atLocal: ms), ms) }
        let info = zoneInfo(zone)
        let local = ms + info.offset(at: ms)
        return min(utc(fromLocal: LimitWindow.start(of: unit, atLocal: local), info), ms)
    }

    /// The start of the `unit` containing the local time `local` (ms, as if it were UTC).
    private static func start(of unit: CalendarUnit, atLocal local: Int64) -> Int64 {
        let start: Int64
        switch unit {
        case .hour: start = floorDiv(local, 3_600_000) * 3_600_000
        case .day: start = floorDiv(local, Timestamp.millisecondsPerDay) * Timestamp.millisecondsPerDay
        case .week:
            // 1970-01-01 was a Thursday; weeks start on Monday.
            let day = floorDiv(local, Timestamp.millisecondsPerDay)
            start = (day - mod7(day + 3)) * Timestamp.millisecondsPerDay
        case .month:
            let (y, m, _) = Timestamp.civilFromDays(floorDiv(local, Timestamp.millisecondsPerDay))
            start = Timestamp.daysFromCivil(y, m, 1) * Timestamp.millisecondsPerDay
        }
        return start
    }

    /// The instant whose local time is `local` (the later offset wins across a DST change).
    private func utc(fromLocal local: Int64, _ info: ZoneInfo) -> Int64 {
        var guess = local - info.offset(at: local)
        guess = local - info.offset(at: guess)
        return guess
    }

    private static func mod7(_ value: Int64) -> Int64 { ((value % 7) + 7) % 7 }
}
