/// What changed between two price tables (`spendlog prices diff OLD NEW`): models added, models
/// removed, and for each model in both, every price that differs, by its place in the price-file
/// format (`input`, `batch.output`, `prompt_tiers[0].input`, …).
public struct PriceDiff: Sendable, Equatable {
    /// One price that differs between the two tables.
    public struct Change: Sendable, Equatable {
        /// Where the price is in the entry, as the price-file format names it.
        public var component: String
        /// USD per 1M tokens, as written in the file; nil where that table has no such price.
        public var old: String?
        /// The same price in the new table; nil where it has no such price.
        public var new: String?
    }

    /// Models only in the new table, in byte order.
    public var added: [String] = []
    /// Models only in the old table, in byte order.
    public var removed: [String] = []
    /// Models in both whose prices differ, in byte order, each with its changes.
    public var changed: [(model: String, changes: [Change])] = []

    public static func == (a: PriceDiff, b: PriceDiff) -> Bool {
        a.added == b.added && a.removed == b.removed && a.changed.map(\.model) == b.changed.map(\.model)
            && a.changed.map(\.changes) == b.changed.map(\.changes)
    }

    /// Whether the two tables price every model alike.
    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    /// The changes from `old` to `new`.
    public init(from old: PriceTable, to new: PriceTable) {
        let before = Set(old.modelNames)
        let after = Set(new.modelNames)
        added = new.modelNames.filter { !before.contains($0) }
        removed = old.modelNames.filter { !after.contains($0) }
        for model in new.modelNames where before.contains(model) {
            let was = PriceDiff.prices(PriceTable.encode(old.entries[model]!))
            let now = PriceDiff.prices(PriceTable.encode(new.entries[model]!))
            let places = Set(was.keys).union(now.keys).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let changes = places.compactMap { place -> Change? in
                was[place] == now[place] ? nil : Change(component: place, old: was[place], new: now[place])
            }
            if !changes.isEmpty { changed.append((model, changes)) }
        }
    }

    /// Every number of an encoded entry by its place: `input`, `batch.input`, `prompt_tiers[1].output`.
    static func prices(_ value: JSONValue, at place: String = "") -> [String: String] {
        switch value {
        case .number(let text): return [place: text]
        case .object(let members):
            var result: [String: String] = [:]
            for member in members {
                result.merge(prices(member.value, at: place.isEmpty ? member.key : place + "." + member.key)) { $1 }
            }
            return result
        case .array(let items):
            var result: [String: String] = [:]
            for (index, item) in items.enumerated() { result.merge(prices(item, at: place + "[\(index)]")) { $1 } }
            return result
        default: return [:]
        }
    }
}
