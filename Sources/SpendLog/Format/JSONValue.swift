/// A JSON value, kept for the keys spendlog does not know so that a round trip never drops them.
/// Numbers keep their original text: `1.10` stays `1.10`.
public indirect enum JSONValue: Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as its original text.
    case number(String)
    /// A string, unescaped.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, its members in their original order.
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// Compact JSON text.
    public var jsonText: String {
        var out: [UInt8] = []
        JSONWriter.write(self, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Writes JSON text into a byte buffer: compact, UTF-8, escaping only what JSON requires.
enum JSONWriter {
    static func writeString(_ string: String, into out: inout [UInt8]) {
        var copy = string
        copy.withUTF8 { bytes in
            // At most 6 bytes (`\u00XX`) per byte, and the quotes.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 6 * bytes.count + 2) { buffer in
                var p = buffer.baseAddress!
                writeString(bytes, at: &p)
                out.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress, count: p - buffer.baseAddress!))
            }
        }
    }

    /// Writes `bytes` (UTF-8) as a JSON string at `p`, quoted and escaped, and moves `p` past it.
    /// There must be room for `6 * bytes.count + 2` bytes.
    static func writeString(_ bytes: UnsafeBufferPointer<UInt8>, at p: inout UnsafeMutablePointer<UInt8>) {
        @inline(__always) func put(_ b: UInt8) {
            p.pointee = b
            p += 1
        }
        @inline(__always) func copy(_ from: Int, _ to: Int) {
            guard from < to, let base = bytes.baseAddress else { return }
            p.update(from: base + from, count: to - from)
            p += to - from
        }
        put(0x22)
        var start = 0
        for i in 0..<bytes.count {
            let b = bytes[i]
            guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
            copy(start, i)
            start = i + 1
            put(0x5C)
            switch b {
            case 0x22: put(0x22)
            case 0x5C: put(0x5C)
            case 0x0A: put(0x6E)
            case 0x0D: put(0x72)
            case 0x09: put(0x74)
            case 0x08: put(0x62)
            case 0x0C: put(0x66)
            default:
                put(0x75)
                put(0x30)
                put(0x30)
                put(hexDigit(b >> 4))
                put(hexDigit(b & 0xF))
            }
        }
        copy(start, bytes.count)
        put(0x22)
    }

    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 &+ nibble : 0x57 &+ nibble }

    static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(0x2C) }
                write(item, into: &out)
            }
            out.append(0x5D)
        case .object(let members):
            out.append(0x7B)
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(0x2C) }
                writeString(member.key, into: &out)
                out.append(0x3A)
                write(member.value, into: &out)
            }
            out.append(0x7D)
        }
    }
}
