/// The parameters of a question about the log as a front end receives them, as text: the record
/// filters, the time bounds, the groups, the zone and the metric columns. One set of rules for
/// every front end (the CLI's flags, the HTTP API's query parameters): each front end says how it
/// names a field in its messages, and a refusal names the field it was for.
public struct ParameterNaming: Sendable {
    /// The name of a field (`since`, `tag`, …) as the front end shows it (`--since`, `since`).
    public var name: @Sendable (String) -> String
    /// A field given a value, for examples in messages (`--tag team=search`, `tag=team=search`).
    public var example: @Sendable (String, String) -> String

    /// A front end's naming: how it names a field, and how it shows a field given a value.
    public init(
        name: @escaping @Sendable (String) -> String, example: @escaping @Sendable (String, String) -> String
    ) {
        self.name = name
        self.example = example
    }

    /// Fields named as they are (`since`), examples as query parameters (`tag=team=search`).
    public static let plain = ParameterNaming(name: { $0 }, example: { $0 + "=" + $1 })
}

/// The record filters as text, each field repeatable: one value of a field is enough, every field
/// given is required.
public struct FilterParameters: Sendable {
    /// Projects: a record matches one of them.
    public var project: [String] = []
    /// Models: a record matches one of them.
    public var model: [String] = []
    /// Providers: a record matches one of them.
    public var provider: [String] = []
    /// End users: a record matches one of them.
    public var user: [String] = []
    /// Callers: a record matches one of them.
    public var caller: [String] = []
    /// Roles: a record matches one of them.
    public var role: [String] = []
    /// Tasks: a record matches one of them.
    public var task: [String] = []
    /// Outcomes: `ok` or `error`: a record matches one of them.
    public var status: [String] = []
    /// Sessions: a record matches one of them.
    public var session: [String] = []
    /// `KEY=VALUE`.
    public var tag: [String] = []
    /// A date (midnight in the zone) or an RFC 3339 time, inclusive.
    public var since: String?
    /// A date or an RFC 3339 time, exclusive.
    public var until: String?

    /// No filter: every record.
    public init() {}
}

/// Turns ``FilterParameters`` and the other parameters of a question (groups, zone, columns)
/// into a query, refusing a bad one with an error whose `field` names the parameter.
public enum QueryParameters {
    /// A value as shown in a message: at most 40 characters.
    public static func shown(_ text: String) -> String { text.count > 40 ? String(text.prefix(40)) + "…" : text }

    static func refusal(_ field: String, _ message: String) -> SpendLogError {
        SpendLogError(code: .invalidInput, message: message, field: field)
    }

