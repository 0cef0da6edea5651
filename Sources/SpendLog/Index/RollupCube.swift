/// A set of dimensions the indexer keeps sums for, at hour, day and month granularity
/// (docs/FORMAT.md, "Index"). `core` answers every question about projects, models, providers
/// and status; the others pair a finer dimension with the project.
public struct RollupCube: Sendable, Hashable {
    public let name: String
    public let dimensions: [Dimension]

    public static let core = RollupCube(name: "core", dimensions: [.project, .model, .provider, .status])
    public static let all: [RollupCube] = [
        core,
        RollupCube(name: "user", dimensions: [.project, .user]),
        RollupCube(name: "caller", dimensions: [.project, .caller]),
        RollupCube(name: "role", dimensions: [.project, .role]),
        RollupCube(name: "task", dimensions: [.project, .task]),
    ]

    /// At most this many dimensions per cube: a cell key is a `SIMD8<UInt32>` of time + values.
    static let maximumDimensions = 7

    /// The smallest cube holding every dimension of `needed`, nil when none does.
    public static func covering(_ needed: Set<Dimension>) -> RollupCube? {
        all.filter { needed.isSubset(of: $0.dimensions) }.min { $0.dimensions.count < $1.dimensions.count }
    }
}

public enum Granularity: UInt8, Sendable, CaseIterable {
    case hour = 0
    case day = 1
    case month = 2

    var fileLabel: String {
        switch self {
        case .hour: "hour"
        case .day: "day"
        case .month: "month"
        }
    }
}
