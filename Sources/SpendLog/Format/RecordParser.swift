#if canImport(Glibc)
    import Glibc
#endif

/// Where and why a line is not a valid record. `offset` is the byte offset within the line;
/// `field` the JSON key concerned, when there is one.
public struct RecordParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The byte offset within the line.
    public var offset: Int
    /// The JSON key concerned, when there is one.
    public var field: String?
    /// What is wrong, for people.
    public var reason: String

    public var description: String {
        if let field { return "\(field): \(reason)" }
        return "byte \(offset): \(reason)"
    }
}

/// The fixed-schema JSON scanner for records: the hot path of reading, ingesting and indexing.
///
/// It reads one line of JSON straight from bytes into a ``UsageRecord`` without building a
/// dictionary first, and implements all of RFC 8259 (escapes, surrogate pairs, nesting, number
/// grammar) so that any line Foundation accepts it accepts with the same meaning; the tests check
/// this differentially against `JSONSerialization`. Strictness beyond JSON: duplicate keys and
/// invalid UTF-8 are errors.
public enum RecordParser {
    /// What a line is: one read back from the log, or one given to be written.
    public enum Mode: Sendable {
        /// A line read back from a segment: `v`, `id`, `ts`, `project` and `model` must be present.
        case stored
        /// A line given to `ingest`: `v`, `id` and `ts` are filled in when absent.
        case input(now: Timestamp)
    }

    /// A parsed line: its record, and what the line left out.
    public struct Parsed: Sendable {
        /// The record, validated.
        public var record: UsageRecord
        /// Neither `cost_usd` nor `cost_source` was given: the caller may price the record.
        public var costMissing: Bool
        /// The line gave its own `id` (in input mode an absent one is generated): a re-sent
        /// record may then be in the log already.
        public var idGiven = false
    }

    /// Parses and validates one line (without its `\n`).
    public static func parse(_ line: UnsafeBufferPointer<UInt8>, mode: Mode) throws(RecordParseError) -> Parsed {
        var scanner = JSONScanner(line)
        return try scanner.parseRecord(mode: mode)
    }

    /// Parses and validates one line (without its `\n`), given as an array of bytes.
    public static func parse(_ line: [UInt8], mode: Mode) throws(RecordParseError) -> Parsed {
        let result = line.withUnsafeBufferPointer { buffer in
            Result { () throws(RecordParseError) -> Parsed in try parse(buffer, mode: mode) }
        }
        return try result.get()
    }

    /// Parses and validates one line (without its `\n`), given as a string.
    public static func parse(_ line: String, mode: Mode) throws(RecordParseError) -> Parsed {
        try parse(Array(line.utf8), mode: mode)
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where a[i] != b[i] { return false }
    return true
}

/// Whether the `count` bytes at `a` and `b` are equal: word compares, without a call, for the
/// short keys and names of a record.
@inline(__always)
func shortBytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    let ra = UnsafeRawPointer(a)
    let rb = UnsafeRawPointer(b)
    if count >= 8 {
        var at = 0
        while at + 8 < count {
            if ra.loadUnaligned(fromByteOffset: at, as: UInt64.self)
                != rb.loadUnaligned(fromByteOffset: at, as: UInt64.self)
            {
                return false
            }
            at += 8
        }
        // The last 8 bytes, overlapping the words before when count is not a multiple of 8.
        return ra.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            == rb.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }
    if count >= 4 {
        return ra.loadUnaligned(as: UInt32.self) == rb.loadUnaligned(as: UInt32.self)
            && ra.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
                == rb.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
    }
    for k in 0..<count where a[k] != b[k] { return false }
    return true
}

struct JSONScanner {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0
    static let maximumDepth = 64

    init(_ bytes: UnsafeBufferPointer<UInt8>) { b = bytes }

    func error(_ reason: String, field: String? = nil, at offset: Int? = nil) -> RecordParseError {
        RecordParseError(offset: offset ?? i, field: field, reason: reason)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while i < b.count {
            let c = b[i]
            guard c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D else { return }
            i += 1
        }
    }

