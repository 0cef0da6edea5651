/// The JSON, Markdown and CSV forms of a report (docs/REPORTS.md).
extension ReportData {
    /// The `format` member of the JSON form: its name and version.
    public static let jsonFormatName = "spendlog-report 1"

    /// The filters other than time, as JSON: each field given with its values, sorted by bytes.
    var filterJSON: JSONValue {
        func sorted(_ set: Set<String>) -> JSONValue {
            .array(set.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { .string($0) })
        }
        var members: [(key: String, value: JSONValue)] = []
        for (name, values) in [
            ("project", filter.projects), ("model", filter.models), ("provider", filter.providers),
            ("user", filter.users), ("caller", filter.callers), ("role", filter.roles), ("task", filter.tasks),
            ("status", filter.statuses), ("session", filter.sessions),
        ] where !values.isEmpty {
            members.append((name, sorted(values)))
        }
        if !filter.tags.isEmpty {
            let keys = filter.tags.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            members.append(("tag", .object(keys.map { ($0, sorted(filter.tags[$0] ?? [])) })))
        }
        return .object(members)
    }

    /// Everything in the report, exact: one member per section (docs/REPORTS.md has the schema).
    public func json() -> String {
        var members: [(key: String, value: JSONValue)] = [
            ("format", .string(Self.jsonFormatName)),
            ("title", .string(title)),
            ("generated_at", .string(generatedAt.rfc3339)),
            ("time_zone", .string(timeZone.name)),
            ("filters", filterJSON),
            (
                "period",
                .object([
                    ("since", .string(period.since.rfc3339)), ("until", .string(period.until.rfc3339)),
                    ("previous_since", .string(period.previousSince.rfc3339)),
                    ("previous_until", .string(period.previousUntil.rfc3339)),
                    ("month_to_date", .bool(period.isMonthToDate)),
                ])
            ),
            ("chart_models", .array(chartModels.map { .string($0) })),
            ("chart_has_other", .bool(chartHasOther)),
            ("budget_problem", budgetProblem.map(JSONValue.string) ?? .null),
        ]
        for id in Self.sectionIDs {
            guard let table = table(id) else {
                members.append((id, .null))
                continue
            }
            if id == "projection", case .array(let rows) = table.json {
                members.append((id, rows.first ?? .null))
            } else {
                members.append((id, table.json))
            }
        }
        return JSONValue.object(members).jsonText + "\n"
    }

    /// The sections as Markdown tables, for tickets and chat.
    public func markdown() -> String {
        var text = "# " + Self.markdownEscaped(title) + "\n\n"
        text += "\(ReportFormat.localTime(period.since.millisecondsSinceEpoch, zone: timeZone)) to "
        text += "\(ReportFormat.localTime(period.until.millisecondsSinceEpoch, zone: timeZone)) (\(timeZone.name)), "
        text += "compared with \(ReportFormat.localTime(period.previousSince.millisecondsSinceEpoch, zone: timeZone)) to "
        text += "\(ReportFormat.localTime(period.previousUntil.millisecondsSinceEpoch, zone: timeZone)).\n"
        if let filters = filterDescription { text += "Filters: " + Self.markdownEscaped(filters) + ".\n" }
        text += "\n**Cost \(ReportFormat.money(totals.costNanos))**, "
        text += "\(ReportFormat.grouped(totals.requests)) requests, "
        text += "\(ReportFormat.grouped(totals.inputTokens &+ totals.outputTokens)) tokens.\n"
        let unpricedRows = unpriced
        if !unpricedRows.isEmpty {
            let list = unpricedRows.map {
                "`\(Self.markdownEscaped($0.key ?? ""))` (\(ReportFormat.grouped($0.metrics.unpricedRequests)))"
            }
            text += "\n> **Warning:** \(ReportFormat.grouped(totals.unpricedRequests)) requests are unpriced, their "
                + "cost is not in the totals: \(list.joined(separator: ", ")).\n"
        }
        for table in tables() where table.id != "unpriced" || !table.rows.isEmpty {
            text += "\n## " + Self.markdownEscaped(table.title) + "\n\n"
            if let note = table.note { text += Self.markdownEscaped(note) + "\n\n" }
            text += "| " + table.columns.map { Self.markdownEscaped($0.header) }.joined(separator: " | ") + " |\n"
            text += "|" + table.columns.indices.map { table.rows.first?[$0].isNumeric == true ? "---:|" : "---|" }
                .joined() + "\n"
            for row in table.rows {
                text += "| " + row.map { Self.markdownEscaped($0.display(zone: timeZone)) }.joined(separator: " | ")
                    + " |\n"
            }
            if table.rows.isEmpty { text += "| " + table.columns.map { _ in "–" }.joined(separator: " | ") + " |\n" }
        }
        return text
    }

    /// One section as CSV (RFC 4180, exact values, CRLF).
    public func csv(section: String) -> String? {
        guard let table = table(section) else { return nil }
        var text = table.columns.map { Self.csvField(($0.group.map { $0 + ":" } ?? "") + $0.key) }
            .joined(separator: ",") + "\r\n"
        for row in table.rows { text += row.map { Self.csvField($0.exact) }.joined(separator: ",") + "\r\n" }
        return text
    }

    /// `project: etl, research; tag team: search`; nil without filters.
    public var filterDescription: String? {
        guard case .object(let members) = filterJSON, !members.isEmpty else { return nil }
        var parts: [String] = []
        for (key, value) in members {
            switch value {
            case .array(let values):
                parts.append(key + ": " + values.compactMap { if case .string(let s) = $0 { s } else { nil } }
                    .joined(separator: ", "))
            case .object(let tags):
                for (tag, v) in tags {
                    guard case .array(let values) = v else { continue }
                    parts.append("tag " + tag + ": " + values.compactMap { if case .string(let s) = $0 { s } else { nil } }
                        .joined(separator: ", "))
                }
            default: break
            }
        }
        return parts.joined(separator: "; ")
    }

    /// Text in a Markdown table cell: `|`, backslashes, markup characters and HTML escaped, line
    /// breaks as spaces (names may hold any character but controls).
    static func markdownEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "|", "\\", "`", "*", "_", "[", "]", "<", ">", "#", "~", "!", "&":
                out.append("\\")
                out.append(c)
            case "\n", "\r", "\t": out.append(" ")
            default: out.append(c)
            }
        }
        return out
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break; the value stays exact.
    static func csvField(_ value: String) -> String { CSV.field(value) }
}
