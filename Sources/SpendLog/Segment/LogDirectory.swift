#if canImport(Glibc)
    import Glibc
#endif

/// A log directory: `FORMAT`, `segments/`, `budget/`, `index/` (docs/FORMAT.md, "Layout").
///
/// Opening checks the `FORMAT` marker and refuses anything but `spendlog-log 1`, so that a
/// future format is never misread and a wrong `--dir` is never written into.
public struct LogDirectory: Sendable {
    /// The content of the `FORMAT` file of a log this version reads and writes.
    public static let formatMarker = "spendlog-log 1"
    /// The name of the marker file at the log's top.
    public static let formatFileName = "FORMAT"

    /// The directory, as given (made absolute when relative), without a trailing `/`.
    public let path: String

    /// `<log>/segments`, the day folders. (Paths are made once: budgets and writers use them on
    /// every call.)
    public let segmentsPath: String
    /// `<log>/budget`, the limits.
    public let budgetPath: String
    /// `<log>/index`, the rollups.
    public let indexPath: String
    /// `<log>/FORMAT`, the format marker.
    public var formatPath: String { path + "/" + LogDirectory.formatFileName }

    /// `<log>/segments/day=<day>` for `day` as `YYYY-MM-DD`.
    public func dayFolderPath(_ day: String) -> String { segmentsPath + "/" + SegmentName.dayFolderPrefix + day }

    /// The path of the log directory from, in order: `explicit` (`--dir`), `$SPENDLOG_DIR`,
    /// `$XDG_DATA_HOME/spendlog`, `~/.local/share/spendlog`.
    public static func resolvePath(explicit: String?, environment: [String: String]) throws(SpendLogError) -> String {
        if let explicit { return explicit }
        if let dir = environment["SPENDLOG_DIR"], !dir.isEmpty { return dir }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/spendlog" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.local/share/spendlog" }
        throw .invalid(field: "directory", "no log directory was named, and neither SPENDLOG_DIR nor HOME is set.")
    }

    /// Rejects what cannot be a directory path: the empty path, NUL and other control
    /// characters, a path longer than the system takes. The path is the operator's own, taken as
    /// the shell gave it (`..` included); record content never becomes a path.
    public static func validate(path: String) throws(SpendLogError) {
        guard !path.isEmpty else { throw .invalid(field: "directory", "the path is empty.") }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .invalid(field: "directory", "the path contains a control character.")
        }
        guard path.utf8.count < 3000 else { throw .invalid(field: "directory", "the path is too long.") }
    }

    private init(path: String) {
        self.path = path
        segmentsPath = path + "/segments"
        budgetPath = path + "/budget"
        indexPath = path + "/index"
    }

    /// Opens the log at `path`; when `create` is set, creates it (`0700`) and its `FORMAT` marker
    /// if it does not exist yet.
    public static func open(_ rawPath: String, create: Bool = true) throws(SpendLogError) -> LogDirectory {
        try validate(path: rawPath)
        var path = rawPath
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: 4096)
            if getcwd(&buffer, buffer.count) != nil {
                let cwd = String(
                    decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                path = cwd == "/" ? "/" + path : cwd + "/" + path
            }
        }
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        let directory = LogDirectory(path: path)

        if !FileSystem.isDirectory(path) {
            guard create else {
                throw SpendLogError(
                    code: .io,
                    message:
                        "No spendlog log at '\(path)'. Record something first (spendlog append), or check the log directory you named (or SPENDLOG_DIR).",
                    path: path, errno: .noSuchFileOrDirectory)
            }
            try FileSystem.makeDirectories(path)
        }
        try directory.checkFolders()
        // Several processes may create the same new log at once: each writes FORMAT through its
        // own temporary file and renames it into place, so a `FORMAT.tmp-*` or a FORMAT that
        // appeared after the first look means "being created", not "not a log".
        var attempt = 0
        while true {
            attempt += 1
            if let marker = try FileSystem.readWholeFile(directory.formatPath, limit: 4096) {
                let text = String(decoding: marker, as: UTF8.self)
                guard text == formatMarker + "\n" || text == formatMarker else {
                    throw SpendLogError(
                        code: .formatMismatch,
                        message:
                            "'\(directory.formatPath)' says \(Quoted(marker)), not \"\(formatMarker)\": this directory is not a log this version of spendlog can read. Use another log directory, or a spendlog release that reads that format.",
                        path: directory.formatPath)
                }
                break
            }
            let entries = (try FileSystem.listDirectory(path) ?? []).filter { !$0.hasPrefix(formatFileName + ".tmp-") }
            if entries.contains(formatFileName) && attempt < 3 { continue }
            guard entries.isEmpty else {
                throw SpendLogError(
                    code: .formatMismatch,
                    message:
                        "'\(path)' is not empty and has no FORMAT file, so it is not a spendlog log. Name an empty or new directory as the log directory.",
                    path: path)
            }
            guard create else {
                throw SpendLogError(
                    code: .io, message: "'\(path)' is empty: no log has been recorded there yet.", path: path)
            }
            try FileSystem.replaceAtomically(directory.formatPath, contents: Array((formatMarker + "\n").utf8))
            break
        }
        if create {
            // A failure here surfaces, with the file named, on the first append.
            try? FileSystem.makeDirectories(directory.segmentsPath)
        }
        return directory
    }

    /// Refuses a log whose folders another user could change (docs/FORMAT.md, "Ownership and
    /// links"): the directory, `segments/`, `budget/`, `index/` and every folder in those three
    /// must be owned by this user (or root) and not writable by group or others, and no entry
    /// below the directory itself may be a symbolic link. Then nobody else can plant a file or a
    /// link in the log; the files themselves are opened `O_NOFOLLOW`. One `lstat` per entry of
    /// those folders (a day folder each, in `segments/`), per open; nothing per record.
    func checkFolders() throws(SpendLogError) {
        try FileSystem.checkPrivateFolder(path, isLogRoot: true)
        for folder in [segmentsPath, budgetPath, indexPath] {
            try FileSystem.checkPrivateFolder(folder)
            for name in try FileSystem.listDirectory(folder) ?? [] {
                try FileSystem.checkPrivateFolder(folder + "/" + name)
            }
        }
    }
}

extension String {
    var trimmingNewline: String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
