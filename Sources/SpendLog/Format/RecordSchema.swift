#if canImport(Glibc)
    import Glibc
#endif

/// The rules of a record, in one place (docs/FORMAT.md, "Record"): its keys and the order writers
/// write them in, what each holds, the limits on names, tags, counts, money and lines, and the
/// checks on raw bytes. The full parser (``RecordParser``), the index's fast scanner, the
/// encoder and ``UsageRecord/validate()`` all read them here, so that no two of them can
/// disagree on what a record is.
public enum RecordSchema {
    /// Every key the format defines, in the order writers write them.
    public enum Key: UInt8, CaseIterable, Sendable {
        /// The keys of docs/FORMAT.md, "Record", in Swift spelling (``name`` is the JSON key).
        case v, id, ts, project, model, provider, inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens
        /// The keys of docs/FORMAT.md, "Record", continued.
        case reasoningTokens, costUSD, costSource, adjusts, latencyMs, user, caller, session, requestID, role, task
        /// The keys of docs/FORMAT.md, "Record", continued: `status` and the `tags` object.
        case status, tags

        /// The JSON key.
        public var name: String { RecordSchema.keyNames[Int(rawValue)] }

        /// The JSON key's bytes.
        var utf8: [UInt8] { RecordSchema.keyBytes[Int(rawValue)] }

        /// What the key holds.
        public var value: Value {
            switch self {
            case .v: .version
            case .id: .id
            case .ts: .timestamp
            case .project, .model: .name(required: true)
            case .provider, .user, .caller, .session, .requestID, .role, .task: .name(required: false)
            case .inputTokens, .outputTokens, .cachedInputTokens, .cacheWriteTokens, .reasoningTokens, .latencyMs:
                .count
            case .costUSD: .money
            case .costSource: .costSource
            case .adjusts: .reference
            case .status: .status
            case .tags: .tags
            }
        }

        /// The key spelled by `bytes` (unescaped), picked by length and first byte, then compared
        /// whole, without allocating.
        @inline(__always)
        static func match(_ bytes: UnsafeBufferPointer<UInt8>) -> Key? {
            let candidate: Key
            switch bytes.count {
            case 1: candidate = .v
            case 2: candidate = bytes[0] == 0x69 ? .id : .ts
            case 4:
                switch bytes[0] {
                case 0x75: candidate = .user
                case 0x72: candidate = .role
                case 0x74: candidate = bytes[1] == 0x61 && bytes[2] == 0x73 ? .task : .tags
                default: return nil
                }
            case 5: candidate = .model
            case 6: candidate = bytes[0] == 0x63 ? .caller : .status
            case 7:
                switch bytes[0] {
                case 0x70: candidate = .project
                case 0x73: candidate = .session
                case 0x61: candidate = .adjusts
                default: return nil
                }
            case 8: candidate = bytes[0] == 0x70 ? .provider : .costUSD
            case 10: candidate = bytes[0] == 0x6C ? .latencyMs : .requestID
            case 11: candidate = .costSource
            case 12: candidate = .inputTokens
            case 13: candidate = .outputTokens
            case 16: candidate = .reasoningTokens
            case 18: candidate = .cacheWriteTokens
            case 19: candidate = .cachedInputTokens
            default: return nil
            }
            let name = candidate.quoted
            return shortBytesEqual(name.utf8Start + 1, bytes.baseAddress!, bytes.count) ? candidate : nil
        }

        /// The key as it starts a member: `"name":`, a constant (no array, no reference counting).
        var quoted: StaticString {
            switch self {
            case .v: #""v":"#
            case .id: #""id":"#
            case .ts: #""ts":"#
            case .project: #""project":"#
            case .model: #""model":"#
            case .provider: #""provider":"#
            case .inputTokens: #""input_tokens":"#
            case .outputTokens: #""output_tokens":"#
            case .cachedInputTokens: #""cached_input_tokens":"#
            case .cacheWriteTokens: #""cache_write_tokens":"#
            case .reasoningTokens: #""reasoning_tokens":"#
            case .costUSD: #""cost_usd":"#
            case .costSource: #""cost_source":"#
            case .adjusts: #""adjusts":"#
            case .latencyMs: #""latency_ms":"#
            case .user: #""user":"#
            case .caller: #""caller":"#
            case .session: #""session":"#
            case .requestID: #""request_id":"#
            case .role: #""role":"#
            case .task: #""task":"#
            case .status: #""status":"#
            case .tags: #""tags":"#
            }
        }

