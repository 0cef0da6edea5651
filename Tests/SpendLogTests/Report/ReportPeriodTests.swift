import Testing

@testable import SpendLog

/// The period a report covers, the one it is compared with, and the month-end projection.
@Suite struct ReportPeriodTests {
    func t(_ text: String) throws -> Timestamp { try #require(Timestamp.parse(text)) }

    /// Month to date is compared with the same wall-clock time of the previous month, across a
    /// daylight saving change (New York moved its clocks on 2026-03-08).
    @Test func monthToDateIsComparedAtTheSameLocalTime() throws {
        let zone = try ZoneInfo.named("America/New_York")
        let period = try ReportPeriod.resolve(since: nil, until: nil, now: t("2026-03-10T16:00:00Z"), zone: zone)
        #expect(period.since == (try t("2026-03-01T05:00:00Z")))  // 00:00 EST
        #expect(period.previousSince == (try t("2026-02-01T05:00:00Z")))
        // 12:00 EDT on 10 March against 12:00 EST on 10 February.
        #expect(period.previousUntil == (try t("2026-02-10T17:00:00Z")))
        // The 31st against a shorter month: the whole previous month, never past its end.
        let late = try ReportPeriod.resolve(since: nil, until: nil, now: t("2026-03-31T16:00:00Z"), zone: zone)
        #expect(late.previousUntil == late.since)
        // Half-hour zones too: 09:30 in Kolkata is 04:00 UTC.
        let kolkata = try ReportPeriod.resolve(
            since: nil, until: nil, now: t("2026-12-05T04:00:00Z"), zone: try ZoneInfo.named("Asia/Kolkata"))
        #expect(kolkata.previousUntil == (try t("2026-11-05T04:00:00Z")))
    }

    /// A period that ends in the future is projected from the time that has passed.
    @Test func theRunRateIsOverTheTimeThatHasPassed() throws {
        let period = try ReportPeriod.resolve(
            since: t("2026-11-01T00:00:00Z"), until: t("2026-12-01T00:00:00Z"), now: t("2026-11-10T00:00:00Z"),
            zone: .utc)
        let daily = (1...9).map { d in
            ReportDay(
                day: "2026-11-0\(d)", metrics: { var m = RollupMetrics(); m.costNanos = 10_000_000_000; return m }(),
                costByChartModel: [])
        }
        let projection = try #require(
            ReportData.projection(period: period, zone: .utc, daily: daily, now: t("2026-11-10T00:00:00Z")))
        #expect(projection.ratePerDayNanos == 10_000_000_000)  // $90 over 9 days
        #expect(projection.projectedNanos == 300_000_000_000)  // $10 a day for 30 days
        #expect(projection.until == (try t("2026-11-10T00:00:00Z")))
    }
}

@Suite struct ReportFormatTests {
    @Test(arguments: [
        (Int64(0), "0"), (7, "7"), (999, "999"), (1_000, "1,000"), (12_345, "12,345"), (-1_234_567, "-1,234,567"),
        (100_000, "100,000"), (Int64.max, "9,223,372,036,854,775,807"), (Int64.min, "-9,223,372,036,854,775,808"),
    ])
    func groupsDigitsByThousands(value: Int64, text: String) {
        #expect(ReportFormat.grouped(value) == text)
    }
}
