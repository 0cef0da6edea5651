import ArgumentParser
import Glibc
import SpendLog

/// `spendlog serve`: runs `spendlog-serve` from beside this binary with the same arguments. The
/// HTTP server is a program of its own, so that the CLI neither links nor starts it.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the live dashboard and the read-only JSON API over HTTP (spendlog-serve).",
        usage: "spendlog serve [--listen <host:port>] [--token-file <file>] [--dir <dir>]",
        discussion: """
            Runs the spendlog-serve program installed beside spendlog, passing the arguments on; \
            `spendlog serve --help` shows its options. Listens on 127.0.0.1:8787 by default; any \
            other address needs --token-file. Endpoints: docs/SERVE.md.
            """)

    @Argument(parsing: .captureForPassthrough, help: "Options for spendlog-serve.")
    var arguments: [String] = []

    func run() throws {
        let program = Self.serverPath()
        guard access(program, X_OK) == 0 else {
            printError(
                "Error: the server program '\(program)' is not there: `spendlog serve` runs spendlog-serve from "
                    + "the folder of spendlog. Build it with `swift build --product spendlog-serve` "
                    + "(`-c release` for a release spendlog), or install it beside spendlog.")
            throw ExitCode(ExitCodes.failure)
        }
        let argv = ["spendlog-serve"] + arguments
        var pointers: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        pointers.append(nil)
        execv(program, &pointers)
        let reason = String(cString: strerror(errno))
        printError("Error: could not run '\(program)': \(reason).")
        throw ExitCode(ExitCodes.failure)
    }

    /// `spendlog-serve` in the folder of the running binary (`/proc/self/exe`).
    static func serverPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let own =
            n > 0
            ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        let folder = own.lastIndex(of: "/").map { String(own[..<$0]) } ?? "."
        return folder + "/spendlog-serve"
    }
}