        /// The key named `name`, however it was spelled in JSON.
        static func named(_ name: String) -> Key? { RecordSchema.keysByName[name] }
    }

    /// What a key holds.
    public enum Value: Equatable, Sendable {
        /// `v`: the format version, the integer 1.
        case version
        /// `id`: a UUIDv7 string.
        case id
        /// `ts`: an RFC 3339 UTC time with milliseconds.
        case timestamp
        /// A name: a string of 1 to ``maximumNameBytes`` bytes (`textProblem(_:minimumBytes:maximumBytes:)`);
        /// optional names may be `null` or absent.
        case name(required: Bool)
        /// A whole number from 0 to ``maximumTokenCount``.
        case count
        /// `cost_usd`: a JSON number, exact to the nano-dollar, 0 to ``Money/maximumPerRecord``.
        case money
        /// `cost_source`: `provided`, `priced` or `unpriced`.
        case costSource
        /// `adjusts`: the UUIDv7 of the record an adjustment prices, or `null`.
        case reference
        /// `status`: `ok` or `error`, or `null`.
        case status
        /// `tags`: an object of name → text (0 to ``maximumTagValueBytes`` bytes), at most
        /// ``maximumTagCount`` of them, or `null`.
        case tags
    }

    static let keyNames: [String] = [
        "v", "id", "ts", "project", "model", "provider", "input_tokens", "output_tokens", "cached_input_tokens",
        "cache_write_tokens", "reasoning_tokens", "cost_usd", "cost_source", "adjusts", "latency_ms", "user", "caller",
        "session", "request_id", "role", "task", "status", "tags",
    ]
    static let keyBytes: [[UInt8]] = keyNames.map { Array($0.utf8) }
    /// Every key as a line spells it (``Key/quoted``), each with the `{` or `,` before it.
    static let keysBound = Key.allCases.reduce(0) { $0 + $1.quoted.utf8CodeUnitCount + 1 }
    static let keysByName: [String: Key] = Dictionary(uniqueKeysWithValues: Key.allCases.map { ($0.name, $0) })

    /// Every key the format defines.
    public static let knownKeys: Set<String> = Set(keyNames)

    /// The largest token count accepted: 2^53, the largest integer every JSON reader holds exactly.
    public static let maximumTokenCount: Int64 = 1 << 53
    /// Names (project, model, user, …, tag keys) are 1 to 256 bytes of UTF-8.
    public static let maximumNameBytes = 256
    /// Tag values may be empty and up to 1024 bytes.
    public static let maximumTagValueBytes = 1024
    /// At most this many tags on one record.
    public static let maximumTagCount = 64
    /// The longest line a reader takes, `\n` excluded. A record within every other limit is a few
    /// KiB at most; anything longer is not a record.
    public static let maximumLineBytes = 1 << 20

    // MARK: - Byte rules

    /// Why `bytes` is not a valid text value of `minimumBytes` to `maximumBytes` bytes — not
    /// UTF-8, too short or long, or holding a C0 or C1 control character or DEL — or nil.
    /// The one check of names and tag values, on raw bytes, for every reader and writer.
    static func textProblem(_ bytes: UnsafeBufferPointer<UInt8>, minimumBytes: Int, maximumBytes: Int) -> String? {
        if bytes.count < minimumBytes { return "must not be empty" }
        if bytes.count > maximumBytes { return "is \(bytes.count) bytes; at most \(maximumBytes) are allowed" }
        var ascii = true
        for c in bytes {
            if c >= 0x80 {
                ascii = false
                break
            }
            if c < 0x20 || c == 0x7F { return controlProblem(UInt32(c)) }
        }
        if ascii { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else { return "is not valid UTF-8" }
        for scalar in text.unicodeScalars where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
            return controlProblem(scalar.value)
        }
        return nil
    }

