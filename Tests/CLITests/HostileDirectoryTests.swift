import Foundation
import Testing

/// Log directories another user could have prepared: every folder of the log must be this user's
/// (or root's) and not writable by others, no folder below the log directory may be a link, and
/// no file of the log is opened through a link. Each case runs the built binary and checks that
/// the file a planted link points to is byte for byte what it was.
///
/// The ownership cases hand folders to `nobody`, which only root can do.
@Suite(.enabled(if: getuid() == 0, "changing a folder's owner needs root"))
struct HostileDirectoryTests {
    static let nobody: uid_t = 65534
    static let host = "probe"
    static let day = "2026-11-23"
    static let environment = ["SPENDLOG_HOST": host]
    static let appendArguments = [
        "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "10", "--output-tokens", "1", "--cost", "0.5",
        "--ts", "2026-11-23T10:00:00Z",
    ]
    static let secret = Data("root-owned file outside the log: must never change\n".utf8)

    /// A root-owned file outside the log, the target of the planted links.
    func target(in temp: TemporaryDirectory) -> String {
        let path = temp.path + "/outside-target"
        writeFile(path, HostileDirectoryTests.secret)
        return path
    }

    func append(_ dir: String) throws -> ProcessResult {
        try spendlog(["append", "--dir", dir] + HostileDirectoryTests.appendArguments, environment: Self.environment)
    }

    /// A log as `spendlog` makes it (one record), with the day folder of the records to come.
    func privateLog(_ temp: TemporaryDirectory) throws -> String {
        let dir = temp.path + "/log"
        let result = try append(dir)
        #expect(result.status == 0, "\(result.stderr)")
        return dir
    }

    func dayFolder(_ dir: String) -> String { dir + "/segments/day=\(Self.day)" }

    func plantSegmentLink(in dir: String, to target: String) throws {
        let segment = dayFolder(dir) + "/\(Self.host)-000000.jsonl"
        try? FileManager.default.removeItem(atPath: segment)
        try FileManager.default.createSymbolicLink(atPath: segment, withDestinationPath: target)
    }

    func chown(_ path: String, recursive: Bool = false) throws {
        let result = try runProcess(
            "/bin/chown", (recursive ? ["-R"] : []) + ["\(Self.nobody)", path])
        #expect(result.status == 0, "\(result.stderr)")
    }

    func chmod(_ path: String, _ mode: mode_t) { #expect(Glibc.chmod(path, mode) == 0) }

    func expectUnchanged(_ target: String, _ comment: Comment? = nil) {
        #expect(FileManager.default.contents(atPath: target) == HostileDirectoryTests.secret, comment)
    }

    /// The probe that found the defect: `nobody` prepares the log folder in a sticky, world-writable
    /// folder and links its first segment to a root-owned file; root's append must not touch it.
    @Test func aLogDirectoryPreparedByAnotherUserInAStickyFolderIsRefused() throws {
        let temp = TemporaryDirectory()
        let target = target(in: temp)
        let shared = temp.path + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        chmod(shared, 0o1777)
        let dir = shared + "/log"
        try FileManager.default.createDirectory(atPath: dayFolder(dir), withIntermediateDirectories: true)
        writeFile(dir + "/FORMAT", Data("spendlog-log 1\n".utf8))
        try plantSegmentLink(in: dir, to: target)
        try chown(dir, recursive: true)

        let result = try append(dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("'\(dir)' is owned by user \(Self.nobody)"), "\(result.stderr)")
        #expect(result.stderr.contains("chown"))
        expectUnchanged(target)
        #expect(try spendlog(["tail", "--dir", dir]).status != 0)
        expectUnchanged(target)
    }

    @Test func aWorldWritableSegmentsFolderIsRefused() throws {
        let temp = TemporaryDirectory()
        let target = target(in: temp)
        let dir = try privateLog(temp)
        try plantSegmentLink(in: dir, to: target)
        chmod(dir + "/segments", 0o777)

        let result = try append(dir)
        #expect(result.status != 0)
        #expect(
            result.stderr.contains("'\(dir)/segments' can be written by other users (mode 777)"), "\(result.stderr)")
        #expect(result.stderr.contains("chmod go-w '\(dir)/segments'"))
        expectUnchanged(target)
    }

