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
    public var path: String
    /// Given by `--prices` or `SPENDLOG_PRICES`: then a missing file is an error, not "no overrides".
    public var isExplicit: Bool

    public init(path: String, isExplicit: Bool) {
        self.path = path
        self.isExplicit = isExplicit
    }

    public static func locate(explicit: String?, environment: [String: String]) throws(SpendLogError) -> PriceFile {
        if let explicit { return PriceFile(path: explicit, isExplicit: true) }
        if let path = environment["SPENDLOG_PRICES"], !path.isEmpty { return PriceFile(path: path, isExplicit: true) }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            return PriceFile(path: xdg + "/spendlog/prices.json", isExplicit: false)
        }
        if let home = environment["HOME"], !home.isEmpty {
            return PriceFile(path: home + "/.config/spendlog/prices.json", isExplicit: false)
        }
        throw .invalid("No price file location: pass --prices FILE or set SPENDLOG_PRICES (HOME is not set either).")
    }

    /// The user's table, or nil when the default file does not exist.
    public func load() throws(SpendLogError) -> PriceTable? {
        guard let bytes = try FileSystem.readWholeFile(path) else {
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

    /// Replaces the file atomically (temporary file, fsync, rename, fsync the folder), creating
    /// its folder `0700` when needed, so a reader sees the old table or the new one, never half.
    public func replace(with table: PriceTable) throws(SpendLogError) {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        var partial = folder.hasPrefix("/") ? "" : "."
        for component in folder.split(separator: "/") where component != "." {
            partial += "/" + component
            if !FileSystem.isDirectory(partial) { try FileSystem.makeDirectory(partial) }
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = try FileSystem.open(temporary, O_WRONLY | O_CREAT | O_TRUNC)
        do {
            defer { FileSystem.close(fd) }
            try FileSystem.writeAll(fd, Array(table.encoded().utf8), path: temporary)
            try FileSystem.fsync(fd, path: temporary)
        } catch {
            try? FileSystem.unlinkIfExists(temporary)
            throw error
        }
        do {
            try FileSystem.rename(temporary, path)
            try FileSystem.fsyncDirectory(folder.isEmpty ? "/" : folder)
        } catch {
            try? FileSystem.unlinkIfExists(temporary)
            throw error
        }
    }
}

extension FileSystem {
    /// The whole file, or nil when it does not exist.
    static func readWholeFile(_ path: String) throws(SpendLogError) -> [UInt8]? {
        guard let fd = try openIfExists(path, O_RDONLY) else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SpendLogError) -> Int in try read(fd, into: raw, path: path) }
            }.get()
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return data
    }
}
