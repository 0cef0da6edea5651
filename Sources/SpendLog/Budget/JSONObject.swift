/// Why a journal line or the sidecar could not be read.
struct BudgetDecodingError: Error {
    var reason: String
    /// What to do when the line is sound but this system cannot use it (a missing time zone).
    var remedy: String? = nil
}

/// Typed access to the members of a JSON object, for the journal and the sidecar.
struct JSONObject {
    var members: [String: JSONValue] = [:]

    init(_ line: UnsafeBufferPointer<UInt8>) throws(BudgetDecodingError) {
        var scanner = JSONScanner(line)
        let value: JSONValue
        do { value = try scanner.parseValue() } catch { throw BudgetDecodingError(reason: error.description) }
        try self.init(value)
    }

    init(_ value: JSONValue) throws(BudgetDecodingError) {
        guard case .object(let list) = value else { throw BudgetDecodingError(reason: "not a JSON object") }
        for member in list { members[member.key] = member.value }
    }

    func value(_ key: String) throws(BudgetDecodingError) -> JSONValue {
        guard let value = members[key] else { throw BudgetDecodingError(reason: "'\(key)' is missing") }
        return value
    }

    func has(_ key: String) -> Bool { members[key] != nil }

    func string(_ key: String) throws(BudgetDecodingError) -> String {
        guard case .string(let text) = try value(key) else {
            throw BudgetDecodingError(reason: "'\(key)' is not a string")
        }
        return text
    }

    func numberText(_ key: String) throws(BudgetDecodingError) -> String {
        guard case .number(let text) = try value(key) else {
            throw BudgetDecodingError(reason: "'\(key)' is not a number")
        }
        return text
    }

    func integer(_ key: String) throws(BudgetDecodingError) -> Int64 {
        guard let value = Int64(try numberText(key)) else {
            throw BudgetDecodingError(reason: "'\(key)' is not an integer")
        }
        return value
    }

    func money(_ key: String) throws(BudgetDecodingError) -> Int64 {
        let text = try numberText(key)
        do { return try Money.parse(text).nanos } catch {
            throw BudgetDecodingError(reason: "'\(key)' \(error.description)")
        }
    }

    func time(_ key: String) throws(BudgetDecodingError) -> Int64 {
        guard let t = Timestamp.parse(try string(key)) else {
            throw BudgetDecodingError(reason: "'\(key)' is not a time")
        }
        return t.millisecondsSinceEpoch
    }

    func scope(_ key: String) throws(BudgetDecodingError) -> LimitScope {
        let text = try string(key)
        return try lift { () throws(SpendLogError) in try LimitScope.parse(text) }
    }

    /// Runs a parser of command-line values, turning its error into a decoding error.
    func lift<T>(_ body: () throws(SpendLogError) -> T) throws(BudgetDecodingError) -> T {
        do { return try body() } catch { throw BudgetDecodingError(reason: error.message) }
    }

    func object(_ key: String) throws(BudgetDecodingError) -> JSONObject { try JSONObject(try value(key)) }

    func array(_ key: String) throws(BudgetDecodingError) -> [JSONValue] {
        guard case .array(let items) = try value(key) else {
            throw BudgetDecodingError(reason: "'\(key)' is not an array")
        }
        return items
    }

    func rule() throws(BudgetDecodingError) -> LimitRule {
        let metricText = try string("type")
        guard let metric = LimitMetric(rawValue: metricText) else {
            throw BudgetDecodingError(reason: "unknown type '\(metricText)'")
        }
        let windowText = try string("window")
        let zone = try string("tz")
        let maximumText = try numberText("max")
        let id = try string("id")
        let window: LimitWindow
        do { window = try LimitWindow.parse(windowText, zone: zone) } catch {
            guard zone != "UTC", ZoneInfo.isValidName(zone), (try? LimitWindow.parse(windowText)) != nil else {
                throw BudgetDecodingError(reason: error.message)
            }
            throw BudgetDecodingError(
                reason: "the time zone '\(zone)' of limit \(id) cannot be loaded (\(error.message))",
                remedy: "Install the system's time zone data (apt: tzdata) or set TZDIR to it; "
                    + "do not remove the line, it holds a limit.")
        }
        var rule = LimitRule(
            id: id, scope: try scope("scope"), metric: metric, window: window,
            maximum: try lift { () throws(SpendLogError) in try LimitRule.parseMaximum(maximumText, metric: metric) })
        if has("soft") {
            let softText = try numberText("soft")
            rule.softPartsPerMillion = try lift { () throws(SpendLogError) in try LimitRule.parseSoft(softText) }
        }
        return rule
    }
}
