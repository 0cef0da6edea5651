// libFuzzer targets, built only by `make soak-fuzz` (the target exists when SPENDLOG_FUZZ is set
// in the environment, and this code when the SPENDLOG_FUZZ define is). One binary holds all of
// them; SPENDLOG_FUZZ_TARGET picks one:
//
//   parser   RecordParser on any bytes, in both modes: it never crashes, and every record it
//            accepts encodes to a line it reads back as the same record.
//   scanner  RecordScanner's fast path against the full parser: a line the fast path accepts the
//            full parser accepts too, with the same time, dimensions and sums; and the scan the
//            indexer runs (fast, else full) accepts and rejects exactly what the full parser does.
//   capture  UsageCapture on any response body in every format: it never crashes, and what it
//            captures is within the record's rules.
#if SPENDLOG_FUZZ
    @testable import SpendLog

    #if canImport(Glibc)
        import Glibc
    #endif

    enum FuzzTarget: String {
        case parser, scanner, capture

        static let chosen: FuzzTarget = {
            let name = getenv("SPENDLOG_FUZZ_TARGET").map { String(cString: $0) } ?? ""
            guard let target = FuzzTarget(rawValue: name) else {
                writeToStandardError("set SPENDLOG_FUZZ_TARGET to parser, scanner or capture\n")
                exit(2)
            }
            return target
        }()
    }

    func writeToStandardError(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    let fuzzNow = Timestamp.parse("2026-11-23T10:00:00.000Z")!

    /// Stops the run with a message; libFuzzer saves the input that caused it.
    func fuzzFailure(_ message: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Never {
        writeToStandardError("FUZZ FAILURE: \(message)\ninput: \(String(decoding: bytes, as: UTF8.self))\n")
        abort()
    }

    func fuzzParser(_ bytes: UnsafeBufferPointer<UInt8>) {
        for mode in [RecordParser.Mode.stored, .input(now: fuzzNow)] {
            guard let parsed = try? RecordParser.parse(bytes, mode: mode) else { continue }
            let line = parsed.record.jsonLine()
            guard line.last == 0x0A else { fuzzFailure("an encoded line does not end in a newline", bytes) }
            let body = Array(line.dropLast())
            let again: UsageRecord
            do { again = try RecordParser.parse(body, mode: .stored).record } catch {
                fuzzFailure("the encoded record is refused: \(error) — \(String(decoding: body, as: UTF8.self))", bytes)
            }
            guard again == parsed.record else {
                fuzzFailure(
                    "the encoded record reads back differently: \(String(decoding: body, as: UTF8.self))", bytes)
            }
        }
    }

    func fuzzScanner(_ bytes: UnsafeBufferPointer<UInt8>) {
        var scanner = RecordScanner()
        let full = Result { () throws(RecordParseError) -> UsageRecord in
            try RecordParser.parse(bytes, mode: .stored).record
        }
        if let fast = scanner.scanFast(bytes) {
            guard case .success(let record) = full else {
                fuzzFailure("the fast path accepts a line the full parser refuses: \(full)", bytes)
            }
            let expected = scanner.scanned(record)
            guard fast == expected else {
                fuzzFailure("the fast path reads other values: \(fast) vs \(expected)", bytes)
            }
        }
        let scanned = Result { () throws(RecordParseError) -> ScannedRecord in try scanner.scan(bytes) }
        switch (scanned, full) {
        case (.success(let a), .success(let record)):
            guard a == scanner.scanned(record) else { fuzzFailure("scan and parse disagree on values", bytes) }
        case (.failure(let a), .failure(let b)):
            guard a == b else { fuzzFailure("scan and parse refuse with other errors: \(a) vs \(b)", bytes) }
        default:
            fuzzFailure("scan and parse disagree on whether this is a record: \(scanned) vs \(full)", bytes)
        }
    }

    func fuzzCapture(_ bytes: UnsafeBufferPointer<UInt8>) {
        let body = Array(bytes)
        for format in ResponseFormat.allCases {
            guard let usage = try? UsageCapture.capture(body, format: format) else { continue }
            let u = usage.usage
            for (name, value) in [
                ("input", u.inputTokens), ("output", u.outputTokens), ("cached", u.cachedInputTokens),
                ("cacheWrite", u.cacheWriteTokens), ("cacheWrite1h", u.cacheWrite1hTokens),
                ("reasoning", u.reasoningTokens),
            ] where RecordSchema.countProblem(value) != nil {
                fuzzFailure("captured \(name) tokens \(value) break the record's rules", bytes)
            }
            // A record made from it is valid, or is refused; never made invalid.
            if let record = try? usage.record(project: "p", model: "m", timestamp: fuzzNow) {
                do { try record.validate() } catch { fuzzFailure("a captured record is invalid: \(error)", bytes) }
            }
        }
    }

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        let bytes = UnsafeBufferPointer(start: size == 0 ? nil : data, count: size)
        switch FuzzTarget.chosen {
        case .parser: fuzzParser(bytes)
        case .scanner: fuzzScanner(bytes)
        case .capture: fuzzCapture(bytes)
        }
        return 0
    }

    /// libFuzzer's driver: it parses the command line and calls `callback` with each input.
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// The program's entry point: SwiftPM links an executable's `main` to this symbol, so
    /// libFuzzer's own `main` is not used and its driver is called here instead.
    @_cdecl("spendlog_fuzz_main")
    func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var arguments = argv
        return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
    }
#else
    // Built without SPENDLOG_FUZZ: nothing to run.
    @main enum FuzzTargetsUnavailable {
        static func main() { print("spendlog-fuzz: build with make soak-fuzz") }
    }
#endif
