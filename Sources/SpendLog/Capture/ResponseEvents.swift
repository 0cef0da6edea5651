/// Splits a response body into JSON events: a single JSON object, a JSON array of chunks (Gemini's
/// REST stream), JSON lines, or a server-sent-event stream (`data: {…}` lines; `[DONE]`, comments
/// and `event:` lines skipped). Every provider's streaming and non-streaming bodies are one of
/// these.
enum ResponseEvents {
    static func split(_ body: [UInt8]) throws(UsageCaptureError) -> [JSONValue] {
        var start = 0
        while start < body.count, [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains(body[start]) { start += 1 }
        guard start < body.count else { throw UsageCaptureError(field: nil, reason: "the response body is empty") }
        if body[start] == UInt8(ascii: "{") || body[start] == UInt8(ascii: "[") {
            do {
                let value = try JSONValue.parse(Array(body[start...]))
                if let items = value.arrayValue { return items }
                return [value]
            } catch {
                // Not one document: maybe JSON lines.
                if let lines = try? jsonLines(body), lines.count > 1 { return lines }
                throw UsageCaptureError(
                    field: nil, reason: "the response is not valid JSON (byte \(error.offset + start): \(error.reason))"
                )
            }
        }
        return try serverSentEvents(body)
    }

    static func jsonLines(_ body: [UInt8]) throws(UsageCaptureError) -> [JSONValue] {
        var events: [JSONValue] = []
        try body.withUnsafeBufferPointer { bytes in
            Result { () throws(UsageCaptureError) in
                try TextLines.forEach(bytes) { number, line throws(UsageCaptureError) in
                    guard !TextLines.isBlank(line) else { return }
                    do throws(RecordParseError) { events.append(try JSONValue.parse(Array(line))) } catch {
                        throw UsageCaptureError(field: nil, reason: "line \(number) is not valid JSON: \(error.reason)")
                    }
                }
            }
        }.get()
        return events
    }

    static func serverSentEvents(_ body: [UInt8]) throws(UsageCaptureError) -> [JSONValue] {
        var events: [JSONValue] = []
        var data: [UInt8] = []
        var sawData = false
        func flush() throws(UsageCaptureError) {
            defer { data.removeAll() }
            let text = String(decoding: data, as: UTF8.self)
            if data.isEmpty || text == "[DONE]" { return }
            do { events.append(try JSONValue.parse(data)) } catch {
                throw UsageCaptureError(
                    field: nil,
                    reason: "a server-sent event's data is not valid JSON (\(error.reason)): \(text.prefix(80))")
            }
        }
        try body.withUnsafeBufferPointer { bytes in
            Result { () throws(UsageCaptureError) in
                try TextLines.forEach(bytes) { _, line throws(UsageCaptureError) in
                    if line.isEmpty {
                        try flush()
                        return
                    }
                    if line.starts(with: Array("data:".utf8)) {
                        var payload = line.dropFirst(5)
                        if payload.first == 0x20 { payload = payload.dropFirst() }
                        if !data.isEmpty { data.append(0x0A) }
                        data.append(contentsOf: payload)
                        sawData = true
                    } else if line.first == UInt8(ascii: ":") || line.starts(with: Array("event:".utf8))
                        || line.starts(with: Array("id:".utf8)) || line.starts(with: Array("retry:".utf8))
                    {
                        return
                    } else {
                        throw UsageCaptureError(
                            field: nil,
                            reason:
                                "the response is neither JSON nor a server-sent-event stream (starts with \(Quoted(line)))"
                        )
                    }
                }
            }
        }.get()
        try flush()
        guard sawData else { throw UsageCaptureError(field: nil, reason: "the event stream has no data lines") }
        return events
    }
}
