import SystemPackage

/// The one error type of the library's file and format layers. Every message names the file, and
/// the byte offset where there is one, and says what to do.
public struct SpendLogError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure it is; the CLI's exit code follows from it.
    public enum Code: Sendable, Equatable {
        /// A system call failed (`errno` says why).
        case io
        /// Bytes on disk are not what the format says they must be.
        case corruption
        /// The directory is not a spendlog log of a format this version reads.
        case formatMismatch
        /// A caller-supplied value was rejected (the record, a path, an option).
        case invalidInput
    }

    /// What kind of failure it is.
    public var code: Code
    /// What went wrong and what to do, for people; names the file and offset where there is one.
    public var message: String
    /// The file concerned, if any.
    public var path: String?
    /// The byte offset in that file, if the failure has one.
    public var offset: Int64?
    /// The system's error number, for ``Code/io``.
    public var errno: Errno?
    /// The field a rejected value was for (`window`, `scope`, `input_tokens`, …), when there is
    /// one; the message then starts with `<field>: `. The library names fields, never command-line
    /// flags: a front end renames the field with ``renamingField(to:)``.
    public var field: String?
    /// The ids of the records that may be in the log although the call that wrote them failed
    /// (docs/FORMAT.md, "What an error promises"). Empty: the failed call left nothing behind. A
    /// retry with the same ids writes only those that are not in the log.
    public var possiblyWritten: [String] = []

    /// An error of `code` saying `message`; `field` names the rejected field, if any.
    public init(
        code: Code, message: String, path: String? = nil, offset: Int64? = nil, errno: Errno? = nil,
        field: String? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.errno = errno
        self.field = field
    }

    /// The same error, naming `name` (a flag, a parameter) where it named its field.
    public func renamingField(to name: String) -> SpendLogError {
        guard let field, message.hasPrefix(field + ": ") else { return self }
        var renamed = self
        renamed.message = name + message.dropFirst(field.count)
        return renamed
    }

    public var description: String { message }

    /// `operation` failed on `path`: "Could not fsync '/x/y': No space left on device (ENOSPC)."
    static func io(_ operation: String, path: String, errno: Errno, remedy: String? = nil) -> SpendLogError {
        var text = "Could not \(operation) '\(path)': \(errno)."
        if let remedy { text += " " + remedy } else if let hint = hint(for: errno) { text += " " + hint }
        return SpendLogError(code: .io, message: text, path: path, errno: errno)
    }

    /// Damage of a file of the index (`what`: "Rollup file", "Index manifest", "Frames file"). The
    /// index is derived data: the message says how to make it again.
    static func indexDamage(_ what: String, path: String, offset: Int, _ reason: String) -> SpendLogError {
        SpendLogError(
            code: .corruption,
            message: "\(what) '\(path)' is damaged at byte \(offset): \(reason). "
                + "The index is derived data: run `spendlog index --rebuild` to rebuild it from the segments.",
            path: path, offset: Int64(offset))
    }

    static func corruption(path: String, offset: Int64, _ reason: String) -> SpendLogError {
        SpendLogError(
            code: .corruption,
            message: "'\(path)' is corrupt at byte \(offset): \(reason). "
                + "Other segments are still readable; run `spendlog verify` to list every problem.",
            path: path, offset: offset)
    }

    static func invalid(_ message: String, path: String? = nil) -> SpendLogError {
        SpendLogError(code: .invalidInput, message: message, path: path)
    }

    /// A value rejected for `field`: "<field>: <reason>".
    static func invalid(field: String, _ reason: String) -> SpendLogError {
        SpendLogError(code: .invalidInput, message: "\(field): \(reason)", field: field)
    }

    /// The error of a call that wrote nothing: "Nothing was written: <message>". Only a failure of
    /// the system says so: a refused value or a damaged file is plainly not a write, and its
    /// message starts with the field it names.
    func nothingWritten() -> SpendLogError {
        guard code == .io else { return self }
        var failed = self
        failed.possiblyWritten = []
        if !failed.message.hasPrefix("Nothing was written") { failed.message = "Nothing was written: " + message }
        return failed
    }

    /// The error of a call that failed after writing records it could not take back: names them.
    func possiblyWriting(_ ids: [String]) -> SpendLogError {
        guard !ids.isEmpty else { return nothingWritten() }
        var failed = self
        failed.possiblyWritten = ids
        let shown = ids.prefix(8).joined(separator: ", ")
        let more = ids.count > 8 ? " and \(ids.count - 8) more" : ""
        failed.message +=
            " \(ids.count == 1 ? "One record" : "\(ids.count) records") may be in the log although this call failed "
            + "(id\(ids.count == 1 ? "" : "s") \(shown)\(more)): a retry with the same ids writes only what is not there."
        return failed
    }

    private static func hint(for errno: Errno) -> String? {
        switch errno {
        case .noSpace, .diskQuotaExceeded: "Free some space on that file system (or raise the quota) and try again."
        case .permissionDenied, .notPermitted: "Check the owner and mode of the log directory (it should be 0700)."
        case .readOnlyFileSystem: "The file system is mounted read-only."
        case .noSuchFileOrDirectory: "Check the path."
        case .tooManyOpenFiles: "Raise the open-file limit (ulimit -n)."
        default: nil
        }
    }
}
