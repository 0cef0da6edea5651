import Glibc
import Testing

@testable import SpendLog

/// The two names `collect` and `retention` add to a day folder, parsed in one place each, and
/// never taken for segments.
@Suite struct ScaleOutNameTests {
    @Test func collectTemporariesCarryTheirProcess() {
        let name = SegmentName(day: "2026-11-23", host: "web-1", sequence: 7)
        #expect(name.incomingFileName(pid: 4242) == "web-1-000007.incoming-4242")
        #expect(SegmentName.incomingProcess("web-1-000007.incoming-4242", day: "2026-11-23") == 4242)
        for other in [
            "web-1-000007.incoming-", "web-1-7.incoming-12", "web-1-000007.incoming-12x", "web-1-000007.jsonl.zst",
            ".incoming-12", "web-1-000007.incoming-99999999999",
        ] {
            #expect(SegmentName.incomingProcess(other, day: "2026-11-23") == nil, "\(other)")
        }
        #expect(SegmentName.parseFile("web-1-000007.incoming-4242", day: "2026-11-23") == nil)
    }

    @Test func retiredMarkersNameTheirSegment() {
        let name = SegmentName(day: "2026-11-23", host: "batch.eu", sequence: 12)
        #expect(name.retiredFileName == "batch.eu-000012.retired")
        #expect(SegmentName.retiredMarker("batch.eu-000012.retired", day: "2026-11-23") == name)
        #expect(SegmentName.retiredMarker("batch.eu-12.retired", day: "2026-11-23") == nil)
        #expect(SegmentName.retiredMarker("batch.eu.lock", day: "2026-11-23") == nil)
        #expect(SegmentName.parseFile("batch.eu-000012.retired", day: "2026-11-23") == nil)
    }

    /// A writer of a day whose segments retention removed numbers past the marker.
    @Test func writersNumberPastRetiredMarkers() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let folder = log.dayFolderPath("2026-11-23")
        try FileSystem.makeDirectories(folder)
        let marker = SegmentName(day: "2026-11-23", host: "web", sequence: 4).retiredFileName
        FileSystem.close(try FileSystem.open(folder + "/" + marker, O_WRONLY | O_CREAT))
        var options = WriterOptions(fsync: .none)
        options.host = "web"
        let writer = LogWriter(directory: log, options: options)
        try writer.append(sampleRecord(0, at: "2026-11-23T08:00:00.000Z"))
        #expect(FileSystem.isDirectory(folder))
        #expect(try FileSystem.status(path: folder + "/web-000005.jsonl") != nil)
        #expect(try LogVerifier(directory: log).verify().problems == [])
    }
}
