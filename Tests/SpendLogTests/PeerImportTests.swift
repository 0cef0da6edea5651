import SpendLog
import Testing

/// The conversions of `spendlog import`: floats to nano-dollars, stored times to UTC, row ids to
/// record ids (docs/IMPORT.md).
@Suite struct PeerImportTests {
    @Test func floatsBecomeTheNearestNanoDollarOfTheirShortestDecimal() {
        #expect(PeerImport.nanos(fromDouble: 0) == 0)
        #expect(PeerImport.nanos(fromDouble: 0.1) == 100_000_000)
        #expect(PeerImport.nanos(fromDouble: 0.127513762) == 127_513_762)
        #expect(PeerImport.nanos(fromDouble: 1e-05) == 10_000)
        #expect(PeerImport.nanos(fromDouble: 3.9450175750000005) == 3_945_017_575)
        #expect(PeerImport.nanos(fromDouble: 0.0000000015) == 2)  // half away from zero
        #expect(PeerImport.nanos(fromDouble: 0.0000000014999) == 1)
        #expect(PeerImport.nanos(fromDouble: 4e-10) == 0)
        #expect(PeerImport.nanos(fromDouble: 5e-324) == 0)
        #expect(PeerImport.nanos(fromDouble: 1_000_000) == 1_000_000_000_000_000)
        #expect(PeerImport.nanos(fromDouble: 123.456789123456) == 123_456_789_123)
        #expect(PeerImport.nanos(fromDouble: 1_000_000.5) == nil)
        #expect(PeerImport.nanos(fromDouble: -0.1) == nil)
        #expect(PeerImport.nanos(fromDouble: .nan) == nil)
        #expect(PeerImport.nanos(fromDouble: .infinity) == nil)
    }

    @Test func storedTimesBecomeUTC() throws {
        let berlin = try ZoneInfo.named("Europe/Berlin")
        let tokyo = try ZoneInfo.named("Asia/Tokyo")
        func utc(_ text: String, _ zone: ZoneInfo = .utc) -> String? {
            PeerImport.milliseconds(text, zone: zone).map { Timestamp(millisecondsSinceEpoch: $0).rfc3339 }
        }
        // llm-toll: ISO 8601 with an offset; the zone does not matter.
        #expect(utc("2026-12-01T14:41:03.951446+00:00", tokyo) == "2026-12-01T14:41:03.951Z")
        #expect(utc("2026-12-01T14:41:03.951446-05:30") == "2026-12-01T20:11:03.951Z")
        #expect(utc("2026-12-01T14:41:03Z") == "2026-12-01T14:41:03.000Z")
        // llm-accounting: naive, in the source zone (UTC unless told).
        #expect(utc("2026-12-01 14:41:11.419639") == "2026-12-01T14:41:11.419Z")
        #expect(utc("2026-07-01 12:00:00", tokyo) == "2026-07-01T03:00:00.000Z")
        #expect(utc("2026-07-01 12:00:00", berlin) == "2026-07-01T10:00:00.000Z")
        #expect(utc("2026-01-01 00:30:00", berlin) == "2025-12-31T23:30:00.000Z")
        // A wall time in the spring-forward gap takes the offset before it.
        #expect(utc("2026-03-29 02:30:00", berlin) == "2026-03-29T01:30:00.000Z")
        // One that occurs twice, the offset after the change.
        #expect(utc("2026-10-25 02:30:00", berlin) == "2026-10-25T01:30:00.000Z")
        for bad in [
            "", "2026-13-01 00:00:00", "2026-02-29 00:00:00", "1969-12-31 23:59:59", "2026-12-01", "yesterday",
            "2026-12-01T10:00:00+25:00", "2026-12-01T10:00:00Zjunk",
        ] {
            #expect(utc(bad) == nil, "\(bad)")
        }
    }

    @Test func recordIDsDependOnTheSourceAndRowAndKeepTheRowsTime() {
        let a = PeerImport.recordID(source: "llm-toll-0123456789abcdef", row: 7, milliseconds: 1_790_000_000_123)
        #expect(a == PeerImport.recordID(source: "llm-toll-0123456789abcdef", row: 7, milliseconds: 1_790_000_000_123))
        #expect(a != PeerImport.recordID(source: "llm-toll-0123456789abcdef", row: 8, milliseconds: 1_790_000_000_123))
        #expect(a != PeerImport.recordID(source: "llm-toll-0123456789abcdf0", row: 7, milliseconds: 1_790_000_000_123))
        #expect(a.version == 7 && a.low >> 62 == 0b10)
        #expect(a.milliseconds == 1_790_000_000_123)
    }
}
