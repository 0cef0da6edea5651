#if canImport(Glibc)
    import Glibc
#endif

/// A record reduced to what rollups need: its time, its dimensions as interned ids, its sums.
struct ScannedRecord: Equatable {
    /// The record's id (duplicates within a day are counted once).
    var id = RecordID(high: 0, low: 0)
    var timestampMs: Int64 = 0
    /// Interned values indexed by ``Dimension/code``; 0 = absent.
    var ids: DimensionIDs = DimensionIDs()
    var metrics = RollupMetrics()
}

/// One interned id per ``Dimension``, lane = ``Dimension/code``.
struct DimensionIDs: Hashable {
    var lanes = SIMD8<UInt32>(repeating: 0)

    @inline(__always)
    subscript(dimension: Dimension) -> UInt32 {
        get { lanes[Int(dimension.code)] }
        set { lanes[Int(dimension.code)] = newValue }
    }
}

/// The scan on the indexer's and the queries' hot path: one line of a segment to a
/// ``ScannedRecord``, without building a ``UsageRecord``.
///
/// The fast path reads the plain shape every writer produces (no escapes in keys or in the
/// values it keeps) straight from the bytes; any other line — escapes, invalid values, anything
/// it is not sure of — goes to ``RecordParser``, which gives the exact answer or the exact error.
/// So the fast path never needs to be complete, only never wrong: the tests check that whenever
/// it accepts a line, the full parser (and Foundation's JSON parser) read the same values.
struct RecordScanner {
    let interner = StringInterner()
    private(set) var fastLines = 0
    private(set) var fullLines = 0

    /// Scans a stored line; throws the full parser's error for a line that is not a valid record.
    @inline(__always)
    mutating func scan(_ line: UnsafeBufferPointer<UInt8>) throws(RecordParseError) -> ScannedRecord {
        var out = ScannedRecord()
        var scanner = JSONScanner(line)
        if scanner.scanPlainRecord(into: &out, interner: interner) {
            fastLines += 1
            return out
        }
        fullLines += 1
        return try scanFully(line)
    }

    /// `scan`, with a line that is not a record reported as corruption of `segment` at its offset.
    @inline(__always)
    mutating func scan(_ line: UnsafeBufferPointer<UInt8>, of segment: SegmentFile, at offset: Int64)
        throws(SpendLogError) -> ScannedRecord
    {
        do throws(RecordParseError) {
            return try scan(line)
        } catch {
            throw SpendLogError.corruption(
                path: segment.path, offset: offset + Int64(error.offset),
                (segment.sealed ? "in the decompressed text, " : "")
                    + "line is not a valid record: \(error.description)")
        }
    }

