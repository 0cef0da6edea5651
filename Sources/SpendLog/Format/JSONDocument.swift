/// Whole JSON documents (price files, provider responses, journal lines) read into ``JSONValue``
/// with the record scanner, so numbers keep their exact decimal text (`3e-06` stays `3e-06`), no
/// price or token count ever passes through a `Double`, and a repeated key is an error.
extension JSONValue {
    /// Parses one JSON document; whitespace around it is allowed, anything else after it is not.
    /// Errors carry the byte offset in `bytes`.
    public static func parse(_ bytes: [UInt8]) throws(RecordParseError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(RecordParseError) -> JSONValue in
                var scanner = JSONScanner(buffer)
                let value = try scanner.parseValue()
                scanner.skipWhitespace()
                if scanner.i < buffer.count {
                    throw scanner.error("unexpected \(scanner.describeByte(buffer[scanner.i])) after the JSON value")
                }
                return value
            }
        }
        return try result.get()
    }

    /// Parses one JSON document from text, with the record parser's strictness (duplicate keys are
    /// errors).
    public static func parse(_ text: String) throws(RecordParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// The member named `key` of an object (a parsed document never repeats a key).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The value at a path of object keys: `value[path: "usage", "prompt_tokens"]`.
    public subscript(path keys: String...) -> JSONValue? {
        var current: JSONValue? = self
        for key in keys { current = current?[key] }
        return current
    }

    /// The string, when the value is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The exact decimal text of a number.
    public var numberText: String? {
        if case .number(let text) = self { return text }
        return nil
    }

    /// The members, in order, when the value is an object.
    public var objectMembers: [(key: String, value: JSONValue)]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The items, when the value is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// A whole number written without fraction or exponent (`12`, not `12.0` or `1.2e1`).
    public var integerValue: Int64? {
        guard let text = numberText, !text.contains("."), !text.contains("e"), !text.contains("E") else { return nil }
        return Int64(text)
    }

    /// Pretty JSON text for files people edit: two-space indent, one member per line.
    public func prettyText(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch self {
        case .object(let members):
            if members.isEmpty { return "{}" }
            let body = members.map { member -> String in
                var key: [UInt8] = []
                JSONWriter.writeString(member.key, into: &key)
                return pad + String(decoding: key, as: UTF8.self) + ": " + member.value.prettyText(indent: indent + 1)
            }
            return "{\n" + body.joined(separator: ",\n") + "\n" + closing + "}"
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.prettyText(indent: indent + 1) }.joined(separator: ",\n") + "\n"
                + closing + "]"
        default:
            return jsonText
        }
    }
}
