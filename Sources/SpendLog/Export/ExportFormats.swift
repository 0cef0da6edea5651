/// The key names of exported records (docs/SHIPPING.md, "Schemas").
public enum ExportSchema: String, Sendable, CaseIterable {
    /// The record's own keys (docs/FORMAT.md, "Record").
    case native
    /// The OpenTelemetry GenAI semantic conventions for the keys they define, `spendlog.*` for the rest.
    case otel

    /// The version of the semantic conventions the `otel` names follow. The GenAI conventions are
    /// in Development status: names may change between versions, so this one is pinned.
    public static let semanticConventionsVersion = "1.40.0"
    /// The OpenTelemetry schema URL of the pinned version, written as `schemaUrl` in OTLP output.
    public static let schemaURL = "https://opentelemetry.io/schemas/" + semanticConventionsVersion

    /// Native key → OpenTelemetry attribute name.
    public static let otelNames: [String: String] = [
        "model": "gen_ai.request.model",
        "provider": "gen_ai.provider.name",
        "input_tokens": "gen_ai.usage.input_tokens",
        "output_tokens": "gen_ai.usage.output_tokens",
        "cached_input_tokens": "gen_ai.usage.cache_read.input_tokens",
        "cache_write_tokens": "gen_ai.usage.cache_creation.input_tokens",
        "reasoning_tokens": "gen_ai.usage.reasoning.output_tokens",
    ]

    /// The name of a native key (`tags.<k>` for a tag) under this schema.
    public func name(_ key: String) -> String {
        switch self {
        case .native: key
        case .otel: ExportSchema.otelNames[key] ?? "spendlog." + key
        }
    }
}

/// One value of an exported record.
public enum ExportValue: Equatable, Sendable {
    /// Text.
    case string(String)
    /// A whole number.
    case int(Int64)
    /// An exact decimal (`cost_usd`), as its text.
    case decimal(String)
    /// A key this version does not know, with its JSON value.
    case json(JSONValue)
}

/// Turns records into the export formats: CSV rows, flat JSON objects, OTLP log records.
public enum ExportFormat {
    /// The CSV columns, in order, by native name. `tags` and `extra` hold JSON objects.
    public static let csvColumns = [
        "id", "ts", "project", "model", "provider", "input_tokens", "output_tokens", "cached_input_tokens",
        "cache_write_tokens", "reasoning_tokens", "cost_usd", "cost_source", "latency_ms", "user", "caller",
        "session", "request_id", "role", "task", "status", "tags", "extra",
    ]

