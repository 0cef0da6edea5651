import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SpendLog

/// `spendlog serve`: the dashboard and the read-only JSON API over HTTP (docs/SERVE.md). Started
/// by `spendlog serve`, which runs this program found beside it with the same arguments.
@main
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spendlog serve",
        abstract: "Serve the live dashboard and the read-only JSON API of a log over HTTP.",
        usage: "spendlog serve [--listen <host:port>] [--token-file <file>] [<options>]",
        discussion: """
            Listens on loopback (127.0.0.1:8787) by default. Any other address needs --token-file: \
            every request must then send `Authorization: Bearer <token>`. Nothing served writes to \
            the log. The first line on standard output is the address listened on \
            (`listening on http://127.0.0.1:8787`). Endpoints and parameters: docs/SERVE.md.
            """)

    @Option(
        help: ArgumentHelp(
            "Address and port to listen on ([::1]:PORT for IPv6; port 0 picks a free one).", valueName: "host:port"))
    var listen: String = "127.0.0.1:8787"
    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp(
            "A file holding the bearer token every request must send (required off loopback).", valueName: "file"))
    var tokenFile: String?
    @Option(
        name: .long,
        help: "The log directory (default: $SPENDLOG_DIR, $XDG_DATA_HOME/spendlog, ~/.local/share/spendlog).")
    var dir: String?
    @Option(
        name: .customLong("request-timeout"),
        help: ArgumentHelp("Seconds a request may take before it is answered 503 (1 to 600).", valueName: "seconds"))
    var requestTimeout: Int = 30

    func validate() throws {
        _ = try ListenAddress.parse(listen)
        guard (1...600).contains(requestTimeout) else {
            throw ValidationError("--request-timeout: \(requestTimeout) is not between 1 and 600 seconds.")
        }
        if let dir {
            do throws(SpendLogError) { try LogDirectory.validate(path: dir) } catch {
                throw ValidationError("--dir" + error.message.dropFirst((error.field ?? "").count))
            }
        }
    }

    func run() async throws {
        let address = try ListenAddress.parse(listen)
        let token: [UInt8]?
        if let tokenFile {
            token = try Self.readToken(tokenFile)
        } else {
            guard address.isLoopback else {
                throw ValidationError(
                    "--listen: \(address.host) is not a loopback address; serving on it needs --token-file, a file "
                        + "holding the bearer token every request must then send. Or listen on 127.0.0.1.")
            }
            token = nil
        }
        let log: LogDirectory
        do throws(SpendLogError) {
            let path = try LogDirectory.resolvePath(explicit: dir, environment: ProcessInfo.processInfo.environment)
            log = try LogDirectory.open(path, create: false)
        } catch {
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            throw ExitCode(error.code == .invalidInput ? 64 : 1)
        }
        let server = Server(
            log: log, token: token, timeout: .seconds(requestTimeout), clock: try Self.clock())
        let shownHost = address.host.contains(":") ? "[\(address.host)]" : address.host
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in await server.respond(to: request) },
            // A connection that sends nothing for a minute is closed.
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port), serverName: nil, reuseAddress: false),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                // One write, unbuffered: the first line tells a caller the port.
                FileHandle.standardOutput.write(Data("listening on http://\(shownHost):\(port)\n".utf8))
            },
            logger: {
                var logger = Logger(label: "spendlog-serve")
                logger.logLevel = .warning
                return logger
            }()
        )
        try await app.runService()
    }

    /// The token: the file's first line, 16 to 4,096 visible ASCII characters.
    static func readToken(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--token-file: '\(path)' cannot be read; give a file holding the token.")
        }
        var bytes = Array(data)
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 {
            bytes.removeLast()
        }
        guard bytes.count >= 16, bytes.count <= 4096, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ValidationError(
                "--token-file: '\(path)' must hold one token of 16 to 4,096 visible ASCII characters "
                    + "(for example the output of `openssl rand -hex 32`).")
        }
        return bytes
    }

    /// `$SPENDLOG_NOW` (RFC 3339; for tests only), else the wall clock, as the CLI's budget
    /// commands take it.
    static func clock() throws -> @Sendable () -> Timestamp {
        guard let text = ProcessInfo.processInfo.environment["SPENDLOG_NOW"], !text.isEmpty else {
            return { .now() }
        }
        guard let time = Timestamp.parse(text) else {
            throw ValidationError("SPENDLOG_NOW: '\(text)' is not an RFC 3339 time like 2026-11-23T10:15:02.123Z.")
        }
        return { time }
    }
}

/// `--listen`: HOST:PORT, `[v6]:PORT`.
struct ListenAddress {
    var host: String
    var port: Int

    static func parse(_ text: String) throws -> ListenAddress {
        let refusal = ValidationError(
            "--listen: '\(text.prefix(80))' is not HOST:PORT (127.0.0.1:8787, [::1]:8787; port 0 to 65535).")
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw refusal
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { throw refusal }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, host.utf8.count <= 253,
            host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:".contains($0)) }),
            let port = Int(portText), (0...65535).contains(port), portText.allSatisfy(\.isNumber)
        else { throw refusal }
        return ListenAddress(host: String(host), port: port)
    }

    /// 127.0.0.0/8, ::1 and localhost.
    var isLoopback: Bool { Self.isLoopback(host: host) }

    /// Whether `host` (a name or an address, without brackets or port) is this machine's
    /// loopback: 127.0.0.0/8, ::1 (either spelling) or localhost, in any case. The one check for
    /// the address served and for the Host of each request.
    static func isLoopback(host: some StringProtocol) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
