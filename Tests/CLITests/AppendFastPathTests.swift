import Foundation
import SpendLogTestSupport
import Testing

@testable import spendlog

/// The append fast path reads what the argument parser reads, or leaves the call to it.
extension SplitMix {
    mutating func pick<T>(_ values: [T]) -> T { values.randomElement(using: &self)! }
    mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
}

@Suite struct AppendFastPathTests {
    /// Per flag: values the checks accept, then values they refuse (or the parser reads as flags).
    static let counts = (["0", "12", "9007199254740992"], ["9007199254740993", "-1", "1.5", "", "abc", "+3", "٣"])
    static let names = (["etl", "gpt-4.1", "é", "a b"], ["", "a\u{7}b", String(repeating: "x", count: 300), "-etl"])
    static let values: [String: (good: [String], bad: [String])] = [
        "--project": names, "--model": (names.0 + ["claude-sonnet-4-5", "unknown-model-x"], names.1),
        "--provider": names, "--user": names, "--caller": names, "--session": names, "--request-id": names,
        "--role": names, "--task": names, "--input-tokens": counts, "--output-tokens": counts,
        "--cached-input-tokens": (["0"], counts.1), "--cache-write-tokens": (["0"], counts.1),
        "--reasoning-tokens": (["0", "1"], counts.1), "--latency-ms": counts, "--cache-write-1h-tokens": (["0"], counts.1),
        "--cost": (["0.001", "0", "12", "0.123456789"], ["1e-3", "-0.1", "NaN", "inf", "0.1234567891", "1000001", ".5"]),
        "--status": (["ok", "error"], ["fine", ""]),
        "--ts": (["2026-11-23T10:00:00Z", "2026-11-23T10:00:00.123+01:00"], ["2026-13-01T00:00:00Z", "yesterday"]),
        "--id": (
            ["019a1b2c-3d4e-7f00-8a1b-2c3d4e5f6a7b", "019A1B2C-3D4E-7F00-8A1B-2C3D4E5F6A7B"],
            ["019a1b2c-3d4e-4f00-8a1b-2c3d4e5f6a7b", "x"]
        ),
        "--tag": (["team=a", "env=prod", "k=v=w"], ["k", "=v"]),
        "--fsync": (["always", "batch", "none"], ["sometimes"]),
        "--dir": (["/tmp/spendlog-fast-path", "rel/../dir"], ["", "a\u{1}b"]),
        "--service-tier": (["batch", "flex", "priority"], ["gold"]),
        "--prices": (["/nonexistent/prices.json", "p.json"], ["-p.json"]),
    ]
    /// Arguments the fast path leaves to the parser.
    static let others = [
        "--from-response", "--help", "-h", "--version", "--project=etl", "--unknown", "--", "response.json", "-",
        "--enforce=true", "-p",
    ]

    @Test func theFastPathReadsWhatTheParserReads() throws {
        var random = SplitMix(state: 20_261_201)
        let flags = Self.values.keys.sorted()
        var fast = 0
        var parsed = 0
        // The parser takes about a third of a second per call in a debug build: 120 lists here,
        // more with SPENDLOG_FAST_PATH_ROUNDS (make soak-faults runs 3,000).
        let rounds = Int(ProcessInfo.processInfo.environment["SPENDLOG_FAST_PATH_ROUNDS"] ?? "") ?? 120
        for _ in 0..<rounds {
            var arguments = ["--project", "etl", "--model", "gpt-4.1", "--input-tokens", "10", "--output-tokens", "2"]
            if random.chance(15) { arguments = Array(arguments.prefix(Int(random.next() % 8))) }
            for _ in 0..<Int(random.next() % 7) {
                if random.chance(5) {
                    arguments.append(random.pick(Self.others))
                } else if random.chance(8) {
                    arguments.append(random.pick(["--enforce", "--require-price"]))
                } else {
                    let flag = random.pick(flags)
                    arguments.append(flag)
                    let (good, bad) = Self.values[flag]!
                    if !random.chance(3) { arguments.append(random.chance(80) ? random.pick(good) : random.pick(bad)) }
                }
            }
            let byParser = try? AppendCommand.parse(arguments)
            if byParser != nil { parsed += 1 }
            guard let byFastPath = AppendFastPath.invocation(arguments[...]) else { continue }
            fast += 1
            let parser = try #require(byParser, "the parser refuses what the fast path accepts: \(arguments)")
            #expect(parser.invocation == byFastPath, "\(arguments)")
        }
        // Both paths are exercised, and the fast path takes most of what the parser accepts.
        #expect(fast > rounds / 4, "fast path \(fast), parser \(parsed)")
        #expect(parsed - fast < parsed / 2, "fast path \(fast), parser \(parsed)")
    }

    /// The ordinary calls take the fast path; help, responses and refused values do not.
    @Test func ordinaryCallsTakeTheFastPath() {
        let plain = [
            "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "1200", "--output-tokens", "300", "--cost",
            "0.0048", "--tag", "env=prod", "--tag", "team=a", "--user", "ann", "--fsync", "batch", "--enforce",
        ]
        let invocation = AppendFastPath.invocation(plain[...])
        #expect(invocation?.record.tags == ["env=prod", "team=a"])
        #expect(invocation?.fsync == "batch")
        #expect(invocation?.enforce == true)
        #expect(invocation == (try? AppendCommand.parse(plain))?.invocation)
        for other in [
            ["--project", "etl", "--model", "m", "--help"], ["--from-response", "openai", "--project", "etl"],
            ["--project", "etl", "--model", "m", "--input-tokens", "-5"], ["--project=etl", "--model", "m"],
            ["--project", "etl", "--project", "etl", "--model", "m"], ["--project", "etl", "--model"],
        ] {
            #expect(AppendFastPath.invocation(other[...]) == nil, "\(other)")
        }
    }
}
