/// How a time range `[since, until)` is split between rollups and raw records: the whole months
/// inside it from month cells, the remaining whole days from day cells, the remaining whole hours
/// from hour cells, and the sub-hour edges from the records themselves. nil bounds are open.
///
/// Grouped by local days of a zone other than UTC (``zone``), no month cells are used, and the
/// cube's finest cells (hours for `core`, days for the pair cubes) only where the whole cell falls
/// on one local day; the records of the other cells (the hour of a `+05:30` midnight, or every day
/// of a pair cube) are read instead.
struct TimePlan {
    /// The local days of the zone, when grouping by them in a zone other than UTC.
    var zone: ZoneCells?
    /// Hours answered by rollups, `[lo, hi)`.
    var hours: (lo: Int64?, hi: Int64?)?
    /// Days answered by day or month cells.
    var days: (lo: Int64?, hi: Int64?)?
    /// Months answered by month cells.
    var months: (lo: Int64?, hi: Int64?)?
    /// Millisecond ranges that indexed segments must answer from their records.
    var rawEdges: [(lo: Int64, hi: Int64)] = []

    /// `finest`: the finest cells the cube keeps (hour or day). `zone`: group by local days of it.
    init(since: Int64?, until: Int64?, finest: Granularity, allowMonths: Bool, zone: ZoneInfo? = nil) {
        let unit = finest == .hour ? TimeBuckets.millisecondsPerHour : Timestamp.millisecondsPerDay
        let uLo = since.map { ceilDiv($0, unit) }
        let uHi = until.map { floorDiv($0, unit) }
        if let since, let until, let uLo, let uHi, uLo >= uHi {
            rawEdges = since < until ? [(since, until)] : []
            return
        }
        if let since, let uLo, since < uLo * unit { rawEdges.append((since, uLo * unit)) }
        if let until, let uHi, uHi * unit < until { rawEdges.append((uHi * unit, until)) }
        if let zone {
            self.zone = ZoneCells(zone: zone, finest: finest)
            if finest == .hour { hours = (uLo, uHi) } else { days = (uLo, uHi) }
            return
        }
        let dLo: Int64?
        let dHi: Int64?
        if finest == .hour {
            hours = (uLo, uHi)
            dLo = uLo.map { ceilDiv($0, 24) }
            dHi = uHi.map { floorDiv($0, 24) }
            if let dLo, let dHi, dLo >= dHi { return }
        } else {
            dLo = uLo
            dHi = uHi
        }
        days = (dLo, dHi)
        guard allowMonths else { return }
        let mLo = dLo.map { day -> Int64 in
            let m = TimeBuckets.month(ofDay: day)
            return TimeBuckets.firstDay(ofMonth: m) < day ? m + 1 : m
        }
        let mHi = dHi.map { TimeBuckets.month(ofDay: $0) }
        if let mLo, let mHi, mLo >= mHi { return }
        months = (mLo, mHi)
    }

    /// Whether any part of the range is answered from rollups.
    var usesRollups: Bool { hours != nil || days != nil }

    static func contains(_ range: (lo: Int64?, hi: Int64?)?, _ value: Int64) -> Bool {
        guard let range else { return false }
        if let lo = range.lo, value < lo { return false }
        if let hi = range.hi, value >= hi { return false }
        return true
    }

    /// Whether a cell of `granularity` at bucket `time` belongs to this plan's rollup part.
    func owns(_ granularity: Granularity, _ time: Int64) -> Bool {
        if let zone {
            switch granularity {
            case .month: return false
            case .day: return TimePlan.contains(days, time) && zone.dirtyHours(ofDay: time) == 0
            case .hour:
                return TimePlan.contains(hours, time)
                    && zone.dirtyHours(ofDay: floorDiv(time, 24)) & (1 << UInt32(floorMod(time, 24))) == 0
            }
        }
        switch granularity {
        case .month: return TimePlan.contains(months, time)
        case .day: return TimePlan.contains(days, time) && !TimePlan.contains(months, TimeBuckets.month(ofDay: time))
        case .hour:
            return TimePlan.contains(hours, time) && !TimePlan.contains(days, floorDiv(time, 24))
        }
    }

