#if canImport(Glibc)
    import Glibc
#endif

/// A system library loaded with `dlopen` when a command first needs it (libpq for budget stores,
/// libsqlite3 for `import`), so that no other command pays for loading and relocating it.
struct DynamicLibrary {
    private let handle: UnsafeMutableRawPointer
    /// The names ``symbol(_:as:)`` did not find, in the order asked.
    private(set) var missing: [String] = []

    /// Why a library could not be used, for the command's error message.
    struct LoadFailure: Error {
        var reason: String
    }

    /// The first of `names` that loads. The failure names `what` the library is, the first of
    /// `names`, the loader's message, and how to install it (`install`) to do `purpose`.
    static func open(_ names: [String], what: String, install: String, purpose: String)
        -> Result<DynamicLibrary, LoadFailure>
    {
        for name in names {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) { return .success(DynamicLibrary(handle: handle)) }
        }
        let message = dlerror().map { String(cString: $0) } ?? "not found"
        return .failure(
            LoadFailure(
                reason: "the \(what) (\(names[0])) could not be loaded (\(message)); install it (Debian and "
                    + "Ubuntu: apt-get install \(install)) to \(purpose)."))
    }

    /// The failure for the functions ``symbol(_:as:)`` did not find.
    func lacking(_ what: String) -> LoadFailure {
        LoadFailure(reason: "the \(what) lacks \(missing.joined(separator: ", ")).")
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
