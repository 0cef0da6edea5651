/// `spendlog append` without the argument parser, for the common call: every argument a
/// `--flag value` pair (or a `--enforce` / `--require-price` switch) of the flags below, each
/// given once (`--tag` as often as wanted), and every check the parser would make passing. The
/// argument parser builds its model of the command by reflection on each run, about half of the
/// CPU time of one append (docs/PERFORMANCE.md, "CLI start-up"); this reads the same flags into
/// the same ``AppendInvocation`` directly.
///
/// Anything else — help, a flag it does not know, `--flag=value`, a value that starts with `-`,
/// a repeated flag, a missing value, a positional argument, a value the checks refuse — returns
/// nil, and the argument parser handles the call, with its messages. `AppendFastPathTests`
/// compares both parsers on generated argument lists.
enum AppendFastPath {
    /// Flags that take a value, and where it goes.
    static var valueFlags: [String: WritableKeyPath<AppendInvocation, String?>] {
        [
        "--project": \.record.project, "--model": \.record.model, "--input-tokens": \.record.inputTokens,
        "--output-tokens": \.record.outputTokens, "--cached-input-tokens": \.record.cachedInputTokens,
        "--cache-write-tokens": \.record.cacheWriteTokens, "--reasoning-tokens": \.record.reasoningTokens,
        "--cost": \.record.cost, "--provider": \.record.provider, "--latency-ms": \.record.latencyMs,
        "--user": \.record.user, "--caller": \.record.caller, "--session": \.record.session,
        "--request-id": \.record.requestID, "--role": \.record.role, "--task": \.record.task,
        "--status": \.record.status, "--ts": \.record.ts, "--id": \.record.id, "--service-tier": \.serviceTier,
            "--cache-write-1h-tokens": \.cacheWrite1hTokens, "--dir": \.dir, "--prices": \.prices,
        ]
    }

    /// The invocation `arguments` (those after `append`) describe, or nil when the argument
    /// parser must read them.
    static func invocation(_ arguments: ArraySlice<String>) -> AppendInvocation? {
        var invocation = AppendInvocation()
        var seen = Set<String>()
        var fsync: String?
        let valueFlags = AppendFastPath.valueFlags
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
            guard seen.insert(flag).inserted else { return nil }
            if flag == "--fsync" {
                fsync = value
            } else if let path = valueFlags[flag] {
                invocation[keyPath: path] = value
            } else {
                return nil
            }
        }
        if let fsync { invocation.fsync = fsync }
        do { try invocation.validate() } catch { return nil }
        return invocation
    }
}
