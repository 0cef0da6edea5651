/// A set of dimensions the indexer keeps sums for (docs/FORMAT.md, "Index"). `core` answers
/// every question about projects, models, providers and status, down to the hour (`model`, the
/// same without the project, answers those about models alone); the others pair
/// a finer dimension with the project, down to the day. docs/FORMAT.md, "Index" has the table.
///
/// Why the pairs stop at days: users, callers and tasks have hundreds to thousands of values, so
/// at hour granularity nearly every record would be a cell of its own — as large as the log and
/// no faster to read. Queries by them with bounds inside a day read the records of the (at most
/// two) edge days.
public struct RollupCube: Sendable, Hashable {
    /// The cube's name in rollup file names and ``QueryTrace/cube``: `core`, `user`, `caller`, …
    public let name: String
    /// The dimensions a cell is keyed by, besides time.
    public let dimensions: [Dimension]
    /// The finest cells kept: `.hour` or `.day`.
    public let finest: Granularity

    /// Project, model, provider and status, down to the hour.
    public static let core = RollupCube(
        name: "core", dimensions: [.project, .model, .provider, .status], finest: .hour)
    /// Model, provider and status, down to the day: ``core`` without the project and its hours. A
    /// question about models alone over whole UTC days (spend per model per day, the commonest)
    /// sums a cell per model and day instead of one per project, model, provider and status: 19
    /// times fewer on the benchmark data. It has no hour files (365 more files a year to write and
    /// fsync), so a range that starts or ends inside a day, or local days of a zone, use ``core``.
    public static let model = RollupCube(name: "model", dimensions: [.model, .provider, .status], finest: .day)
    /// Every cube the indexer keeps, smallest first (``covering(_:wholeDays:kept:)`` takes the first that
    /// holds a question's dimensions): ``model``, ``core``, then each of user, caller, role and task
    /// paired with the project, down to the day.
    public static let all: [RollupCube] = [
        model,
        core,
        RollupCube(name: "user", dimensions: [.project, .user], finest: .day),
        RollupCube(name: "caller", dimensions: [.project, .caller], finest: .day),
        RollupCube(name: "role", dimensions: [.project, .role], finest: .day),
        RollupCube(name: "task", dimensions: [.project, .task], finest: .day),
    ]

    /// The cell key of a record's values `ids` (lanes by dimension code) at time bucket `time`.
    @inline(__always)
    func cellKey(time: UInt32, ids: SIMD8<UInt32>) -> SIMD8<UInt32> {
        var key = SIMD8<UInt32>(repeating: 0)
        key[0] = time
        for lane in 0..<codes.count { key[lane + 1] = ids[codes[lane]] }
        return key
    }

    /// ``dimensions`` as lane numbers.
    let codes: [Int]

    init(name: String, dimensions: [Dimension], finest: Granularity) {
        self.name = name
        self.dimensions = dimensions
        self.finest = finest
        codes = dimensions.map { Int($0.code) }
    }

    /// At most this many dimensions per cube: a cell key is a `SIMD8<UInt32>` of time + values.
    static let maximumDimensions = 7

    /// The cube that answers a question about `needed`: `model` when it holds them all and the
    /// question is over whole UTC days (`wholeDays`), else `core` when it holds them all (it goes
    /// down to hours), else the pair that does; nil when none does.
    /// `kept`: whether the index at hand keeps a cube (one of an earlier version lacks `model`).
    public static func covering(
        _ needed: Set<Dimension>, wholeDays: Bool = true, kept: (RollupCube) -> Bool = { _ in true }
    ) -> RollupCube? {
        all.first { needed.isSubset(of: $0.dimensions) && (wholeDays || $0 != model) && kept($0) }
    }
}

/// The width of a rollup cell's time bucket.
public enum Granularity: UInt8, Sendable, CaseIterable {
    /// An hour (UTC).
    case hour = 0
    /// A UTC day.
    case day = 1
    /// A UTC month.
    case month = 2

    var fileLabel: String {
        switch self {
        case .hour: "hour"
        case .day: "day"
        case .month: "month"
        }
    }
}
