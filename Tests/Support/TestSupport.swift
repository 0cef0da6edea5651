// Helpers shared by the test targets: temporary folders, the paths of the built binaries and
// fixtures, and a runner for child processes.
import Foundation
import SpendLog

/// A fresh folder under the system temp directory, removed when the value goes away.
public final class TemporaryDirectory {
    public let path: String

    public init(_ label: String = "spendlog-test") {
        let base = NSTemporaryDirectory() + "\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A log directory inside this folder.
    public func log(_ name: String = "log") throws -> LogDirectory { try LogDirectory.open(path + "/" + name) }

    /// Keeps this folder for the rest of the test process (a log a whole suite reads, built
    /// once), and removes it when the process exits: a static that holds it is never released.
    public func keepUntilExit() {
        TemporaryDirectory.kept.withLock { kept in
            if kept.isEmpty { atexit { TemporaryDirectory.removeKept() } }
            kept.append(self)
        }
    }

    private static let kept = LockedFolders()

    /// Releases the kept folders, which removes them (``deinit``). Not in a child forked from the
    /// test process that exits through `exit`: the folders are the test process's.
    private static func removeKept() {
        guard getpid() == kept.owner else { return }
        kept.withLock { $0.removeAll() }
    }
}

/// The folders kept until the test process exits, under a lock (suites build their logs in
/// parallel).
private final class LockedFolders: @unchecked Sendable {
    /// The process that kept the first folder.
    let owner = getpid()
    private let lock = NSLock()
    private var folders: [TemporaryDirectory] = []

    func withLock<T>(_ body: (inout [TemporaryDirectory]) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&folders)
    }
}

/// A small fast deterministic generator (SplitMix64), so a failing seed can be replayed.
public struct SplitMix: RandomNumberGenerator {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Paths the tests use, from the environment `make test` sets, else relative to this package.
public enum TestPaths {
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The built `spendlog` binary: `$SPENDLOG_BIN`, else `.build/debug/spendlog`.
    public static var binary: String {
        ProcessInfo.processInfo.environment["SPENDLOG_BIN"] ?? packageRoot + "/.build/debug/spendlog"
    }

    /// The writer child process of the concurrency and crash tests, beside the `spendlog` binary.
    public static var harness: String {
        String(binary[..<binary.lastIndex(of: "/")!]) + "/spendlog-harness"
    }

    /// An executable of this package built beside the `spendlog` binary (the examples).
    public static func built(_ product: String) -> String {
        String(binary[..<binary.lastIndex(of: "/")!]) + "/" + product
    }

    /// The HTTP server `spendlog serve` runs, beside the `spendlog` binary (`swift build --product
    /// spendlog-serve`).
    public static var serveBinary: String {
        String(binary[..<binary.lastIndex(of: "/")!]) + "/spendlog-serve"
    }

    /// `Fixtures/` in this package: small logs, price tables and provider responses
    /// (Fixtures/README.md names each file's source and licence). Read-only: tests copy what they
    /// change into a temporary folder.
    public static var fixtures: String { packageRoot + "/Fixtures" }

    /// The release build of `spendlog` (`$SPENDLOG_RELEASE_BIN`, set by `make test`), or nil.
    public static var releaseBinary: String? { ProcessInfo.processInfo.environment["SPENDLOG_RELEASE_BIN"] }

    public static var python: String {
        ProcessInfo.processInfo.environment["SPENDLOG_PYTHON"] ?? packageRoot + "/.venv/bin/python"
    }

    /// The Python with llm-toll and llm-accounting (a venv of their own: their pins clash with
    /// litellm's dependencies).
    public static var peersPython: String {
        ProcessInfo.processInfo.environment["SPENDLOG_PEERS_PYTHON"] ?? packageRoot + "/.venv-peers/bin/python"
    }
}

/// Writes a file in place. (Foundation's `createFile` and atomic writes on Linux leave a
/// `TemporaryDirectory.*` folder behind in /tmp for every call.)
public func writeFile(_ path: String, _ data: Data) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    precondition(fd >= 0, "could not create \(path)")
    data.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = write(fd, raw.baseAddress! + done, raw.count - done)
            precondition(n > 0, "could not write \(path)")
            done += n
        }
    }
    close(fd)
}

public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

extension Process {
    /// Waits for the program to end by watching `isRunning`. (Foundation's `waitUntilExit` runs
    /// a run loop between its checks, and under libfaketime that run loop can sleep on long past
    /// the child's end: `make test-dates` then never finishes.)
    public func waitForExit() {
        while isRunning { usleep(2_000) }
        waitUntilExit()  // returns at once: the program has ended
    }
}

/// Runs a program to completion, feeding `input` on standard input, in `workingDirectory` when
/// given.
@discardableResult
public func runProcess(
    _ executable: String, _ arguments: [String], input: Data? = nil, environment: [String: String] = [:],
    workingDirectory: String? = nil
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    // Output goes to files, not pipes: no deadlock however much a child prints.
    let scratch = NSTemporaryDirectory() + "spendlog-proc-\(UUID().uuidString)"
    writeFile(scratch + ".out", Data())
    writeFile(scratch + ".err", Data())
    writeFile(scratch + ".in", input ?? Data())
    defer {
        for suffix in [".out", ".err", ".in"] { try? FileManager.default.removeItem(atPath: scratch + suffix) }
    }
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + ".out"))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + ".err"))
    let inHandle = try FileHandle(forReadingFrom: URL(fileURLWithPath: scratch + ".in"))
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inHandle
    try process.run()
    process.waitForExit()
    try? out.close()
    try? err.close()
    try? inHandle.close()
    let outData = FileManager.default.contents(atPath: scratch + ".out") ?? Data()
    let errData = FileManager.default.contents(atPath: scratch + ".err") ?? Data()
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs the built `spendlog` binary.
@discardableResult
public func spendlog(
    _ arguments: [String], input: String? = nil, environment: [String: String] = [:], workingDirectory: String? = nil
) throws -> ProcessResult {
    try runProcess(
        TestPaths.binary, arguments, input: input.map { Data($0.utf8) }, environment: environment,
        workingDirectory: workingDirectory)
}

/// Seals again every sealed segment of the log at `path` with frames of about `frameBytes` of
/// text (the sealer's own, with a smaller frame than the 1 MiB it uses), so that readers of the
/// files meet many frames in a small log. Returns how many frames the segments have in all.
@discardableResult
public func resealInSmallFrames(_ path: String, frameBytes: Int = 2_048) throws -> Int {
    let log = try LogDirectory.open(path, create: false)
    let reader = LogReader(directory: log)
    for segment in try reader.segments() where segment.sealed {
        var text: [UInt8] = []
        _ = try reader.readLines(segment) { line, _ in
            text.append(contentsOf: line)
            text.append(0x0A)
        }
        let folder = String(segment.path[..<segment.path.lastIndex(of: "/")!])
        writeFile(folder + "/" + segment.name.activeFileName, Data(text))
        try FileManager.default.removeItem(atPath: segment.path)
        try SegmentSealer.seal(segment.name, in: folder, frameBytes: frameBytes)
    }
    var frames = 0
    for segment in try reader.segments() where segment.sealed {
        let zstd = try runProcess("/usr/bin/zstd", ["-l", "-v", segment.path])
        guard let line = zstd.stdout.split(separator: "\n").first(where: { $0.hasPrefix("# Zstandard Frames:") }),
            let count = Int(line.split(separator: " ").last ?? "")
        else { throw CocoaError(.fileReadCorruptFile) }
        frames += count
    }
    return frames
}
