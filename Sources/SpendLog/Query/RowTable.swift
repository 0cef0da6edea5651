/// The rows of a ``RowAccumulator``: metrics summed by row key (one lane per group key, the
/// lanes past them 0). An open-addressed table probed linearly, whose hash multiplies the lanes
/// instead of running SipHash: a query looks a row up for every cell it sums (hundreds of
/// thousands over a large log), and a `Dictionary` keyed by the lanes spent two thirds of the
/// summing in hashing and finding them. The hash is not keyed: the lanes are interned ids
/// (numbered in the order values first appear) and time buckets, so a log made to collide could
/// slow a query down, never change its answer.
struct RowTable {
    /// The row keys, in the order they were first added.
    private(set) var keys: [SIMD16<UInt32>] = []
    /// The summed metrics of the row at the same index of ``keys``.
    private(set) var metrics: [RollupMetrics] = []
    /// Index into ``keys`` per slot, or -1 for an empty slot; a power of two long, at most half full.
    private var slots = [Int32](repeating: -1, count: 64)

    var count: Int { keys.count }

    /// Adds `value` to the row of `key`, making the row when it is new.
    @inline(__always)
    mutating func add(_ key: SIMD16<UInt32>, _ value: RollupMetrics) {
        let mask = slots.count - 1
        var slot = Self.hash(key) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { break }
            if keys[index] == key {
                metrics[index].add(value)
                return
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(keys.count)
        keys.append(key)
        var row = RollupMetrics()
        row.add(value)
        metrics.append(row)
        if keys.count * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (index, key) in keys.enumerated() {
            var slot = Self.hash(key) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }

    /// The first four lanes as two words, and the others only when one is set, mixed so that the
    /// low bits (the slot) depend on every bit of the key.
    @inline(__always)
    static func hash(_ key: SIMD16<UInt32>) -> Int {
        var h = (UInt64(key[0]) | UInt64(key[1]) << 32) &* 0x9E37_79B9_7F4A_7C15
        h ^= (UInt64(key[2]) | UInt64(key[3]) << 32) &* 0xC2B2_AE3D_27D4_EB4F
        if key.highHalf != SIMD8(repeating: 0) || key.lowHalf.highHalf != SIMD4(repeating: 0) {
            for lane in 4..<16 { h = (h ^ UInt64(key[lane])) &* 0x0000_0100_0000_01B3 }
        }
        h ^= h >> 32
        h &*= 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        return Int(truncatingIfNeeded: h)
    }
}