    /// The filter; a date without a time is midnight in `zone`. A refusal's `field` is the
    /// parameter's (`since`, `project`, `tag`, …).
    public static func filter(
        _ p: FilterParameters, zone: ZoneInfo = .utc, naming: ParameterNaming
    ) throws(SpendLogError) -> RecordFilter {
        var filter = RecordFilter()
        if let since = p.since { filter.since = try parseTime(since, field: "since", zone: zone, naming: naming) }
        if let until = p.until { filter.until = try parseTime(until, field: "until", zone: zone, naming: naming) }
        if let since = filter.since, let until = filter.until, since >= until {
            throw refusal(
                "since",
                "\(naming.name("since")) (\(since.rfc3339)) must be before \(naming.name("until")) (\(until.rfc3339)).")
        }
        for (values, field) in [
            (p.project, "project"), (p.model, "model"), (p.provider, "provider"), (p.user, "user"),
            (p.caller, "caller"), (p.role, "role"), (p.task, "task"), (p.session, "session"),
        ] {
            for value in values {
                do throws(RecordValidationError) {
                    try UsageRecord.validateName(value, field: naming.name(field))
                } catch {
                    throw refusal(field, "\(naming.name(field)): \(error.reason).")
                }
            }
        }
        for value in p.status where UsageRecord.Status(rawValue: value) == nil {
            throw refusal("status", "\(naming.name("status")): '\(shown(value))' is not a status; use ok or error.")
        }
        filter.projects = Set(p.project)
        filter.models = Set(p.model)
        filter.providers = Set(p.provider)
        filter.users = Set(p.user)
        filter.callers = Set(p.caller)
        filter.roles = Set(p.role)
        filter.tasks = Set(p.task)
        filter.statuses = Set(p.status)
        filter.sessions = Set(p.session)
        let example = naming.example("tag", "team=search")
        for pair in p.tag {
            guard let equals = pair.firstIndex(of: "=") else {
                throw refusal("tag", "\(naming.name("tag")): '\(shown(pair))' is not KEY=VALUE (e.g. \(example)).")
            }
            let key = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            guard !key.isEmpty else {
                throw refusal(
                    "tag", "\(naming.name("tag")): '\(shown(pair))' has an empty key; use KEY=VALUE (e.g. \(example)).")
            }
            filter.tags[key, default: []].insert(value)
        }
        do throws(SpendLogError) { try filter.validate() } catch {
            // The filter names its field (`tags`, `since`, …) at the start of its message.
            let field = error.field ?? "filter"
            let parameter = field.hasPrefix("tag") ? "tag" : field
            var named = error
            named.field = parameter
            if error.message.hasPrefix(field) {
                named.message = naming.name(field) + error.message.dropFirst(field.count)
            }
            throw named
        }
        return filter
    }

    /// A date (the start of that day in `zone`) or an RFC 3339 time.
    public static func parseTime(
        _ text: String, field: String, zone: ZoneInfo = .utc, naming: ParameterNaming
    ) throws(SpendLogError) -> Timestamp {
        guard let time = Timestamp.parseDateOrTime(text) else {
            throw refusal(
                field,
                "\(naming.name(field)): '\(shown(text))' is not a date (2026-11-23) or an RFC 3339 time (2026-11-23T10:15:00Z)."
            )
        }
        guard text.utf8.count == 10, !zone.isUTC else { return time }
        // A date: the start of that day in the zone.
        let day = TimeBuckets.day(ofMilliseconds: time.millisecondsSinceEpoch)
        return Timestamp(millisecondsSinceEpoch: zone.startOfLocalDay(day))
    }

    /// Groups: a dimension, a time bucket or `tag:KEY`. A refusal's field is `by`.
    public static func groupKeys(_ names: [String], naming: ParameterNaming) throws(SpendLogError) -> [GroupKey] {
        var keys: [GroupKey] = []
        for name in names {
            if name.hasPrefix("tag:") {
                let key = String(name.dropFirst(4))
                do throws(RecordValidationError) { try UsageRecord.validateName(key, field: naming.name("by")) } catch {
                    throw refusal(
                        "by", "\(naming.name("by")): '\(shown(name))' needs a tag key (tag:team): \(error.reason).")
                }
                keys.append(.tag(key))
                continue
            }
            guard let key = GroupKey(rawValue: name) else {
                throw refusal(
                    "by",
                    "\(naming.name("by")): '\(shown(name))' is not one of "
                        + "\(GroupKey.allCases.map(\.rawValue).joined(separator: ", ")) or tag:KEY.")
            }
            keys.append(key)
        }
        return keys
    }

    /// An IANA zone name, or UTC when nil. A refusal's field is `tz`.
    public static func zone(_ name: String?, naming: ParameterNaming) throws(SpendLogError) -> ZoneInfo {
        guard let name else { return .utc }
        do throws(SpendLogError) { return try ZoneInfo.named(name) } catch {
            var named = error
            named.field = "tz"
            let rest = error.message.hasPrefix("tz: ") ? String(error.message.dropFirst(4)) : error.message
            named.message = naming.name("tz") + ": " + rest
            throw named
        }
    }
}
