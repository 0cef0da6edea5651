/// Metrics summed by a key of `UInt32` lanes: an open-addressing hash map that keeps its keys in
/// the order they were first added. It avoids `Dictionary`'s costs (SipHash, copy-on-write
/// checks): a multiply-xor mix, linear probing, and storage it owns outright. Two uses, each
/// adding once per record or cell it reads:
/// - ``CellMap``: rollup cells being indexed (lane 0 the time bucket, lanes 1… value ids), once
///   per record and cube;
/// - the rows of a `stats` answer (one lane per group key, the lanes past them 0), once per cell
///   or record summed.
/// The hash is not keyed: lanes are interned ids (numbered in the order values first appear) and
/// time buckets, so a log made to collide could slow the sums down, never change them.
final class SumMap<Key: SIMD>: @unchecked Sendable where Key.Scalar == UInt32 {
    private(set) var count = 0
    private var capacity: Int
    private var keyStorage: UnsafeMutablePointer<Key>
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
    var keys: UnsafeBufferPointer<Key> { UnsafeBufferPointer(start: keyStorage, count: count) }
    var values: UnsafeBufferPointer<RollupMetrics> { UnsafeBufferPointer(start: valueStorage, count: count) }

    /// The key's 64-bit words multiplied and xored, mixed after every four (a key of eight lanes,
    /// a ``CellMap``'s, is mixed once).
    @inline(__always)
    static func hash(_ key: Key) -> Int {
        var h: UInt64 = 0
        withUnsafeBytes(of: key) { raw in
            for index in 0..<(MemoryLayout<Key>.size / 8) {
                let word = raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)
                switch index & 3 {
                case 0: h ^= word &* 0x9E37_79B9_7F4A_7C15
                case 1: h ^= word &* 0xC2B2_AE3D_27D4_EB4F
                case 2: h ^= word &* 0x1656_67B1_9E37_79F9
                default:
                    h ^= word &* 0x27D4_EB2F_1656_67C5
                    h ^= h >> 29
                    h = h &* 0xBF58_476D_1CE4_E5B9
                }
            }
        }
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    /// Whether two keys hold the same lanes, compared a 64-bit word at a time. `SIMD16`'s own `==`
    /// compiles to a lane-by-lane loop through the stack, 15 times the instructions of this.
    @inline(__always)
    static func equal(_ a: Key, _ b: Key) -> Bool {
        withUnsafeBytes(of: a) { x in
            withUnsafeBytes(of: b) { y in
                var difference: UInt64 = 0
                for index in 0..<(MemoryLayout<Key>.size / 8) {
                    difference |= x.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)
                        ^ y.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)
                }
                return difference == 0
            }
        }
    }

    @inline(__always)
    func add(_ key: Key, _ metrics: RollupMetrics) {
        var slot = Self.hash(key) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            let index = Int(entry) - 1
            if Self.equal(keyStorage[index], key) {
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

    func add(_ other: SumMap) {
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
        let keys = UnsafeMutablePointer<Key>.allocate(capacity: newCapacity)
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
            var slot = Self.hash(keyStorage[index]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(index + 1)
        }
    }
}

/// Rollup cells being summed by the indexer: lane 0 the time bucket, lanes 1… value ids.
typealias CellMap = SumMap<SIMD8<UInt32>>

extension SIMD where Scalar == UInt32 {
    /// Lane `index`, read as one load from the vector's bytes. A subscript with an index known
    /// only at run time copies the whole vector through the stack, twice for a write.
    @inline(__always)
    func lane(_ index: Int) -> UInt32 {
        precondition(index >= 0 && index < scalarCount)
        return withUnsafeBytes(of: self) { $0.load(fromByteOffset: index &* 4, as: UInt32.self) }
    }

    /// Sets lane `index` with one store into the vector's bytes (see ``lane(_:)``).
    @inline(__always)
    mutating func setLane(_ index: Int, _ value: UInt32) {
        precondition(index >= 0 && index < scalarCount)
        withUnsafeMutableBytes(of: &self) { $0.storeBytes(of: value, toByteOffset: index &* 4, as: UInt32.self) }
    }
}
