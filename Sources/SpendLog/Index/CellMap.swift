/// Rollup cells being summed: an open-addressing hash map from a cell key (lane 0 the time
/// bucket, lanes 1… value ids) to its sums. The scan adds to it once per record and cube, so it
/// avoids `Dictionary`'s costs (SipHash, copy-on-write checks): a multiply-xor mix, linear probing,
/// and storage it owns outright.
final class CellMap: @unchecked Sendable {
    private(set) var count = 0
    private var capacity: Int
    private var keyStorage: UnsafeMutablePointer<SIMD8<UInt32>>
    private var valueStorage: UnsafeMutablePointer<RollupMetrics>
    /// Slot → index into the storage + 1; 0 = empty.
    private var slots: UnsafeMutablePointer<UInt32>
    private var mask: Int

    init(capacity: Int = 256) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        mask = size - 1
        slots = .allocate(capacity: size)
        slots.initialize(repeating: 0, count: size)
        self.capacity = size / 2
        keyStorage = .allocate(capacity: self.capacity)
        valueStorage = .allocate(capacity: self.capacity)
    }

    deinit {
        slots.deallocate()
        keyStorage.deinitialize(count: count)
        keyStorage.deallocate()
        valueStorage.deinitialize(count: count)
        valueStorage.deallocate()
    }

    var isEmpty: Bool { count == 0 }
    /// Valid until the next `add` or `removeAll`.
    var keys: UnsafeBufferPointer<SIMD8<UInt32>> { UnsafeBufferPointer(start: keyStorage, count: count) }
    var values: UnsafeBufferPointer<RollupMetrics> { UnsafeBufferPointer(start: valueStorage, count: count) }

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
    func add(_ key: SIMD8<UInt32>, _ metrics: RollupMetrics) {
        var slot = CellMap.hash(key) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            let index = Int(entry) - 1
            if keyStorage[index] == key {
                valueStorage[index].add(metrics)
                return
            }
            slot = (slot + 1) & mask
        }
        if count == capacity {
            grow()
            add(key, metrics)
            return
        }
        (keyStorage + count).initialize(to: key)
        (valueStorage + count).initialize(to: metrics)
        count += 1
        slots[slot] = UInt32(count)
    }

    func add(_ other: CellMap) {
        for index in 0..<other.count { add(other.keyStorage[index], other.valueStorage[index]) }
    }

    func removeAll() {
        keyStorage.deinitialize(count: count)
        valueStorage.deinitialize(count: count)
        count = 0
        slots.update(repeating: 0, count: mask + 1)
    }

    private func grow() {
        let newCapacity = capacity * 2
        let keys = UnsafeMutablePointer<SIMD8<UInt32>>.allocate(capacity: newCapacity)
        keys.moveInitialize(from: keyStorage, count: count)
        keyStorage.deallocate()
        keyStorage = keys
        let values = UnsafeMutablePointer<RollupMetrics>.allocate(capacity: newCapacity)
        values.moveInitialize(from: valueStorage, count: count)
        valueStorage.deallocate()
        valueStorage = values
        capacity = newCapacity
        slots.deallocate()
        let size = newCapacity * 2
        slots = .allocate(capacity: size)
        slots.initialize(repeating: 0, count: size)
        mask = size - 1
        for index in 0..<count {
            var slot = CellMap.hash(keyStorage[index]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(index + 1)
        }
    }
}