    static func textProblem(_ text: String, minimumBytes: Int, maximumBytes: Int) -> String? {
        var copy = text
        return copy.withUTF8 { textProblem($0, minimumBytes: minimumBytes, maximumBytes: maximumBytes) }
    }

    private static func controlProblem(_ value: UInt32) -> String {
        let code = String(value, radix: 16, uppercase: true)
        return "contains the control character U+\(String(repeating: "0", count: 4 - code.count))\(code)"
    }

    /// Why `value` is not a valid count, or nil.
    static func countProblem(_ value: Int64) -> String? {
        if value < 0 { return "must not be negative (got \(value))" }
        if value > maximumTokenCount { return "\(value) is above the maximum of 2^53 (9007199254740992)" }
        return nil
    }

    // MARK: - Rules between fields

    /// The rules that tie fields together: cache reads and writes are part of the input, reasoning
    /// part of the output, the cost within bounds, and an unpriced record costs nothing.
    static func amountsProblem(
        inputTokens: Int64, outputTokens: Int64, cachedInputTokens: Int64, cacheWriteTokens: Int64,
        reasoningTokens: Int64, cost: Money, costSource: UsageRecord.CostSource
    ) -> RecordValidationError? {
        if cachedInputTokens > inputTokens {
            return RecordValidationError(
                field: "cached_input_tokens",
                reason:
                    "\(cachedInputTokens) is more than input_tokens (\(inputTokens)); input_tokens includes cache reads"
            )
        }
        if cacheWriteTokens > inputTokens {
            return RecordValidationError(
                field: "cache_write_tokens",
                reason:
                    "\(cacheWriteTokens) is more than input_tokens (\(inputTokens)); input_tokens includes cache writes"
            )
        }
        if cachedInputTokens + cacheWriteTokens > inputTokens {
            return RecordValidationError(
                field: "cache_write_tokens",
                reason:
                    "cached_input_tokens + cache_write_tokens (\(cachedInputTokens + cacheWriteTokens)) is more than input_tokens (\(inputTokens))"
            )
        }
        if reasoningTokens > outputTokens {
            return RecordValidationError(
                field: "reasoning_tokens",
                reason:
                    "\(reasoningTokens) is more than output_tokens (\(outputTokens)); output_tokens includes reasoning")
        }
        if cost < .zero { return RecordValidationError(field: "cost_usd", reason: "must not be negative") }
        if cost > Money.maximumPerRecord {
            return RecordValidationError(field: "cost_usd", reason: MoneyParseError.tooLarge.description)
        }
        if costSource == .unpriced && cost != .zero {
            return RecordValidationError(
                field: "cost_source",
                reason: "is \"unpriced\" but cost_usd is \(cost); use \"provided\" for a given cost")
        }
        return nil
    }

    /// The rules of an adjustment (a record with `adjusts`, docs/FORMAT.md, "Adjustments"): it adds a
    /// priced cost to the record it names and nothing else, so every token count is 0, it has no
    /// latency, its cost came from the price table, and it names another record.
    static func adjustmentProblem(_ record: UsageRecord) -> RecordValidationError? {
        guard let adjusted = record.adjusts else { return nil }
        guard adjusted.version == 7, adjusted.low >> 62 == 0b10 else {
            return RecordValidationError(field: "adjusts", reason: "must be a UUIDv7 (version 7, RFC 9562 variant)")
        }
        if adjusted == record.id {
            return RecordValidationError(field: "adjusts", reason: "names the adjustment's own id")
        }
        for (count, field) in [
            (record.inputTokens, "input_tokens"), (record.outputTokens, "output_tokens"),
            (record.cachedInputTokens, "cached_input_tokens"), (record.cacheWriteTokens, "cache_write_tokens"),
            (record.reasoningTokens, "reasoning_tokens"),
        ] where count != 0 {
            return RecordValidationError(
                field: field, reason: "must be 0 in an adjustment (a record with adjusts carries only a cost)")
        }
        if record.latencyMs != nil {
            return RecordValidationError(field: "latency_ms", reason: "must be absent in an adjustment")
        }
        if record.costSource != .priced {
            return RecordValidationError(
                field: "cost_source", reason: "must be \"priced\" in an adjustment (a record with adjusts)")
        }
        return nil
    }
}
