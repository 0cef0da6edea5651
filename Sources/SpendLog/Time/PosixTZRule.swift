/// The POSIX TZ string that ends a TZif file (RFC 8536, section 3.3): the zone's offsets after
/// its last listed transition, e.g. `EST5EDT,M3.2.0,M11.1.0` or `<+0530>-5:30`. Offsets here are
/// east of UTC in milliseconds (POSIX writes them west of UTC).
struct PosixTZRule: Sendable, Equatable {
    /// Offset of standard time.
    var standard: Int64
    /// Offset of daylight time, start and end of daylight time; nil for a zone without one.
    var daylight: Daylight?

    struct Daylight: Sendable, Equatable {
        var offset: Int64
        /// When daylight time starts, in local standard time, and ends, in local daylight time.
        var start: DateRule
        var startTime: Int64
        var end: DateRule
        var endTime: Int64
    }

    /// A day of a year: `Jn` (1–365, February 29 never counted), `n` (0–365, counted),
    /// `Mm.w.d` (day `d` of week `w` of month `m`; week 5 is the last).
    enum DateRule: Sendable, Equatable {
        case julian(Int64)
        case zeroBased(Int64)
        case month(Int64, week: Int64, weekday: Int64)

        /// The day (since 1970-01-01) this rule names in `year`.
        func day(in year: Int64) -> Int64 {
            let january1 = Timestamp.daysFromCivil(year, 1, 1)
            switch self {
            case .julian(let n):
                let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
                return january1 + n - 1 + (leap && n >= 60 ? 1 : 0)
            case .zeroBased(let n):
                return january1 + n
            case .month(let m, let week, let weekday):
                let first = Timestamp.daysFromCivil(year, m, 1)
                // 1970-01-01 was a Thursday (weekday 4).
                let firstWeekday = floorMod(first + 4, 7)
                var day = first + floorMod(weekday - firstWeekday, 7) + (week - 1) * 7
                let nextMonth = m == 12 ? Timestamp.daysFromCivil(year + 1, 1, 1) : Timestamp.daysFromCivil(year, m + 1, 1)
                while day >= nextMonth { day -= 7 }
                return day
            }
        }
    }

    var isConstant: Bool { daylight == nil }

    /// Daylight time's start and end (UTC ms) in the year `year` of local standard time.
    private func changes(in year: Int64) -> (start: Int64, end: Int64)? {
        guard let d = daylight else { return nil }
        let start = d.start.day(in: year) * Timestamp.millisecondsPerDay + d.startTime - standard
        let end = d.end.day(in: year) * Timestamp.millisecondsPerDay + d.endTime - d.offset
        return (start, end)
    }

    private func year(of ms: Int64) -> Int64 {
        Timestamp.civilFromDays(floorDiv(ms + standard, Timestamp.millisecondsPerDay)).year
    }

    func offset(at ms: Int64) -> Int64 {
        guard let d = daylight else { return standard }
        let year = year(of: ms)
        // A year's rule is decided by its own two changes; the neighbours' cover instants near the
        // year's ends when a change lies past them (times up to 167 hours, RFC 8536).
        var best: (at: Int64, daylight: Bool)? = nil
        for y in (year - 1)...(year + 1) {
            guard let c = changes(in: y) else { continue }
            for (at, isDaylight) in [(c.start, true), (c.end, false)] where at <= ms {
                if best == nil || at >= best!.at { best = (at, isDaylight) }
            }
        }
        guard let best else { return standard }
        return best.daylight ? d.offset : standard
    }

    func nextChange(after ms: Int64) -> Int64? {
        guard daylight != nil else { return nil }
        let year = year(of: ms)
        var next: Int64? = nil
        for y in (year - 1)...(year + 2) {
            guard let c = changes(in: y) else { continue }
            for at in [c.start, c.end] where at > ms {
                if next == nil || at < next! { next = at }
            }
        }
        return next
    }

    /// Parses the TZ string's bytes; nil when they are not one.
    static func parse(_ bytes: [UInt8]) -> PosixTZRule? {
        var p = Parser(b: bytes)
        guard p.name(), let std = p.offset() else { return nil }
        var rule = PosixTZRule(standard: -std, daylight: nil)
        if p.atEnd { return rule }
        guard p.name() else { return nil }
        var dst = -std + 3_600_000
        if !p.atEnd && p.peek != UInt8(ascii: ",") {
            guard let o = p.offset() else { return nil }
            dst = -o
        }
        // No rule given: POSIX leaves it to the implementation; tzcode uses the US rules.
        var start = DateRule.month(3, week: 2, weekday: 0)
        var end = DateRule.month(11, week: 1, weekday: 0)
        var startTime: Int64 = 7_200_000
        var endTime: Int64 = 7_200_000
        if !p.atEnd {
            guard p.eat(","), let s = p.date() else { return nil }
            start = s
            if p.eat("/") {
                guard let t = p.time(maxHours: 167) else { return nil }
                startTime = t
            }
            guard p.eat(","), let e = p.date() else { return nil }
            end = e
            if p.eat("/") {
                guard let t = p.time(maxHours: 167) else { return nil }
                endTime = t
            }
        }
        guard p.atEnd else { return nil }
        rule.daylight = Daylight(offset: dst, start: start, startTime: startTime, end: end, endTime: endTime)
        return rule
    }

    private struct Parser {
        let b: [UInt8]
        var i = 0
        var atEnd: Bool { i >= b.count }
        var peek: UInt8 { b[i] }

        mutating func eat(_ c: Unicode.Scalar) -> Bool {
            guard !atEnd, b[i] == UInt8(ascii: c) else { return false }
            i += 1
            return true
        }

        /// `EST` (three or more letters) or `<+0530>` (letters, digits, `+`, `-`).
        mutating func name() -> Bool {
            if eat("<") {
                let start = i
                while !atEnd, b[i] != UInt8(ascii: ">") { i += 1 }
                guard !atEnd, i - start >= 3 else { return false }
                i += 1
                return true
            }
            let start = i
            while !atEnd, (b[i] | 0x20) >= 0x61, (b[i] | 0x20) <= 0x7A { i += 1 }
            return i - start >= 3
        }

        mutating func number() -> Int64? {
            let start = i
            var value: Int64 = 0
            while !atEnd, b[i] >= 0x30, b[i] <= 0x39, i - start < 4 {
                value = value * 10 + Int64(b[i] - 0x30)
                i += 1
            }
            return i > start ? value : nil
        }

        /// `[+-]hh[:mm[:ss]]` in milliseconds.
        mutating func time(maxHours: Int64) -> Int64? {
            var sign: Int64 = 1
            if eat("-") { sign = -1 } else { _ = eat("+") }
            guard let h = number(), h <= maxHours else { return nil }
            var ms = h * 3_600_000
            if eat(":") {
                guard let m = number(), m < 60 else { return nil }
                ms += m * 60_000
                if eat(":") {
                    guard let s = number(), s < 60 else { return nil }
                    ms += s * 1000
                }
            }
            return sign * ms
        }

        mutating func offset() -> Int64? { time(maxHours: 24) }

        mutating func date() -> DateRule? {
            if eat("J") {
                guard let n = number(), n >= 1, n <= 365 else { return nil }
                return .julian(n)
            }
            if eat("M") {
                guard let m = number(), m >= 1, m <= 12, eat("."), let w = number(), w >= 1, w <= 5, eat("."),
                    let d = number(), d <= 6
                else { return nil }
                return .month(m, week: w, weekday: d)
            }
            guard let n = number(), n <= 365 else { return nil }
            return .zeroBased(n)
        }
    }
}

@inline(__always)
func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