    /// Days whose hour files hold hours this plan takes from hour cells (at most two runs of
    /// less than a day each, or one short range).
    var hourFileDays: [Int64] {
        guard let hours else { return [] }
        var ranges: [(Int64, Int64)] = []
        if let days {
            if let lo = hours.lo, let dLo = days.lo, lo < dLo * 24 { ranges.append((lo, dLo * 24)) }
            if let hi = hours.hi, let dHi = days.hi, dHi * 24 < hi { ranges.append((dHi * 24, hi)) }
        } else if let lo = hours.lo, let hi = hours.hi {
            ranges.append((lo, hi))
        }
        var result = Set<Int64>()
        for (lo, hi) in ranges {
            for day in floorDiv(lo, 24)...floorDiv(hi - 1, 24) { result.insert(day) }
        }
        return result.sorted()
    }

    /// Whether some days are taken from day cells (not all of them covered by whole months).
    var needsDayCells: Bool {
        guard let days else { return false }
        guard let months else { return true }
        if let dLo = days.lo, let mLo = months.lo, TimeBuckets.firstDay(ofMonth: mLo) > dLo { return true }
        if let dHi = days.hi, let mHi = months.hi, TimeBuckets.firstDay(ofMonth: mHi) < dHi { return true }
        return false
    }

    /// Whether some day of `month` (months since 1970-01) is taken from day cells: the day file of
    /// that month is read only then.
    func needsDayCells(ofMonth month: Int64) -> Bool {
        guard let days else { return false }
        if let lo = days.lo, TimeBuckets.firstDay(ofMonth: month + 1) <= lo { return false }
        if let hi = days.hi, TimeBuckets.firstDay(ofMonth: month) >= hi { return false }
        return zone != nil || !TimePlan.contains(months, month)
    }

    /// Whether any raw edge overlaps the UTC day `day`.
    func edgesOverlap(day: Int64) -> Bool {
        if let zone, zone.dirtyHours(ofDay: day) != 0 { return true }
        let start = day * Timestamp.millisecondsPerDay
        let end = start + Timestamp.millisecondsPerDay
        return rawEdges.contains { $0.lo < end && $0.hi > start }
    }

    /// Whether a time from `lo` through `hi` (inclusive) may fall in the edges: ``inEdges(_:)``
    /// for a range of times.
    func edgesOverlap(from lo: Int64, through hi: Int64) -> Bool {
        if rawEdges.contains(where: { $0.lo <= hi && $0.hi > lo }) { return true }
        guard let zone else { return false }
        var hour = TimeBuckets.hour(ofMilliseconds: lo)
        let last = TimeBuckets.hour(ofMilliseconds: hi)
        if last - hour > 72 { return true }
        while hour <= last {
            if zone.dirtyHours(ofDay: floorDiv(hour, 24)) & (1 << UInt32(floorMod(hour, 24))) != 0 { return true }
            hour += 1
        }
        return false
    }

    func inEdges(_ ms: Int64) -> Bool {
        if let zone {
            let hour = TimeBuckets.hour(ofMilliseconds: ms)
            if zone.dirtyHours(ofDay: floorDiv(hour, 24)) & (1 << UInt32(floorMod(hour, 24))) != 0 { return true }
        }
        return rawEdges.contains { ms >= $0.lo && ms < $0.hi }
    }
}

/// Which cells of each UTC day fall on more than one local day of a zone: one bit per hour of
/// the day (every bit when the cells are days), worked out once per day.
final class ZoneCells {
    let zone: ZoneInfo
    let finest: Granularity
    private var masks: [Int64: UInt32] = [:]

    init(zone: ZoneInfo, finest: Granularity) {
        self.zone = zone
        self.finest = finest
    }

    /// Bit `h` set: hour `h` of UTC day `day` cannot be answered from a cell.
    func dirtyHours(ofDay day: Int64) -> UInt32 {
        if let mask = masks[day] { return mask }
        let start = day * Timestamp.millisecondsPerDay
        var mask: UInt32 = 0
        if finest == .hour {
            for h in 0..<24 {
                let lo = start + Int64(h) * TimeBuckets.millisecondsPerHour
                if !zone.isOneLocalDay(from: lo, to: lo + TimeBuckets.millisecondsPerHour) { mask |= 1 << UInt32(h) }
            }
        } else if !zone.isOneLocalDay(from: start, to: start + Timestamp.millisecondsPerDay) {
            mask = (1 << 24) - 1
        }
        masks[day] = mask
        return mask
    }
}

@inline(__always)
func ceilDiv(_ a: Int64, _ b: Int64) -> Int64 { -floorDiv(-a, b) }
