import Testing

@testable import SpendLog

/// The sum map sums as a `Dictionary` keyed by the same lanes does, through its growth, and keeps
/// the order in which keys first appeared: with the indexer's eight lanes and a query's sixteen.
@Suite struct SumMapTests {
    func metrics(_ n: Int64) -> RollupMetrics {
        var metrics = RollupMetrics()
        metrics.requests = 1
        metrics.costNanos = n
        metrics.inputTokens = n &* 3
        return metrics
    }

    /// Keys over one to all lanes, many added more than once: keys as `--by day --by model` makes
    /// them, keys that differ only in a later lane, and keys that differ only in high bits.
    func sumsAsADictionaryDoes<Key: SIMD>(_ map: SumMap<Key>) where Key.Scalar == UInt32 {
        var generator = SplitMix(state: 20_261_202)
        var expected: [[UInt32]: RollupMetrics] = [:]
        var order: [[UInt32]] = []
        let width = Key.scalarCount
        for step in 0..<60_000 {
            var lanes = [UInt32](repeating: 0, count: width)
            switch step % 4 {
            case 0:
                lanes[0] = UInt32(20_000 + step % 365)
                lanes[1] = UInt32.random(in: 1...12, using: &generator)
            case 1:
                lanes[0] = 20_000
                lanes[1] = 1
                lanes[Int.random(in: 4..<width, using: &generator)] = UInt32.random(in: 1...50, using: &generator)
            case 2:
                lanes[2] = UInt32.random(in: 0...7, using: &generator) << 29
                lanes[3] = UInt32.random(in: 0...7, using: &generator) << 29
            default:
                for lane in 0..<Int.random(in: 1...width, using: &generator) {
                    lanes[lane] = UInt32.random(in: 0...3, using: &generator)
                }
            }
            let value = metrics(Int64(step))
            if expected[lanes] == nil { order.append(lanes) }
            expected[lanes, default: RollupMetrics()].add(value)
            map.add(Key(lanes), value)
        }
        #expect(map.count == expected.count)
        #expect(map.keys.map { key in key.indices.map { key[$0] } } == order)
        for (key, metrics) in zip(map.keys, map.values) {
            #expect(expected[key.indices.map { key[$0] }] == metrics)
        }
        #expect(map.values.reduce(0) { $0 + $1.requests } == 60_000)
    }

    @Test func eightLanesSumAsADictionaryDoes() { sumsAsADictionaryDoes(CellMap(capacity: 16)) }

    @Test func sixteenLanesSumAsADictionaryDoes() { sumsAsADictionaryDoes(SumMap<SIMD16<UInt32>>()) }
}
