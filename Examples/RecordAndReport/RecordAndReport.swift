// record-and-report: records LLM calls with SpendLog, enforces a spending limit, and reports
// what was spent — against the public API of the SpendLog library only.
//
//     swift run record-and-report /tmp/spendlog-example
//
// The provider calls are stand-ins that return real response bodies (an OpenAI chat completion
// and an Anthropic message); in an app, `call` is the HTTP request to the provider.

import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

@main
struct RecordAndReport {
    static let project = "support-bot"

    static func main() async {
        let arguments = CommandLine.arguments
        guard arguments.count == 2 else {
            print("usage: record-and-report LOG-DIRECTORY")
            exit(2)
        }
        do {
            try await run(directory: arguments[1])
        } catch {
            print("error: \(error)")
            exit(1)
        }
    }

    static func run(directory: String) async throws {
        let log = try SpendLog(directory: directory)

        // 1. Record calls: `track` times the call, reads usage from the response, prices it from
        //    the built-in price table and appends one record, durable when it returns.
        for (user, body) in [("ann", openAIResponse), ("bob", anthropicResponse), ("ann", openAIResponse)] {
            let recorded = try await log.track(project: project, configure: { $0.user = user }) {
                Array(body.utf8)
            }
            print("recorded \(recorded.record.model) for \(user): \(recorded.record.cost) USD")
        }

        // 2. Enforce a limit: at most 0.02 USD for the project, over its lifetime. Each enforced
        //    append is checked and counted under the budget's lock: no process can overspend it.
        if try await log.limits().isEmpty {
            let rule = try await log.setLimit(
                LimitRule(
                    scope: LimitScope(fields: ["project": project]), metric: .cost, window: .lifetime,
                    maximum: 20_000_000))
            print("limit \(rule.id): \(rule.summary)")
        }
        var accepted = 0
        while true {
            var call = UsageRecord(
                project: project, model: "gpt-4.1-mini", inputTokens: 5_000, outputTokens: 500,
                cost: Money(nanos: 2_800_000))
            call.user = "batch"
            do throws(BudgetError) {
                try await log.appendIfWithinLimits(call)
                accepted += 1
            } catch .limitExceeded(let refusal) {
                print("refused after \(accepted) enforced calls: \(Money(nanos: refusal.remaining)) USD left")
                break
            } catch .failed(let error) {
                throw error
            }
        }

        // 3. Report: totals per user and model, from the log (and its index, where built).
        let result = try await log.stats(groupBy: [.user, .model])
        print("USER   MODEL                       REQUESTS  COST USD")
        for row in result.rows {
            let user = (row.keys[0] ?? "-").rightPadded(6)
            let model = (row.keys[1] ?? "-").rightPadded(27)
            print("\(user) \(model) \(String(row.metrics.requests).leftPadded(8))  \(Money(nanos: row.metrics.costNanos))")
        }
        print("total: \(result.total.requests) requests, \(Money(nanos: result.total.costNanos)) USD")

        // 4. The records themselves, newest first.
        var newest: [UsageRecord] = []
        for try await record in log.records(matching: RecordFilter(projects: [project])) {
            newest.append(record)
            if newest.count == 2 { break }
        }
        print("newest: \(newest.map(\.id.description).joined(separator: ", "))")

        let status = try await log.budgetStatus()
        for rule in status {
            print("budget \(rule.rule.id): spent \(Money(nanos: rule.spent)) of \(Money(nanos: rule.rule.maximum)) USD")
        }
        await log.close()
    }

    static let openAIResponse = """
        {"id":"chatcmpl-1","object":"chat.completion","created":1764500000,"model":"gpt-4.1-2025-04-14",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Your order shipped."},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":1200,"completion_tokens":80,"total_tokens":1280,
                  "prompt_tokens_details":{"cached_tokens":1024}}}
        """

    static let anthropicResponse = """
        {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
         "content":[{"type":"text","text":"Refund issued."}],"stop_reason":"end_turn",
         "usage":{"input_tokens":900,"output_tokens":60,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}
        """
}

extension String {
    func rightPadded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
