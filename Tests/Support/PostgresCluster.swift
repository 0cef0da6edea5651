import Foundation

/// A throwaway PostgreSQL cluster on loopback in a temporary folder, run as `nobody` when the
/// tests run as root (the server refuses to run as root). It can be stopped and started again
/// on the same port, as a server restart.
public final class PostgresCluster {
    public let folder: String
    /// Chosen when the cluster is made; a restart reuses it.
    public private(set) var port: Int
    public let bin: String
    let asUser: [String]

    public init(in folder: String) throws {
        self.folder = folder
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap { Int($0) }.sorted()
        guard let version = versions.last else {
            throw CommandFailure("PostgreSQL is not installed (/usr/lib/postgresql): run `make test-deps`.")
        }
        bin = "/usr/lib/postgresql/\(version)/bin"
        asUser = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "nobody", "--"] : []
        port = PostgresCluster.freePort()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if getuid() == 0 { chown(folder, 65534, 65534) }
        try run(bin + "/initdb", ["-D", folder + "/data", "-U", "spendlog", "--auth=trust", "-E", "UTF8", "--no-sync"])
        // A port free when probed can be taken before the server binds it (initdb takes seconds,
        // and other tests run servers and clients meanwhile): then the server tries another.
        for attempt in 1... {
            do {
                try start()
                return
            } catch let failure as CommandFailure where attempt < 20 && failure.description.contains("already in use") {
                port = PostgresCluster.freePort()
            }
        }
    }

    /// A loopback TCP port nothing listens on when probed, drawn below the kernel's range of
    /// ephemeral ports (32768 and up by default), where client connections take theirs.
    static func freePort() -> Int {
        while true {
            let candidate = Int.random(in: 10_000..<32_000)
            let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(probe) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(candidate).bigEndian
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 { return candidate }
        }
    }

    /// Starts the server (again) on its port and waits until it accepts connections.
    public func start() throws {
        try run(
            bin + "/pg_ctl",
            [
                "-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "120", "-o",
                "-c listen_addresses=127.0.0.1 -p \(port) -k \(folder) -c fsync=off", "start",
            ])
    }

    /// Through Python's `subprocess`, which closes every inherited descriptor: the server that
    /// `pg_ctl` leaves running must not hold one this process waits on.
    @discardableResult
    public func run(_ tool: String, _ arguments: [String]) throws -> String {
        let all =
            [TestPaths.python, "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"] + asUser
            + [tool] + arguments
        let r = try runProcess(all[0], Array(all.dropFirst()), workingDirectory: folder)
        guard r.status == 0 else {
            let log = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? ""
            throw CommandFailure("\(tool) failed (\(r.status)): \(r.stderr)\(r.stdout)\n\(log)")
        }
        return r.stdout
    }

    /// Runs SQL (and psql meta-commands) over TCP on loopback; stops at the first error.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres", tuplesOnly: Bool = false) throws -> String {
        let r = try runProcess(
            bin + "/psql",
            ["-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", "spendlog", "-d", database]
                + (tuplesOnly ? ["-A", "-t", "-q"] : []),
            input: Data(sql.utf8))
        guard r.status == 0 else { throw CommandFailure("psql failed: \(r.stderr)") }
        return tuplesOnly ? r.stdout : r.stdout + r.stderr
    }

    /// Stops the server at once (`immediate`: no shutdown checkpoint, connections cut).
    public func stop() {
        _ = try? run(bin + "/pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"])
    }
}

public struct CommandFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ text: String) { description = text }
}
