/// RFC 4180 fields, as `stats`, `logs`, `top`, reports and `export --format csv` write them.
public enum CSV {
    /// `value` as one field: quoted, with quotes doubled, when it holds a comma, a quote or a line
    /// break. With `quoteEmpty`, an empty string is quoted too, so that PostgreSQL's `COPY` reads
    /// it as an empty string and an unquoted empty field as NULL.
    public static func field(_ value: String, quoteEmpty: Bool = false) -> String {
        guard (quoteEmpty && value.isEmpty) || value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
        else { return value }
        var quoted = "\""
        for c in value {
            if c == "\"" { quoted.append("\"") }
            quoted.append(c)
        }
        return quoted + "\""
    }
}
