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

    /// Ready for another file, keeping the context's window and the output buffer: memory that is
    /// already mapped, where a new decompressor would fault its pages in again.
    /// `offset` and `frame`: where in the file the input starts, at the start of which frame
    /// (1-based), for a reader that starts at a frame past the first: offsets and frame numbers
    /// in errors, and those given to `frameEnd`, are then the file's.
    func reset(offset: Int64 = 0, frame: Int = 1) {
        ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        consumed = offset
        atFrameBoundary = true
        framesCompleted = 0
        layout = ZstdFrameLayout(offset: offset, frame: frame)
    }

    struct Failure: Error {
        var offset: Int64
        var reason: String
    }

    /// Where the compressed input is: the frame header, block or checksum the next byte belongs
    /// to. zstd reports that a block is corrupt, not where in it (nor does it advance its input
    /// position on an error), so input is handed to it one part at a time and a failure is blamed
    /// on the part being fed.
    private var layout = ZstdFrameLayout()

    /// Decompresses one chunk of input; `sink` receives the decompressed bytes. `frameEnd` is
    /// told the compressed offset at which each frame ends (checksum verified), after `sink` got
    /// all of the frame's bytes.
    func decompress<E: Error>(
        _ input: UnsafeRawBufferPointer, frameEnd: (Int64) -> Void = { _ in },
        sink: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(Either<Failure, E>) {
        var start = 0
        while start < input.count {
            let taken: (count: Int, unit: ZstdFrameLayout.Unit, checksum: ZstdFrameLayout.Unit?)
            do throws(ZstdFrameLayout.Malformed) {
                taken = try layout.take(UnsafeRawBufferPointer(rebasing: input[start...]))
            } catch {
                throw .left(Failure(offset: error.offset, reason: "zstd: \(error.reason)"))
            }
            do throws(Either<ZstdError, E>) {
                try decompressPart(
                    UnsafeRawBufferPointer(rebasing: input[start..<(start + taken.count)]), frameEnd: frameEnd,
                    sink: sink)
            } catch {
                switch error {
                case .left(let zstd):
                    let unit = (zstd.isChecksumMismatch ? taken.checksum : nil) ?? taken.unit
                    throw .left(
                        Failure(
                            offset: unit.start,
                            reason: "zstd: \(zstd.name), in \(unit.description) (zstd names the part, not the byte)"))
                case .right(let inner): throw .right(inner)
                }
            }
            start += taken.count
        }
    }

    private func decompressPart<E: Error>(
        _ input: UnsafeRawBufferPointer, frameEnd: (Int64) -> Void, sink: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(Either<ZstdError, E>) {
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
                throw .left(
                    ZstdError(
                        name: String(cString: ZSTD_getErrorName(r)),
                        isChecksumMismatch: ZSTD_getErrorCode(r) == ZSTD_error_checksum_wrong))
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
                frameEnd(consumed)
                if inBuffer.pos == inBuffer.size { return }
            } else {
                atFrameBoundary = false
                // All input taken and the output buffer was not filled: zstd needs more input.
                if inBuffer.pos == inBuffer.size && produced < output.count { return }
            }
        }
    }
}

/// The parts of a stream of zstd frames (RFC 8878, "Zstandard Frames"): each frame's header,
/// its blocks (a 3-byte header and the block's content) and its optional 4-byte content
/// checksum; skippable frames. Fed the compressed bytes in order, it says which part each byte
/// belongs to and where that part starts and ends, so that an error can name the offset of the
/// damaged part. Headers it cannot take apart are reported at their own byte.
struct ZstdFrameLayout {
    enum Part: Sendable { case frameHeader, block, checksum, skippableFrame }

    struct Unit: Sendable, CustomStringConvertible {
        var part: Part
        var frame: Int
        /// 1-based, for blocks.
        var block: Int
        var start: Int64
        /// Known once the part's header was read.
        var end: Int64?

        var description: String {
            let range = end.map { "bytes \(start) to \($0 - 1)" } ?? "from byte \(start)"
            switch part {
            case .frameHeader: return "the header of frame \(frame) (\(range))"
            case .block: return "block \(block) of frame \(frame) (\(range))"
            case .checksum:
                return "the content checksum of frame \(frame) (\(range)); the damage may lie anywhere in that frame"
            case .skippableFrame: return "skippable frame \(frame) (\(range))"
            }
        }
    }

    struct Malformed: Error {
        var offset: Int64
        var reason: String
    }

    private enum Stage { case magic, descriptor, headerRest, blockHeader, blockBody, checksum, skipSize, skipBody }

    private var stage = Stage.magic
    private var need = 4
    private var header: [UInt8] = []
    private var position: Int64 = 0
    private var hasChecksum = false
    private var lastBlock = false
    private(set) var unit = Unit(part: .frameHeader, frame: 1, block: 0, start: 0, end: nil)