    @Test func aGroupWritableDayFolderIsRefused() throws {
        let temp = TemporaryDirectory()
        let target = target(in: temp)
        let dir = try privateLog(temp)
        try plantSegmentLink(in: dir, to: target)
        chmod(dayFolder(dir), 0o770)

        let result = try append(dir)
        #expect(result.status != 0)
        #expect(
            result.stderr.contains("'\(dayFolder(dir))' can be written by other users (mode 770)"), "\(result.stderr)")
        expectUnchanged(target)
    }

    @Test func aDayFolderOwnedByAnotherUserIsRefused() throws {
        let temp = TemporaryDirectory()
        let target = target(in: temp)
        let dir = try privateLog(temp)
        try plantSegmentLink(in: dir, to: target)
        try chown(dayFolder(dir))

        let result = try append(dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("'\(dayFolder(dir))' is owned by user \(Self.nobody)"), "\(result.stderr)")
        expectUnchanged(target)
    }

    @Test func aBudgetFolderOwnedByAnotherUserIsRefused() throws {
        let temp = TemporaryDirectory()
        let target = target(in: temp)
        let dir = try privateLog(temp)
        try FileManager.default.createDirectory(atPath: dir + "/budget", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/budget/journal.jsonl", withDestinationPath: target)
        try chown(dir + "/budget")

        let result = try spendlog(
            ["limit", "set", "--scope", "global", "--type", "cost", "--window", "day", "--max", "5", "--dir", dir],
            environment: ["SPENDLOG_NOW": "2026-11-23T12:00:00Z"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("'\(dir)/budget' is owned by user \(Self.nobody)"), "\(result.stderr)")
        expectUnchanged(target)
    }

    /// In a log that is entirely this user's, a link planted in place of a segment (by the user
    /// themselves, or by root) is still not written through.
    @Test func aSegmentThatIsASymlinkIsNotFollowed() throws {
        let temp = TemporaryDirectory()
        let target = target(in: temp)
        let dir = try privateLog(temp)
        try plantSegmentLink(in: dir, to: target)

        let result = try append(dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("'\(dayFolder(dir))/\(Self.host)-000000.jsonl'"), "\(result.stderr)")
        #expect(result.stderr.contains("symbolic link"))
        expectUnchanged(target)
        #expect(try spendlog(["seal", "--dir", dir], environment: Self.environment).status != 0)
        expectUnchanged(target)
    }

    @Test func aDayFolderThatIsASymlinkIsRefused() throws {
        let temp = TemporaryDirectory()
        let target = target(in: temp)
        let dir = try privateLog(temp)
        let elsewhere = temp.path + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: elsewhere + "/\(Self.host)-000000.jsonl", withDestinationPath: target)
        let linked = dir + "/segments/day=2026-11-24"
        try FileManager.default.createSymbolicLink(atPath: linked, withDestinationPath: elsewhere)

        let result = try spendlog(
            ["append", "--dir", dir] + Self.appendArguments.dropLast(2) + ["--ts", "2026-11-24T10:00:00Z"],
            environment: Self.environment)
        #expect(result.status != 0)
        #expect(result.stderr.contains("'\(linked)' is a symbolic link inside the log directory"), "\(result.stderr)")
        expectUnchanged(target)
    }

    /// Lock files, the journal, the sidecar, the quiet-days hint, the index's lock and CURRENT, and
    /// FORMAT: each replaced by a link to the outside file, and the commands that use it run.
    @Test func controlFilesThatAreSymlinksAreNotFollowed() throws {
        let now = ["SPENDLOG_NOW": "2026-11-23T12:00:00Z", "SPENDLOG_HOST": Self.host]
        let cases: [(file: String, command: [String])] = [
            ("segments/day=\(Self.day)/\(Self.host).lock", ["append"] + Self.appendArguments),
            ("budget/lock", ["budget", "status"]),
            (
                "budget/journal.jsonl",
                ["limit", "set", "--scope", "global", "--type", "cost", "--window", "day", "--max", "5"]
            ),
            ("budget/sidecar", ["budget", "status"]),
            ("budget/quiet-days", ["append", "--enforce"] + Self.appendArguments),
            ("index/lock", ["index"]),
            ("index/CURRENT", ["stats", "--since", "2026-11-01", "--until", "2026-12-01"]),
            ("FORMAT", ["tail"]),
        ]
        // One log with every control file, copied (modes kept) for each case.
        let temp = TemporaryDirectory()
        let prepared = try privateLog(temp)
        for setup in [
            ["limit", "set", "--scope", "global", "--type", "cost", "--window", "day", "--max", "5"], ["index"],
        ] {
            let result = try spendlog(setup + ["--dir", prepared], environment: now)
            #expect(result.status == 0, "\(setup): \(result.stderr)")
        }
        for (n, (file, command)) in cases.enumerated() {
            let target = target(in: temp)
            let dir = temp.path + "/case-\(n)"
            try FileManager.default.copyItem(atPath: prepared, toPath: dir)
            let path = dir + "/" + file
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)

            let result = try spendlog(command + ["--dir", dir], environment: now)
            expectUnchanged(target, "\(file), \(command): \(result.stderr)")
            // Hints and checkpoints are replaced by a rename, which replaces the link itself;
            // every other file is refused with its path named.
            if file != "budget/quiet-days" && file != "budget/sidecar" {
                #expect(result.status != 0, "\(file)")
                #expect(result.stderr.contains("'\(path)'"), "\(file): \(result.stderr)")
            }
        }
    }

    /// `--dir` naming a link is the operator's own choice and keeps working: the records land in
    /// the folder it points to.
    @Test func aLogDirectoryThatIsASymlinkGivenByTheOperatorWorks() throws {
        let temp = TemporaryDirectory()
        let dir = try privateLog(temp)
        let linked = temp.path + "/linked-log"
        try FileManager.default.createSymbolicLink(atPath: linked, withDestinationPath: dir)

        let appended = try append(linked)
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(try spendlog(["seal", "--dir", linked], environment: Self.environment).status == 0)
        let indexed = try spendlog(["index", "--dir", linked])
        #expect(indexed.status == 0, "\(indexed.stderr)")
        let tail = try spendlog(["tail", "--dir", linked, "--json"])
        #expect(tail.status == 0, "\(tail.stderr)")
        #expect(tail.stdout.split(separator: "\n").count == 2)
        let verify = try spendlog(["verify", "--dir", linked])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(filesIn(dir + "/segments/day=\(Self.day)").contains("\(Self.host)-000000.jsonl.zst"))
    }

    /// With a umask that lets everyone write, the folders spendlog makes are still 0700, so the
    /// next command accepts them.
    @Test func foldersTheToolCreatesPassUnderAPermissiveUmask() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let now = "SPENDLOG_NOW=2026-11-23T12:00:00Z SPENDLOG_HOST=\(Self.host)"
        let script = [
            "umask 000",
            "\(now) '\(TestPaths.binary)' append --dir '\(dir)' \(Self.appendArguments.joined(separator: " "))",
            "\(now) '\(TestPaths.binary)' limit set --scope global --type cost --window day --max 5 --dir '\(dir)'",
            "\(now) '\(TestPaths.binary)' seal --dir '\(dir)'",
            "\(now) '\(TestPaths.binary)' index --dir '\(dir)'",
            "\(now) '\(TestPaths.binary)' append --enforce --dir '\(dir)' \(Self.appendArguments.joined(separator: " "))",
        ].joined(separator: " && ")
        let result = try runProcess("/bin/sh", ["-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        var folders = [dir, dir + "/segments", dayFolder(dir), dir + "/budget", dir + "/index"]
        folders += filesIn(dir + "/index").filter { $0.hasPrefix("gen-") }.map { dir + "/index/" + $0 }
        for folder in folders {
            var st = stat()
            #expect(lstat(folder, &st) == 0, "\(folder)")
            #expect(st.st_mode & 0o077 == 0, "\(folder): mode \(String(st.st_mode & 0o777, radix: 8))")
        }
    }
}
