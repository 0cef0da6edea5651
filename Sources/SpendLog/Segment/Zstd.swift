import CZstd

/// Streaming zstd compression into a file, with the content checksum on, as sealed segments
/// require (docs/FORMAT.md, "Sealed segment").
final class ZstdFileCompressor {
    private let context: OpaquePointer
    private var output: [UInt8]

    init(level: Int32) throws(SpendLogError) {
        guard let context = ZSTD_createCCtx() else {
            throw SpendLogError(code: .io, message: "Could not allocate a zstd compression context (out of memory).")
        }
        self.context = context
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        output = [UInt8](repeating: 0, count: Int(ZSTD_CStreamOutSize()))
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses `input`; `end` finishes the frame. `sink` receives each compressed chunk.
    func compress(
        _ input: UnsafeRawBufferPointer, end: Bool, sink: (UnsafeRawBufferPointer) throws(SpendLogError) -> Void
    ) throws(SpendLogError) {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            let (remaining, produced): (Int, Int) = output.withUnsafeMutableBytes { out in
                var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                let r = ZSTD_compressStream2(context, &outBuffer, &inBuffer, end ? ZSTD_e_end : ZSTD_e_continue)
                return (r, outBuffer.pos)
            }
            if ZSTD_isError(remaining) != 0 {
                throw SpendLogError(
                    code: .io, message: "zstd compression failed: \(String(cString: ZSTD_getErrorName(remaining))).")
            }
            if produced > 0 {
                let result = output.withUnsafeBytes { raw in
                    Result { () throws(SpendLogError) in try sink(UnsafeRawBufferPointer(rebasing: raw[0..<produced])) }
                }
                try result.get()
            }
            let finished = end ? remaining == 0 : inBuffer.pos == inBuffer.size
            if finished { return }
        }
    }
}

/// Streaming zstd decompression that reports where in the compressed input it failed.
final class ZstdStreamDecompressor {
    private let context: OpaquePointer
    /// Bytes of compressed input consumed so far.
    private(set) var consumed: Int64 = 0
    /// Whether the last frame seen was complete (all of it, checksum verified).
    private(set) var atFrameBoundary = true
    /// Frames fully decoded with their checksums verified.
    private(set) var framesCompleted = 0
    private var output: [UInt8]

    init() throws(SpendLogError) {
        guard let context = ZSTD_createDCtx() else {
            throw SpendLogError(code: .io, message: "Could not allocate a zstd decompression context (out of memory).")
        }
        self.context = context
        output = [UInt8](repeating: 0, count: Int(ZSTD_DStreamOutSize()) * 4)
    }

    deinit { ZSTD_freeDCtx(context) }

    struct Failure: Error {
        var offset: Int64
        var reason: String
    }

    /// Decompresses one chunk of input; `sink` receives the decompressed bytes.
    func decompress<E: Error>(
        _ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(Either<Failure, E>) {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            let before = inBuffer.pos
            let (r, produced): (Int, Int) = output.withUnsafeMutableBytes { out in
                var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                let r = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                return (r, outBuffer.pos)
            }
            consumed += Int64(inBuffer.pos - before)
            if ZSTD_isError(r) != 0 {
                let name = String(cString: ZSTD_getErrorName(r))
                throw .left(Failure(offset: consumed, reason: "zstd: \(name)"))
            }
            if produced > 0 {
                let result = output.withUnsafeBytes { raw in
                    Result { () throws(E) in try sink(UnsafeRawBufferPointer(rebasing: raw[0..<produced])) }
                }
                do throws(E) { try result.get() } catch { throw .right(error) }
            }
            if r == 0 {
                // A frame ended and its checksum matched.
                atFrameBoundary = true
                framesCompleted += 1
                if inBuffer.pos == inBuffer.size { return }
            } else {
                atFrameBoundary = false
                // All input taken and the output buffer was not filled: zstd needs more input.
                if inBuffer.pos == inBuffer.size && produced < output.count { return }
            }
        }
    }
}

/// One of two errors.
enum Either<L: Error, R: Error>: Error {
    case left(L)
    case right(R)
}