    init() {}

    /// A stream that starts at byte `offset` of its file, with frame number `frame`.
    init(offset: Int64, frame: Int) {
        position = offset
        unit = Unit(part: .frameHeader, frame: frame, block: 0, start: offset, end: nil)
    }

    static let maxBlockSize = 128 * 1024

    /// Takes bytes up to the end of the current part (or all of `bytes` if it goes on past them);
    /// returns how many it took and the part they belong to. A frame's last block is taken with
    /// the checksum after it (`checksum`): zstd then checks the checksum before it hands out the
    /// block's content, so a frame that fails its checksum yields no records from its last block.
    mutating func take(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> (
        count: Int, unit: Unit, checksum: Unit?
    ) {
        var i = 0
        var lastBlock: Unit?
        while i < bytes.count {
            let n = min(need, bytes.count - i)
            if stage != .blockBody && stage != .skipBody { header += bytes[i..<(i + n)] }
            i += n
            need -= n
            position += Int64(n)
            if need == 0 {
                let current = unit
                if try advance() {
                    if current.part == .block && stage == .checksum {
                        lastBlock = finished(current)
                        continue
                    }
                    if let lastBlock { return (i, lastBlock, finished(current)) }
                    return (i, finished(current), nil)
                }
            }
        }
        if let lastBlock { return (i, lastBlock, unit) }
        return (i, unit, nil)
    }

    private func finished(_ u: Unit) -> Unit {
        var done = u
        done.end = position
        return done
    }

    /// The current stage's bytes are all read: moves to the next; true when a part ended.
    private mutating func advance() throws(Malformed) -> Bool {
        let bytes = header
        header = []
        switch stage {
        case .magic:
            let magic = bytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            if magic == 0xFD2F_B528 {
                stage = .descriptor
                need = 1
            } else if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                unit.part = .skippableFrame
                stage = .skipSize
                need = 4
            } else {
                throw Malformed(
                    offset: position - 4,
                    reason: "no zstd frame starts at byte \(position - 4) (magic number \(String(magic, radix: 16)))")
            }
            return false
        case .descriptor:
            let d = bytes[0]
            guard d & 0x08 == 0 else {
                throw Malformed(offset: position - 1, reason: "the frame header's reserved bit is set")
            }
            let single = d & 0x20 != 0
            hasChecksum = d & 0x04 != 0
            let dictionary = [0, 1, 2, 4][Int(d & 3)]
            let contentSize = [single ? 1 : 0, 2, 4, 8][Int(d >> 6)]
            need = (single ? 0 : 1) + dictionary + contentSize
            unit.end = position + Int64(need)
            if need > 0 {
                stage = .headerRest
                return false
            }
            startBlock()
            return true
        case .headerRest:
            startBlock()
            return true
        case .blockHeader:
            let h = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
            lastBlock = h & 1 == 1
            let type = (h >> 1) & 3
            let size = h >> 3
            guard type != 3 else {
                throw Malformed(
                    offset: position - 3, reason: "the block header at byte \(position - 3) has the reserved type")
            }
            guard size <= ZstdFrameLayout.maxBlockSize else {
                throw Malformed(
                    offset: position - 3,
                    reason: "the block header at byte \(position - 3) gives a size of \(size) bytes, above 128 KiB")
            }
            need = type == 1 ? 1 : size
            unit.end = position + Int64(need)
            if need > 0 {
                stage = .blockBody
                return false
            }
            endBlock()
            return true
        case .blockBody:
            endBlock()
            return true
        case .checksum:
            startFrame()
            return true
        case .skipSize:
            need = Int(bytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            unit.end = position + Int64(need)
            if need > 0 {
                stage = .skipBody
                return false
            }
            startFrame()
            return true
        case .skipBody:
            startFrame()
            return true
        }
    }

    private mutating func startBlock() {
        stage = .blockHeader
        need = 3
        unit = Unit(part: .block, frame: unit.frame, block: unit.block + 1, start: position, end: nil)
    }

    private mutating func endBlock() {
        if !lastBlock {
            startBlock()
        } else if hasChecksum {
            stage = .checksum
            need = 4
            unit = Unit(part: .checksum, frame: unit.frame, block: 0, start: position, end: position + 4)
        } else {
            startFrame()
        }
    }

    private mutating func startFrame() {
        stage = .magic
        need = 4
        unit = Unit(part: .frameHeader, frame: unit.frame + 1, block: 0, start: position, end: nil)
    }
}

/// An error zstd reported, by its name.
struct ZstdError: Error {
    var name: String
    var isChecksumMismatch: Bool
}

/// One of two errors.
enum Either<L: Error, R: Error>: Error {
    case left(L)
    case right(R)
}
