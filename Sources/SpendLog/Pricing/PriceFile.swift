import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Where the user's price file lives, and reading and replacing it.
///
/// Lookup (docs/PRICING.md, "Price files"): `--prices FILE`, else `$SPENDLOG_PRICES`, else
/// `$XDG_CONFIG_HOME/spendlog/prices.json`, else `~/.config/spendlog/prices.json`. Prices are
/// configuration, not log data, so they do not live in the log directory: one table serves
/// every log.
public struct PriceFile: Sendable {
    /// The file's path.
    public var path: String
    /// Given by `--prices` or `SPENDLOG_PRICES`: then a missing file is an error, not "no overrides".
    public var isExplicit: Bool

    /// The price file at `path`; `isExplicit` when the user named it.
    public init(path: String, isExplicit: Bool) {
        self.path = path
        self.isExplicit = isExplicit
    }

    /// The price file to use: `explicit` (`--prices`), else `$SPENDLOG_PRICES`, else
    /// `$XDG_CONFIG_HOME/spendlog/prices.json`, else `~/.config/spendlog/prices.json`.
    public static func locate(explicit: String?, environment: [String: String]) throws(SpendLogError) -> PriceFile {
        if let explicit { return PriceFile(path: explicit, isExplicit: true) }
        if let path = environment["SPENDLOG_PRICES"], !path.isEmpty { return PriceFile(path: path, isExplicit: true) }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            return PriceFile(path: xdg + "/spendlog/prices.json", isExplicit: false)
        }
        if let home = environment["HOME"], !home.isEmpty {
            return PriceFile(path: home + "/.config/spendlog/prices.json", isExplicit: false)
        }
        throw .invalid(field: "prices", "no price file was named, and neither SPENDLOG_PRICES nor HOME is set.")
    }

    /// The user's table, or nil when the default file does not exist.
    public func load() throws(SpendLogError) -> PriceTable? {
        guard let bytes = try FileSystem.readWholeFile(path, followSymlinks: true) else {
            if isExplicit {
                throw .invalid(
                    "The price file '\(path)' does not exist. Create it with `spendlog prices import FILE --prices '\(path)'`, or fix the path.",
                    path: path)
            }
            return nil
        }
        return try PriceTable.decode(bytes, path: path)
    }

    /// The built-in table with the user's file over it.
    public func effectiveTable() throws(SpendLogError) -> PriceTable {
        guard let user = try load() else { return .builtin }
        return PriceTable.builtin.overlaid(by: user)
    }

    /// ``effectiveTable()`` for pricing `models` only: their built-in entries
    /// (``PriceTable/builtin(forModels:)``) with the user's whole file over them.
    public func effectiveTable(forModels models: [String]) throws(SpendLogError) -> PriceTable {
        let builtin = PriceTable.builtin(forModels: models)
        guard let user = try load() else { return builtin }
        return builtin.overlaid(by: user)
    }

    /// Replaces the file atomically, creating its folder `0700` when needed, so a reader sees the
    /// old table or the new one, never half.
    public func replace(with table: PriceTable) throws(SpendLogError) {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try FileSystem.makeDirectories(String(path[..<slash]))
        }
        try FileSystem.replaceAtomically(path, contents: Array(table.encoded().utf8))
    }
}
