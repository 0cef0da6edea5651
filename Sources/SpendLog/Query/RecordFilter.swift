/// Which records a query reads: time bounds `[since, until)` and values of a record's fields.
/// Values given for one field are alternatives (any of them matches); fields are all required.
/// A record without the field (no `caller`, no tag `team`) matches no value of it. Values
/// compare by their bytes.
public struct RecordFilter: Sendable {
    /// The first instant included; nil: from the beginning.
    public var since: Timestamp?
    /// The first instant excluded; nil: to the end.
    public var until: Timestamp?
    /// The projects accepted; empty: any.
    public var projects: Set<String> = []
    /// The models accepted; empty: any.
    public var models: Set<String> = []
    /// The providers accepted (`openai`, `anthropic`, …); empty: any.
    public var providers: Set<String> = []
    /// The users accepted; empty: any. A record without a user matches none.
    public var users: Set<String> = []
    /// The callers accepted; empty: any. A record without a caller matches none.
    public var callers: Set<String> = []
    /// The roles accepted; empty: any. A record without a role matches none.
    public var roles: Set<String> = []
    /// The tasks accepted; empty: any. A record without a task matches none.
    public var tasks: Set<String> = []
    /// `ok`, `error`.
    public var statuses: Set<String> = []
    /// The sessions accepted; empty: any. Only the records can answer a session filter.
    public var sessions: Set<String> = []
    /// Tag key → the values accepted for it: a record matches when it has every key, each with
    /// one of its values (an empty value is a value).
    public var tags: [String: Set<String>] = [:]

    /// A filter on time `[since, until)`, projects and models; set the other fields afterwards.
    public init(since: Timestamp? = nil, until: Timestamp? = nil, projects: Set<String> = [], models: Set<String> = [])
    {
        self.since = since
        self.until = until
        self.projects = projects
        self.models = models
    }

    /// Every record.
    public static let all = RecordFilter()

    /// Whether the rollups cannot answer it: sessions and tags are kept by no cube, so only the
    /// records themselves can.
    public var needsRecords: Bool { !sessions.isEmpty || !tags.isEmpty }

    /// The dimensions the filter restricts, besides time.
    var dimensions: Set<Dimension> {
        var result = Set<Dimension>()
        for (dimension, values) in [
            (Dimension.project, projects), (.model, models), (.provider, providers), (.user, users),
            (.caller, callers), (.role, roles), (.task, tasks), (.status, statuses),
        ] where !values.isEmpty {
            result.insert(dimension)
        }
        return result
    }

    /// The values accepted for `dimension`; empty when it is not filtered.
    func values(of dimension: Dimension) -> Set<String> {
        switch dimension {
        case .project: projects
        case .model: models
        case .provider: providers
        case .user: users
        case .caller: callers
        case .role: roles
        case .task: tasks
        case .status: statuses
        }
    }

    /// Refuses values no record can have, naming the field: names by the record rules, statuses
    /// other than `ok` and `error`, tag keys that are not names, tag values too long.
    public func validate() throws(SpendLogError) {
        for dimension in Dimension.allCases where dimension != .status {
            for value in values(of: dimension) { try Self.checkName(value, field: dimension.rawValue) }
        }
        for value in sessions { try Self.checkName(value, field: "session") }
        for value in statuses where UsageRecord.Status(rawValue: value) == nil {
            throw .invalid(field: "status", "\(Quoted(Array(value.utf8))) is not a status; use ok or error.")
        }
        for (key, values) in tags {
            try Self.checkName(key, field: "tag")
            for value in values {
                if let problem = RecordSchema.textProblem(
                    value, minimumBytes: 0, maximumBytes: RecordSchema.maximumTagValueBytes)
                {
                    throw .invalid(field: "tag", "the value of \(Quoted(Array(key.utf8))): \(problem).")
                }
            }
        }
    }

    static func checkName(_ value: String, field: String) throws(SpendLogError) {
        do throws(RecordValidationError) {
            try UsageRecord.validateName(value, field: field)
        } catch {
            throw .invalid(field: field, error.reason + ".")
        }
    }

    /// Whether `record` passes every bound and field of the filter.
    public func matches(_ record: UsageRecord) -> Bool {
        if let since, record.timestamp < since { return false }
        if let until, record.timestamp >= until { return false }
        if !projects.isEmpty && !projects.contains(record.project) { return false }
        if !models.isEmpty && !models.contains(record.model) { return false }
        if !providers.isEmpty && !providers.contains(record.provider) { return false }
        if !users.isEmpty && !Self.contains(users, record.user) { return false }
        if !callers.isEmpty && !Self.contains(callers, record.caller) { return false }
        if !roles.isEmpty && !Self.contains(roles, record.role) { return false }
        if !tasks.isEmpty && !Self.contains(tasks, record.task) { return false }
        if !statuses.isEmpty && !Self.contains(statuses, record.status?.rawValue) { return false }
        if !sessions.isEmpty && !Self.contains(sessions, record.session) { return false }
        for (key, values) in tags where !Self.contains(values, record.tags[key]) { return false }
        return true
    }

    private static func contains(_ set: Set<String>, _ value: String?) -> Bool {
        guard let value else { return false }
        return set.contains(value)
    }

    /// Whether any record of `day` (`YYYY-MM-DD`) can match the time bounds.
    public func mayMatch(day: String) -> Bool {
        guard let start = Timestamp.parseDateOrTime(day) else { return true }
        let end = Timestamp(millisecondsSinceEpoch: start.millisecondsSinceEpoch + Timestamp.millisecondsPerDay)
        if let since, end <= since { return false }
        if let until, start >= until { return false }
        return true
    }
}
