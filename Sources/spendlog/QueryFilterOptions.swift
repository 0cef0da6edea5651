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

    /// The filter; a date without a time is midnight in `zone`. The rules are the library's
    /// (``QueryParameters``), shared with the HTTP API.
    func makeFilter(zone: ZoneInfo = .utc) throws -> RecordFilter {
        var p = FilterParameters()
        p.project = project
        p.model = model
        p.provider = provider
        p.user = user
        p.caller = caller
        p.role = role
        p.task = task
        p.status = status
        p.session = session
        p.tag = tag
        p.since = since
        p.until = until
        do throws(SpendLogError) { return try QueryParameters.filter(p, zone: zone, naming: .flags) } catch {
            throw ValidationError(error.message)
        }
    }

    static func shown(_ text: String) -> String { QueryParameters.shown(text) }
}

extension ParameterNaming {
    /// Fields named as the command-line flags that set them (`--since`, `--tag team=search`).
    static let flags = ParameterNaming(name: { "--" + $0 }, example: { "--\($0) \($1)" })
}

/// `--tz`: the zone of day, week and month groups and of dates given as bounds.
struct TimeZoneOption: ParsableArguments {
    @Option(
        name: .customLong("tz"),
        help: "IANA time zone of day, week and month groups and of --since/--until dates (default UTC).")
    var tz: String?

    func zone() throws -> ZoneInfo {
        do throws(SpendLogError) { return try QueryParameters.zone(tz, naming: .flags) } catch {
            throw ValidationError(error.message)
        }
    }
}
