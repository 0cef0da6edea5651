import Testing

@testable import SpendLog

/// The row table sums as a `Dictionary` keyed by the same lanes does, through its growth, and keeps
/// the order in which rows first appeared.
@Suite struct RowTableTests {
    func metrics(_ n: Int64) -> RollupMetrics {
        var metrics = RollupMetrics()
        metrics.requests = 1
        metrics.costNanos = n
        metrics.inputTokens = n &* 3
        return metrics
    }

    /// Keys over two to sixteen lanes, many added more than once, and sets of keys that differ
    /// only in the lanes past the fourth (hashed only when one is set) or only in high bits.
    @Test func sumsAsADictionaryDoes() {
        var generator = SplitMix(state: 20_261_202)
        var table = RowTable()
        var expected: [[UInt32]: RollupMetrics] = [:]
        var order: [[UInt32]] = []
        for step in 0..<60_000 {
            var lanes = [UInt32](repeating: 0, count: 16)
            switch step % 4 {
            case 0:  // day × model, as `--by day --by model` makes them
                lanes[0] = UInt32(20_000 + step % 365)
                lanes[1] = UInt32.random(in: 1...12, using: &generator)
            case 1:  // the same first lanes, a later lane set
                lanes[0] = 20_000
                lanes[1] = 1
                lanes[Int.random(in: 4..<16, using: &generator)] = UInt32.random(in: 1...50, using: &generator)
            case 2:  // high bits only
                lanes[2] = UInt32.random(in: 0...7, using: &generator) << 29
                lanes[3] = UInt32.random(in: 0...7, using: &generator) << 29
            default:  // anything
                for lane in 0..<Int.random(in: 1...16, using: &generator) {
                    lanes[lane] = UInt32.random(in: 0...3, using: &generator)
                }
            }
            let value = metrics(Int64(step))
            if expected[lanes] == nil { order.append(lanes) }
            expected[lanes, default: RollupMetrics()].add(value)
            table.add(SIMD16(lanes), value)
        }
        #expect(table.count == expected.count)
        #expect(table.keys.map { key in key.indices.map { key[$0] } } == order)
        for (key, metrics) in zip(table.keys, table.metrics) {
            #expect(expected[key.indices.map { key[$0] }] == metrics)
        }
        #expect(expected.values.reduce(0) { $0 + $1.requests } == 60_000)
    }
}
