/// `spendlog append` without the argument parser, for the common call: every argument a
/// `--flag value` pair (or a `--enforce` / `--require-price` switch) of the flags below, each
/// given once (`--tag` as often as wanted), and every check the parser would make passing. The
/// argument parser builds its model of the command by reflection on each run, about half of the
/// CPU time of one append when it was measured; this reads the same flags into the same
/// ``AppendInvocation`` directly (docs/PERFORMANCE.md, "CLI start-up").
///
/// Anything else — help, a flag it does not know, `--flag=value`, a value that starts with `-`,
/// a repeated flag, a missing value, a positional argument, a value the checks refuse — returns
/// nil, and the argument parser handles the call, with its messages. `AppendFastPathTests`
/// compares both parsers on generated argument lists.
enum AppendFastPath {
    /// Sets the value of the flag `flag` takes; false for a flag this path does not know. (A
    /// switch, not a table of key paths: those are built at run time, a cost on every call.)
    static func set(_ flag: String, _ value: String, in invocation: inout AppendInvocation) -> Bool {
        switch flag {
        case "--project": invocation.record.project = value
        case "--model": invocation.record.model = value
        case "--input-tokens": invocation.record.inputTokens = value
        case "--output-tokens": invocation.record.outputTokens = value
        case "--cached-input-tokens": invocation.record.cachedInputTokens = value
        case "--cache-write-tokens": invocation.record.cacheWriteTokens = value
        case "--reasoning-tokens": invocation.record.reasoningTokens = value
        case "--cost": invocation.record.cost = value
        case "--provider": invocation.record.provider = value
        case "--latency-ms": invocation.record.latencyMs = value
        case "--user": invocation.record.user = value
        case "--caller": invocation.record.caller = value
        case "--session": invocation.record.session = value
        case "--request-id": invocation.record.requestID = value
        case "--role": invocation.record.role = value
        case "--task": invocation.record.task = value
        case "--status": invocation.record.status = value
        case "--ts": invocation.record.ts = value
        case "--id": invocation.record.id = value
        case "--service-tier": invocation.serviceTier = value
        case "--cache-write-1h-tokens": invocation.cacheWrite1hTokens = value
        case "--dir": invocation.dir = value
        case "--prices": invocation.prices = value
        case "--fsync": invocation.fsync = value
        default: return false
        }
        return true
    }

    /// The invocation `arguments` (those after `append`) describe, or nil when the argument
    /// parser must read them.
    static func invocation(_ arguments: ArraySlice<String>) -> AppendInvocation? {
        var invocation = AppendInvocation()
        var seen = Set<String>()
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            switch flag {
            case "--enforce", "--require-price":
                guard seen.insert(flag).inserted else { return nil }
                if flag == "--enforce" { invocation.enforce = true } else { invocation.requirePrice = true }
                continue
            default: break
            }
            guard let value = rest.popFirst(), !value.hasPrefix("-") else { return nil }
            if flag == "--tag" {
                invocation.record.tags.append(value)
                continue
            }
            guard seen.insert(flag).inserted, set(flag, value, in: &invocation) else { return nil }
        }
        do { try invocation.validate() } catch { return nil }
        return invocation
    }
}
