import Testing

@testable import SpendLog

/// The loader behind libpq and SQLite: what a missing library or function says.
@Suite struct DynamicLibraryTests {
    @Test func aLibraryThatIsNotThereIsNamedWithHowToInstallIt() {
        switch DynamicLibrary.open(
            ["libspendlog-absent.so.9", "libspendlog-absent.so"], what: "absent library", install: "absent9",
            purpose: "test the loader")
        {
        case .success: Issue.record("a library that does not exist was loaded")
        case .failure(let failure):
            #expect(failure.reason.hasPrefix("the absent library (libspendlog-absent.so.9) could not be loaded ("))
            // The loader's own message, naming the last file it tried.
            #expect(failure.reason.contains("libspendlog-absent.so"))
            #expect(failure.reason.hasSuffix("install it (Debian and Ubuntu: apt-get install absent9) to test the loader."))
        }
    }

    @Test func functionsALibraryLacksAreListedInTheOrderAsked() throws {
        var library = try DynamicLibrary.open(["libc.so.6"], what: "C library", install: "libc6", purpose: "test")
            .get()
        typealias Strlen = @convention(c) (UnsafePointer<CChar>?) -> Int
        let found = library.symbol("strlen", as: Strlen.self)
        let strlen = try #require(found)
        #expect(strlen("four") == 4)
        #expect(library.symbol("spendlog_no_such_function", as: Strlen.self) == nil)
        #expect(library.symbol("spendlog_nor_this_one", as: Strlen.self) == nil)
        #expect(
            library.lacking("C library").reason
                == "the C library lacks spendlog_no_such_function, spendlog_nor_this_one.")
    }
}
