/// How a time range `[since, until)` is split between rollups and raw records: the whole months
/// inside it from month cells, the remaining whole days from day cells, the remaining whole hours
/// from hour cells, and the sub-hour edges from the records themselves. nil bounds are open.
struct TimePlan {
    /// Hours answered by rollups, `[lo, hi)`.
    var hours: (lo: Int64?, hi: Int64?)?
    /// Days answered by day or month cells.
    var days: (lo: Int64?, hi: Int64?)?
    /// Months answered by month cells.
    var months: (lo: Int64?, hi: Int64?)?
    /// Millisecond ranges that indexed segments must answer from their records.
    var rawEdges: [(lo: Int64, hi: Int64)] = []

    /// `finest`: the finest cells the cube keeps (hour or day).
    init(since: Int64?, until: Int64?, finest: Granularity, allowMonths: Bool) {
        let unit = finest == .hour ? TimeBuckets.millisecondsPerHour : Timestamp.millisecondsPerDay
        let uLo = since.map { ceilDiv($0, unit) }
        let uHi = until.map { floorDiv($0, unit) }
        if let since, let until, let uLo, let uHi, uLo >= uHi {
            rawEdges = since < until ? [(since, until)] : []
            return
        }
        if let since, let uLo, since < uLo * unit { rawEdges.append((since, uLo * unit)) }
        if let until, let uHi, uHi * unit < until { rawEdges.append((uHi * unit, until)) }
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

    /// Whether any raw edge overlaps the UTC day `day`.
    func edgesOverlap(day: Int64) -> Bool {
        let start = day * Timestamp.millisecondsPerDay
        let end = start + Timestamp.millisecondsPerDay
        return rawEdges.contains { $0.lo < end && $0.hi > start }
    }

    func inEdges(_ ms: Int64) -> Bool { rawEdges.contains { ms >= $0.lo && ms < $0.hi } }
}

@inline(__always)
func ceilDiv(_ a: Int64, _ b: Int64) -> Int64 { -floorDiv(-a, b) }