    /// The record's fields in the order of docs/FORMAT.md, absent optional ones left out; each
    /// tag is a field `tags.<key>`, each unknown key a field of its own.
    public static func fields(_ r: UsageRecord) -> [(key: String, value: ExportValue)] {
        var out: [(key: String, value: ExportValue)] = [
            ("id", .string(r.id.description)), ("ts", .string(r.timestamp.rfc3339)), ("project", .string(r.project)),
            ("model", .string(r.model)), ("provider", .string(r.provider)), ("input_tokens", .int(r.inputTokens)),
            ("output_tokens", .int(r.outputTokens)), ("cached_input_tokens", .int(r.cachedInputTokens)),
            ("cache_write_tokens", .int(r.cacheWriteTokens)), ("reasoning_tokens", .int(r.reasoningTokens)),
            ("cost_usd", .decimal(r.cost.decimalString)), ("cost_source", .string(r.costSource.rawValue)),
        ]
        if let v = r.latencyMs { out.append(("latency_ms", .int(v))) }
        for (key, value) in [
            ("user", r.user), ("caller", r.caller), ("session", r.session), ("request_id", r.requestID),
            ("role", r.role), ("task", r.task), ("status", r.status?.rawValue),
        ] {
            if let value { out.append((key, .string(value))) }
        }
        for key in r.tags.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            out.append(("tags." + key, .string(r.tags[key]!)))
        }
        // Keys this version does not know get their own namespace: an unknown key `tags.a` must
        // not collide with the tag `a`.
        for member in r.extra { out.append(("extra." + member.key, .json(member.value))) }
        return out
    }

    /// One flat JSON object, `\n`-terminated, with the schema's names.
    public static func jsonLine(_ r: UsageRecord, schema: ExportSchema) -> [UInt8] {
        var out: [UInt8] = [0x7B]
        for (i, field) in fields(r).enumerated() {
            if i > 0 { out.append(0x2C) }
            JSONWriter.writeString(schema.name(field.key), into: &out)
            out.append(0x3A)
            switch field.value {
            case .string(let s): JSONWriter.writeString(s, into: &out)
            case .int(let n): out.append(contentsOf: String(n).utf8)
            case .decimal(let d): out.append(contentsOf: d.utf8)
            case .json(let v): JSONWriter.write(v, into: &out)
            }
        }
        out += [0x7D, 0x0A]
        return out
    }

    /// The header row (RFC 4180, CRLF line ends).
    public static func csvHeader(schema: ExportSchema) -> String {
        csvColumns.map { schema.name($0) }.joined(separator: ",") + "\r\n"
    }

    /// One CSV row. An absent value is an empty unquoted field, which PostgreSQL's `COPY … CSV`
    /// reads as NULL; text that holds a comma, quote or line break is quoted.
    public static func csvRow(_ r: UsageRecord) -> String {
        var tags: [(key: String, value: JSONValue)] = []
        for key in r.tags.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            tags.append((key, .string(r.tags[key]!)))
        }
        let cells: [String?] = [
            r.id.description, r.timestamp.rfc3339, r.project, r.model, r.provider, String(r.inputTokens),
            String(r.outputTokens), String(r.cachedInputTokens), String(r.cacheWriteTokens), String(r.reasoningTokens),
            r.cost.decimalString, r.costSource.rawValue, r.latencyMs.map { String($0) }, r.user, r.caller, r.session,
            r.requestID, r.role, r.task, r.status?.rawValue,
            tags.isEmpty ? nil : JSONValue.object(tags).jsonText,
            r.extra.isEmpty ? nil : JSONValue.object(r.extra).jsonText,
        ]
        return cells.map { $0.map(csvField) ?? "" }.joined(separator: ",") + "\r\n"
    }

    /// RFC 4180 quoting; an empty string is quoted so that it is not read as NULL.
    public static func csvField(_ value: String) -> String { CSV.field(value, quoteEmpty: true) }

    // MARK: OTLP

    /// One `ExportLogsServiceRequest` in the OTLP/JSON encoding, on one line: the records as log
    /// records of one resource (`service.name` = `spendlog`) and one scope, attributes named by
    /// `schema`.
    public static func otlpLine(_ records: [UsageRecord], schema: ExportSchema, scopeVersion: String) -> [UInt8] {
        var out: [UInt8] = []
        out += Array(#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"spendlog"}}]},"scopeLogs":[{"scope":{"name":"spendlog","version":"#.utf8)
        JSONWriter.writeString(scopeVersion, into: &out)
        out += Array(#"},"logRecords":["#.utf8)
        for (i, r) in records.enumerated() {
            if i > 0 { out.append(0x2C) }
            appendLogRecord(r, schema: schema, into: &out)
        }
        out += Array("],\"schemaUrl\":".utf8)
        JSONWriter.writeString(schema == .otel ? ExportSchema.schemaURL : "", into: &out)
        out += Array("}]}]}\n".utf8)
        return out
    }

    static func appendLogRecord(_ r: UsageRecord, schema: ExportSchema, into out: inout [UInt8]) {
        // OTLP times are unsigned 64-bit nanoseconds, which end in July 2554; a later record (the
        // format allows up to 9999) says 0, "unknown", and keeps its time in the ts attribute.
        let ms = r.timestamp.millisecondsSinceEpoch
        let nanos = ms <= Int64(UInt64.max / 1_000_000) ? String(ms) + "000000" : "0"
        let error = r.status == .error
        out += Array("{\"timeUnixNano\":\"\(nanos)\",\"observedTimeUnixNano\":\"\(nanos)\",".utf8)
        out += Array("\"severityNumber\":\(error ? 17 : 9),\"severityText\":\"\(error ? "ERROR" : "INFO")\",".utf8)
        out += Array("\"attributes\":[".utf8)
        for (i, field) in fields(r).enumerated() {
            if i > 0 { out.append(0x2C) }
            out += Array(#"{"key":"#.utf8)
            JSONWriter.writeString(schema.name(field.key), into: &out)
            out += Array(#","value":"#.utf8)
            switch field.value {
            case .string(let s): appendAnyValue(.string(s), into: &out)
            case .int(let n): out += Array("{\"intValue\":\"\(n)\"}".utf8)
            case .decimal(let d): out += Array("{\"doubleValue\":\(d)}".utf8)
            case .json(let v): appendAnyValue(v, into: &out)
            }
            out.append(0x7D)
        }
        out += Array("]}".utf8)
    }

    /// A JSON value as an OTLP `AnyValue`: integers as `intValue`, other numbers as `doubleValue`,
    /// arrays and objects as `arrayValue` and `kvlistValue`; null as an empty value.
    static func appendAnyValue(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out += Array("{}".utf8)
        case .bool(let b): out += Array("{\"boolValue\":\(b)}".utf8)
        case .string(let s):
            out += Array(#"{"stringValue":"#.utf8)
            JSONWriter.writeString(s, into: &out)
            out.append(0x7D)
        case .number(let text):
            if let n = Int64(text) {
                out += Array("{\"intValue\":\"\(n)\"}".utf8)
            } else {
                out += Array("{\"doubleValue\":\(text)}".utf8)
            }
        case .array(let items):
            out += Array(#"{"arrayValue":{"values":["#.utf8)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(0x2C) }
                appendAnyValue(item, into: &out)
            }
            out += Array("]}}".utf8)
        case .object(let members):
            out += Array(#"{"kvlistValue":{"values":["#.utf8)
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(0x2C) }
                out += Array(#"{"key":"#.utf8)
                JSONWriter.writeString(member.key, into: &out)
                out += Array(#","value":"#.utf8)
                appendAnyValue(member.value, into: &out)
                out.append(0x7D)
            }
            out += Array("]}}".utf8)
        }
    }
}
