import Foundation
import Testing

/// What an error shows of a file's content: quoted, escaped and cut, whatever the file holds.
@Suite struct ErrorQuotingTests {
    /// FORMAT replaced by the start of a password file, with a terminal escape and bytes that are
    /// not UTF-8: the error shows 80 bytes of it, escaped, and nothing raw.
    @Test func aFormatFileWithOtherContentIsQuotedEscapedAndCut() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var content = Array("root:x:0:0:root:/root:/bin/bash\n\u{1B}]0;owned\u{07}daemon:x:1:1:".utf8)
        content += [0xFF, 0xFE] + Array(String(repeating: "bin:x:2:2:bin:/bin:/usr/sbin/nologin\n", count: 5).utf8)
        writeFile(dir + "/FORMAT", Data(content))

        let result = try spendlog(["tail", "--dir", dir])
        #expect(result.status == 65)
        #expect(
            result.stderr.contains(
                #"'\#(dir)/FORMAT' says "root:x:0:0:root:/root:/bin/bash\n\x1B]0;owned\x07daemon:x:1:1:\xFF\xFEbin:x:2:2:bin:/bin:/usr…", not "spendlog-log 1""#
            ), "\(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}") && !result.stderr.contains("\u{07}"))
        #expect(!result.stderr.contains("nologin"))
    }

    /// FORMAT as a link to /etc/passwd: not followed, so none of that file is shown.
    @Test func aFormatFileThatIsALinkIsNotRead() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/FORMAT", withDestinationPath: "/etc/passwd")
        let result = try spendlog(["tail", "--dir", dir])
        #expect(result.status != 0)
        #expect(
            result.stderr.contains("'\(dir)/FORMAT'") && result.stderr.contains("symbolic link"), "\(result.stderr)")
        #expect(!result.stderr.contains("root:"))
    }
}
