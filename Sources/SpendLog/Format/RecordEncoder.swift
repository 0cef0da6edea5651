extension UsageRecord {
    /// The record as one line of JSON, `\n`-terminated: known keys in ``RecordSchema``'s order
    /// (docs/FORMAT.md), optional keys omitted when empty, tags in byte order, unknown keys last in
    /// their original order.
    public func jsonLine() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        appendJSONLine(to: &out)
        return out
    }

    /// Appends ``jsonLine()`` to `out`, without an array of its own.
    public func appendJSONLine(to out: inout [UInt8]) {
        // Keys come from RecordSchema, in its order (`v` first opens the object).
        func key(_ key: RecordSchema.Key) {
            out.append(key == .v ? 0x7B : 0x2C)
            let quoted = key.quoted
            out.append(contentsOf: UnsafeBufferPointer(start: quoted.utf8Start, count: quoted.utf8CodeUnitCount))
        }
        func int(_ value: Int64) { DecimalText.append(value, to: &out) }
        func string(_ value: String) { JSONWriter.writeString(value, into: &out) }

        key(.v)
        int(Int64(version))
        key(.id)
        out.append(0x22)
        id.appendText(to: &out)
        out.append(0x22)
        key(.ts)
        out.append(0x22)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 24))
        out.withUnsafeMutableBufferPointer { timestamp.writeRFC3339(into: $0.baseAddress! + start) }
        out.append(0x22)
        key(.project)
        string(project)
        key(.model)
        string(model)
        key(.provider)
        string(provider)
        key(.inputTokens)
        int(inputTokens)
        key(.outputTokens)
        int(outputTokens)
        key(.cachedInputTokens)
        int(cachedInputTokens)
        key(.cacheWriteTokens)
        int(cacheWriteTokens)
        key(.reasoningTokens)
        int(reasoningTokens)
        key(.costUSD)
        DecimalText.appendDollars(nanos: cost.nanos, to: &out)
        key(.costSource)
        string(costSource.rawValue)
        if let adjusts {
            key(.adjusts)
            out.append(0x22)
            adjusts.appendText(to: &out)
            out.append(0x22)
        }
        if let latencyMs {
            key(.latencyMs)
            int(latencyMs)
        }
        if let user {
            key(.user)
            string(user)
        }
        if let caller {
            key(.caller)
            string(caller)
        }
        if let session {
            key(.session)
            string(session)
        }
        if let requestID {
            key(.requestID)
            string(requestID)
        }
        if let role {
            key(.role)
            string(role)
        }
        if let task {
            key(.task)
            string(task)
        }
        if let status {
            key(.status)
            string(status.rawValue)
        }
        if !tags.isEmpty {
            key(.tags)
            out.append(0x7B)
            for (i, k) in tags.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { out.append(0x2C) }
                string(k)
                out.append(0x3A)
                string(tags[k]!)
            }
            out.append(0x7D)
        }
        for member in extra {
            out.append(0x2C)
            string(member.key)
            out.append(0x3A)
            JSONWriter.write(member.value, into: &out)
        }
        out.append(0x7D)
        out.append(0x0A)
    }
}
