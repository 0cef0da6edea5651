// budgeted-server: a Hummingbird server whose LLM-backed routes are recorded and held to a
// spending limit by one middleware (SpendLogMiddleware.swift), against the public API of the
// SpendLog library only.
//
//     swift run budgeted-server --dir /tmp/spendlog-example --port 8080 --limit 0.01
//     curl -s -X POST localhost:8080/v1/chat/completions -d '{"messages":[]}'
//
// The route's provider call is a stand-in that answers an OpenAI chat completion (1,000 prompt
// and 500 completion tokens of gpt-4.1-mini: 0.0012 USD); in an app it is the request to the
// provider, its response passed through.

import Hummingbird
import NIOCore
import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

@main
struct BudgetedServer {
    static func main() async {
        do {
            let options = try Options(CommandLine.arguments.dropFirst())
            try await run(options)
        } catch {
            writeLine("error: \(error)", to: 2)
            exit(1)
        }
    }

    struct Options {
        var directory = "spendlog-example"
        var port = 8080
        /// The project's lifetime limit in USD, set when the log has no limit yet.
        var limit = "0.01"

        init(_ arguments: ArraySlice<String>) throws {
            var rest = arguments
            while let flag = rest.popFirst() {
                guard let value = rest.popFirst() else { throw UsageError(text: "\(flag) needs a value") }
                switch flag {
                case "--dir": directory = value
                case "--port":
                    guard let port = Int(value), (0...65535).contains(port) else {
                        throw UsageError(text: "--port: not a port number: \(value)")
                    }
                    self.port = port
                case "--limit": limit = value
                default: throw UsageError(text: "unknown option \(flag); use --dir, --port, --limit")
                }
            }
        }
    }

    struct UsageError: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }

    static func run(_ options: Options) async throws {
        let log = try SpendLog(directory: options.directory)
        if try await log.limits().isEmpty {
            let maximum = try LimitRule.parseMaximum(options.limit, metric: .cost)
            try await log.setLimit(
                LimitRule(
                    scope: LimitScope(fields: ["project": "chat"]), metric: .cost, window: .lifetime,
                    maximum: maximum))
        }

        let router = Router()
        router.get("/health") { _, _ in "ok\n" }
        // Every route of this group is an LLM call: recorded, and refused with 429 past the limit.
        let llm = router.group("v1").add(middleware: SpendLogMiddleware(log: log, project: "chat"))
        llm.post("chat/completions") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: providerAnswer())))
        }

        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: options.port)),
            onServerRunning: { channel in
                // Unbuffered: the test reads the port from this line.
                writeLine("listening on http://127.0.0.1:\(channel.localAddress?.port ?? options.port)", to: 1)
            })
        try await app.runService()
        await log.close()
    }

    /// The stand-in provider's answer: an OpenAI chat completion with its usage.
    static func providerAnswer() -> String {
        """
        {"id":"chatcmpl-example","object":"chat.completion","created":1764500000,"model":"gpt-4.1-mini",\
        "choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],\
        "usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}}
        """
    }
}

/// Writes `text` and a newline straight to file descriptor `fd`.
func writeLine(_ text: String, to fd: Int32) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
}
