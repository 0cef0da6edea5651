#if canImport(Glibc)
    import Glibc
#endif

// The two ways the library cuts bytes into lines: a stream read in chunks (segments, the
// control journal), and a whole input held in memory (ingest, provider responses).

/// Cuts a byte stream into `\n`-terminated lines, carrying a partial line across chunks.
struct LineSplitter {
    let path: String
    var carry: [UInt8] = []
    /// Offset of the next line's first byte.
    var offset: Int64 = 0
    var lines = 0
    var pending: Int { carry.count }

    init(path: String) { self.path = path }

    mutating func feed(
        _ bytes: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<UInt8>, Int64) throws(SpendLogError) -> Void
    ) throws(SpendLogError) {
        let b = bytes.bindMemory(to: UInt8.self)
        var start = 0
        let count = b.count
        while start < count {
            guard let raw = memchr(b.baseAddress! + start, 0x0A, count - start) else {
                carry.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<count]))
                if carry.count > RecordSchema.maximumLineBytes { throw tooLong() }
                return
            }
            let end = UnsafePointer(raw.assumingMemoryBound(to: UInt8.self)) - b.baseAddress!
            // The same limit wherever the chunks happen to end (docs/FORMAT.md, "Record").
            if carry.count + (end - start) > RecordSchema.maximumLineBytes { throw tooLong() }
            if carry.isEmpty {
                try body(UnsafeBufferPointer(rebasing: b[start..<end]), offset)
            } else {
                carry.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<end]))
                let line = carry
                carry.removeAll(keepingCapacity: true)
                let result = line.withUnsafeBufferPointer { buffer in
                    Result { () throws(SpendLogError) in try body(buffer, offset) }
                }
                try result.get()
                offset += Int64(line.count + 1)
                lines += 1
                start = end + 1
                continue
            }
            offset += Int64(end - start + 1)
            lines += 1
            start = end + 1
        }
    }

    private func tooLong() -> SpendLogError {
        SpendLogError.corruption(
            path: path, offset: offset,
            "a line is longer than \(RecordSchema.maximumLineBytes) bytes (not counting its newline), the longest "
                + "line a record may have")
    }
}

/// The lines of a whole input: split at `\n`, a `\r` before it dropped (files written on other
/// systems), numbered from 1. A last line without `\n` is a line too.
enum TextLines {
    static func forEach<E: Error>(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ body: (_ number: Int, _ line: UnsafeBufferPointer<UInt8>) throws(E) -> Void
    ) throws(E) {
        var start = 0
        var number = 0
        while start < bytes.count {
            number += 1
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var line = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if line.last == 0x0D { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
            try body(number, line)
            start = end + 1
        }
    }

    /// Whether a line holds nothing but spaces and tabs.
    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool { line.allSatisfy { $0 == 0x20 || $0 == 0x09 } }
}
