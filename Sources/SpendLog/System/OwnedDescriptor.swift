import SystemPackage

/// A descriptor closed when the last reference goes away, so that a group commit can fsync a
/// segment that a concurrent rotation has already replaced.
final class OwnedDescriptor: @unchecked Sendable {
    let fd: FileDescriptor
    let path: String

    init(_ fd: FileDescriptor, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { FileSystem.close(fd) }
}
