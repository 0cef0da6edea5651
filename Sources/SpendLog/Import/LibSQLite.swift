import CSQLite

#if canImport(Glibc)
    import Glibc
#endif

/// The system SQLite, loaded with `dlopen` the first time `spendlog import` opens a database. The
/// `CSQLite` target gives the declarations only: linked at build time, libsqlite3 would be loaded
/// and relocated by every `spendlog` process (about 1,600 symbol bindings, a quarter of a
/// millisecond of each `spendlog append` on a 2-core machine) for the one command that reads it.
struct LibSQLite: @unchecked Sendable {
    typealias Database = OpaquePointer
    typealias Statement = OpaquePointer

    let open_v2: @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<Database?>?, Int32, UnsafePointer<CChar>?) -> Int32
    let busy_timeout: @convention(c) (Database?, Int32) -> Int32
    let close_v2: @convention(c) (Database?) -> Int32
    let errcode: @convention(c) (Database?) -> Int32
    let errmsg: @convention(c) (Database?) -> UnsafePointer<CChar>?
    let prepare_v2:
        @convention(c) (
            Database?, UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<Statement?>?,
            UnsafeMutablePointer<UnsafePointer<CChar>?>?
        ) -> Int32
    let finalize: @convention(c) (Statement?) -> Int32
    let step: @convention(c) (Statement?) -> Int32
    let column_count: @convention(c) (Statement?) -> Int32
    let column_type: @convention(c) (Statement?, Int32) -> Int32
    let column_int64: @convention(c) (Statement?, Int32) -> Int64
    let column_double: @convention(c) (Statement?, Int32) -> Double
    let column_text: @convention(c) (Statement?, Int32) -> UnsafePointer<UInt8>?
    let column_bytes: @convention(c) (Statement?, Int32) -> Int32

    /// The library, or why it could not be loaded.
    static let loaded: Result<LibSQLite, DynamicLibrary.LoadFailure> = load()

    static func get() throws(DynamicLibrary.LoadFailure) -> LibSQLite { try loaded.get() }

    private static func load() -> Result<LibSQLite, DynamicLibrary.LoadFailure> {
        var library: DynamicLibrary
        switch DynamicLibrary.open(
            ["libsqlite3.so.0", "libsqlite3.so"], what: "SQLite library", install: "libsqlite3-0",
            purpose: "import a SQLite database")
        {
        case .success(let opened): library = opened
        case .failure(let failure): return .failure(failure)
        }
        func symbol<T>(_ name: String, _: KeyPath<LibSQLite, T>) -> T? { library.symbol(name, as: T.self) }
        guard
            let open_v2 = symbol("sqlite3_open_v2", \LibSQLite.open_v2),
            let busy_timeout = symbol("sqlite3_busy_timeout", \LibSQLite.busy_timeout),
            let close_v2 = symbol("sqlite3_close_v2", \LibSQLite.close_v2),
            let errcode = symbol("sqlite3_errcode", \LibSQLite.errcode),
            let errmsg = symbol("sqlite3_errmsg", \LibSQLite.errmsg),
            let prepare_v2 = symbol("sqlite3_prepare_v2", \LibSQLite.prepare_v2),
            let finalize = symbol("sqlite3_finalize", \LibSQLite.finalize),
            let step = symbol("sqlite3_step", \LibSQLite.step),
            let column_count = symbol("sqlite3_column_count", \LibSQLite.column_count),
            let column_type = symbol("sqlite3_column_type", \LibSQLite.column_type),
            let column_int64 = symbol("sqlite3_column_int64", \LibSQLite.column_int64),
            let column_double = symbol("sqlite3_column_double", \LibSQLite.column_double),
            let column_text = symbol("sqlite3_column_text", \LibSQLite.column_text),
            let column_bytes = symbol("sqlite3_column_bytes", \LibSQLite.column_bytes)
        else {
            return .failure(library.lacking("SQLite library"))
        }
        let loaded = LibSQLite(
            open_v2: open_v2, busy_timeout: busy_timeout, close_v2: close_v2, errcode: errcode, errmsg: errmsg,
            prepare_v2: prepare_v2, finalize: finalize, step: step, column_count: column_count,
            column_type: column_type, column_int64: column_int64, column_double: column_double,
            column_text: column_text, column_bytes: column_bytes)
        return .success(loaded)
    }
}
