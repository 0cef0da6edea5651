/// Rollup cells being summed: an open-addressing hash map from a cell key (lane 0 the time
/// bucket, lanes 1… value ids) to its sums. The scan adds to it once per record and cube, so it
/// avoids `Dictionary`'s per-lookup hashing cost: a multiply-xor mix and linear probing.
struct CellMap {
    private(set) var keys: [SIMD8<UInt32>] = []
    private(set) var values: [RollupMetrics] = []
    /// Slot → index into `keys` + 1; 0 = empty.
    private var slots: [UInt32]
    private var mask: Int

    init(capacity: Int = 256) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }

    @inline(__always)
    static func hash(_ key: SIMD8<UInt32>) -> Int {
        let w = unsafeBitCast(key, to: SIMD4<UInt64>.self)
        var h = w[0] &* 0x9E37_79B9_7F4A_7C15
        h ^= w[1] &* 0xC2B2_AE3D_27D4_EB4F
        h ^= w[2] &* 0x1656_67B1_9E37_79F9
        h ^= w[3] &* 0x27D4_EB2F_1656_67C5
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    @inline(__always)
    mutating func add(_ key: SIMD8<UInt32>, _ metrics: RollupMetrics) {
        var slot = CellMap.hash(key) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            let index = Int(entry) - 1
            if keys[index] == key {
                values[index].add(metrics)
                return
            }
            slot = (slot + 1) & mask
        }
        keys.append(key)
        values.append(metrics)
        slots[slot] = UInt32(keys.count)
        if keys.count * 2 > slots.count { grow() }
    }

    mutating func add(_ other: CellMap) {
        for index in 0..<other.keys.count { add(other.keys[index], other.values[index]) }
    }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        for index in slots.indices { slots[index] = 0 }
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for (index, key) in keys.enumerated() {
            var slot = CellMap.hash(key) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(index + 1)
        }
    }
}
