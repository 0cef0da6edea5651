#if canImport(Glibc)
    import Glibc
#endif

/// Gives each distinct dimension value a small integer id, looked up straight from the bytes of a
/// line so that the scan allocates nothing for values it has seen before. Id 0 means "absent".
///
/// A value is validated (UTF-8, the name rules of docs/FORMAT.md) once, when it is first added;
/// the table holds only valid names, so a hit needs no further check.
/// Not thread-safe for writes; the indexer shares one only while no thread adds to it.
final class StringInterner: @unchecked Sendable {
    private(set) var strings: [String] = [""]
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]
    private var lengths: [Int] = [0]
    private var hashes: [UInt64] = [0]
    /// Open addressing: slot → id, 0 = empty.
    private var slots: [UInt32] = Array(repeating: 0, count: 1024)
    private var mask = 1023
    /// Provider inferred from each model id (0: not computed yet).
    private var inferredProviders: [UInt32] = [0]

    var count: Int { strings.count }

    init() {}

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// The id of `bytes`, adding it when new; nil when it is not a valid name.
    @inline(__always)
    func id(forName bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
        let h = StringInterner.hash(bytes)
        if let id = lookup(bytes, hash: h) { return id }
        guard RecordSchema.textProblem(bytes, minimumBytes: 1, maximumBytes: RecordSchema.maximumNameBytes) == nil
        else {
            return nil
        }
        return insert(String(decoding: bytes, as: UTF8.self), bytes: bytes, hash: h)
    }

    /// The id of an already validated string.
    func id(for text: String) -> UInt32 {
        var copy = text
        return copy.withUTF8 { bytes in
            let h = StringInterner.hash(bytes)
            return lookup(bytes, hash: h) ?? insert(text, bytes: bytes, hash: h)
        }
    }

    func id(for text: String?) -> UInt32 { text.map { id(for: $0) } ?? 0 }

    /// The provider of a model given without one (docs/FORMAT.md, "Provider"), computed once per model.
    func inferredProvider(forModel model: UInt32) -> UInt32 {
        let known = inferredProviders[Int(model)]
        if known != 0 { return known }
        let provider = id(for: ProviderInference.provider(forModel: strings[Int(model)]))
        inferredProviders[Int(model)] = provider
        return provider
    }

    @inline(__always)
    private func lookup(_ bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> UInt32? {
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = slots[slot]
            if id == 0 { return nil }
            if hashes[Int(id)] == h && lengths[Int(id)] == bytes.count && equalsStored(Int(id), bytes) { return id }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private func equalsStored(_ id: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        arena.withUnsafeBufferPointer { stored in
            memcmp(stored.baseAddress! + starts[id], bytes.baseAddress!, bytes.count) == 0
        }
    }

    private func insert(_ text: String, bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> UInt32 {
        let id = UInt32(strings.count)
        strings.append(text)
        starts.append(arena.count)
        lengths.append(bytes.count)
        hashes.append(h)
        inferredProviders.append(0)
        arena.append(contentsOf: bytes)
        if strings.count * 2 > slots.count { grow() } else { place(id, hash: h) }
        return id
    }

    private func place(_ id: UInt32, hash h: UInt64) {
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = id
    }

    private func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for id in 1..<strings.count { place(UInt32(id), hash: hashes[id]) }
    }
}
