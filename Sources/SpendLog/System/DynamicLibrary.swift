#if canImport(Glibc)
    import Glibc
#endif

/// A system library loaded with `dlopen` when a command first needs it (libpq for budget stores,
/// libsqlite3 for `import`), so that no other command pays for loading and relocating it.
struct DynamicLibrary {
    private let handle: UnsafeMutableRawPointer
    /// The names ``symbol(_:as:)`` did not find, in the order asked.
    private(set) var missing: [String] = []

    /// The first of `names` that loads, or the loader's message for the last one.
    static func open(_ names: [String]) -> Result<DynamicLibrary, LoadError> {
        for name in names {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) { return .success(DynamicLibrary(handle: handle)) }
        }
        return .failure(LoadError(message: dlerror().map { String(cString: $0) } ?? "not found"))
    }

    struct LoadError: Error {
        var message: String
    }

    /// The function `name`, as the C function type `type`; nil (and `name` in ``missing``) when
    /// the library lacks it.
    mutating func symbol<T>(_ name: String, as type: T.Type) -> T? {
        guard let pointer = dlsym(handle, name) else {
            missing.append(name)
            return nil
        }
        return unsafeBitCast(pointer, to: type)
    }
}
