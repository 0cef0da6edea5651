/// Which records a limit applies to: `global`, or one or more fields that must all be equal
/// (`project=etl,model=gpt-4.1`, `tag:env=prod`). docs/FORMAT.md, "Budgets".
public struct LimitScope: Hashable, Sendable, CustomStringConvertible {
    /// Field → value. Keys are `project`, `model`, `provider`, `user`, `caller` or `tag:<key>`.
    /// Empty for `global`.
    public var fields: [String: String]

    /// Every record.
    public static let global = LimitScope(fields: [:])
    /// The record fields a scope may name, besides `tag:<key>`.
    public static let fieldNames: Set<String> = ["project", "model", "provider", "user", "caller"]

    /// A scope of `fields` (field → value); nothing is checked (``parse(_:field:)`` checks text).
    public init(fields: [String: String]) { self.fields = fields }

    /// The canonical text: `global`, or `key=value` pairs sorted by key and joined by `,`.
    public var description: String {
        if fields.isEmpty { return "global" }
        return fields.keys.sorted().map { "\($0)=\(fields[$0]!)" }.joined(separator: ",")
    }

    /// Parses `global` or `key=value[,key=value…]`. Errors name `field`.
    public static func parse(_ text: String, field: String = "scope") throws(SpendLogError) -> LimitScope {
        if text == "global" { return .global }
        guard !text.isEmpty else { throw .invalid(field: field, "the scope is empty; use global or key=value.") }
        var fields: [String: String] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let eq = part.firstIndex(of: "="), eq != part.startIndex else {
                throw .invalid(
                    field: field,
                    "'\(part)' must be key=value (keys: project, model, provider, user, caller, tag:KEY) or global."
                )
            }
            let key = String(part[..<eq])
            let value = String(part[part.index(after: eq)...])
            if key.hasPrefix("tag:") {
                let tag = String(key.dropFirst(4))
                do { try UsageRecord.validateName(tag, field: "tag key") } catch {
                    throw .invalid(field: field, "the tag key in '\(part)' \(error.reason).")
                }
                do {
                    try UsageRecord.validateText(
                        value, field: key, minimumBytes: 0, maximumBytes: RecordSchema.maximumTagValueBytes)
                } catch {
                    throw .invalid(field: field, "the value of \(key) \(error.reason).")
                }
            } else {
                guard fieldNames.contains(key) else {
                    throw .invalid(
                        field: field,
                        "unknown scope key '\(key)'; use project, model, provider, user, caller or tag:KEY.")
                }
                do { try UsageRecord.validateName(value, field: key) } catch {
                    throw .invalid(field: field, "the value of \(key) \(error.reason).")
                }
            }
            guard fields.updateValue(value, forKey: key) == nil else {
                throw .invalid(field: field, "the key '\(key)' is given twice.")
            }
        }
        return LimitScope(fields: fields)
    }

    /// Whether every field of the scope equals the record's.
    public func matches(_ record: UsageRecord) -> Bool {
        for (key, value) in fields {
            let actual: String?
            switch key {
            case "project": actual = record.project
            case "model": actual = record.model
            case "provider": actual = record.provider
            case "user": actual = record.user
            case "caller": actual = record.caller
            default: actual = key.hasPrefix("tag:") ? record.tags[String(key.dropFirst(4))] : nil
            }
            if actual != value { return false }
        }
        return true
    }

    /// Whether every field of the scope is among `other`'s fields with the same value (a
    /// reservation's fields against a rule's scope).
    public func isCovered(by other: LimitScope) -> Bool {
        fields.allSatisfy { other.fields[$0.key] == $0.value }
    }
}

/// What a limit counts.
public enum LimitMetric: String, Sendable, CaseIterable {
    /// The cost, in nano-dollars.
    case cost
    /// Requests: 1 per record, 0 per adjustment.
    case requests
    /// Input tokens, cache reads and writes included.
    case inputTokens = "input-tokens"
    /// Output tokens, reasoning included.
    case outputTokens = "output-tokens"
    /// Input plus output tokens.
    case totalTokens = "total-tokens"

    /// How much of this metric one record uses (nano-dollars for `cost`).
    public func amount(of record: UsageRecord) -> Int64 {
        switch self {
        case .cost: record.cost.nanos
        case .requests: record.isAdjustment ? 0 : 1
        case .inputTokens: record.inputTokens
        case .outputTokens: record.outputTokens
        case .totalTokens: record.inputTokens + record.outputTokens
        }
    }

    /// An amount as people read it: dollars for `cost`, a plain count otherwise.
    public func format(_ amount: Int64) -> String {
        self == .cost ? "$" + Money(nanos: amount).decimalString : String(amount)
    }

    /// The amount as it is written in JSON: an exact decimal of dollars, or an integer.
    public func jsonNumber(_ amount: Int64) -> String {
        self == .cost ? Money(nanos: amount).decimalString : String(amount)
    }
}
