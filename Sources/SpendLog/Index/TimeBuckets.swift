/// The calendar arithmetic of rollups and queries, all in UTC: hours and days since the epoch,
/// months since January 1970, ISO weeks (Monday first).
public enum TimeBuckets {
    /// 3,600,000.
    public static let millisecondsPerHour: Int64 = 3_600_000

    /// Hours since the epoch of the instant `ms` (floored, also before 1970).
    @inline(__always)
    public static func hour(ofMilliseconds ms: Int64) -> Int64 { floorDiv(ms, millisecondsPerHour) }

    /// UTC days since the epoch of the instant `ms` (floored, also before 1970).
    @inline(__always)
    public static func day(ofMilliseconds ms: Int64) -> Int64 { floorDiv(ms, Timestamp.millisecondsPerDay) }

    /// Months since 1970-01 of a day number.
    public static func month(ofDay day: Int64) -> Int64 {
        let civil = Timestamp.civilFromDays(day)
        return (civil.year - 1970) * 12 + civil.month - 1
    }

    /// Day number of the first day of a month.
    public static func firstDay(ofMonth month: Int64) -> Int64 {
        Timestamp.daysFromCivil(1970 + floorDiv(month, 12), month - floorDiv(month, 12) * 12 + 1, 1)
    }

    /// Day number of the Monday that starts the ISO week of `day` (1970-01-01 was a Thursday).
    public static func weekStart(ofDay day: Int64) -> Int64 { day - (day + 3 - floorDiv(day + 3, 7) * 7) }

    /// `YYYY-MM-DD` of a day number.
    public static func dayLabel(_ day: Int64) -> String { Timestamp.dayString(utcDay: day) }

    /// `YYYY-MM` of a month number (months since 1970-01).
    public static func monthLabel(_ month: Int64) -> String {
        "\(1970 + floorDiv(month, 12))-\(pad(month - floorDiv(month, 12) * 12 + 1, 2))"
    }

    /// ISO 8601 week label, `2026-W48`, of the week starting on Monday `weekStart`.
    public static func weekLabel(_ weekStart: Int64) -> String {
        let thursday = weekStart + 3
        let year = Timestamp.civilFromDays(thursday).year
        let week = (thursday - Timestamp.daysFromCivil(year, 1, 1)) / 7 + 1
        return "\(year)-W\(pad(week, 2))"
    }
}