    /// The time of a line laid out the way spendlog's encoder writes it — `{"v":1,"id":"<uuid>",
    /// "ts":"<24 characters>"` first — read from fixed offsets without scanning the rest; nil for
    /// any other layout. For lines already known to be valid records (an indexed segment): a query
    /// that needs only some hours of a day skips the others without parsing them.
    static func leadingTimestampMs(_ line: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard line.count > 81, line[81] == 0x22 else { return nil }
        let raw = UnsafeRawBufferPointer(line)
        let (head, overlap, separator) = leadingTimestampWords
        guard raw.loadUnaligned(fromByteOffset: 49, as: UInt64.self) == separator,
            raw.loadUnaligned(as: UInt64.self) == head, raw.loadUnaligned(fromByteOffset: 5, as: UInt64.self) == overlap
        else { return nil }
        for k in 13..<49 {
            let c = line[k]
            guard (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || c == 0x2D else { return nil }
        }
        guard let ts = Timestamp.parse(utf8: UnsafeBufferPointer(rebasing: line[57..<81])) else { return nil }
        return ts.millisecondsSinceEpoch
    }
    /// `{"v":1,"id":"` (13 bytes) as its first eight bytes and its last eight, and `","ts":"`, as
    /// words: a line's bytes are compared with them in three loads.
    private static let leadingTimestampWords: (UInt64, UInt64, UInt64) = {
        let prefix = Array(#"{"v":1,"id":""#.utf8)
        let separator = Array(#"","ts":""#.utf8)
        return prefix.withUnsafeBytes { head in
            separator.withUnsafeBytes { separator in
                (
                    head.loadUnaligned(as: UInt64.self), head.loadUnaligned(fromByteOffset: 5, as: UInt64.self),
                    separator.loadUnaligned(as: UInt64.self)
                )
            }
        }
    }()

    /// The fast path alone, for tests: nil where it would hand the line to the full parser.
    func scanFast(_ line: UnsafeBufferPointer<UInt8>) -> ScannedRecord? {
        var out = ScannedRecord()
        var scanner = JSONScanner(line)
        return scanner.scanPlainRecord(into: &out, interner: interner) ? out : nil
    }

    func scanFully(_ line: UnsafeBufferPointer<UInt8>) throws(RecordParseError) -> ScannedRecord {
        let record = try RecordParser.parse(line, mode: .stored).record
        return scanned(record)
    }

    func scanned(_ record: UsageRecord) -> ScannedRecord {
        var out = ScannedRecord()
        out.id = record.id
        out.timestampMs = record.timestamp.millisecondsSinceEpoch
        out.ids[.project] = interner.id(for: record.project)
        out.ids[.model] = interner.id(for: record.model)
        out.ids[.provider] = interner.id(for: record.provider)
        out.ids[.user] = interner.id(for: record.user)
        out.ids[.caller] = interner.id(for: record.caller)
        out.ids[.role] = interner.id(for: record.role)
        out.ids[.task] = interner.id(for: record.task)
        out.ids[.status] = interner.id(for: record.status?.rawValue)
        out.metrics = RollupMetrics(record: record)
        return out
    }
}

extension JSONScanner {
    /// The fast path of ``RecordScanner``: true when the line was read completely and is valid;
    /// false hands it to the full parser.
    mutating func scanPlainRecord(into out: inout ScannedRecord, interner: StringInterner) -> Bool {
        skipWhitespace()
        guard i < b.count, b[i] == 0x7B else { return false }
        i += 1
        var seen: UInt32 = 0
        var haveVersion = false
        var haveID = false
        var haveTimestamp = false
        var costSource: UInt8 = 0  // 0 absent, 1 provided, 2 priced, 3 unpriced
        var costGiven = false
        var extraKeys: [(Int, Int)] = []
        var m = RollupMetrics()
        m.requests = 1

        skipWhitespace()
        guard i < b.count, b[i] != 0x7D else { return false }
        // Writers put the keys in ``RecordSchema/Key`` order, optional ones left out: the next key
        // is tried first as the literal `"name":`, which is what scanning it would find.
        var nextKey = 0
        while true {
            skipWhitespace()
            var predicted: RecordSchema.Key?
            var candidate = nextKey
            while candidate < min(nextKey + 4, Int(RecordSchema.Key.tags.rawValue) + 1) {
                let key = unsafeBitCast(UInt8(truncatingIfNeeded: candidate), to: RecordSchema.Key.self)
                let quoted = key.quoted
                let n = quoted.utf8CodeUnitCount
                if i + n <= b.count && shortBytesEqual(b.baseAddress! + i, quoted.utf8Start, n) {
                    predicted = key
                    i += n
                    break
                }
                candidate += 1
            }
            var keySpan = (start: 0, end: 0, escaped: false, ascii: true)
            if predicted == nil {
                guard let span = try? scanString(), !span.escaped else { return false }
                keySpan = span
                skipWhitespace()
                guard i < b.count, b[i] == 0x3A else { return false }
                i += 1
            }
            skipWhitespace()
            guard i < b.count else { return false }
            if let key = predicted
                ?? RecordSchema.Key.match(UnsafeBufferPointer(rebasing: b[keySpan.start..<keySpan.end]))
            {
                nextKey = Int(key.rawValue) + 1
                let bit: UInt32 = 1 << key.rawValue
                guard seen & bit == 0 else { return false }
                seen |= bit
                switch key {
                case .v:
                    guard i + 1 < b.count, b[i] == 0x31, b[i + 1] < 0x30 || b[i + 1] > 0x39, b[i + 1] != 0x2E,
                        b[i + 1] != 0x65, b[i + 1] != 0x45
                    else { return false }
                    i += 1
                    haveVersion = true
                case .id:
                    guard let s = try? scanString(), !s.escaped,
                        let id = RecordID.parse(utf8: UnsafeBufferPointer(rebasing: b[s.start..<s.end])),
                        id.version == 7, id.low >> 62 == 0b10
                    else { return false }
                    out.id = id
                    haveID = true
                case .ts:
                    guard let s = try? scanString(), !s.escaped,
                        let ts = Timestamp.parse(utf8: UnsafeBufferPointer(rebasing: b[s.start..<s.end])),
                        ts >= .earliest, ts <= .latest
                    else { return false }
                    out.timestampMs = ts.millisecondsSinceEpoch
                    haveTimestamp = true
                case .project:
                    guard let id = plainName(interner), id != 0 else { return false }
                    out.ids[.project] = id
                case .model:
                    guard let id = plainName(interner), id != 0 else { return false }
                    out.ids[.model] = id
                case .provider:
                    guard let id = plainName(interner) else { return false }
                    out.ids[.provider] = id
                case .user:
                    guard let id = plainName(interner) else { return false }
                    out.ids[.user] = id
                case .caller:
                    guard let id = plainName(interner) else { return false }
                    out.ids[.caller] = id
                case .role:
                    guard let id = plainName(interner) else { return false }
                    out.ids[.role] = id
                case .task:
                    guard let id = plainName(interner) else { return false }
                    out.ids[.task] = id
                case .status:
                    if literal("null") { break }
                    guard let s = try? scanString(), !s.escaped else { return false }
                    let n = s.end - s.start
                    if n == 2 && b[s.start] == 0x6F && b[s.start + 1] == 0x6B {
                        out.ids[.status] = interner.statusOK
                    } else if n == 5 && literalAt(s.start, "error") {
                        out.ids[.status] = interner.statusError
                        m.errors = 1
                    } else {
                        return false
                    }
                case .session, .requestID:
                    if literal("null") { break }
                    guard let s = try? scanString(), !s.escaped, validName(s.start, s.end) else { return false }
                case .inputTokens:
                    guard let v = try? parseCount(key) else { return false }
                    m.inputTokens = v
                case .outputTokens:
                    guard let v = try? parseCount(key) else { return false }
                    m.outputTokens = v
                case .cachedInputTokens:
                    guard let v = try? parseCount(key) else { return false }
                    m.cachedInputTokens = v
                case .cacheWriteTokens:
                    guard let v = try? parseCount(key) else { return false }
                    m.cacheWriteTokens = v
                case .reasoningTokens:
                    guard let v = try? parseCount(key) else { return false }
                    m.reasoningTokens = v
                case .latencyMs:
                    guard let v = try? parseCount(key) else { return false }
                    m.latencySumMs = v
                    m.latencyCount = 1
                case .costUSD:
                    guard asciiDigit(b[i]) != nil, let span = try? scanNumber(),
                        let money = try? Money.parse(utf8: UnsafeBufferPointer(rebasing: b[span.start..<span.end]))
                    else { return false }
                    m.costNanos = money.nanos
                    costGiven = true
                case .costSource:
                    guard let s = try? scanString(), !s.escaped else { return false }
                    switch s.end - s.start {
                    case 8 where literalAt(s.start, "provided"): costSource = 1
                    case 6 where literalAt(s.start, "priced"): costSource = 2
                    case 8 where literalAt(s.start, "unpriced"): costSource = 3
                    default: return false
                    }
                case .tags:
                    guard plainTags() else { return false }
                case .adjusts:
                    // Adjustments are rare and count differently (RollupMetrics(record:)): the full
                    // parser reads them.
                    return false
                }
            } else {
                // A key this version does not know: its value is kept by writers, skipped here.
                let length = keySpan.end - keySpan.start
                for (start, otherLength) in extraKeys where otherLength == length {
                    if memcmpEqual(
                        UnsafeBufferPointer(rebasing: b[start..<(start + length)]),
                        UnsafeBufferPointer(rebasing: b[keySpan.start..<keySpan.end]))
                    {
                        return false
                    }
                }
                guard validUTF8(keySpan.start, keySpan.end) else { return false }
                extraKeys.append((keySpan.start, length))
                guard skipPlainValue(depth: 1) else { return false }
            }
            skipWhitespace()
            guard i < b.count else { return false }
            if b[i] == 0x2C {
                i += 1
                continue
            }
            guard b[i] == 0x7D else { return false }
            i += 1
            break
        }
        skipWhitespace()
        guard i == b.count, haveVersion, haveID, haveTimestamp, out.ids[.project] != 0, out.ids[.model] != 0 else {
            return false
        }
        let source: UsageRecord.CostSource =
            switch costSource {
            case 1: .provided
            case 2: .priced
            case 3: .unpriced
            default: costGiven ? .provided : .unpriced
            }
        guard
            RecordSchema.amountsProblem(
                inputTokens: m.inputTokens, outputTokens: m.outputTokens, cachedInputTokens: m.cachedInputTokens,
                cacheWriteTokens: m.cacheWriteTokens, reasoningTokens: m.reasoningTokens,
                cost: Money(nanos: m.costNanos), costSource: source) == nil
        else { return false }
        m.unpricedRequests = source == .unpriced ? 1 : 0
        if out.ids[.provider] == 0 { out.ids[.provider] = interner.inferredProvider(forModel: out.ids[.model]) }
        out.metrics = m
        return true
    }

    @inline(__always)
    func literalAt(_ at: Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard at + n <= b.count else { return false }
        return memcmp(b.baseAddress! + at, word.utf8Start, n) == 0
    }

    /// A name value without escapes: its id (0 for null), or nil to hand the line over.
    @inline(__always)
    mutating func plainName(_ interner: StringInterner) -> UInt32? {
        if b[i] == 0x6E { return literal("null") ? 0 : nil }
        guard let s = try? scanString(), !s.escaped else { return nil }
        return interner.id(forName: UnsafeBufferPointer(rebasing: b[s.start..<s.end]))
    }

    /// A name by ``RecordSchema``'s rule, on the raw bytes.
    func validName(_ start: Int, _ end: Int) -> Bool {
        validText(start, end, minimumBytes: 1, maximumBytes: RecordSchema.maximumNameBytes)
    }

    func validText(_ start: Int, _ end: Int, minimumBytes: Int, maximumBytes: Int) -> Bool {
        RecordSchema.textProblem(
            UnsafeBufferPointer(rebasing: b[start..<end]), minimumBytes: minimumBytes, maximumBytes: maximumBytes)
            == nil
    }

    func validUTF8(_ start: Int, _ end: Int) -> Bool {
        for k in start..<end where b[k] >= 0x80 {
            return String(validating: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self) != nil
        }
        return true
    }

    /// `tags`: null or an object of unescaped string → string within the tag rules.
    mutating func plainTags() -> Bool {
        if literal("null") { return true }
        guard b[i] == 0x7B else { return false }
        i += 1
        skipWhitespace()
        guard i < b.count else { return false }
        if b[i] == 0x7D {
            i += 1
            return true
        }
        var keys: [(Int, Int)] = []
        while true {
            skipWhitespace()
            guard let k = try? scanString(), !k.escaped, validName(k.start, k.end) else { return false }
            for (start, end) in keys where end - start == k.end - k.start {
                if memcmp(b.baseAddress! + start, b.baseAddress! + k.start, end - start) == 0 { return false }
            }
            keys.append((k.start, k.end))
            guard keys.count <= RecordSchema.maximumTagCount else { return false }
            skipWhitespace()
            guard i < b.count, b[i] == 0x3A else { return false }
            i += 1
            skipWhitespace()
            guard let v = try? scanString(), !v.escaped,
                validText(v.start, v.end, minimumBytes: 0, maximumBytes: RecordSchema.maximumTagValueBytes)
            else { return false }
            skipWhitespace()
            guard i < b.count else { return false }
            if b[i] == 0x2C {
                i += 1
                continue
            }
            guard b[i] == 0x7D else { return false }
            i += 1
            return true
        }
    }

    /// Skips any JSON value the full parser would accept, allocating nothing; false for escapes
    /// (the full parser decodes those) and anything invalid.
    mutating func skipPlainValue(depth: Int) -> Bool {
        skipWhitespace()
        guard i < b.count, depth < JSONScanner.maximumDepth else { return false }
        switch b[i] {
        case 0x22:
            guard let s = try? scanString(), !s.escaped else { return false }
            return s.ascii || validUTF8(s.start, s.end)
        case 0x7B:
            i += 1
            skipWhitespace()
            guard i < b.count else { return false }
            if b[i] == 0x7D {
                i += 1
                return true
            }
            var keys: [(Int, Int)] = []
            while true {
                skipWhitespace()
                guard let k = try? scanString(), !k.escaped, k.ascii || validUTF8(k.start, k.end) else { return false }
                // A repeated key is an error at every level: the full parser says which.
                for (start, end) in keys where end - start == k.end - k.start {
                    if memcmp(b.baseAddress! + start, b.baseAddress! + k.start, end - start) == 0 { return false }
                }
                keys.append((k.start, k.end))
                skipWhitespace()
                guard i < b.count, b[i] == 0x3A else { return false }
                i += 1
                guard skipPlainValue(depth: depth + 1) else { return false }
                skipWhitespace()
                guard i < b.count else { return false }
                if b[i] == 0x2C {
                    i += 1
                    continue
                }
                guard b[i] == 0x7D else { return false }
                i += 1
                return true
            }
        case 0x5B:
            i += 1
            skipWhitespace()
            guard i < b.count else { return false }
            if b[i] == 0x5D {
                i += 1
                return true
            }
            while true {
                guard skipPlainValue(depth: depth + 1) else { return false }
                skipWhitespace()
                guard i < b.count else { return false }
                if b[i] == 0x2C {
                    i += 1
                    continue
                }
                guard b[i] == 0x5D else { return false }
                i += 1
                return true
            }
        case 0x74: return literal("true")
        case 0x66: return literal("false")
        case 0x6E: return literal("null")
        case 0x2D, 0x30...0x39: return (try? scanNumber()) != nil
        default: return false
        }
    }
}
