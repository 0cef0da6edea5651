/// The generations of the index (docs/FORMAT.md, "Index"): folders `index/gen-<n>` (n zero-padded
/// to six digits, increasing), and `index/CURRENT`, which names the one queries read. All naming
/// and clean-up of generations lives here.
///
/// A run writes a new generation beside the current one, switches `CURRENT` to it with an atomic
/// replace, then removes every generation but the new one and the one before it (a query may
/// still be reading that). A crash at any point leaves `CURRENT` naming a complete generation.
struct IndexGenerations {
    static let prefix = "gen-"
    static let currentFileName = "CURRENT"

    let indexPath: String

    var currentPath: String { indexPath + "/" + IndexGenerations.currentFileName }

    func path(of generation: String) -> String { indexPath + "/" + generation }

    /// `gen-000042` → 42; nil for any other name.
    static func number(of name: String) -> Int? {
        let digits = name.dropFirst(prefix.count)
        guard name.hasPrefix(prefix), digits.count >= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return nil
        }
        return Int(digits)
    }

    static func name(_ number: Int) -> String { prefix + pad(Int64(number), 6) }

    /// The generation `CURRENT` names; nil when there is none yet.
    func current() throws(SpendLogError) -> String? {
        guard let raw = try FileSystem.readWholeFile(currentPath, limit: 4096) else { return nil }
        let generation = String(decoding: raw, as: UTF8.self).trimmingNewline
        guard IndexGenerations.number(of: generation) != nil else {
            throw IndexManifest.damaged(currentPath, 0, "it does not name a generation")
        }
        return generation
    }

    /// The generation folders present, by number.
    func all() throws(SpendLogError) -> [(name: String, number: Int)] {
        (try FileSystem.listDirectory(indexPath) ?? []).compactMap { name in
            IndexGenerations.number(of: name).map { (name, $0) }
        }.sorted { $0.number < $1.number }
    }

    /// A new, empty generation folder numbered after every existing one (a folder left by a run
    /// that crashed is emptied first).
    func create() throws(SpendLogError) -> String {
        let name = IndexGenerations.name((try all().last?.number ?? 0) + 1)
        try? FileSystem.removeFolder(path(of: name))
        try FileSystem.makeDirectory(path(of: name))
        return name
    }

    /// Removes `CURRENT.tmp-<pid>` files that runs killed between writing and renaming them left
    /// behind. Only runs holding `index/lock` write them, and the caller holds it: every one
    /// present is dead, whatever its pid (one that is alive now is another process that reused
    /// the number). Nothing else is touched.
    func removeStaleTemporaries() throws(SpendLogError) {
        let prefix = IndexGenerations.currentFileName + ".tmp-"
        var removed = false
        for name in try FileSystem.listDirectory(indexPath) ?? [] where name.hasPrefix(prefix) {
            let pid = name.dropFirst(prefix.count)
            guard !pid.isEmpty, pid.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { continue }
            try FileSystem.unlinkIfExists(indexPath + "/" + name)
            removed = true
        }
        if removed { try FileSystem.fsyncDirectory(indexPath) }
    }

    /// Points `CURRENT` at `generation` (temporary file, fsync, rename, fsync `index/`).
    func switchCurrent(to generation: String) throws(SpendLogError) {
        try FileSystem.replaceAtomically(currentPath, contents: Array((generation + "\n").utf8))
    }

    /// Removes every generation but `keeping`.
    func removeAll(keeping: [String]) throws(SpendLogError) {
        for (name, _) in try all() where !keeping.contains(name) {
            try FileSystem.removeFolder(path(of: name))
        }
        try FileSystem.fsyncDirectory(indexPath)
    }
}
