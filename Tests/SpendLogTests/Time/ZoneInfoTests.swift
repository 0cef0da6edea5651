import Foundation
import Testing

@testable import SpendLog

/// `ZoneInfo` reads TZif files by hand, so that the CLI needs no Foundation. Foundation's
/// `TimeZone` is the independent reference it is held to.
@Suite struct ZoneInfoTests {
    static let zoneFolder = "/usr/share/zoneinfo"
    static let start = Timestamp.parse("1970-01-01T00:00:00Z")!.millisecondsSinceEpoch
    static let end = Timestamp.parse("2041-01-01T00:00:00Z")!.millisecondsSinceEpoch

    /// Every zone of the system's tzdata, by the names its `tzdata.zi` or its folders give.
    static func zoneNames() -> [String] {
        var names: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: zoneFolder)
        while let path = enumerator?.nextObject() as? String {
            if path.hasPrefix("posix") || path.hasPrefix("right") || path == "posixrules" || path == "localtime" {
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: zoneFolder + "/" + path, isDirectory: &isDirectory),
                !isDirectory.boolValue, ZoneInfo.isValidName(path),
                let handle = FileHandle(forReadingAtPath: zoneFolder + "/" + path)
            else { continue }
            let magic = handle.readData(ofLength: 4)
            try? handle.close()
            if magic == Data("TZif".utf8) { names.append(path) }
        }
        return names.sorted()
    }

    /// At every instant where ZoneInfo or Foundation says the offset changes (1970–2040), and on
    /// the first of every month, the offsets one second before and at that instant agree.
    ///
    /// Foundation on Linux answers from ICU's own copy of tzdata, which can be older than the
    /// system's; where it disagrees, Python's `zoneinfo` (an independent reader of the very same
    /// TZif files) must give ZoneInfo's answer: the disagreement is then a difference of tzdata
    /// versions, never a misreading of the files.
    @Test func everyZoneAgreesWithFoundationAtEveryChangeFrom1970To2040() throws {
        let names = Self.zoneNames()
        #expect(names.count > 300, "tzdata is installed (make deps)")
        var unknownToFoundation: [String] = []
        var disagreements: [(zone: String, second: Int64, ours: Int64, foundation: Int64)] = []
        var checked = 0
        for name in names {
            guard let reference = TimeZone(identifier: name) else {
                unknownToFoundation.append(name)
                continue
            }
            let zone = try ZoneInfo.load(name)
            var instants = Set<Int64>()
            var t = Date(timeIntervalSince1970: Double(Self.start) / 1000 - 86_400)
            while let next = reference.nextDaylightSavingTimeTransition(after: t),
                next.timeIntervalSince1970 * 1000 < Double(Self.end)
            {
                instants.insert(Int64((next.timeIntervalSince1970 * 1000).rounded()))
                t = next
            }
            var ms = Self.start - 86_400_000
            while let next = zone.nextChange(after: ms), next < Self.end {
                instants.insert(next)
                ms = next
            }
            var month = TimeBuckets.month(ofDay: TimeBuckets.day(ofMilliseconds: Self.start))
            while TimeBuckets.firstDay(ofMonth: month) * Timestamp.millisecondsPerDay < Self.end {
                instants.insert(TimeBuckets.firstDay(ofMonth: month) * Timestamp.millisecondsPerDay)
                month += 1
            }
            for instant in instants.sorted() {
                for probe in [instant - 1000, instant] {
                    let date = Date(timeIntervalSince1970: Double(probe) / 1000)
                    let expected = Int64(reference.secondsFromGMT(for: date)) * 1000
                    let got = zone.offset(at: probe)
                    checked += 1
                    if got != expected { disagreements.append((name, probe / 1000, got / 1000, expected / 1000)) }
                }
            }
        }
        #expect(checked > 500_000)
        #expect(unknownToFoundation.isEmpty, "zones Foundation does not know: \(unknownToFoundation)")
        let zones = Set(disagreements.map(\.zone))
        // A handful of zones changed between Foundation's tzdata and the system's, not hundreds.
        #expect(zones.count < 60, "\(zones.count) zones differ from Foundation (\(TimeZone.timeZoneDataVersion)): \(zones.sorted())")
        guard !disagreements.isEmpty else { return }
        let script = """
            import sys, datetime, zoneinfo
            for line in sys.stdin:
                zone, second = line.split()
                when = datetime.datetime.fromtimestamp(int(second), zoneinfo.ZoneInfo(zone))
                print(int(when.utcoffset().total_seconds()))
            """
        let input = disagreements.map { "\($0.zone) \($0.second)" }.joined(separator: "\n") + "\n"
        let python = try runProcess(TestPaths.python, ["-c", script], input: Data(input.utf8))
        #expect(python.status == 0, "\(python.stderr)")
        let offsets = python.stdout.split(separator: "\n").map { Int64($0) }
        #expect(offsets.count == disagreements.count)
        var misread: [String] = []
        for (d, offset) in zip(disagreements, offsets) where offset != d.ours {
            misread.append(
                "\(d.zone) at \(Timestamp(millisecondsSinceEpoch: d.second * 1000).rfc3339): \(d.ours) s; "
                    + "Foundation \(d.foundation) s, Python \(offset.map { String($0) } ?? "?") s")
        }
        #expect(misread.isEmpty, "\(misread.count) offsets differ from the system's tzdata: \(misread.prefix(20))")
    }
}
