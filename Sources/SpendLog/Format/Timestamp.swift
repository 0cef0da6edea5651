#if canImport(Glibc)
    import Glibc
#endif

/// A point in time with millisecond precision, always written as RFC 3339 UTC:
/// `2026-11-23T10:15:02.123Z` (docs/FORMAT.md, "Record").
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    /// 86,400,000: a UTC day has no leap seconds here.
    public static let millisecondsPerDay: Int64 = 86_400_000
    /// Records may carry times from 1970 through 9999 (four-digit years only).
    public static let earliest = Timestamp(millisecondsSinceEpoch: 0)
    /// 9999-12-31T23:59:59.999Z, the last instant a record's `ts` may have.
    public static let latest = Timestamp(millisecondsSinceEpoch: 253_402_300_799_999)

    /// The instant `millisecondsSinceEpoch` milliseconds after 1970-01-01T00:00:00Z (negative before).
    public init(millisecondsSinceEpoch: Int64) { self.millisecondsSinceEpoch = millisecondsSinceEpoch }

    /// The wall clock now.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// Days since 1970-01-01 (UTC) of this instant.
    public var utcDay: Int64 { floorDiv(millisecondsSinceEpoch, Timestamp.millisecondsPerDay) }

    /// `YYYY-MM-DD` of the UTC day.
    public var dayString: String { Timestamp.dayString(utcDay: utcDay) }

    /// `YYYY-MM-DD` of the UTC day numbered `utcDay` (days since 1970-01-01).
    public static func dayString(utcDay: Int64) -> String {
        let (y, m, d) = civilFromDays(utcDay)
        guard (0...9999).contains(y) else { return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) }
        // Ten bytes, made in place: the common case costs no intermediate strings.
        return String(unsafeUninitializedCapacity: 10) { out in
            var p = out.baseAddress!
            DecimalText.write(UInt64(y), width: 4, at: &p)
            p.pointee = 0x2D
            p += 1
            DecimalText.write(UInt64(m), width: 2, at: &p)
            p.pointee = 0x2D
            p += 1
            DecimalText.write(UInt64(d), width: 2, at: &p)
            return 10
        }
    }

    public var description: String { rfc3339 }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public var rfc3339: String {
        var bytes = [UInt8](repeating: 0, count: 24)
        bytes.withUnsafeMutableBufferPointer { writeRFC3339(into: $0.baseAddress!) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes exactly 24 bytes of RFC 3339 text.
    func writeRFC3339(into out: UnsafeMutablePointer<UInt8>) {
        let day = utcDay
        let msOfDay = millisecondsSinceEpoch - day * Timestamp.millisecondsPerDay
        let (y, m, d) = Timestamp.civilFromDays(day)
        func put(_ value: Int64, _ width: Int, _ at: Int) {
            var v = value
            var i = at + width - 1
            while i >= at {
                out[i] = UInt8(0x30 + v % 10)
                v /= 10
                i -= 1
            }
        }
        put(y, 4, 0)
        out[4] = 0x2D
        put(m, 2, 5)
        out[7] = 0x2D
        put(d, 2, 8)
        out[10] = 0x54  // T
        put(msOfDay / 3_600_000, 2, 11)
        out[13] = 0x3A
        put(msOfDay / 60_000 % 60, 2, 14)
        out[16] = 0x3A
        put(msOfDay / 1000 % 60, 2, 17)
        out[19] = 0x2E
        put(msOfDay % 1000, 3, 20)
        out[23] = 0x5A  // Z
    }

    /// Parses RFC 3339 (`2026-11-23T10:15:02Z`, `…02.123456Z`, `…02+01:00`); fractions finer than
    /// a millisecond are truncated. The result is normalised to UTC.
    public static func parse(_ text: String) -> Timestamp? {
        var copy = text
        return copy.withUTF8 { parse(utf8: $0) }
    }

    /// ``parse(_:)`` over UTF-8 bytes, without making a `String` (the record parser's path).
    public static func parse(utf8 b: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        let n = b.count
        if n == 24, let base = b.baseAddress, base[10] == 0x54, base[19] == 0x2E, base[23] == 0x5A {
            return parseWritten(base)
        }
        return parseAnyLayout(utf8: b)
    }

    /// ``parse(utf8:)`` without its path for the layout spendlog writes (tests compare the two).
    static func parseAnyLayout(utf8 b: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        let n = b.count
        guard n >= 20 else { return nil }
        func num(_ at: Int, _ width: Int) -> Int64? {
            var v: Int64 = 0
            for i in at..<(at + width) {
                guard let d = asciiDigit(b[i]) else { return nil }
                v = v * 10 + Int64(d)
            }
            return v
        }
        guard let year = num(0, 4), b[4] == 0x2D, let month = num(5, 2), b[7] == 0x2D, let day = num(8, 2),
            b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20,
            let hour = num(11, 2), b[13] == 0x3A, let minute = num(14, 2), b[16] == 0x3A, let second = num(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year, month), hour < 24, minute < 60,
            second < 60  // leap seconds are not representable in milliseconds since the epoch
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < n, b[i] == 0x2E {
            i += 1
            var digits = 0
            while i < n, let d = asciiDigit(b[i]) {
                if digits < 3 { millis = millis * 10 + Int64(d) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            while digits < 3 {
                millis *= 10
                digits += 1
            }
        }
        guard i < n else { return nil }
        var offsetMinutes: Int64 = 0
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D {
            guard n - i == 6, let oh = num(i + 1, 2), b[i + 3] == 0x3A, let om = num(i + 4, 2), oh < 24, om < 60
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == 0x2D ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == n else { return nil }
        let days = daysFromCivil(year, month, day)
        let ms = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + millis
        let result = Timestamp(millisecondsSinceEpoch: ms)
        guard result >= earliest, result <= latest else { return nil }
        return result
    }

    /// The layout spendlog writes (``writeRFC3339(into:)``, `2026-11-23T10:15:02.123Z`: 24 bytes,
    /// `T`, `.` and `Z` at 10, 19 and 23, which the caller has checked), read without the general
    /// parser's loops: every record's time, read by the indexer and by queries, is in it. Accepts
    /// and refuses exactly what ``parse(utf8:)`` does on such bytes (tests hold the two equal).
    @inline(__always)
    static func parseWritten(_ p: UnsafePointer<UInt8>) -> Timestamp? {
        // Each byte minus "0" (a byte below "0" wraps to 208 and up) is a digit when below 10,
        // that is when it plus 6 is below 16: the or of those sums is below 16 when all are.
        var sums: UInt32 = 0
        @inline(__always) func digit(_ at: Int) -> UInt32 {
            let value = UInt32(p[at] &- 0x30)
            sums |= value &+ 6
            return value
        }
        let d0 = digit(0), d1 = digit(1), d2 = digit(2), d3 = digit(3)
        let mo0 = digit(5), mo1 = digit(6), dd0 = digit(8), dd1 = digit(9)
        let h0 = digit(11), h1 = digit(12), mi0 = digit(14), mi1 = digit(15), s0 = digit(17), s1 = digit(18)
        let f0 = digit(20), f1 = digit(21), f2 = digit(22)
        guard sums < 16, p[4] == 0x2D, p[7] == 0x2D, p[13] == 0x3A, p[16] == 0x3A else { return nil }
        let year = Int64(d0 * 1000 + d1 * 100 + d2 * 10 + d3)
        let month = Int64(mo0 * 10 + mo1)
        let day = Int64(dd0 * 10 + dd1)
        let hour = Int64(h0 * 10 + h1)
        let minute = Int64(mi0 * 10 + mi1)
        let second = Int64(s0 * 10 + s1)
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year, month), hour < 24, minute < 60,
            second < 60
        else { return nil }
        let millis = Int64(f0 * 100 + f1 * 10 + f2)
        let ms = ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis
        let result = Timestamp(millisecondsSinceEpoch: ms)
        guard result >= earliest, result <= latest else { return nil }
        return result
    }

    /// A date (`2026-11-23`, midnight UTC) or an RFC 3339 time, for command-line bounds.
    public static func parseDateOrTime(_ text: String) -> Timestamp? {
        if let t = parse(text) { return t }
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D else { return nil }
        return parse(text + "T00:00:00Z")
    }

    static func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since the epoch of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    public static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day number (H. Hinnant's `civil_from_days`).
    public static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

func pad(_ value: Int64, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
