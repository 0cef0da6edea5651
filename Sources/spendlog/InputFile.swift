import ArgumentParser
import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a whole input: a file, or `-` for standard input.
func readInputBytes(_ file: String) throws -> [UInt8] {
    let fd: Int32
    if file == "-" {
        fd = 0
    } else {
        fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SpendLogError(
                code: .invalidInput, message: "Could not open '\(file)': \(String(cString: strerror(errno))).")
        }
    }
    defer { if fd != 0 { Glibc.close(fd) } }
    var data: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw SpendLogError(
                code: .io,
                message:
                    "Could not read '\(file == "-" ? "standard input" : file)': \(String(cString: strerror(errno))).")
        }
        if n == 0 { break }
        data.append(contentsOf: chunk[0..<n])
    }
    return data
}
