import SystemPackage

/// The one error type of the library's file and format layers. Every message names the file, and
/// the byte offset where there is one, and says what to do.
public struct SpendLogError: Error, CustomStringConvertible, Sendable {
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

    public var code: Code
    public var message: String
    public var path: String?
    public var offset: Int64?
    public var errno: Errno?
    /// The field a rejected value was for (`window`, `scope`, `input_tokens`, …), when there is
    /// one; the message then starts with `<field>: `. The library names fields, never command-line
    /// flags: a front end renames the field with ``renamingField(to:)``.
    public var field: String?

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

    private static func hint(for errno: Errno) -> String? {
        switch errno {
        case .noSpace: "Free some space on that file system and try again; nothing was acknowledged."
        case .permissionDenied, .notPermitted: "Check the owner and mode of the log directory (it should be 0700)."
        case .readOnlyFileSystem: "The file system is mounted read-only."
        case .noSuchFileOrDirectory: "Check the path."
        case .tooManyOpenFiles: "Raise the open-file limit (ulimit -n)."
        default: nil
        }
    }
}
