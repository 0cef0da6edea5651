/// Bytes read from a file, made safe to show in an error message: in double quotes, with control
/// characters, quotes, backslashes, bidirectional overrides and bytes that are not UTF-8 escaped
/// (`\n`, `\t`, `\r`, `\"`, `\\`, `\x1B`, `\u{202E}`), and cut after ``limit`` bytes with `…`.
///
/// Every error that quotes what a file holds goes through this: a file of the log may be anything
/// (a link to `/etc/shadow`, a binary), and its bytes must neither reach a terminal raw nor fill
/// the screen.
public struct Quoted: CustomStringConvertible, Sendable {
    /// Bytes of the input shown at most.
    public static let limit = 80

    public let description: String

    /// `bytes`, quoted and escaped, cut after `limit` bytes.
    public init<Bytes: Collection>(_ bytes: Bytes, limit: Int = Quoted.limit) where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var out = "\""
        var i = 0
        while i < input.count {
            let length = Quoted.sequenceLength(input, at: i)
            if i + max(length, 1) > limit {
                out += "…"
                break
            }
            guard length > 0 else {
                out += "\\x" + Quoted.hex(input[i])
                i += 1
                continue
            }
            if length == 1 {
                let b = input[i]
                switch b {
                case 0x0A: out += "\\n"
                case 0x09: out += "\\t"
                case 0x0D: out += "\\r"
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0..<0x20, 0x7F: out += "\\x" + Quoted.hex(b)
                default: out.unicodeScalars.append(Unicode.Scalar(b))
                }
            } else {
                let scalar = String(decoding: input[i..<(i + length)], as: UTF8.self).unicodeScalars.first!
                let v = scalar.value
                let hidden =
                    (0x80...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
                    || v == 0x200E || v == 0x200F || v == 0x061C
                if hidden {
                    out += "\\u{" + String(v, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            i += length
        }
        description = out + "\""
    }

    /// `text`'s UTF-8, quoted and escaped, cut after `limit` bytes.
    public init(_ text: String, limit: Int = Quoted.limit) { self.init(Array(text.utf8), limit: limit) }

    /// The length of the well-formed UTF-8 sequence at `i`, or 0 when the byte there starts none.
    private static func sequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let lead = b[i]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: return 0
        }
        guard i + length <= b.count else { return 0 }
        for k in 1..<length {
            let c = b[i + k]
            let (lo, hi): (UInt8, UInt8) = k == 1 ? (low, high) : (0x80, 0xBF)
            guard c >= lo && c <= hi else { return 0 }
        }
        return length
    }

    private static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }
}
