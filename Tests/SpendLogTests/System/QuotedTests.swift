import Foundation
import Testing

@testable import SpendLog

/// File content in error messages: quoted, escaped, cut.
@Suite struct QuotedTests {
    @Test func plainTextIsQuotedAsItIs() {
        #expect(Quoted("spendlog-log 2").description == #""spendlog-log 2""#)
        #expect(Quoted("Grüße, 東京").description == #""Grüße, 東京""#)
        #expect(Quoted([UInt8]()).description == #""""#)
    }

    @Test func controlCharactersQuotesAndBackslashesAreEscaped() {
        #expect(Quoted("a\nb\tc\rd").description == #""a\nb\tc\rd""#)
        #expect(Quoted("say \"hi\" \\ bye").description == #""say \"hi\" \\ bye""#)
        #expect(Quoted("\u{1B}[31mred\u{7F}\u{0}").description == #""\x1B[31mred\x7F\x00""#)
        // C1 controls and bidirectional overrides reorder or hide what a terminal shows.
        #expect(Quoted("a\u{85}b\u{202E}c\u{2066}d").description == #""a\u{85}b\u{202E}c\u{2066}d""#)
    }

    @Test func bytesThatAreNotUTF8AreEscapedOneByOne() {
        #expect(Quoted([0x61, 0xFF, 0xC3, 0x62, 0xE2, 0x82]).description == #""a\xFF\xC3b\xE2\x82""#)
        // An overlong encoding of '/' and a UTF-16 surrogate are not UTF-8 either.
        #expect(Quoted([0xC0, 0xAF, 0xED, 0xA0, 0x80]).description == #""\xC0\xAF\xED\xA0\x80""#)
    }

    @Test func longContentIsCutAfterEightyBytesWithAnEllipsis() {
        let line =
            "root:x:0:0:root:/root:/bin/bash\n" + String(repeating: "daemon:x:1:1::/usr/sbin:/bin/sh\n", count: 4)
        let shown = Quoted(line).description
        #expect(shown.hasPrefix(#""root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/sh\ndaemon:x:1:1::"#))
        #expect(shown.hasSuffix("…\""))
        // 80 bytes of input: the first two lines (64 bytes) and 16 of the third.
        #expect(shown == "\"" + Quoted(Array(line.utf8.prefix(80))).description.dropFirst().dropLast() + "…\"")
        // A character is never cut in half.
        let wide = String(repeating: "東", count: 30)  // 90 bytes
        #expect(Quoted(wide).description == "\"" + String(repeating: "東", count: 26) + "…\"")
        #expect(
            Quoted(String(repeating: "a", count: 80)).description == "\"" + String(repeating: "a", count: 80) + "\"")
    }
}