    /// The bytes of `word` (read little-endian) that are '"', '\\', below 0x20 or 0x80 and above
    /// (SWAR: the high bit of each byte lane of the tests is set where the lane matches).
    /// Nonzero when a lane is: the lowest set bit is in the first such byte (a lane above one that
    /// matches may be set falsely, by the borrow; none below it is), so `trailingZeroBitCount / 8`
    /// is that byte's position.
    @inline(__always)
    static func stringSpecialMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func zeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let quote = zeroByte(word ^ (ones &* 0x22))
        let backslash = zeroByte(word ^ (ones &* 0x5C))
        let control = (word &- ones &* 0x20) & ~word & highs
        return quote | backslash | control | (word & highs)
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(RecordParseError) {
        skipWhitespace()
        guard i < b.count else { throw error("unexpected end of line; expected \(what)") }
        guard b[i] == byte else { throw error("expected \(what), found \(describeByte(b[i]))") }
        i += 1
    }

    /// A raw control character inside a string: what it is and how JSON writes it instead.
    static func rawControlProblem(_ c: UInt8) -> String {
        let hex = String(c, radix: 16, uppercase: true)
        let code = String(repeating: "0", count: 4 - hex.count) + hex
        let name: String =
            switch c {
            case 0x00: " (NUL)"
            case 0x09: " (tab)"
            case 0x0A: " (line feed)"
            case 0x0D: " (carriage return)"
            default: ""
            }
        return "raw control character U+\(code)\(name) inside a string; JSON requires it escaped as \\u\(code)"
    }

    /// What kind of JSON value starts with `byte`, for errors that say what was found instead.
    func describeValue(at offset: Int) -> String {
        guard offset < b.count else { return "the end of the line" }
        switch b[offset] {
        case 0x22: return "a string"
        case 0x2D, 0x30...0x39: return "a number"
        case 0x7B: return "an object"
        case 0x5B: return "an array"
        case 0x74, 0x66: return "true or false"
        case 0x6E: return "null"
        default: return describeByte(b[offset])
        }
    }

