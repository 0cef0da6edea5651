extension UsageRecord {
    /// The record as one line of JSON, `\n`-terminated: known keys in ``RecordSchema``'s order
    /// (docs/FORMAT.md), optional keys omitted when empty, tags in byte order, unknown keys last in
    /// their original order.
    public func jsonLine() -> [UInt8] {
        var out: [UInt8] = []
        appendJSONLine(to: &out)
        return out
    }

    /// Appends ``jsonLine()`` to `out`, without an array of its own.
    ///
    /// The known members are written through a pointer into a buffer large enough for any
    /// spelling of them, then added to `out` at once: appending each key and value to the array
    /// was most of the cost of a line.
    public func appendJSONLine(to out: inout [UInt8]) {
        let bound = knownMembersBound
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { buffer in
            let base = buffer.baseAddress!
            var line = LineCursor(base, end: base + bound)
            writeKnownMembers(to: &line)
            if extra.isEmpty {
                line.byte(0x7D)
                line.byte(0x0A)
            }
            out.append(contentsOf: UnsafeBufferPointer(start: base, count: line.position - base))
        }
        guard !extra.isEmpty else { return }
        for member in extra {
            out.append(0x2C)
            JSONWriter.writeString(member.key, into: &out)
            out.append(0x3A)
            JSONWriter.write(member.value, into: &out)
        }
        out.append(0x7D)
        out.append(0x0A)
    }

    /// The most bytes ``writeKnownMembers(to:)`` can write, with the closing `}` and `\n`: every
    /// key, the longest spelling of each number, and each text escaped at its longest (6 bytes
    /// per byte, `\u00XX`).
    var knownMembersBound: Int {
        var n = RecordSchema.keysBound + 2
        n += 7 * 20 + 2 * 38 + 26 + 30  // v, five token counts, latency; id, adjusts; ts; cost
        func text(_ value: String?) {
            if let value { n += 6 * value.utf8.count + 2 }
        }
        text(project)
        text(model)
        text(provider)
        text(costSource.rawValue)
        text(user)
        text(caller)
        text(session)
        text(requestID)
        text(role)
        text(task)
        text(status?.rawValue)
        if !tags.isEmpty {
            n += 2
            for (k, v) in tags { n += 6 * (k.utf8.count + v.utf8.count) + 6 }
        }
        return n
    }

    /// Writes the known members, from `{` to the last one, without the closing `}`.
    func writeKnownMembers(to line: inout LineCursor) {
        line.key(.v)
        line.int(Int64(version))
        line.key(.id)
        line.id(id)
        line.key(.ts)
        line.timestamp(timestamp)
        line.key(.project)
        line.string(project)
        line.key(.model)
        line.string(model)
        line.key(.provider)
        line.string(provider)
        line.key(.inputTokens)
        line.int(inputTokens)
        line.key(.outputTokens)
        line.int(outputTokens)
        line.key(.cachedInputTokens)
        line.int(cachedInputTokens)
        line.key(.cacheWriteTokens)
        line.int(cacheWriteTokens)
        line.key(.reasoningTokens)
        line.int(reasoningTokens)
        line.key(.costUSD)
        line.dollars(cost)
        line.key(.costSource)
        line.string(costSource.rawValue)
        if let adjusts {
            line.key(.adjusts)
            line.id(adjusts)
        }
        if let latencyMs {
            line.key(.latencyMs)
            line.int(latencyMs)
        }
        if let user {
            line.key(.user)
            line.string(user)
        }
        if let caller {
            line.key(.caller)
            line.string(caller)
        }
        if let session {
            line.key(.session)
            line.string(session)
        }
        if let requestID {
            line.key(.requestID)
            line.string(requestID)
        }
        if let role {
            line.key(.role)
            line.string(role)
        }
        if let task {
            line.key(.task)
            line.string(task)
        }
        if let status {
            line.key(.status)
            line.string(status.rawValue)
        }
        if !tags.isEmpty {
            line.key(.tags)
            line.byte(0x7B)
            for (i, k) in tags.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { line.byte(0x2C) }
                line.string(k)
                line.byte(0x3A)
                line.string(tags[k]!)
            }
            line.byte(0x7D)
        }
    }
}

/// Where the next byte of a line goes, in a buffer its writer sized beforehand. Each write first
/// checks that the longest spelling of what it writes fits before `end`: a bound that falls short
/// (a field written but not counted) stops the program before a byte lands past the buffer.
struct LineCursor {
    private(set) var position: UnsafeMutablePointer<UInt8>
    private let end: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>, end: UnsafeMutablePointer<UInt8>) {
        position = start
        self.end = end
    }

    @inline(__always)
    private func room(_ bytes: Int) {
        precondition(end - position >= bytes, "a record's line outgrew its bound")
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        room(1)
        position.pointee = b
        position += 1
    }

    /// `{` before the first key (`v`), `,` before the others, then the quoted key and `:`.
    @inline(__always)
    mutating func key(_ key: RecordSchema.Key) {
        let quoted = key.quoted
        room(1 + quoted.utf8CodeUnitCount)
        position.pointee = key == .v ? 0x7B : 0x2C
        position += 1
        position.update(from: quoted.utf8Start, count: quoted.utf8CodeUnitCount)
        position += quoted.utf8CodeUnitCount
    }

    @inline(__always)
    mutating func int(_ value: Int64) {
        room(20)
        DecimalText.write(value, at: &position)
    }

    /// An amount of dollars, exact (``DecimalText/writeDollars(nanos:at:)``: at most 30 bytes).
    mutating func dollars(_ amount: Money) {
        room(30)
        DecimalText.writeDollars(nanos: amount.nanos, at: &position)
    }

    /// A quoted string, escaped (at most 6 bytes a byte, `\u00XX`).
    mutating func string(_ value: String) {
        var copy = value
        copy.withUTF8 { bytes in
            room(2 + 6 * bytes.count)
            JSONWriter.writeString(bytes, at: &position)
        }
    }

    /// An id in its 36-character text, quoted.
    mutating func id(_ id: RecordID) { quoted(36) { id.writeText(into: $0) } }

    /// An RFC 3339 time in UTC with milliseconds (24 characters), quoted.
    mutating func timestamp(_ time: Timestamp) { quoted(24) { time.writeRFC3339(into: $0) } }

    /// The `width` bytes `write` makes, between quotes.
    @inline(__always)
    private mutating func quoted(_ width: Int, _ write: (UnsafeMutablePointer<UInt8>) -> Void) {
        room(width + 2)
        position.pointee = 0x22
        write(position + 1)
        position[width + 1] = 0x22
        position += width + 2
    }
}
