import ArgumentParser
import SpendLog

/// Filters shared by `stats`, `top` and `logs` (and any command that reads a selection of
/// records): one option per field of a record, each repeatable (any of the values), all of them
/// required together, and the time bounds.
struct QueryFilterOptions: ParsableArguments {
    @Option(help: "Only this project (repeatable).")
    var project: [String] = []
    @Option(help: "Only this model (repeatable).")
    var model: [String] = []
    @Option(help: "Only this provider (repeatable).")
    var provider: [String] = []
    @Option(help: "Only this user (repeatable).")
    var user: [String] = []
    @Option(help: "Only this caller (repeatable).")
    var caller: [String] = []
    @Option(help: "Only this role (repeatable).")
    var role: [String] = []
    @Option(help: "Only this task (repeatable).")
    var task: [String] = []
    @Option(help: "Only this status, ok or error (repeatable).")
    var status: [String] = []
    @Option(help: "Only this session (repeatable).")
    var session: [String] = []
    @Option(
        help: ArgumentHelp(
            "Only records with this tag value, KEY=VALUE (repeatable: values of one key are alternatives, "
                + "different keys are all required).", valueName: "key=value"))
    var tag: [String] = []
    @Option(help: "From this date (2026-11-01: midnight UTC, or in --tz) or RFC 3339 time, inclusive.")
    var since: String?
    @Option(help: "Up to this date or RFC 3339 time, exclusive.")
    var until: String?

    /// The filter; a date without a time is midnight in `zone`.
    func makeFilter(zone: ZoneInfo = .utc) throws -> RecordFilter {
        var filter = RecordFilter()
        filter.since = try since.map { try Self.parseTime($0, option: "--since", zone: zone) }
        filter.until = try until.map { try Self.parseTime($0, option: "--until", zone: zone) }
        if let since = filter.since, let until = filter.until, since >= until {
            throw ValidationError("--since (\(since.rfc3339)) must be before --until (\(until.rfc3339)).")
        }
        for (values, option) in [
            (project, "--project"), (model, "--model"), (provider, "--provider"), (user, "--user"),
            (caller, "--caller"), (role, "--role"), (task, "--task"), (session, "--session"),
        ] {
            for value in values {
                do { try UsageRecord.validateName(value, field: option) } catch {
                    throw ValidationError("\(option): \(error.reason).")
                }
            }
        }
        for value in status where UsageRecord.Status(rawValue: value) == nil {
            throw ValidationError("--status: '\(Self.shown(value))' is not a status; use ok or error.")
        }
        filter.projects = Set(project)
        filter.models = Set(model)
        filter.providers = Set(provider)
        filter.users = Set(user)
        filter.callers = Set(caller)
        filter.roles = Set(role)
        filter.tasks = Set(task)
        filter.statuses = Set(status)
        filter.sessions = Set(session)
        for pair in tag {
            guard let equals = pair.firstIndex(of: "=") else {
                throw ValidationError("--tag: '\(Self.shown(pair))' is not KEY=VALUE (e.g. --tag team=search).")
            }
            let key = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            guard !key.isEmpty else {
                throw ValidationError("--tag: '\(Self.shown(pair))' has an empty key; use KEY=VALUE (e.g. --tag team=search).")
            }
            filter.tags[key, default: []].insert(value)
        }
        do { try filter.validate() } catch {
            // The library names the field; the command names its flag.
            throw ValidationError("--" + error.message)
        }
        return filter
    }

    static func shown(_ text: String) -> String { text.count > 40 ? String(text.prefix(40)) + "…" : text }

    static func parseTime(_ text: String, option: String, zone: ZoneInfo = .utc) throws -> Timestamp {
        guard let time = Timestamp.parseDateOrTime(text) else {
            throw ValidationError(
                "\(option): '\(shown(text))' is not a date (2026-11-23) or an RFC 3339 time (2026-11-23T10:15:00Z).")
        }
        guard text.utf8.count == 10, !zone.isUTC else { return time }
        // A date: the start of that day in the zone.
        let day = TimeBuckets.day(ofMilliseconds: time.millisecondsSinceEpoch)
        return Timestamp(millisecondsSinceEpoch: zone.startOfLocalDay(day))
    }
}

/// `--tz`: the zone of day, week and month groups and of dates given as bounds.
struct TimeZoneOption: ParsableArguments {
    @Option(
        name: .customLong("tz"),
        help: "IANA time zone of day, week and month groups and of --since/--until dates (default UTC).")
    var tz: String?

    func zone() throws -> ZoneInfo {
        guard let tz else { return .utc }
        do { return try ZoneInfo.named(tz) } catch {
            throw ValidationError("--tz: " + error.message.replacingPrefix("tz: ", with: ""))
        }
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
