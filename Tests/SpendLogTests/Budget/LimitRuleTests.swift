import Foundation
import Testing

@testable import SpendLog

@Suite struct LimitRuleTests {
    @Test(
        arguments: [
            ("nope", "cost", "1", "day", "UTC", nil, "scope"),
            ("project=", "cost", "1", "day", "UTC", nil, "scope"),
            ("project=a,project=b", "cost", "1", "day", "UTC", nil, "scope"),
            ("global", "bytes", "1", "day", "UTC", nil, "type"),
            ("global", "cost", "NaN", "day", "UTC", nil, "max"),
            ("global", "cost", "-1", "day", "UTC", nil, "max"),
            ("global", "cost", "inf", "day", "UTC", nil, "max"),
            ("global", "requests", "1.5", "day", "UTC", nil, "max"),
            ("global", "requests", "-3", "day", "UTC", nil, "max"),
            ("global", "cost", "1", "fortnight", "UTC", nil, "window"),
            ("global", "cost", "1", "rolling:0m", "UTC", nil, "window"),
            ("global", "cost", "1", "rolling:30", "UTC", nil, "window"),
            ("global", "cost", "1", "rolling:30s", "UTC", nil, "window"),
            ("global", "cost", "1", "day", "Mars/Olympus", nil, "tz"),
            ("global", "cost", "1", "day", "../etc/passwd", nil, "tz"),
            ("global", "cost", "1", "day", "UTC", "0", "soft"),
            ("global", "cost", "1", "day", "UTC", "1.5", "soft"),
            ("global", "cost", "1", "day", "UTC", "NaN", "soft"),
        ] as [(String, String, String, String, String, String?, String)])
    func badRulesAreRejectedNamingTheField(
        scope: String, type: String, max: String, window: String, zone: String, soft: String?, field: String
    ) {
        do {
            _ = try LimitRule.parse(scope: scope, type: type, maximum: max, window: window, zone: zone, soft: soft)
            Issue.record("accepted \(scope) \(type) \(max) \(window) \(zone) \(soft ?? "")")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.field == field)
            #expect(error.message.hasPrefix(field + ": "), "\(error.message)")
            #expect(!error.message.contains("--"), "a library error names a flag: \(error.message)")
        }
    }

    @Test func goodRulesParseToTheirCanonicalForm() throws {
        let r = try rule("model=gpt-4.1,project=etl,tag:env=prod", "total-tokens", "5000", "rolling:7d", soft: "80%")
        #expect(r.scope.description == "model=gpt-4.1,project=etl,tag:env=prod")
        #expect(r.metric == .totalTokens)
        #expect(r.maximum == 5000)
        #expect(r.window == .rolling(milliseconds: 7 * 86_400_000))
        #expect(r.softPartsPerMillion == 800_000)
        #expect(try rule("global", "cost", "2.5", "month").maximum == 2_500_000_000)
        #expect(
            try rule("global", "cost", "1", "week", zone: "Europe/Berlin").window.description == "week (Europe/Berlin)")
    }

    @Test func calendarWindowsStartAtUTCBoundariesAndWeeksOnMonday() throws {
        let t = time("2026-11-26T15:42:10.500Z").millisecondsSinceEpoch  // a Thursday
        func start(_ window: String) throws -> String {
            Timestamp(millisecondsSinceEpoch: try LimitWindow.parse(window).bucket(at: t)).rfc3339
        }
        #expect(try start("hour") == "2026-11-26T15:00:00.000Z")
        #expect(try start("day") == "2026-11-26T00:00:00.000Z")
        #expect(try start("week") == "2026-11-23T00:00:00.000Z")
        #expect(try start("month") == "2026-11-01T00:00:00.000Z")
        #expect(
            try LimitWindow.parse("month").resetTime(after: t) == time("2026-12-01T00:00:00Z").millisecondsSinceEpoch)
        #expect(
            try LimitWindow.parse("week").resetTime(after: t) == time("2026-11-30T00:00:00Z").millisecondsSinceEpoch)
    }

    @Test func calendarWindowsInATimeZoneFollowLocalMidnightAcrossDaylightSaving() throws {
        let day = try LimitWindow.parse("day", zone: "Europe/Berlin")
        // Winter (UTC+1): local midnight is 23:00 UTC the day before.
        #expect(
            day.bucket(at: time("2026-11-23T22:59:59.999Z").millisecondsSinceEpoch)
                == time("2026-11-22T23:00:00Z").millisecondsSinceEpoch)
        #expect(
            day.bucket(at: time("2026-11-23T23:00:00Z").millisecondsSinceEpoch)
                == time("2026-11-23T23:00:00Z").millisecondsSinceEpoch)
        // Summer (UTC+2).
        #expect(
            day.bucket(at: time("2026-07-01T12:00:00Z").millisecondsSinceEpoch)
                == time("2026-06-30T22:00:00Z").millisecondsSinceEpoch)
        // The day summer time starts (2026-03-29) is 23 hours long.
        let start = day.bucket(at: time("2026-03-29T12:00:00Z").millisecondsSinceEpoch)
        #expect(start == time("2026-03-28T23:00:00Z").millisecondsSinceEpoch)
        #expect(day.resetTime(after: start) == time("2026-03-29T22:00:00Z").millisecondsSinceEpoch)
        let month = try LimitWindow.parse("month", zone: "America/New_York")
        #expect(
            month.bucket(at: time("2026-12-01T03:00:00Z").millisecondsSinceEpoch)
                == time("2026-11-01T04:00:00Z").millisecondsSinceEpoch)
    }

    @Test func rollingWindowsCountBucketsOfOneSixtiethOfTheWindow() throws {
        let window = try LimitWindow.parse("rolling:30m")
        let t = time("2026-11-23T10:00:10Z").millisecondsSinceEpoch
        #expect(window.bucket(at: t) == time("2026-11-23T10:00:00Z").millisecondsSinceEpoch)
        #expect(
            window.firstCountedBucket(at: time("2026-11-23T10:30:29.999Z").millisecondsSinceEpoch)
                == window.bucket(at: t))
        #expect(
            window.firstCountedBucket(at: time("2026-11-23T10:30:30Z").millisecondsSinceEpoch) > window.bucket(at: t))
    }
}
