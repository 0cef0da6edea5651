// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "spendlog",
    products: [
        .library(name: "SpendLog", targets: ["SpendLog"]),
        .executable(name: "spendlog", targets: ["spendlog"]),
        // The local dashboard and read-only HTTP API (`spendlog serve` runs it); a product of its
        // own so that the CLI neither links nor builds the HTTP server.
        .executable(name: "spendlog-serve", targets: ["spendlog-serve"]),
    ],
    dependencies: [
        // The CLI's parsing, help and validation.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Typed file descriptors and Errno for every system call the log makes.
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        // The HTTP server of spendlog-serve and of the example in Examples/BudgetedServer, and the
        // Prometheus text of /metrics. The CLI does not link them. Without Hummingbird's default
        // traits: no swift-configuration.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The level of the server's log (Hummingbird logs through swift-log).
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // HTTP field names of the servers' own headers.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // `swift package generate-documentation`: the DocC catalogue of the SpendLog library (make docs).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // libzstd, found through pkg-config; sealed segments are zstd frames.
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        // The system SQLite's declarations (Debian's libsqlite3-dev), to read the databases
        // `spendlog import` takes in. Not linked: loaded with dlopen when a database is opened, so
        // that no other command pays for loading and relocating it.
        .systemLibrary(
            name: "CSQLite",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // libpq's declarations (Debian's libpq-dev), the PostgreSQL client of shared budgets
        // (docs/FORMAT.md, "Shared budgets on PostgreSQL"): a synchronous client, no event loop, one
        // connection per CLI call. Not linked: loaded with dlopen when a budget store is used, so
        // that no other command pays for loading it and its TLS, Kerberos and LDAP libraries.
        .systemLibrary(
            name: "CLibPQ",
            providers: [.apt(["libpq-dev"])]
        ),
        // The few Linux calls neither Glibc's Swift overlay nor swift-system expose (statx).
        .target(name: "CSystemShims"),
        .target(
            name: "SpendLog",
            dependencies: [
                "CZstd",
                "CSQLite",
                "CLibPQ",
                "CSystemShims",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            // The fault points the crash tests arm exist only in debug builds: a release binary
            // has no code that an environment variable could make die mid-append.
            swiftSettings: [.define("SPENDLOG_FAULT_POINTS", .when(configuration: .debug))]
        ),
        .executableTarget(
            name: "spendlog",
            dependencies: [
                "SpendLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `spendlog serve`: the dashboard and the read-only API over HTTP.
        .executableTarget(
            name: "spendlog-serve",
            dependencies: [
                "SpendLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            // The OpenAPI document, served byte for byte (docs/openapi.json links to it).
            resources: [.embedInCode("openapi.json")]
        ),
        // Examples of the library's public API, built by `make test` and run by ExamplesTests.
        .executableTarget(name: "record-and-report", dependencies: ["SpendLog"], path: "Examples/RecordAndReport"),
        .executableTarget(
            name: "budgeted-server",
            dependencies: [
                "SpendLog", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Examples/BudgetedServer"),
        // A writer child process for the concurrency and crash tests (not installed).
        .executableTarget(name: "spendlog-harness", dependencies: ["SpendLog"]),
        // Helpers shared by the test targets (temporary folders, child processes, paths).
        .target(name: "SpendLogTestSupport", dependencies: ["SpendLog"], path: "Tests/Support"),
        .testTarget(name: "SpendLogTests", dependencies: ["SpendLog", "SpendLogTestSupport"]),
        // CLITests also reads the command line's own parsing (the append fast path) in process.
        .testTarget(name: "CLITests", dependencies: ["SpendLog", "SpendLogTestSupport", "spendlog"]),
    ]
)

// libFuzzer targets (Sources/spendlog-fuzz), only when SPENDLOG_FUZZ is set: `make soak-fuzz`.
if Context.environment["SPENDLOG_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "spendlog-fuzz", dependencies: ["SpendLog"], swiftSettings: [.define("SPENDLOG_FUZZ")]))
    package.products.append(.executable(name: "spendlog-fuzz", targets: ["spendlog-fuzz"]))
}

// Release builds made by the Makefile and the bench scripts (SPENDLOG_FAST_START=1) start the CLI
// in about half the time (docs/PERFORMANCE.md, "CLI start-up"). Start-up is most of a
// `spendlog append`, which a script in another language runs once per LLM call. Off unless the
// variable is 1, so a package that depends on the SpendLog library gets no unsafe flags unless
// its own build sets it. The static archives come with the toolchain's C++ library package
// (libstdc++-12-dev on Debian 12, which Swift's own install needs) and with libzstd-dev.
if Context.environment["SPENDLOG_FAST_START"] == "1" {
    for target in package.targets where ["SpendLog", "spendlog", "spendlog-harness"].contains(target.name) {
        // A generic type such as Set<String> gets its metadata from an accessor function, not by
        // demangling its name at run time. Demangling also looks up each conformance the type
        // needs (String: Hashable) by a scan of every conformance record the binary holds.
        var settings = target.swiftSettings ?? []
        settings.append(
            .unsafeFlags(
                ["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"], .when(configuration: .release)
            ))
        target.swiftSettings = settings
    }
    for target in package.targets where target.name == "spendlog" {
        // - libstdc++ and libzstd linked in, from their static archives: scripts/link holds
        //   linker scripts named like the shared libraries that point to the archives. The dynamic
        //   loader then neither maps them nor binds libstdc++'s symbols to itself at every start.
        // - A position-dependent executable: the loader has no relative relocations to apply to
        //   the binary's own data, and those pages are not copied on write at start-up. ASLR still places
        //   the stack, the heap and the shared libraries (libc) at random; the server, which takes
        //   requests from the network, is not built this way.
        target.linkerSettings = [
            .unsafeFlags(
                ["-L", Context.packageDirectory + "/scripts/link", "-Xclang-linker", "-no-pie"],
                .when(platforms: [.linux], configuration: .release))
        ]
    }
}

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
