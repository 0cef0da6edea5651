/// Records given as JSON lines (`spendlog ingest`), read and checked before anything is written:
/// each line is parsed in the log's format (``RecordParser``, with `v`, `id` and `ts` filled in
/// when absent), a line without a cost is priced from the table (``RecordPricer``), and every
/// line that is not a record is reported by its number, with the field and the reason.
///
/// Blank lines are skipped; a `\r` before a `\n` is dropped.
public struct IngestBatch: Sendable {
    /// A line that is not a record.
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        /// The line's number, from 1.
        public var line: Int
        /// What is wrong: the field and the reason.
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// The valid records, in input order.
    public private(set) var records: [UsageRecord] = []
    /// The line each record came from.
    public private(set) var lineNumbers: [Int] = []
    /// The lines that are not records, in input order.
    public private(set) var problems: [Problem] = []
    /// The records that were priced at nothing because their model is not in the table.
    public private(set) var unpriced = UnpricedSummary()
    /// Notes of the pricing (a tier the table lacks, …), each once.
    public private(set) var pricingNotes: [String] = []
    /// Whether any line gave its own `id`: then a record whose id is in the log already is a
    /// retry, and is written once (``LogWriter/appendOnce(contentsOf:)``). Without, every id is
    /// new and nothing needs checking.
    public private(set) var givesIDs = false

    /// Reads `input` at `now` (the time of records without `ts`), pricing with `prices`. With
    /// `requirePrice`, a line without a cost whose model the table lacks is a bad line (field
    /// `model`) instead of an unpriced record.
    public init(_ input: [UInt8], now: Timestamp, prices: PriceTable, requirePrice: Bool = false) {
        let pricer = RecordPricer(table: prices)
        input.withUnsafeBufferPointer { bytes in
            TextLines.forEach(bytes) { number, line in
                guard !TextLines.isBlank(line) else { return }
                guard line.count <= RecordSchema.maximumLineBytes else {
                    problems.append(
                        Problem(
                            line: number,
                            reason: "the line is \(line.count) bytes, more than the \(RecordSchema.maximumLineBytes) a "
                                + "record may have (docs/FORMAT.md, \"Record\")"))
                    return
                }
                do throws(RecordParseError) {
                    let parsed = try RecordParser.parse(line, mode: .input(now: now))
                    if parsed.idGiven { givesIDs = true }
                    var record = parsed.record
                    if parsed.costMissing {
                        // Priced as `append` prices a call without a cost; a line that cannot be
                        // priced (an unknown service tier, …) is a bad line.
                        do throws(SpendLogError) {
                            switch try pricer.price(&record) {
                            case .priced(let breakdown):
                                for note in breakdown.notes where !pricingNotes.contains(note) {
                                    pricingNotes.append(note)
                                }
                            case .unpriced:
                                if requirePrice {
                                    problems.append(
                                        Problem(
                                            line: number,
                                            reason: "model: " + RecordPricer.missingPrice(model: record.model)))
                                    return
                                }
                                unpriced.add(record)
                            case .provided: break
                            }
                        } catch {
                            problems.append(Problem(line: number, reason: error.message))
                            return
                        }
                    }
                    do throws(RecordValidationError) { try record.validateForWriting() } catch {
                        problems.append(Problem(line: number, reason: "\(error.field): \(error.reason)"))
                        return
                    }
                    records.append(record)
                    lineNumbers.append(number)
                } catch {
                    problems.append(Problem(line: number, reason: error.description))
                }
            }
        }
    }
}
