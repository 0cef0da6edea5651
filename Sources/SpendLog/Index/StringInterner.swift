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
    /// Per id: where its bytes are in `arena`, how many, and their hash. Raw storage: the scan
    /// looks values up once per name of every record, without exclusivity or uniqueness checks.
    private struct Entry {
        var start: Int
        var length: Int
        var hash: UInt64
    }
    private var entries: UnsafeMutablePointer<Entry>
    private var entryCapacity = 64
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCount = 0
    private var arenaCapacity = 4096
    /// Open addressing: slot → id, 0 = empty.
    private var slots: UnsafeMutablePointer<UInt32>
    private var mask = 1023
    /// Provider inferred from each model id (0: not computed yet).
    private var inferredProviders: [UInt32] = [0]
    /// The ids of the two status values, once added (0: not yet).
    private var okID: UInt32 = 0
    private var errorID: UInt32 = 0

    var count: Int { strings.count }

    init() {
        entries = .allocate(capacity: entryCapacity)
        entries.initialize(to: Entry(start: 0, length: 0, hash: 0))
        arena = .allocate(capacity: arenaCapacity)
        slots = .allocate(capacity: mask + 1)
        slots.initialize(repeating: 0, count: mask + 1)
    }

    deinit {
        entries.deallocate()
        arena.deallocate()
        slots.deallocate()
    }

    /// FNV-1a over 8-byte words, then a final mix: the ids do not depend on it, only the slots.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var at = 0
        let count = bytes.count
        while at + 8 <= count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) &* 0x0000_0100_0000_01b3
            h ^= h >> 29
            at += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while at < count {
            tail |= UInt64(base[at]) << shift
            shift += 8
            at += 1
        }
        h = (h ^ tail) &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 31)
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

    /// The id of the status `ok`.
    @inline(__always)
    var statusOK: UInt32 {
        if okID == 0 { okID = id(for: "ok") }
        return okID
    }

    /// The id of the status `error`.
    @inline(__always)
    var statusError: UInt32 {
        if errorID == 0 { errorID = id(for: "error") }
        return errorID
    }

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
            let entry = entries[Int(id)]
            if entry.hash == h && entry.length == bytes.count
                && (bytes.count == 0 || shortBytesEqual(arena + entry.start, bytes.baseAddress!, bytes.count))
            {
                return id
            }
            slot = (slot + 1) & mask
        }
    }

    private func insert(_ text: String, bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> UInt32 {
        let id = UInt32(strings.count)
        strings.append(text)
        if strings.count > entryCapacity {
            let grown = UnsafeMutablePointer<Entry>.allocate(capacity: entryCapacity * 2)
            grown.moveInitialize(from: entries, count: entryCapacity)
            entries.deallocate()
            entries = grown
            entryCapacity *= 2
        }
        if arenaCount + bytes.count > arenaCapacity {
            var capacity = arenaCapacity * 2
            while arenaCount + bytes.count > capacity { capacity *= 2 }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            grown.update(from: arena, count: arenaCount)
            arena.deallocate()
            arena = grown
            arenaCapacity = capacity
        }
        (entries + Int(id)).initialize(to: Entry(start: arenaCount, length: bytes.count, hash: h))
        if let base = bytes.baseAddress { (arena + arenaCount).update(from: base, count: bytes.count) }
        arenaCount += bytes.count
        inferredProviders.append(0)
        if strings.count * 2 > mask + 1 { grow() } else { place(id, hash: h) }
        return id
    }

    private func place(_ id: UInt32, hash h: UInt64) {
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = id
    }

    private func grow() {
        let size = (mask + 1) * 2
        slots.deallocate()
        slots = .allocate(capacity: size)
        slots.initialize(repeating: 0, count: size)
        mask = size - 1
        for id in 1..<strings.count { place(UInt32(id), hash: entries[id].hash) }
    }
}
