import Prometheus
import SpendLog
import Synchronization

/// `/metrics`: the log's totals by project and model as counters (requests, tokens by kind,
/// cost), and each limit's utilisation as a gauge, in the Prometheus text format. The counters
/// are the log's totals when scraped (the log only grows; a reprice that lowers a cost shows as a
/// counter reset).
final class Metrics: Sendable {
    private struct State {
        let registry = PrometheusCollectorRegistry()
        var counters: [String: Counter] = [:]
        var gauges: [String: Gauge] = [:]
    }

    private let state = Mutex(State())

    static func tokenKinds(_ m: RollupMetrics) -> [(String, Int64)] {
        [
            ("input", m.inputTokens), ("output", m.outputTokens), ("cached_input", m.cachedInputTokens),
            ("cache_write", m.cacheWriteTokens), ("reasoning", m.reasoningTokens),
        ]
    }

    func render(log: LogDirectory, now: Timestamp) throws(SpendLogError) -> String {
        let result = try Query(directory: log).stats(StatsQuery(groupBy: [.project, .model], filter: RecordFilter()))
        let statuses = try Server.budget(log, now: now)
        return state.withLock { state in
            func counter(_ name: String, _ help: String, _ labels: [(String, String)]) -> Counter {
                let key = name + "\u{0}" + labels.map { $0.0 + "\u{1}" + $0.1 }.joined(separator: "\u{0}")
                if let existing = state.counters[key] { return existing }
                let made = state.registry.makeCounter(name: name, labels: labels, help: help)
                state.counters[key] = made
                return made
            }
            for row in result.rows {
                let labels = [("project", row.keys[0] ?? ""), ("model", row.keys[1] ?? "")]
                let m = row.metrics
                let requests = counter("spendlog_requests_total", "Recorded LLM calls.", labels)
                requests.reset()
                requests.increment(by: m.requests)
                let cost = counter("spendlog_cost_usd_total", "Recorded cost in US dollars.", labels)
                cost.reset()
                cost.increment(by: Double(m.costNanos) / Double(Money.nanosPerDollar))
                for (kind, value) in Self.tokenKinds(m) {
                    let tokens = counter("spendlog_tokens_total", "Recorded tokens by kind.", labels + [("kind", kind)])
                    tokens.reset()
                    tokens.increment(by: value)
                }
            }
            var current = Set<String>()
            for status in statuses {
                let labels = [
                    ("limit", status.rule.id), ("scope", status.rule.scope.description),
                    ("type", status.rule.metric.rawValue), ("window", status.rule.window.name),
                ]
                let key = labels.map { $0.0 + "\u{1}" + $0.1 }.joined(separator: "\u{0}")
                current.insert(key)
                let gauge =
                    state.gauges[key]
                    ?? state.registry.makeGauge(
                        name: "spendlog_budget_utilisation_ratio",
                        labels: labels, help: "Spent plus held over the limit's maximum, in its current window.")
                state.gauges[key] = gauge
                let used = Double(status.spent) + Double(status.held)
                gauge.set(status.rule.maximum > 0 ? used / Double(status.rule.maximum) : (used > 0 ? 1 : 0))
            }
            // A deleted limit's gauge goes away.
            for (key, gauge) in state.gauges where !current.contains(key) {
                state.registry.unregisterGauge(gauge)
                state.gauges[key] = nil
            }
            return state.registry.emitToString()
        }
    }
}