    func describeByte(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    /// Scans a string starting at `"`; returns the span of its raw contents and whether it has escapes.
    mutating func scanString() throws(RecordParseError) -> (start: Int, end: Int, escaped: Bool, ascii: Bool) {
        guard i < b.count, b[i] == 0x22 else {
            throw error(i < b.count ? "expected a string, found \(describeByte(b[i]))" : "unexpected end of line")
        }
        i += 1
        let start = i
        var escaped = false
        var ascii = true
        let count = b.count
        let base = UnsafeRawPointer(b.baseAddress!)
        while true {
            // Eight bytes at a time while none of them is '"', '\\', a control character or
            // non-ASCII; then straight to the first that is.
            while i + 8 <= count {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let special = JSONScanner.stringSpecialMask(word)
                if special != 0 {
                    i += special.trailingZeroBitCount >> 3
                    break
                }
                i += 8
            }
            guard i < count else { break }
            let c = b[i]
            if c == 0x22 {
                let end = i
                i += 1
                return (start, end, escaped, ascii)
            }
            if c == 0x5C {
                escaped = true
                i += 2
                continue
            }
            if c < 0x20 { throw error(JSONScanner.rawControlProblem(c)) }
            if c >= 0x80 { ascii = false }
            i += 1
        }
        throw error("unterminated string", at: start - 1)
    }

    /// Decodes a scanned string, validating UTF-8 and escapes.
    func decodeString(_ span: (start: Int, end: Int, escaped: Bool, ascii: Bool)) throws(RecordParseError) -> String {
        let raw = UnsafeBufferPointer(rebasing: b[span.start..<span.end])
        if !span.escaped {
            if span.ascii { return String(decoding: raw, as: UTF8.self) }
            guard let s = String(validating: raw, as: UTF8.self) else {
                throw error("invalid UTF-8 in string", at: span.start)
            }
            return s
        }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var j = span.start
        while j < span.end {
            let c = b[j]
            if c != 0x5C {
                out.append(c)
                j += 1
                continue
            }
            guard j + 1 < span.end else { throw error("unterminated escape", at: j) }
            let e = b[j + 1]
            j += 2
            switch e {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try hex4(at: j)
                j += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard j + 6 <= span.end, b[j] == 0x5C, b[j + 1] == 0x75 else {
                        throw error(
                            "lone high surrogate \\u\(String(scalar, radix: 16)) in a \\u escape; text must be valid Unicode: "
                                + "a high surrogate (\\uD800-\\uDBFF) must be followed by a low one (\\uDC00-\\uDFFF)",
                            at: j - 6)
                    }
                    let low = try hex4(at: j + 2)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw error(
                            "high surrogate \\u\(String(scalar, radix: 16)) not followed by a low surrogate "
                                + "(\\uDC00-\\uDFFF); text must be valid Unicode", at: j)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    j += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error(
                        "lone low surrogate \\u\(String(scalar, radix: 16)) in a \\u escape; text must be valid Unicode: "
                            + "a low surrogate (\\uDC00-\\uDFFF) must follow a high one (\\uD800-\\uDBFF)",
                        at: j - 6)
                }
                appendUTF8(scalar, to: &out)
            default:
                throw error("invalid escape \\\(Character(Unicode.Scalar(e)))", at: j - 2)
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw error("invalid UTF-8 in string", at: span.start)
        }
        return s
    }

    func hex4(at j: Int) throws(RecordParseError) -> UInt32 {
        guard j + 4 <= b.count else { throw error("truncated \\u escape", at: j) }
        var v: UInt32 = 0
        for k in j..<(j + 4) {
            let c = b[k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: throw error("invalid hex digit in \\u escape", at: k)
            }
            v = v << 4 | d
        }
        return v
    }

    func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80: out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | (scalar >> 12) & 0x3F))
            out.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    mutating func parseString() throws(RecordParseError) -> String {
        skipWhitespace()
        return try decodeString(try scanString())
    }

    /// Scans a number by the JSON grammar; returns its span.
    mutating func scanNumber() throws(RecordParseError) -> (start: Int, end: Int, integer: Bool) {
        let start = i
        var integer = true
        if i < b.count, b[i] == 0x2D { i += 1 }
        guard i < b.count, asciiDigit(b[i]) != nil else { throw error("invalid number", at: start) }
        if b[i] == 0x30 {
            i += 1
            if i < b.count, asciiDigit(b[i]) != nil { throw error("numbers must not have leading zeros", at: start) }
        } else {
            while i < b.count, asciiDigit(b[i]) != nil { i += 1 }
        }
        if i < b.count, b[i] == 0x2E {
            integer = false
            i += 1
            guard i < b.count, asciiDigit(b[i]) != nil else { throw error("invalid number", at: start) }
            while i < b.count, asciiDigit(b[i]) != nil { i += 1 }
        }
        if i < b.count, b[i] == 0x65 || b[i] == 0x45 {
            integer = false
            i += 1
            if i < b.count, b[i] == 0x2B || b[i] == 0x2D { i += 1 }
            guard i < b.count, asciiDigit(b[i]) != nil else { throw error("invalid number", at: start) }
            while i < b.count, asciiDigit(b[i]) != nil { i += 1 }
        }
        return (start, i, integer)
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    /// Any JSON value, for keys the format does not define.
    mutating func parseValue(depth: Int = 0) throws(RecordParseError) -> JSONValue {
        skipWhitespace()
        guard i < b.count else { throw error("unexpected end of line; expected a value") }
        guard depth < JSONScanner.maximumDepth else { throw error("nested more than 64 levels deep") }
        switch b[i] {
        case 0x22: return .string(try decodeString(try scanString()))
        case 0x7B:
            i += 1
            var members: [(key: String, value: JSONValue)] = []
            skipWhitespace()
            if i < b.count, b[i] == 0x7D {
                i += 1
                return .object(members)
            }
            // Duplicate keys are an error at every level, as in the record itself: readers that
            // take the first and readers that take the last would otherwise disagree.
            var keys: Set<String>?
            while true {
                skipWhitespace()
                let keyOffset = i
                let key = try parseString()
                if members.count >= 8 {
                    if keys == nil { keys = Set(members.map(\.key)) }
                    guard keys!.insert(key).inserted else {
                        throw error("duplicate key \(Quoted(Array(key.utf8)))", at: keyOffset)
                    }
                } else if members.contains(where: { $0.key == key }) {
                    throw error("duplicate key \(Quoted(Array(key.utf8)))", at: keyOffset)
                }
                try expect(0x3A, "':'")
                members.append((key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                guard i < b.count else { throw error("unexpected end of line inside an object") }
                if b[i] == 0x2C {
                    i += 1
                    continue
                }
                if b[i] == 0x7D {
                    i += 1
                    return .object(members)
                }
                throw error("expected ',' or '}', found \(describeByte(b[i]))")
            }
        case 0x5B:
            i += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if i < b.count, b[i] == 0x5D {
                i += 1
                return .array(items)
            }
            while true {
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard i < b.count else { throw error("unexpected end of line inside an array") }
                if b[i] == 0x2C {
                    i += 1
                    continue
                }
                if b[i] == 0x5D {
                    i += 1
                    return .array(items)
                }
                throw error("expected ',' or ']', found \(describeByte(b[i]))")
            }
        case 0x74: if literal("true") { return .bool(true) }
        case 0x66: if literal("false") { return .bool(false) }
        case 0x6E: if literal("null") { return .null }
        case 0x2D, 0x30...0x39:
            let span = try scanNumber()
            return .number(String(decoding: UnsafeBufferPointer(rebasing: b[span.start..<span.end]), as: UTF8.self))
        default: break
        }
        throw error("expected a value, found \(describeByte(b[i]))")
    }

    /// `error`, raised inside the value of `key`, named by that key. An error of the JSON itself
    /// (a raw control character, a broken escape, invalid UTF-8, a cut line) has no field yet: it
    /// gets the key, and its byte offset in the line, so the reader knows where to look.
    static func naming(_ error: RecordParseError, _ key: String) -> RecordParseError {
        guard error.field == nil else { return error }
        var named = error
        named.field = key
        named.reason += " (byte \(error.offset) of the line)"
        return named
    }

    /// A whole non-negative integer of at most 2^53, named `field` in errors.
    mutating func parseCount(_ field: RecordSchema.Key) throws(RecordParseError) -> Int64 {
        skipWhitespace()
        guard i < b.count else { throw error("unexpected end of line", field: field.name) }
        let c = b[i]
        guard c == 0x2D || asciiDigit(c) != nil else {
            if c == 0x22 { throw error("must be a JSON number, not a string", field: field.name) }
            throw error("must be a whole number", field: field.name)
        }
        let span = try scanNumber()
        guard span.integer else { throw error("must be a whole number (no fraction or exponent)", field: field.name) }
        if b[span.start] == 0x2D { throw error("must not be negative", field: field.name) }
        guard span.end - span.start <= 16 else {
            throw error("is above the maximum of 2^53 (9007199254740992)", field: field.name)
        }
        var v: Int64 = 0
        for k in span.start..<span.end { v = v * 10 + Int64(b[k] &- 0x30) }
        guard v <= RecordSchema.maximumTokenCount else {
            throw error("\(v) is above the maximum of 2^53 (9007199254740992)", field: field.name)
        }
        return v
    }

    mutating func parseOptionalName(_ field: RecordSchema.Key) throws(RecordParseError) -> String? {
        skipWhitespace()
        if literal("null") { return nil }
        guard i < b.count, b[i] == 0x22 else {
            throw error("must be a string or null, not \(describeValue(at: i))", field: field.name)
        }
        return try parseString()
    }

    mutating func parseRecord(mode: RecordParser.Mode) throws(RecordParseError) -> RecordParser.Parsed {
        try expect(0x7B, "'{' (a record is a JSON object)")
        var seen: UInt32 = 0
        var version: Int?
        var id: RecordID?
        var ts: Timestamp?
        var project: String?
        var model: String?
        var provider: String?
        var record = UsageRecord(
            id: RecordID(high: 0, low: 0), timestamp: .earliest, project: "", model: "", provider: "")
        var cost: Money?
        var costSource: UsageRecord.CostSource?
        var extraKeys: Set<String> = []
        // The key whose value was read last, to name it when what follows is not ',' or '}'.
        var lastKey: String?

        skipWhitespace()
        if i < b.count, b[i] == 0x7D {
            i += 1
        } else {
            while true {
                skipWhitespace()
                let keyOffset = i
                let span = try scanString()
                let known: RecordSchema.Key? =
                    span.escaped ? nil : RecordSchema.Key.match(UnsafeBufferPointer(rebasing: b[span.start..<span.end]))
                try expect(0x3A, "':'")
                skipWhitespace()
                if let key = known {
                    let bit: UInt32 = 1 << key.rawValue
                    if seen & bit != 0 { throw error("duplicate key", field: key.name, at: keyOffset) }
                    seen |= bit
                    let valueOffset = i
                    // A value that is not even the right JSON is named by its key too.
                    do throws(RecordParseError) {
                        switch key {
                        case .v:
                            guard i < b.count, b[i] == 0x2D || asciiDigit(b[i]) != nil else {
                                throw error(
                                    "must be the JSON number 1 (the format version), not \(describeValue(at: i))",
                                    field: "v", at: valueOffset)
                            }
                            let span = try scanNumber()
                            guard span.integer, span.end - span.start < 6 else {
                                throw error(
                                    "must be the whole number 1 (the format version)", field: "v", at: valueOffset)
                            }
                            var n = 0
                            for k in span.start..<span.end where b[k] != 0x2D { n = n * 10 + Int(b[k] - 0x30) }
                            version = b[span.start] == 0x2D ? -n : n
                        case .id:
                            guard i < b.count, b[i] == 0x22 else {
                                throw error(
                                    "must be a UUID string like 019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a, not "
                                        + describeValue(at: i), field: "id", at: valueOffset)
                            }
                            let s = try scanString()
                            guard !s.escaped,
                                let parsed = RecordID.parse(utf8: UnsafeBufferPointer(rebasing: b[s.start..<s.end]))
                            else {
                                throw error(
                                    "must be a UUID string like 019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a", field: "id",
                                    at: valueOffset)
                            }
                            id = parsed
                        case .ts:
                            guard i < b.count, b[i] == 0x22 else {
                                throw error(
                                    "must be an RFC 3339 time string like 2026-11-23T10:15:02.123Z, not "
                                        + describeValue(at: i), field: "ts", at: valueOffset)
                            }
                            let s = try scanString()
                            guard !s.escaped,
                                let parsed = Timestamp.parse(utf8: UnsafeBufferPointer(rebasing: b[s.start..<s.end]))
                            else {
                                throw error(
                                    "must be an RFC 3339 time like 2026-11-23T10:15:02.123Z", field: "ts",
                                    at: valueOffset)
                            }
                            ts = parsed
                        case .project: project = try parseOptionalName(.project)
                        case .model: model = try parseOptionalName(.model)
                        case .provider: provider = try parseOptionalName(.provider)
                        case .inputTokens: record.inputTokens = try parseCount(key)
                        case .outputTokens: record.outputTokens = try parseCount(key)
                        case .cachedInputTokens: record.cachedInputTokens = try parseCount(key)
                        case .cacheWriteTokens: record.cacheWriteTokens = try parseCount(key)
                        case .reasoningTokens: record.reasoningTokens = try parseCount(key)
                        case .latencyMs: record.latencyMs = try parseCount(key)
                        case .costUSD:
                            guard i < b.count, b[i] == 0x2D || asciiDigit(b[i]) != nil else {
                                if i < b.count, b[i] == 0x22 {
                                    throw error(
                                        "must be a JSON number, not a string", field: "cost_usd", at: valueOffset)
                                }
                                throw error(
                                    "must be a number (NaN and infinity are not numbers)", field: "cost_usd",
                                    at: valueOffset)
                            }
                            let span = try scanNumber()
                            do {
                                cost = try Money.parse(utf8: UnsafeBufferPointer(rebasing: b[span.start..<span.end]))
                            } catch {
                                throw self.error(error.description, field: "cost_usd", at: valueOffset)
                            }
                        case .costSource:
                            let text = try parseString()
                            guard let source = UsageRecord.CostSource(rawValue: text) else {
                                throw error(
                                    "must be \"provided\", \"priced\" or \"unpriced\"", field: "cost_source",
                                    at: valueOffset)
                            }
                            costSource = source
                        case .adjusts:
                            if literal("null") { break }
                            guard i < b.count, b[i] == 0x22 else {
                                throw error(
                                    "must be the id of the adjusted record, a UUID string, not "
                                        + describeValue(at: i), field: "adjusts", at: valueOffset)
                            }
                            let s = try scanString()
                            guard !s.escaped,
                                let parsed = RecordID.parse(utf8: UnsafeBufferPointer(rebasing: b[s.start..<s.end]))
                            else {
                                throw error(
                                    "must be the id of the adjusted record, a UUID string like "
                                        + "019a6f3c-5b2e-7c41-8d2a-3f9e1b7c6d5a", field: "adjusts", at: valueOffset)
                            }
                            record.adjusts = parsed
                        case .user: record.user = try parseOptionalName(key)
                        case .caller: record.caller = try parseOptionalName(key)
                        case .session: record.session = try parseOptionalName(key)
                        case .requestID: record.requestID = try parseOptionalName(key)
                        case .role: record.role = try parseOptionalName(key)
                        case .task: record.task = try parseOptionalName(key)
                        case .status:
                            if let text = try parseOptionalName(key) {
                                guard let status = UsageRecord.Status(rawValue: text) else {
                                    throw error("must be \"ok\" or \"error\"", field: "status", at: valueOffset)
                                }
                                record.status = status
                            }
                        case .tags:
                            if literal("null") { break }
                            guard i < b.count, b[i] == 0x7B else {
                                throw error("must be an object of string to string", field: "tags", at: valueOffset)
                            }
                            i += 1
                            skipWhitespace()
                            if i < b.count, b[i] == 0x7D {
                                i += 1
                            } else {
                                while true {
                                    let tagKey = try parseString()
                                    try expect(0x3A, "':'")
                                    skipWhitespace()
                                    guard i < b.count, b[i] == 0x22 else {
                                        throw error("tag values must be strings", field: "tags.\(tagKey)")
                                    }
                                    let value = try parseString()
                                    if record.tags.updateValue(value, forKey: tagKey) != nil {
                                        throw error("duplicate tag key", field: "tags.\(tagKey)")
                                    }
                                    skipWhitespace()
                                    guard i < b.count else { throw error("unexpected end of line inside tags") }
                                    if b[i] == 0x2C {
                                        i += 1
                                        continue
                                    }
                                    if b[i] == 0x7D {
                                        i += 1
                                        break
                                    }
                                    throw error("expected ',' or '}', found \(describeByte(b[i]))", field: "tags")
                                }
                            }
                        }
                    } catch {
                        throw JSONScanner.naming(error, key.name)
                    }
                    lastKey = key.name
                } else {
                    let name = try decodeString(span)
                    if let key = RecordSchema.Key.named(name) {
                        // A known key spelled with escapes: reject rather than silently treat as unknown.
                        throw error("key must be written without escapes", field: key.name, at: keyOffset)
                    }
                    guard extraKeys.insert(name).inserted else {
                        throw error("duplicate key", field: name, at: keyOffset)
                    }
                    do throws(RecordParseError) {
                        record.extra.append((name, try parseValue(depth: 1)))
                    } catch {
                        throw JSONScanner.naming(error, name)
                    }
                    lastKey = name
                }
                skipWhitespace()
                // A value followed by anything but ',' or '}' (`"input_tokens":0x10`, a cut line)
                // is named by its key: that is where the line went wrong.
                guard i < b.count else {
                    throw error(
                        "the line ends after this value (byte \(i)); expected ',' or '}' (is the line cut short?)",
                        field: lastKey)
                }
                if b[i] == 0x2C {
                    i += 1
                    continue
                }
                if b[i] == 0x7D {
                    i += 1
                    break
                }
                throw error(
                    "unexpected \(describeByte(b[i])) after this value (byte \(i)); expected ',' or '}'", field: lastKey
                )
            }
        }
        skipWhitespace()
        guard i == b.count else { throw error("unexpected \(describeByte(b[i])) after the record's closing '}'") }

        switch mode {
        case .stored:
            guard let version else { throw error("is required", field: "v", at: 0) }
            guard let id else { throw error("is required", field: "id", at: 0) }
            guard let ts else { throw error("is required", field: "ts", at: 0) }
            record.version = version
            record.id = id
            record.timestamp = ts
        case .input(let now):
            record.version = version ?? UsageRecord.currentVersion
            record.timestamp = ts ?? now
            record.id = id ?? RecordID.generate(at: now)
        }
        guard let project else { throw error("is required", field: "project", at: 0) }
        guard let model else { throw error("is required", field: "model", at: 0) }
        record.project = project
        record.model = model
        record.provider = provider ?? ProviderInference.provider(forModel: model)
        record.cost = cost ?? .zero
        record.costSource = costSource ?? (cost == nil ? .unpriced : .provided)
        do {
            try record.validate()
        } catch {
            throw self.error(error.reason, field: error.field, at: 0)
        }
        return RecordParser.Parsed(record: record, costMissing: cost == nil && costSource == nil, idGiven: id != nil)
    }
}
