import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// libpq, loaded with `dlopen` the first time a budget store is used. The `CLibPQ` target gives
/// the declarations only: linked at build time, libpq and what it needs (TLS, Kerberos, LDAP:
/// about twenty libraries) would be loaded by every `spendlog` process, which measured 12–20 ms
/// more per start on a 2-core machine, for every command, with a store or without.
struct LibPQ: @unchecked Sendable {
    typealias Conn = OpaquePointer
    typealias Res = OpaquePointer

    let PQconnectdbParams:
        @convention(c) (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> Conn?
    let PQconninfoParse:
        @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) ->
            UnsafeMutablePointer<PQconninfoOption>?
    let PQconninfoFree: @convention(c) (UnsafeMutablePointer<PQconninfoOption>?) -> Void
    let PQfreemem: @convention(c) (UnsafeMutableRawPointer?) -> Void
    let PQpass: @convention(c) (Conn?) -> UnsafeMutablePointer<CChar>?
    let PQstatus: @convention(c) (Conn?) -> ConnStatusType
    let PQerrorMessage: @convention(c) (Conn?) -> UnsafeMutablePointer<CChar>?
    let PQfinish: @convention(c) (Conn?) -> Void
    let PQsetNoticeProcessor: @convention(c) (Conn?, PQnoticeProcessor?, UnsafeMutableRawPointer?) -> PQnoticeProcessor?
    let PQbackendPID: @convention(c) (Conn?) -> Int32
    let PQsendQuery: @convention(c) (Conn?, UnsafePointer<CChar>?) -> Int32
    let PQgetResult: @convention(c) (Conn?) -> Res?
    let PQclear: @convention(c) (Res?) -> Void
    let PQresultStatus: @convention(c) (Res?) -> ExecStatusType
    let PQntuples: @convention(c) (Res?) -> Int32
    let PQnfields: @convention(c) (Res?) -> Int32
    let PQgetisnull: @convention(c) (Res?, Int32, Int32) -> Int32
    let PQgetvalue: @convention(c) (Res?, Int32, Int32) -> UnsafeMutablePointer<CChar>?
    let PQcmdTuples: @convention(c) (Res?) -> UnsafeMutablePointer<CChar>?
    let PQresultErrorField: @convention(c) (Res?, Int32) -> UnsafeMutablePointer<CChar>?
    let PQresultErrorMessage: @convention(c) (Res?) -> UnsafeMutablePointer<CChar>?

    /// The library, or why it could not be loaded.
    static let loaded: Result<LibPQ, DynamicLibrary.LoadFailure> = load()

    static func get() throws(DynamicLibrary.LoadFailure) -> LibPQ { try loaded.get() }

    private static func load() -> Result<LibPQ, DynamicLibrary.LoadFailure> {
        var library: DynamicLibrary
        switch DynamicLibrary.open(
            ["libpq.so.5", "libpq.so"], what: "PostgreSQL client library", install: "libpq5",
            purpose: "use a budget store")
        {
        case .success(let opened): library = opened
        case .failure(let failure): return .failure(failure)
        }
        func symbol<T>(_ name: String, _: KeyPath<LibPQ, T>) -> T? { library.symbol(name, as: T.self) }
        guard
            let PQconnectdbParams = symbol("PQconnectdbParams", \LibPQ.PQconnectdbParams),
            let PQconninfoParse = symbol("PQconninfoParse", \LibPQ.PQconninfoParse),
            let PQconninfoFree = symbol("PQconninfoFree", \LibPQ.PQconninfoFree),
            let PQfreemem = symbol("PQfreemem", \LibPQ.PQfreemem),
            let PQpass = symbol("PQpass", \LibPQ.PQpass),
            let PQstatus = symbol("PQstatus", \LibPQ.PQstatus),
            let PQerrorMessage = symbol("PQerrorMessage", \LibPQ.PQerrorMessage),
            let PQfinish = symbol("PQfinish", \LibPQ.PQfinish),
            let PQsetNoticeProcessor = symbol("PQsetNoticeProcessor", \LibPQ.PQsetNoticeProcessor),
            let PQbackendPID = symbol("PQbackendPID", \LibPQ.PQbackendPID),
            let PQsendQuery = symbol("PQsendQuery", \LibPQ.PQsendQuery),
            let PQgetResult = symbol("PQgetResult", \LibPQ.PQgetResult),
            let PQclear = symbol("PQclear", \LibPQ.PQclear),
            let PQresultStatus = symbol("PQresultStatus", \LibPQ.PQresultStatus),
            let PQntuples = symbol("PQntuples", \LibPQ.PQntuples),
            let PQnfields = symbol("PQnfields", \LibPQ.PQnfields),
            let PQgetisnull = symbol("PQgetisnull", \LibPQ.PQgetisnull),
            let PQgetvalue = symbol("PQgetvalue", \LibPQ.PQgetvalue),
            let PQcmdTuples = symbol("PQcmdTuples", \LibPQ.PQcmdTuples),
            let PQresultErrorField = symbol("PQresultErrorField", \LibPQ.PQresultErrorField),
            let PQresultErrorMessage = symbol("PQresultErrorMessage", \LibPQ.PQresultErrorMessage)
        else {
            return .failure(library.lacking("PostgreSQL client library"))
        }
        return .success(
            LibPQ(
                PQconnectdbParams: PQconnectdbParams,
                PQconninfoParse: PQconninfoParse,
                PQconninfoFree: PQconninfoFree,
                PQfreemem: PQfreemem,
                PQpass: PQpass,
                PQstatus: PQstatus,
                PQerrorMessage: PQerrorMessage,
                PQfinish: PQfinish,
                PQsetNoticeProcessor: PQsetNoticeProcessor,
                PQbackendPID: PQbackendPID,
                PQsendQuery: PQsendQuery,
                PQgetResult: PQgetResult,
                PQclear: PQclear,
                PQresultStatus: PQresultStatus,
                PQntuples: PQntuples,
                PQnfields: PQnfields,
                PQgetisnull: PQgetisnull,
                PQgetvalue: PQgetvalue,
                PQcmdTuples: PQcmdTuples,
                PQresultErrorField: PQresultErrorField,
                PQresultErrorMessage: PQresultErrorMessage))
    }
}
