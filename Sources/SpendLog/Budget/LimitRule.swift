/// One spending limit: scope × metric × window × maximum, with an optional soft threshold
/// (docs/FORMAT.md, "Budgets"). Rules live in the control journal; `id` is `L<n>`.
public struct LimitRule: Hashable, Sendable {
    /// `L<n>`, assigned when the rule is set (``Budget/setLimit(_:now:)``); empty before.
    public var id: String
    /// Which records the rule counts.
    public var scope: LimitScope
    /// What it counts.
    public var metric: LimitMetric
    /// Over which stretch of time.
    public var window: LimitWindow
    /// Nano-dollars for `cost`, else a count.
    public var maximum: Int64
    /// The soft threshold as parts per million of `maximum` (800000 = 80%), if any.
    public var softPartsPerMillion: Int64?
    /// When the rule was set (ms since the epoch).
    public var createdAt: Int64 = 0

    /// A rule; `maximum` is nano-dollars for ``LimitMetric/cost``, else a count. The id is
    /// assigned when it is set. Nothing is checked here: ``parse(scope:type:maximum:window:zone:soft:)``
    /// checks command-line text.
    public init(
        id: String = "", scope: LimitScope, metric: LimitMetric, window: LimitWindow, maximum: Int64,
        softPartsPerMillion: Int64? = nil
    ) {
        self.id = id
        self.scope = scope
        self.metric = metric
        self.window = window
        self.maximum = maximum
        self.softPartsPerMillion = softPartsPerMillion
    }

    /// Builds a rule from command-line text, rejecting anything that could not be enforced, with
    /// a message that names the field (`max`, `window`, …): `--max` NaN, negative or malformed, a zero or unknown
    /// window, an unknown type or scope key, a soft threshold outside (0, 1].
    public static func parse(
        scope: String, type: String, maximum: String, window: String, zone: String = "UTC", soft: String? = nil
    ) throws(SpendLogError) -> LimitRule {
        let parsedScope = try LimitScope.parse(scope)
        guard let metric = LimitMetric(rawValue: type) else {
            throw .invalid(
                field: "type",
                "unknown type '\(type)'; use \(LimitMetric.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let parsedMaximum = try parseMaximum(maximum, metric: metric)
        let parsedWindow = try LimitWindow.parse(window, zone: zone)
        let parsedSoft = try soft.map { text throws(SpendLogError) in try parseSoft(text) }
        return LimitRule(
            scope: parsedScope, metric: metric, window: parsedWindow, maximum: parsedMaximum,
            softPartsPerMillion: parsedSoft)
    }

    /// Parses a maximum: dollars as an exact decimal for `cost` (to nano-dollars), a whole number
    /// otherwise. Errors name `field`.
    public static func parseMaximum(_ text: String, metric: LimitMetric, field: String = "max") throws(SpendLogError)
        -> Int64
    {
        if metric == .cost {
            do { return try Money.parse(text).nanos } catch {
                throw .invalid(field: field, "'\(text.prefix(40))' \(error.description).")
            }
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            if text.hasPrefix("-") { throw .invalid(field: field, "must not be negative (got '\(text.prefix(40))').") }
            throw .invalid(
                field: field, "a \(metric.rawValue) limit must be a whole number (got '\(text.prefix(40))').")
        }
        guard text.utf8.count <= 18, let value = Int64(text) else {
            throw .invalid(field: field, "'\(text.prefix(40))' is too large.")
        }
        return value
    }

    /// `0.8` or `80%` → 800000 parts per million.
    public static func parseSoft(_ text: String) throws(SpendLogError) -> Int64 {
        let percent = text.hasSuffix("%")
        let number = percent ? String(text.dropLast()) : text
        let nanos: Int64
        do { nanos = try Money.parse(number).nanos } catch {
            throw .invalid(field: "soft", "'\(text.prefix(40))' \(error.description); give a fraction like 0.8 or 80%.")
        }
        // Money.parse gives the value × 10⁹; parts per million of a fraction is value × 10⁶.
        let ppm = percent ? nanos / 100_000 : nanos / 1000
        let exact = percent ? nanos % 100_000 == 0 : nanos % 1000 == 0
        guard exact, ppm > 0, ppm <= 1_000_000 else {
            throw .invalid(
                field: "soft",
                "'\(text.prefix(40))' must be a fraction above 0 and at most 1 (like 0.8 or 80%), with at most 6 decimals."
            )
        }
        return ppm
    }

    /// Whether `spent` has reached the soft threshold.
    public func softReached(_ spent: Int64) -> Bool {
        guard let ppm = softPartsPerMillion else { return false }
        return Int128(spent) * 1_000_000 >= Int128(maximum) * Int128(ppm)
    }

    /// `project=etl cost ≤ $5 per day`.
    public var summary: String {
        "\(scope) \(metric.rawValue) ≤ \(metric.format(maximum)) per \(window)"
    }

    /// The numeric part of `L<n>`, for ordering.
    var number: Int { Int(id.dropFirst()) ?? 0 }
}
